#include "refit.h"

#include <stdio.h>
#include <string.h>

#include "budget_rank.h"
#include "size.h"
#include "swtable.h"

/* CUDA's total (used + free, what CUDA can see; else total minus reserved; else fallback) and the memory in use. */
static void
gpu_state(const struct nvsmi_gpu *gpu, uint64_t fallback, struct budget_params *p)
{
	p->gpu_total_bytes = fallback;
	if (gpu->used_mib >= 0 && gpu->free_mib >= 0)
		p->gpu_total_bytes = (uint64_t)(gpu->used_mib + gpu->free_mib) * SIZE_MIB;
	else if (nvsmi_cuda_total_bytes(gpu) > 0)
		p->gpu_total_bytes = (uint64_t)nvsmi_cuda_total_bytes(gpu);
	p->gpu_used_bytes = gpu->used_mib > 0 ? (uint64_t)gpu->used_mib * SIZE_MIB : 0;
}

static void
keep_gpu(struct refit *out, int index, const struct budget_params *p)
{
	out->gpu_index = index;
	out->gpu_total_bytes = p->gpu_total_bytes;
	out->gpu_used_bytes = p->gpu_used_bytes;
}

void
refit_plan(const struct model_entry *e, const struct nvsmi_gpu *gpu, uint32_t max_model_len,
    struct refit *out)
{
	uint32_t len = max_model_len ? max_model_len : e->max_model_len;

	memset(out, 0, sizeof *out);
	out->outcome = REFIT_UNCHECKED;
	out->max_model_len = len;
	out->utilization = e->gpu_memory_utilization;
	out->gpu_index = -1;
	if (!gpu)
		return;
	/* modelc's inputs exactly; only the GPU's state is today's. */
	struct budget_params p = e->params, fitted;
	gpu_state(gpu, swtable_table()->gpu_total_bytes, &p);
	keep_gpu(out, gpu->index, &p);
	/* modelc could not size this role (facts missing, max_model_len 0): nothing to fit against. */
	if (!e->budget_known || !len)
		return;
	p.max_model_len = len;
	if (!budget_fit_context(&e->arch, &p, REFIT_MIN_CONTEXT, &out->result, &fitted)) {
		out->outcome = REFIT_REFUSED;
		return;
	}
	out->max_model_len = fitted.max_model_len;
	out->utilization = out->result.utilization;
	out->outcome = out->max_model_len < len || out->utilization < e->gpu_memory_utilization ? REFIT_LOWERED :
	    REFIT_AS_PLANNED;
}

/* Rank k of pl into *r and its GPU's state into p; NULL when nvidia-smi does not list the GPU. */
static const struct nvsmi_gpu *
rank_gpu(const struct nvsmi_state *st, const struct model_placement *pl, uint32_t k, struct model_rank *r,
    struct budget_params *p)
{
	model_table_rank(swtable_table(), pl, k, r);
	for (size_t i = 0; i < st->ngpus; i++)
		if (st->gpus[i].index == (int)r->gpu) {
			gpu_state(&st->gpus[i], r->gpu_total_bytes, p);
			return &st->gpus[i];
		}
	return NULL;
}

void
refit_placed(const struct model_entry *e, const struct model_placement *pl, const struct nvsmi_state *st,
    uint32_t max_model_len, struct refit *out)
{
	static struct budget_calibration cal;
	struct model_rank r;
	struct budget_result res;
	struct budget_params p = e->params;
	uint32_t len = max_model_len ? max_model_len : e->max_model_len, planned = len;
	double util = pl->utilization;
	uint64_t least = UINT64_MAX;

	refit_plan(e, NULL, len, out);
	out->kv_cache_memory_bytes = pl->kv_cache_bytes;
	if (!st)
		return;
	/* vLLM's start-up check on each GPU; one utilization for all, so the GPU with the least room decides. */
	for (uint32_t k = 0; k < pl->nranks; k++) {
		if (!rank_gpu(st, pl, k, &r, &p)) {
			out->outcome = REFIT_NO_GPU;
			out->rank_gpu = (int)r.gpu;
			out->rank = k;
			return;
		}
		p.utilization = pl->utilization;
		p.keep_utilization = false;
		budget_check_start(&p, 0, &res);
		uint64_t free = p.gpu_total_bytes > p.gpu_used_bytes ? p.gpu_total_bytes - p.gpu_used_bytes : 0;
		if (res.utilization < util || (res.utilization == util && free < least)) {
			util = res.utilization;
			least = free;
			keep_gpu(out, (int)r.gpu, &p);
		}
	}
	if (!e->budget_known || !len)
		return;
	p.utilization = util;
	p.keep_utilization = true;
	p.tensor_parallel = pl->tp;
	for (uint32_t fit = len;; len = fit) {
		uint64_t kv_tokens = UINT64_MAX, kv_bytes = UINT64_MAX;
		for (uint32_t k = 0; k < pl->nranks; k++) {
			struct budget_rank_weights w = {0};
			rank_gpu(st, pl, k, &r, &p);
			p.max_model_len = len;
			w.total_bytes = r.weights_bytes;
			budget_rank_fit(&e->arch, &p, &w, pl->pp, r.layers, &cal, &res);
			if (!res.fits && (res.max_model_len_fit < REFIT_MIN_CONTEXT || res.max_model_len_fit >= len)) {
				out->outcome = REFIT_REFUSED;
				out->result = res;
				out->rank = k;
				out->rank_gpu = (int)r.gpu;
				return;
			}
			if (!res.fits && res.max_model_len_fit < fit)
				fit = res.max_model_len_fit;
			if (res.fits && res.kv_tokens < kv_tokens) {
				kv_tokens = res.kv_tokens;
				out->result = res;
				out->rank = k;
				out->rank_gpu = (int)r.gpu;
			}
			if (res.kv_cache_bytes < kv_bytes)
				kv_bytes = res.kv_cache_bytes;
		}
		if (fit == len) {
			if (pl->kv_cache_bytes)
				out->kv_cache_memory_bytes = kv_bytes;
			break;
		}
	}
	out->max_model_len = len;
	out->utilization = util;
	out->outcome = len < planned || util < e->gpu_memory_utilization ? REFIT_LOWERED : REFIT_AS_PLANNED;
}

const char *
refit_advice(const struct model_entry *e, const struct nvsmi_gpu *g)
{
	static struct model_entry o;
	static char todo[SWTABLE_PATH_MAX];
	struct refit plan;
	for (size_t i = 0; g && i < swtable_table()->count; i++) {
		swtable_entry(i, &o);
		refit_plan(&o, g, 0, &plan);
		if (o.index != e->index && (plan.outcome == REFIT_AS_PLANNED || plan.outcome == REFIT_LOWERED)) {
			snprintf(todo, sizeof todo, "free GPU memory, or serve a role that fits now: eval \"$(switch --set "
			    "%s)\"", o.role);
			return todo;
		}
	}
	return "free GPU memory: no role fits now";
}
