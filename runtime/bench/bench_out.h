#ifndef MODELC_BENCH_OUT_H
#define MODELC_BENCH_OUT_H

/*
 * What bench writes: measurements/<role>.csv (one row per request; format in docs/bench.md),
 * measurements/<role>.svg (latency against context length, min-max spread), a table for people
 * and JSON for scripts. Output depends only on the samples and the metadata: no timestamps.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_run.h"

/* Facts about what was measured, repeated on every CSV row. */
struct bench_meta {
	const char *role;
	const char *model;          /* served model name */
	const char *commit;         /* locked commit, "" when unknown */
	const char *gpu;            /* nvidia-smi's name, or "unknown" */
	const char *server_flags;   /* the limits the server runs with, as vLLM flags */
	uint32_t max_model_len;
	const char *title;          /* what was measured, for the chart; NULL: "ROLE (MODEL)" */
};

/* One ladder length at one concurrency, summarised over its repetitions. */
struct bench_point {
	unsigned concurrency;
	uint32_t target;
	uint32_t prompt_tokens;     /* median of the counted lengths */
	size_t n;
	double ttft_min, ttft_med, ttft_max;
	double itl_min, itl_mean, itl_max;
	double itl_p50, itl_p90;    /* means of the per-request percentiles */
	double tokens_per_s;        /* mean */
};

/* The CSV header line, without newline. */
extern const char bench_out_csv_header[];

/* Sort samples by concurrency, length and repetition (the order rows are written in). */
void bench_out_sort(struct bench_results *r);

/* Summaries per (concurrency, length) in *out (caller frees); returns their number; 0 on none or no memory. */
size_t bench_out_points(const struct bench_results *r, struct bench_point **out);

/* Write the CSV (header and rows) to f; 0 or -1 on a write error. */
int bench_out_csv(FILE *f, const struct bench_meta *m, const struct bench_results *r);

/* Write the SVG chart to f; 0 or -1 on a write error. */
int bench_out_svg(FILE *f, const struct bench_meta *m, const struct bench_point *p, size_t n);

/* Print the table for people. */
void bench_out_table(FILE *f, const struct bench_meta *m, const struct bench_point *p, size_t n, int exact);

/* Print the summary as one JSON document. */
void bench_out_json(FILE *f, const struct bench_meta *m, const struct bench_point *p, size_t n, int exact,
    const char *csv_path, const char *svg_path);

/*
 * Write dir/<role>.csv and dir/<role>.svg: each to a temp file in dir, fsynced, then both
 * renamed, so the pair is replaced together. Creates dir if missing. 0, or -1 with err filled
 * (path and strerror).
 */
int bench_out_write(const char *dir, const struct bench_meta *m, struct bench_results *r, char *err, size_t errlen);

#endif
