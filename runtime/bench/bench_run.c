#include <stdlib.h>
#include <string.h>

#include "bench_prompt.h"
#include "bench_run.h"
#include "bench_stats.h"
#include "diag.h"

void bench_sample_from_stream(const struct bench_stream *s, uint32_t count, struct bench_sample *out)
{
	long outn = s->usage_completion >= 0 ? s->usage_completion : (long)s->events;
	out->prompt_tokens = s->usage_prompt >= 0 ? (uint32_t)s->usage_prompt : count;
	out->output_tokens = outn;
	out->ttft_ms = s->events ? (s->t_first - s->t_start) * 1000.0 : 0;
	double decode = s->events ? s->t_last - s->t_first : 0;
	out->itl_ms = outn > 1 ? decode * 1000.0 / (double)(outn - 1) : 0;
	out->tokens_per_s = outn > 1 && decode > 0 ? (double)(outn - 1) / decode : 0;
	out->e2e_ms = (s->t_end - s->t_start) * 1000.0;
	double *g = malloc((s->ngaps ? s->ngaps : 1) * sizeof *g);
	if (g && s->ngaps) {
		memcpy(g, s->gaps_ms, s->ngaps * sizeof *g);
		bench_stats_sort(g, s->ngaps);
		out->itl_p50_ms = bench_stats_percentile(g, s->ngaps, 50);
		out->itl_p90_ms = bench_stats_percentile(g, s->ngaps, 90);
	} else {
		out->itl_p50_ms = out->itl_p90_ms = 0;
	}
	free(g);
}

void bench_results_free(struct bench_results *r)
{
	free(r->s);
	r->s = NULL;
	r->n = r->cap = 0;
}

static int push(struct bench_results *r, const struct bench_sample *s)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct bench_sample *ns = realloc(r->s, cap * sizeof *ns);
		if (!ns)
			return -1;
		r->s = ns;
		r->cap = cap;
	}
	r->s[r->n++] = *s;
	return 0;
}

/* One round: n requests at once with prompts of target tokens; samples pushed unless warm-up. */
static enum bench_fail run_round(struct bench_client *c, const struct bench_plan *p, uint32_t target,
    unsigned n, unsigned rep, uint32_t *seed, int record, struct bench_results *r, char *err, size_t errlen)
{
	json_t **bodies = calloc(n, sizeof *bodies);
	uint32_t *counts = calloc(n, sizeof *counts);
	struct bench_stream *st = calloc(n, sizeof *st);
	enum bench_fail f = BENCH_OK;
	if (!bodies || !counts || !st) {
		snprintf(err, errlen, "out of memory");
		f = BENCH_FAIL_SYSTEM;
		goto out;
	}
	for (unsigned i = 0; i < n && f == BENCH_OK; i++) {
		char *text = NULL;
		int exact = r->exact;
		f = bench_prompt_build(c, p->model, target, (*seed)++, &exact, &text, &counts[i], err, errlen);
		if (f != BENCH_OK)
			break;
		r->exact = exact;
		bodies[i] = json_pack("{s:s, s:s, s:i, s:b, s:{s:b}, s:f, s:b}", "model", p->model, "prompt", text,
		    "max_tokens", (int)p->max_tokens, "stream", 1, "stream_options", "include_usage", 1,
		    "temperature", 0.0, "ignore_eos", 1);
		free(text);
		if (!bodies[i]) {
			snprintf(err, errlen, "out of memory");
			f = BENCH_FAIL_SYSTEM;
		}
	}
	if (f != BENCH_OK)
		goto out;
	f = bench_client_streams(c, bodies, n, st);
	for (unsigned i = 0; i < n; i++) {
		if (f != BENCH_OK) {
			if (st[i].fail != BENCH_OK) {
				snprintf(err, errlen, "%s", st[i].err);
				break;
			}
			continue;
		}
		if (!record)
			continue;
		struct bench_sample s = { .concurrency = n, .target = target, .rep = rep * n + i };
		bench_sample_from_stream(&st[i], counts[i], &s);
		if (push(r, &s) != 0) {
			snprintf(err, errlen, "out of memory");
			f = BENCH_FAIL_SYSTEM;
			break;
		}
	}
out:
	for (unsigned i = 0; bodies && i < n; i++)
		json_decref(bodies[i]);
	for (unsigned i = 0; st && i < n; i++)
		bench_stream_free(&st[i]);
	free(bodies);
	free(counts);
	free(st);
	return f;
}

enum bench_fail bench_run(struct bench_client *c, const struct bench_plan *p, struct bench_results *r,
    FILE *progress, char *err, size_t errlen)
{
	uint32_t seed = 1;
	r->exact = 1;
	enum bench_fail f = BENCH_OK;
	for (unsigned w = 0; w < p->warmup && p->nlengths && f == BENCH_OK; w++)
		f = run_round(c, p, p->lengths[0], 1, w, &seed, 0, r, err, errlen);
	unsigned passes[2] = { 1, p->concurrency };
	unsigned npasses = p->concurrency > 1 ? 2 : 1;
	for (unsigned k = 0; k < npasses && f == BENCH_OK; k++) {
		for (size_t i = 0; i < p->nlengths && f == BENCH_OK; i++) {
			if (progress)
				diag_print(progress, "bench: %u tokens, concurrency %u, %u repetitions\n", p->lengths[i],
				    passes[k], p->reps);
			for (unsigned rep = 0; rep < p->reps && f == BENCH_OK; rep++)
				f = run_round(c, p, p->lengths[i], passes[k], rep, &seed, 1, r, err, errlen);
		}
	}
	return f;
}
