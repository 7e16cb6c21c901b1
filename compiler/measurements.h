#ifndef MODELC_MEASUREMENTS_H
#define MODELC_MEASUREMENTS_H

/*
 * bench's results read back into the compiler: measurements/<role>.csv (format in
 * docs/bench.md), so the budget report can say how long the first token takes at the
 * configured context and warn past the role's ttft_threshold_ms.
 */

#include <stdint.h>

/*
 * The time to first token at a prompt of max_model_len tokens, from dir/<role>.csv: the
 * median of each measured length at concurrency 1, interpolated linearly between the two
 * nearest lengths (extrapolated from the last two beyond the largest, never below 0).
 * 0 with *ttft_ms set; -1 with errno ENOENT when there is no file, EINVAL when it has no
 * usable rows (wrong header, no concurrency-1 rows), or another errno from reading.
 */
int measurements_ttft_at(const char *dir, const char *role, uint32_t max_model_len, double *ttft_ms);

/* The measurements folder that belongs to catalog_path: "measurements" beside it; caller frees. */
char *measurements_dir_for(const char *catalog_path);

#endif
