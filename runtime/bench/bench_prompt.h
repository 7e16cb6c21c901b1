#ifndef MODELC_BENCH_PROMPT_H
#define MODELC_BENCH_PROMPT_H

/*
 * Prompts of an exact token count. Text is built from a fixed list of common English words
 * (most are one token in every tokenizer), starting at a word that depends on a seed so that
 * no two requests share a prefix: vLLM's prefix cache would otherwise skip the prefill that
 * time to first token measures. The server's /tokenize counts the tokens; the word count is
 * corrected until the count is exact.
 */

#include <stdint.h>

#include "bench_client.h"

/* Build the prompt text of n words starting at word seed; caller frees. NULL on no memory. */
char *bench_prompt_words(uint32_t n, uint32_t seed);

/*
 * A prompt of exactly target tokens for model (by /tokenize) into *text (caller frees) and its
 * count into *count. When the server has no /tokenize, *exact is 0, the prompt has target
 * words and *count is target. Returns BENCH_OK or a failure with err filled; failing to
 * reach the exact count is not a failure: *count says what was reached.
 */
enum bench_fail bench_prompt_build(struct bench_client *c, const char *model, uint32_t target,
    uint32_t seed, int *exact, char **text, uint32_t *count, char *err, size_t errlen);

#endif
