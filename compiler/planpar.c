/*
 * Sizes, ranks and the per-rank fit of a role over several GPUs: the sizes given or chosen
 * (planpar_auto.c), the hard errors (planpar_checks.c), every replica's fit (planpar_fit.c),
 * then the rank that decides the KV cache and the knobs the layout needs.
 */
#include "planpar_int.h"

#include <string.h>

static bool
is_moe(const char *config_json)
{
	static const char *const keys[] = {"\"num_experts\":", "\"num_local_experts\":",
		"\"n_routed_experts\":"};
	for (size_t i = 0; config_json && i < sizeof keys / sizeof keys[0]; i++) {
		const char *p = strstr(config_json, keys[i]);
		if (p && p[strlen(keys[i])] >= '1' && p[strlen(keys[i])] <= '9')
			return true;
	}
	return false;
}

/* KV tokens, the deciding rank, one utilization, the knobs and their notes. */
static void
summarize(const struct planpar_ctx *x, struct plan_parallel *pl)
{
	const char *name = x->r->name;
	pl->deciding = 0;
	for (size_t k = 1; k < pl->nranks; k++)
		if (pl->ranks[k].result.kv_tokens < pl->ranks[pl->deciding].result.kv_tokens)
			pl->deciding = k;
	const struct plan_rank *d = &pl->ranks[pl->deciding];
	pl->kv_tokens = d->result.kv_tokens;
	pl->concurrency = budget_max_concurrency(pl->kv_tokens, pl->max_model_len,
	    d->params.block_size);
	struct catalog_slot *used = arena_alloc(x->a, (pl->nranks + 1) * sizeof *used);
	uint64_t kv_min = d->result.kv_cache_bytes;
	for (size_t k = 0; k < pl->nranks; k++) {
		used[k] = pl->ranks[k].slot;
		if (pl->ranks[k].result.kv_cache_bytes < kv_min)
			kv_min = pl->ranks[k].result.kv_cache_bytes;
		if (pl->tp > 1 && !x->c->hosts[used[k].host].nvlink)
			pl->p2p_disable = true;
	}
	pl->moe = is_moe(x->m->config_json);
	if (pl->nranks > 1)
		diag_note(x->diag, x->rpos, "roles.%s: rank %u (host '%s', GPU %u) decides the KV "
		    "cache: %llu tokens (vLLM sizes every worker's cache by the smallest)", name,
		    d->rank, x->c->hosts[d->slot.host].name, planpar_gpu(x->c, d->slot)->index,
		    (unsigned long long)pl->kv_tokens);
	if (planpar_gpus_differ(x->c, used, pl->nranks)) {
		pl->kv_cache_memory_bytes = kv_min;
		diag_note(x->diag, x->rpos, "roles.%s: --kv-cache-memory-bytes %llu: the GPUs differ in "
		    "memory or memory in use, and one --gpu-memory-utilization applies to every GPU",
		    name, (unsigned long long)kv_min);
	}
	if (pl->p2p_disable)
		diag_note(x->diag, x->rpos, "roles.%s: tp %u over PCIe: NCCL_P2P_DISABLE=1 and "
		    "--disable-custom-all-reduce (GPUs without peer-to-peer hang in NCCL otherwise; "
		    "set interconnect: nvlink if they have it)", name, pl->tp);
}

const struct plan_parallel *
planpar_role(struct arena *a, struct diag_sink *diag, const struct catalog *c,
    const struct catalog_role *r, struct diag_pos rpos, const struct planpar_model *m,
    const struct budget_params *base)
{
	struct planpar_ctx x = {a, diag, c, r, rpos, m, base};
	struct plan_parallel *pl = arena_alloc(a, sizeof *pl);
	unsigned errors0 = diag->errors;
	bool placed = yamldoc_get(r->node, "placement") != NULL;
	size_t nslots = r->nslots;
	uint32_t partition[BUDGET_RANK_MAX_PP] = {0};
	double util = base->utilization;
	uint32_t len = 0;

	memset(pl, 0, sizeof *pl);
	if (!nslots)
		return NULL;
	uint32_t dp = r->dp ? r->dp : 1;
	size_t np = placed || r->dp ? nslots / dp : nslots;
	struct plan_rank *ranks = arena_alloc(a, (nslots + 1) * sizeof *ranks);
	const struct catalog_slot *pool = r->slots;
	if (r->tp && r->pp) {
		pl->tp = r->tp;
		pl->pp = r->pp;
	} else if (r->tp || r->pp) {
		planpar_choose_other(&x, np, placed, pl, ranks, &util, &len);
	} else if (r->layer_partition) {
		pl->tp = 1;
		pl->pp = (uint32_t)r->nlayer_partition;
	} else {
		planpar_choose_auto(&x, pool, np, placed, pl, partition, ranks, &util, &len);
	}
	if (pl->rule)
		diag_note(diag, rpos, "roles.%s: parallel auto: %s", r->name, pl->rule);
	uint32_t n = pl->tp * pl->pp;
	if (!r->dp)
		dp = (uint32_t)(nslots / n ? nslots / n : 1);
	pl->dp = dp;
	if (!planpar_check_gpus(&x, pl, placed))
		return NULL;
	if (!planpar_check_tp(&x, pl->tp) | !planpar_check_pp(&x, pl->pp) |
	    !planpar_check_partition(&x, pl->pp))
		return NULL;
	if (r->layer_partition) {
		memcpy(partition, r->layer_partition, pl->pp * sizeof *partition);
		pl->partition_set = true;
	}
	pl->nranks = (size_t)n * dp;
	pl->ranks = arena_alloc(a, (pl->nranks + 1) * sizeof *pl->ranks);
	bool fits = true;
	for (uint32_t rep = 0; rep < dp; rep++) {
		/* --enable-expert-parallel (planargv.c): vLLM's expert-parallel group is tp x dp. */
		struct planpar_shape s = {pl->tp, pl->pp, pl->moe && pl->tp * dp > 1 ? pl->tp * dp : pl->tp,
		    r->slots + (size_t)rep * n, pl->partition_set ? partition : NULL};
		double u;
		uint32_t l;
		fits = planpar_try_shape(&x, &s, pl->ranks + (size_t)rep * n, &u, &l) && fits;
		if (rep == 0 || u < util)
			util = u;
		if (rep == 0 || l < len)
			len = l;
		for (uint32_t k = 0; k < n; k++)
			pl->ranks[(size_t)rep * n + k].replica = rep;
	}
	budget_pp_layers(m->arch->layers, pl->pp, pl->partition_set ? partition : NULL,
	    pl->stage_layers);
	pl->utilization = util;
	pl->max_model_len = len;
	pl->nnodes = planpar_hosts_in(r->slots, n);
	if (!fits) {
		planpar_report_over(&x, pl->ranks, pl->nranks, len);
		return NULL;
	}
	if (!planpar_check_nodes(&x, pl))
		return NULL;
	pl->fits = true;
	summarize(&x, pl);
	return diag->errors == errors0 ? pl : NULL;
}
