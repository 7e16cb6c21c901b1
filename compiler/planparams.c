#include "planparams.h"

#include <string.h>

double
planparams_utilization(const struct catalog *c, const struct catalog_role *r)
{
	return r->gpu_memory_utilization > 0 ? r->gpu_memory_utilization : c->gpu_memory_utilization;
}

bool
planparams_role(const struct catalog *c, const struct catalog_role *r, struct budget_params *p,
    struct diag_sink *diag)
{
	memset(p, 0, sizeof *p);
	p->gpu_total_bytes = c->gpu_total_bytes;
	p->gpu_used_bytes = c->gpu_used_bytes;
	p->utilization = planparams_utilization(c, r);
	p->max_num_seqs = r->max_num_seqs ? r->max_num_seqs : c->max_num_seqs;
	p->max_num_batched_tokens = r->max_num_batched_tokens ? r->max_num_batched_tokens :
	    c->max_num_batched_tokens;
	p->tensor_parallel = 1;
	p->enforce_eager = c->enforce_eager;
	p->engine = c->engine;
	/* The catalog's generation of vLLM rules (server.vllm_version; the newest by default). */
	p->generation_set = true;
	p->generation = c->generation;
	p->safety_margin_bytes = c->safety_margin_bytes;
	p->safety_margin_set = c->safety_margin_bytes != 0;
	const char *kv = r->kv_cache_dtype ? r->kv_cache_dtype : "auto";
	if (budget_kv_dtype_bytes(kv, &p->kv_dtype_bytes))
		return true;
	const struct ynode *at = r->node ? yamldoc_get(r->node, "kv_cache_dtype") : NULL;
	diag_error(diag, at ? at->pos : r->node ? r->node->pos : diag_file(c->path),
	    "roles.%s.kv_cache_dtype: '%s' is not one of %s", r->name, kv, BUDGET_KV_DTYPE_NAMES);
	return false;
}

uint32_t
planparams_len(const struct catalog_role *r, const struct budget_arch *a)
{
	if (!r->max_model_len_auto)
		return r->max_model_len;
	return a->max_position_embeddings ? a->max_position_embeddings : PLANPARAMS_UNCAPPED;
}

uint32_t
planparams_min_len(const struct catalog_role *r)
{
	return r->max_model_len_auto ? 1 : UINT32_MAX;
}

uint32_t
planparams_memory_len(const struct budget_arch *a, const struct budget_params *p)
{
	struct budget_arch wide = *a;
	struct budget_params q = *p, used;
	struct budget_result r;
	wide.max_position_embeddings = 0;
	q.max_model_len = PLANPARAMS_UNCAPPED;
	return budget_fit_context_checked(&wide, &q, 1, &r, &used) ? used.max_model_len : 0;
}
