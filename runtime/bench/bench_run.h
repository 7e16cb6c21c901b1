#ifndef MODELC_BENCH_RUN_H
#define MODELC_BENCH_RUN_H

/*
 * The measurement: for each prompt length, after a warm-up, several repetitions of streamed
 * completions at concurrency 1 and optionally N, each request becoming one sample.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_client.h"

struct bench_sample {
	unsigned concurrency;
	uint32_t target;                /* the ladder length asked for */
	uint32_t prompt_tokens;         /* what the server counted (usage), else /tokenize's count */
	unsigned rep;                   /* 0-based; with concurrency N, rep * N + request index */
	double ttft_ms;                 /* request handed to libcurl -> first token event */
	double itl_ms;                  /* (last - first token event) / (output tokens - 1) */
	double itl_p50_ms, itl_p90_ms;  /* of the gaps between token events */
	double tokens_per_s;            /* decode rate: (output tokens - 1) / (last - first) */
	double e2e_ms;                  /* request handed over -> stream finished */
	long output_tokens;             /* usage.completion_tokens, else token events */
};

struct bench_plan {
	const char *model;              /* served model name */
	const uint32_t *lengths;
	size_t nlengths;
	unsigned reps, warmup;
	unsigned concurrency;           /* 1, or N > 1 for a second pass at N */
	unsigned max_tokens;
};

struct bench_results {
	struct bench_sample *s;         /* heap */
	size_t n, cap;
	int exact;                      /* every prompt length was counted by /tokenize */
};

/*
 * Run plan against the server; progress lines go to progress (may be NULL). Returns BENCH_OK
 * or the first failure, with err filled; r holds the samples gathered before it.
 */
enum bench_fail bench_run(struct bench_client *c, const struct bench_plan *p, struct bench_results *r,
    FILE *progress, char *err, size_t errlen);

/* One sample from a finished stream whose prompt had count tokens by /tokenize. */
void bench_sample_from_stream(const struct bench_stream *s, uint32_t count, struct bench_sample *out);

/* Free the samples. */
void bench_results_free(struct bench_results *r);

#endif
