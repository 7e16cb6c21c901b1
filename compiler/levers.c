#include "levers.h"

#include <stdio.h>
#include <string.h>

#include "planparams.h"
#include "size.h"

enum { LEVERS_BATCHED = 512 };

/* The inputs of pr's fit as the build assembles them, with the levers in set applied. */
static bool
lever_params(struct arena *a, const struct catalog *c, const struct plan_role *pr, unsigned set,
    struct budget_params *p)
{
	struct diag_sink quiet;
	diag_init(&quiet, stderr, "modelc");
	if (!planparams_role(c, pr->role, p, &quiet))
		return false;
	p->weights_bytes = pr->params.weights_bytes;
	p->weights_source = pr->params.weights_source;
	if (set & (1u << LEVER_KV_FP8))
		p->kv_dtype_bytes = 1;
	if (set & (1u << LEVER_FEWER_SEQS))
		p->max_num_seqs = pr->result.max_num_seqs > 1 ? pr->result.max_num_seqs / 2 : 1;
	if (set & (1u << LEVER_EAGER))
		p->enforce_eager = true;
	if (set & (1u << LEVER_BATCHED))
		p->max_num_batched_tokens = LEVERS_BATCHED;
	if (set & (1u << LEVER_QUANT4)) {
		p->weights_bytes = budget_weights_bytes(&pr->arch, budget_quant_named("awq"));
		p->weights_source = BUDGET_FORMULA;
	}
	if (set & (1u << LEVER_FREE_GPU))
		p->gpu_used_bytes = 0;
	(void)a;
	return true;
}

/* The largest context that fits with the levers in set, up to the model's limit; 0 none. */
static uint32_t
lever_fit(struct arena *a, const struct catalog *c, const struct plan_role *pr, unsigned set)
{
	struct budget_params p, used;
	struct budget_result r;
	if (!lever_params(a, c, pr, set, &p))
		return 0;
	/* As auto resolves it: memory decides, up to the model's own limit. */
	p.max_model_len = pr->arch.max_position_embeddings ? pr->arch.max_position_embeddings : PLANPARAMS_UNCAPPED;
	if (!budget_fit_context_checked(&pr->arch, &p, 1, &r, &used))
		return 0;
	return used.max_model_len;
}

static void
lever_describe(struct arena *a, const struct catalog *c, const struct plan_role *pr, struct lever *l)
{
	const struct budget_params *p = &pr->params;
	const struct catalog_role *role = pr->role;
	l->applies = true;
	switch (l->kind) {
	case LEVER_KV_FP8:
		l->key = "kv_cache_dtype";
		l->value = "fp8";
		if (p->kv_dtype_bytes == 1 || (!p->kv_dtype_bytes && pr->arch.dtype_bytes == 1)) {
			l->applies = false;
			l->why_not = "the KV cache is already 8-bit";
		}
		break;
	case LEVER_FEWER_SEQS:
		l->key = "max_num_seqs";
		l->value = arena_printf(a, "%u", pr->result.max_num_seqs > 1 ? pr->result.max_num_seqs / 2 : 1);
		if (pr->result.max_num_seqs <= 1) {
			l->applies = false;
			l->why_not = "max_num_seqs is already 1";
		}
		break;
	case LEVER_EAGER:
		l->key = "enforce_eager";
		l->value = "true";
		if (c->enforce_eager) {
			l->applies = false;
			l->why_not = "enforce_eager is already on";
		}
		break;
	case LEVER_BATCHED:
		l->key = "max_num_batched_tokens";
		l->value = arena_printf(a, "%u", (unsigned)LEVERS_BATCHED);
		if (pr->result.max_num_batched_tokens <= LEVERS_BATCHED) {
			l->applies = false;
			l->why_not = arena_printf(a, "max_num_batched_tokens is already %u", pr->result.max_num_batched_tokens);
		}
		break;
	case LEVER_QUANT4:
		l->key = "quantization";
		l->value = "awq";
		if (pr->quant && pr->quant->bits <= 4) {
			l->applies = false;
			l->why_not = arena_printf(a, "the weights are already %u-bit: %s", pr->quant->bits,
			    role->quantization ? role->quantization : "?");
		} else if (!pr->arch.hidden_size || !pr->arch.layers) {
			l->applies = false;
			l->why_not = "the architecture is not known well enough to size a 4-bit checkpoint";
		}
		break;
	case LEVER_FREE_GPU:
		l->key = "gpu.memory_in_use";
		l->value = "0";
		if (!c->gpu_used_bytes) {
			l->applies = false;
			l->why_not = "no memory is in use by other processes";
		}
		break;
	case LEVER_COUNT:
		break;
	}
	if (l->kind == LEVER_FEWER_SEQS)
		l->change = arena_printf(a, "max_num_seqs: %s (now %u)", l->value, pr->result.max_num_seqs);
	else if (l->kind == LEVER_BATCHED)
		l->change = arena_printf(a, "max_num_batched_tokens: %s (now %u)", l->value,
		    pr->result.max_num_batched_tokens);
	else if (l->kind == LEVER_QUANT4)
		l->change = arena_printf(a, "quantization: awq (4-bit; 'modelc quantize %s')", role->name);
	else if (l->kind == LEVER_FREE_GPU)
		l->change = c->gpu_used_bytes ? arena_printf(a, "gpu.memory_in_use: 0 (free %.2f GiB)",
		    size_gib(c->gpu_used_bytes)) : "gpu.memory_in_use: 0";
	else
		l->change = arena_printf(a, "%s: %s", l->key, l->value);
}

static unsigned
popcount(unsigned x)
{
	unsigned n = 0;
	for (; x; x &= x - 1)
		n++;
	return n;
}

bool
levers_compute(struct arena *a, const struct catalog *c, const struct plan_role *pr, uint32_t want,
    struct levers *out)
{
	memset(out, 0, sizeof *out);
	if (!pr->arch.layers || !pr->arch.kv_heads || !pr->arch.head_dim || !pr->params.weights_bytes)
		return false;
	out->cap = pr->arch.max_position_embeddings;
	out->now = lever_fit(a, c, pr, 0);
	if (!want)
		want = pr->role->max_model_len_auto ? 0 : pr->role->max_model_len;
	out->want = want;
	unsigned usable = 0;
	for (int k = 0; k < LEVER_COUNT; k++) {
		struct lever *l = &out->one[k];
		l->kind = (enum lever_kind)k;
		lever_describe(a, c, pr, l);
		if (l->applies) {
			usable |= 1u << k;
			l->fit = lever_fit(a, c, pr, 1u << k);
		}
	}
	out->all_fit = lever_fit(a, c, pr, usable);
	if (!want)
		return true;
	/* The fewest levers that reach want; among as few, the one that fits the most. */
	for (unsigned n = 0; n <= LEVER_COUNT && !out->reachable; n++)
		for (unsigned set = 0; set < (1u << LEVER_COUNT); set++) {
			if ((set & ~usable) || popcount(set) != n)
				continue;
			uint32_t fit = set ? lever_fit(a, c, pr, set) : out->now;
			if (fit >= want && (!out->reachable || fit > out->set_fit)) {
				out->reachable = true;
				out->set = set;
				out->set_fit = fit;
			}
		}
	return true;
}
