#include "refit.h"

#include <string.h>

#include "size.h"
#include "swtable.h"

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
	/* used + free is what CUDA can see (total minus reserved); fall back to the table's total. */
	uint64_t total = swtable_table()->gpu_total_bytes;
	if (gpu->used_mib >= 0 && gpu->free_mib >= 0)
		total = (uint64_t)(gpu->used_mib + gpu->free_mib) * SIZE_MIB;
	else if (nvsmi_cuda_total_bytes(gpu) > 0)
		total = (uint64_t)nvsmi_cuda_total_bytes(gpu);
	uint64_t used = gpu->used_mib > 0 ? (uint64_t)gpu->used_mib * SIZE_MIB : 0;
	out->gpu_total_bytes = total;
	out->gpu_used_bytes = used;
	out->gpu_index = gpu->index;
	/* modelc could not size this role (facts missing, max_model_len 0): nothing to fit against. */
	if (!e->budget_known || !len)
		return;

	/* modelc's inputs exactly; only the GPU's state is today's. */
	struct budget_params p = e->params, fitted;
	p.gpu_total_bytes = total;
	p.gpu_used_bytes = used;
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
