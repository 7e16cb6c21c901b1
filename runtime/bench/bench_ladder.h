#ifndef MODELC_BENCH_LADDER_H
#define MODELC_BENCH_LADDER_H

/* The ladder of prompt lengths bench walks: parsed from "256,512,1k", capped by the context. */

#include <stddef.h>
#include <stdint.h>

enum { BENCH_LADDER_MAX = 64 };

/*
 * Parse a comma-separated list of token counts; "k" multiplies by 1024 ("1k" = 1024). The
 * result is sorted and without duplicates. 0, or -1 with a reason in err.
 */
int bench_ladder_parse(const char *s, uint32_t *out, size_t *n, char *err, size_t errlen);

/*
 * Keep the lengths whose prompt plus max_tokens fits max_model_len; when some were dropped,
 * add the largest prompt that fits (max_model_len - max_tokens), so that the configured
 * context is always measured. Returns the number of lengths dropped.
 */
size_t bench_ladder_cap(uint32_t *lens, size_t *n, uint32_t max_model_len, uint32_t max_tokens);

#endif
