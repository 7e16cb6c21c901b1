/*
 * Per-rank fit of one replica's shape: each GPU's budget with its stage's layers and its share
 * of the weights, one --gpu-memory-utilization for all of them (the lowest that every GPU's
 * start-up check allows), and an auto context lowered to what the tightest rank allows.
 */
#include "planpar_int.h"

#include <string.h>

#include "planparams.h"

const struct catalog_gpu *
planpar_gpu(const struct catalog *c, struct catalog_slot s)
{
	return &c->hosts[s.host].gpus[s.gpu];
}

uint64_t
planpar_free(const struct catalog *c, struct catalog_slot s)
{
	const struct catalog_gpu *g = planpar_gpu(c, s);
	return g->total_bytes > g->used_bytes ? g->total_bytes - g->used_bytes : 0;
}

struct diag_pos
planpar_pos(const struct planpar_ctx *x, const char *key)
{
	const struct ynode *par = yamldoc_get(x->r->node, "parallel");
	const struct ynode *n = key ? yamldoc_get(par, key) : par;
	return n ? n->pos : x->rpos;
}

/* The exact checkpoint bytes split in the formula's proportions (else the formula). */
static void
scale_weights(const struct planpar_ctx *x, struct budget_rank_weights *w)
{
	uint64_t formula = budget_weights_bytes(x->m->arch, x->m->quant);
	if (!x->m->exact_weights || !formula)
		return;
	double k = (double)x->m->exact_weights / (double)formula;
	w->sharded_bytes = (uint64_t)((double)w->sharded_bytes * k);
	w->replicated_bytes = (uint64_t)((double)w->replicated_bytes * k);
	w->embed_bytes = (uint64_t)((double)w->embed_bytes * k);
	w->lm_head_bytes = (uint64_t)((double)w->lm_head_bytes * k);
	w->total_bytes = w->sharded_bytes + w->replicated_bytes + w->embed_bytes + w->lm_head_bytes;
}

/* Fit every rank of one replica at len (min_len as budget_fit_context); false: one does not fit. */
static bool
fit_shape(const struct planpar_ctx *x, const struct planpar_shape *s, struct plan_rank *ranks,
    double util, uint32_t len, uint32_t min_len)
{
	uint32_t n = s->tp * s->pp, stages[BUDGET_RANK_MAX_PP];
	bool all = true;
	budget_pp_layers(x->m->arch->layers, s->pp, s->partition, stages);
	for (uint32_t k = 0; k < n; k++) {
		struct plan_rank *pr = &ranks[k];
		const struct catalog_gpu *g = planpar_gpu(x->c, s->slots[k]);
		memset(pr, 0, sizeof *pr);
		pr->rank = k;
		pr->stage = k / s->tp;
		pr->tp_rank = k % s->tp;
		pr->slot = s->slots[k];
		pr->layers = stages[pr->stage];
		budget_rank_weights(x->m->arch, x->m->quant, s->tp, s->ep, s->pp, pr->stage, pr->layers,
		    &pr->weights);
		scale_weights(x, &pr->weights);
		struct budget_params p = *x->base;
		p.gpu_total_bytes = g->total_bytes;
		p.gpu_used_bytes = g->used_bytes;
		p.utilization = util;
		p.keep_utilization = true;
		p.tensor_parallel = s->tp;
		p.safety_margin_bytes = x->c->hosts[s->slots[k].host].safety_margin_bytes;
		p.safety_margin_set = true;
		p.max_model_len = len;
		budget_defaults(&p);
		pr->params = p;
		budget_rank_fit(x->m->arch, &p, &pr->weights, s->pp, pr->layers, &pr->calibration,
		    &pr->result);
		if (!pr->result.fits && min_len <= pr->result.max_model_len_fit &&
		    pr->result.max_model_len_fit > 0)
			continue;               /* the caller lowers the context */
		all = all && pr->result.fits;
	}
	return all;
}

/* One utilization for every GPU: the lowest that each GPU's start-up check allows. */
static double
shape_utilization(const struct planpar_ctx *x, const struct planpar_shape *s)
{
	double u = x->base->utilization;
	for (uint32_t k = 0; k < s->tp * s->pp; k++) {
		const struct catalog_host *h = &x->c->hosts[s->slots[k].host];
		double hu = x->r->gpu_memory_utilization > 0 ? x->r->gpu_memory_utilization :
		    h->utilization;
		struct budget_params p = *x->base;
		struct budget_result r;
		p.gpu_total_bytes = planpar_gpu(x->c, s->slots[k])->total_bytes;
		p.gpu_used_bytes = planpar_gpu(x->c, s->slots[k])->used_bytes;
		p.utilization = hu;
		budget_check_start(&p, 0, &r);
		if (k == 0 || r.utilization < u)
			u = r.utilization;
	}
	return u;
}

bool
planpar_try_shape(const struct planpar_ctx *x, const struct planpar_shape *s,
    struct plan_rank *ranks, double *util, uint32_t *len_out)
{
	*util = shape_utilization(x, s);
	uint32_t len = planparams_len(x->r, x->m->arch);
	uint32_t min_len = planparams_min_len(x->r);
	if (fit_shape(x, s, ranks, *util, len, UINT32_MAX)) {
		*len_out = len;
		return true;
	}
	if (min_len == UINT32_MAX) {
		*len_out = len;
		return false;
	}
	uint32_t fit = len;
	for (uint32_t k = 0; k < s->tp * s->pp; k++)
		if (ranks[k].result.max_model_len_fit < fit)
			fit = ranks[k].result.max_model_len_fit;
	*len_out = fit;
	return fit >= min_len && fit_shape(x, s, ranks, *util, fit, UINT32_MAX);
}

bool
planpar_gpus_differ(const struct catalog *c, const struct catalog_slot *slots, size_t n)
{
	for (size_t k = 1; k < n; k++)
		if (planpar_gpu(c, slots[k])->total_bytes != planpar_gpu(c, slots[0])->total_bytes ||
		    planpar_gpu(c, slots[k])->used_bytes != planpar_gpu(c, slots[0])->used_bytes)
			return true;
	return false;
}

bool
planpar_candidate(const struct planpar_ctx *x, uint32_t tp, uint32_t pp,
    const struct catalog_slot *pool, const uint32_t *partition, struct plan_rank *ranks,
    double *util, uint32_t *len)
{
	struct planpar_shape s = {tp, pp, tp, pool, partition};
	if (pp > x->m->arch->layers)
		return false;
	return planpar_try_shape(x, &s, ranks, util, len);
}
