#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_prompt.h"

enum { PROMPT_MAX_TRIES = 12 };

static const char *const words[] = {
	"the", "time", "people", "way", "water", "day", "part", "world", "house", "place",
	"group", "number", "light", "story", "family", "river", "point", "school", "city", "market",
	"table", "window", "garden", "paper", "music", "money", "night", "morning", "road", "field",
	"power", "state", "game", "line", "end", "door", "car", "tree", "book", "letter",
	"friend", "answer", "question", "color", "voice", "plant", "food", "sun", "earth", "eye",
	"head", "hand", "heart", "mind", "word", "name", "work", "side", "week", "case",
	"island", "street", "summer", "winter",
};
enum { NWORDS = sizeof words / sizeof words[0] };

/* The first three words spell the seed in base NWORDS, so prompts differ from the first token. */
static size_t word_at(uint32_t seed, uint32_t i)
{
	if (i < 3) {
		uint32_t v = seed;
		for (uint32_t k = 0; k < i; k++)
			v /= NWORDS;
		return v % NWORDS;
	}
	return (seed + i) % NWORDS;
}

char *bench_prompt_words(uint32_t n, uint32_t seed)
{
	size_t cap = 1, len = 0;
	for (uint32_t i = 0; i < n; i++)
		cap += strlen(words[word_at(seed, i)]) + 1;
	char *t = malloc(cap);
	if (!t)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const char *w = words[word_at(seed, i)];
		size_t l = strlen(w);
		if (i)
			t[len++] = ' ';
		memcpy(t + len, w, l);
		len += l;
	}
	t[len] = '\0';
	return t;
}

/* Count text's tokens with /tokenize; BENCH_OK, or a failure (HTTP 404: no tokenizer). */
static enum bench_fail count_tokens(struct bench_client *c, const char *model, const char *text,
    uint32_t *count, long *status, char *err, size_t errlen)
{
	json_t *req = json_pack("{s:s, s:s}", "model", model, "prompt", text);
	json_t *res = NULL;
	if (!req) {
		snprintf(err, errlen, "out of memory");
		return BENCH_FAIL_SYSTEM;
	}
	enum bench_fail f = bench_client_json(c, "POST", "/tokenize", req, &res, status, err, errlen);
	json_decref(req);
	if (f != BENCH_OK)
		return f;
	json_t *cnt = json_object_get(res, "count");
	json_t *toks = json_object_get(res, "tokens");
	if (json_is_integer(cnt))
		*count = (uint32_t)json_integer_value(cnt);
	else if (json_is_array(toks))
		*count = (uint32_t)json_array_size(toks);
	else {
		snprintf(err, errlen, "POST %s/tokenize: the answer has neither 'count' nor 'tokens'", c->base);
		f = BENCH_FAIL_PROTOCOL;
	}
	json_decref(res);
	return f;
}

enum bench_fail bench_prompt_build(struct bench_client *c, const char *model, uint32_t target,
    uint32_t seed, int *exact, char **text, uint32_t *count, char *err, size_t errlen)
{
	uint32_t n = target ? target : 1;
	char *best = NULL;
	uint32_t best_count = 0;
	*text = NULL;
	for (int i = 0; i < PROMPT_MAX_TRIES; i++) {
		char *t = bench_prompt_words(n, seed);
		if (!t) {
			free(best);
			snprintf(err, errlen, "out of memory");
			return BENCH_FAIL_SYSTEM;
		}
		uint32_t got = 0;
		long status = 0;
		if (*exact) {
			enum bench_fail f = count_tokens(c, model, t, &got, &status, err, errlen);
			if (f == BENCH_FAIL_HTTP4 && status == 404) {
				*exact = 0;
			} else if (f != BENCH_OK) {
				free(t);
				free(best);
				return f;
			}
		}
		if (!*exact) {
			free(best);
			*text = t;
			*count = target;
			return BENCH_OK;
		}
		/* Keep the closest count not above the target; it is what we fall back to. */
		if (got <= target && (!best || got > best_count)) {
			free(best);
			best = t;
			best_count = got;
		} else {
			free(t);
		}
		if (got == target)
			break;
		int64_t next = (int64_t)n + (int64_t)target - (int64_t)got;
		if (got > target && next >= (int64_t)n)
			next = (int64_t)n - 1;
		if (got < target && next <= (int64_t)n)
			next = (int64_t)n + 1;
		if (next < 1)
			break;
		n = (uint32_t)next;
	}
	if (!best) {
		best = bench_prompt_words(1, seed);
		best_count = 1;
		if (!best) {
			snprintf(err, errlen, "out of memory");
			return BENCH_FAIL_SYSTEM;
		}
	}
	*text = best;
	*count = best_count;
	return BENCH_OK;
}
