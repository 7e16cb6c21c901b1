#ifndef MODELC_BENCH_CSV_H
#define MODELC_BENCH_CSV_H

/*
 * Reading back a CSV that bench wrote (bench_out_csv_header's columns), so that its chart can
 * be drawn again (bench --chart CSV) without a server.
 */

#include <stddef.h>

#include "bench_out.h"
#include "bench_run.h"

/* The rows' meta (strings malloc'd into meta_buf, freed by free(*meta_buf)) and samples. 0, or -1 with err. */
int bench_csv_read(const char *path, struct bench_meta *m, char **meta_buf, struct bench_results *r, char *err,
    size_t errlen);

#endif
