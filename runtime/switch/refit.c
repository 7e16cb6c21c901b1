#include "refit.h"
#include "size.h"

#include <string.h>

static void
params_for(const struct model_entry *e, uint64_t total, uint64_t used, uint32_t len,
    struct budget_params *p)
{
	memset(p, 0, sizeof *p);
	p->gpu_total_bytes = total;
	p->gpu_used_bytes = used;
	p->utilization = e->gpu_memory_utilization;
	p->max_model_len = len;
	p->max_num_seqs = e->max_num_seqs;
	p->max_num_batched_tokens = e->max_num_batched_tokens;
	/* modelc wrote only names budget_kv_dtype_bytes knows; "auto" otherwise. */
	if (!e->kv_cache_dtype || !budget_kv_dtype_bytes(e->kv_cache_dtype, &p->kv_dtype_bytes))
		p->kv_dtype_bytes = 0;
	p->tensor_parallel = 1;
	p->enforce_eager = e->enforce_eager != 0;
	p->engine = model_table.engine;
	p->weights_bytes = e->weights_bytes;
	p->safety_margin_bytes = model_table.safety_margin_bytes;
	p->safety_margin_set = model_table.safety_margin_bytes != 0;
}

void
refit_plan(const struct model_entry *e, const struct nvsmi_gpu *gpu, uint32_t max_model_len,
    struct refit *out)
{
	struct budget_params p;
	uint32_t len = max_model_len ? max_model_len : e->max_model_len;

	memset(out, 0, sizeof *out);
	out->outcome = REFIT_UNCHECKED;
	out->max_model_len = len;
	out->utilization = e->gpu_memory_utilization;
	out->gpu_index = -1;
	if (!gpu)
		return;
	/* used + free is what CUDA can see (total minus reserved); fall back to the table's total. */
	uint64_t total = model_table.gpu_total_bytes;
	if (gpu->used_mib >= 0 && gpu->free_mib >= 0)
		total = (uint64_t)(gpu->used_mib + gpu->free_mib) * SIZE_MIB;
	else if (nvsmi_cuda_total_bytes(gpu) > 0)
		total = (uint64_t)nvsmi_cuda_total_bytes(gpu);
	uint64_t used = gpu->used_mib > 0 ? (uint64_t)gpu->used_mib * SIZE_MIB : 0;
	out->gpu_total_bytes = total;
	out->gpu_used_bytes = used;
	out->gpu_index = gpu->index;
	/* modelc could not size this role (facts missing, max_model_len 0): nothing to fit against. */
	if (!len || !e->weights_bytes || !e->arch.layers || !e->arch.attention_heads)
		return;

	params_for(e, total, used, len, &p);
	budget_defaults(&p);
	budget_fit(&e->arch, &p, &out->result);
	out->utilization = out->result.utilization > 0 ? out->result.utilization : e->gpu_memory_utilization;
	if (out->result.fits) {
		out->outcome = out->result.utilization_lowered ? REFIT_LOWERED : REFIT_AS_PLANNED;
		return;
	}
	uint32_t fit = out->result.max_model_len_fit;
	if (fit >= REFIT_MIN_CONTEXT && fit < len) {
		/* Confirm the smaller context with the same code, and report that breakdown. */
		params_for(e, total, used, fit, &p);
		budget_defaults(&p);
		budget_fit(&e->arch, &p, &out->result);
		if (out->result.fits) {
			out->outcome = REFIT_LOWERED;
			out->max_model_len = fit;
			out->utilization = out->result.utilization > 0 ? out->result.utilization : out->utilization;
			return;
		}
	}
	out->outcome = REFIT_REFUSED;
}
