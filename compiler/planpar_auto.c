/*
 * The auto rules, after vLLM's docs (parallelism_scaling.md): one GPU if the model fits; else
 * TP over the GPUs of one host, PP instead when the heads do not divide or the host has no
 * NVLink; else TP per host and PP over hosts; GPUs that differ in free memory get PP with
 * layers in proportion to memory. Each choice keeps the sentence that decided it.
 */
#include "planpar_int.h"

#include <stdio.h>
#include <string.h>

/* Layers per stage in proportion to what each stage's GPU has left for layers (equal KV tokens). */
static void
partition_by_memory(const struct planpar_ctx *x, const struct catalog_slot *slots, uint32_t pp,
    uint32_t *out)
{
	uint32_t layers = x->m->arch->layers, given = 0;
	double room[BUDGET_RANK_MAX_PP], sum = 0;
	for (uint32_t s = 0; s < pp; s++) {
		struct budget_rank_weights w;
		budget_rank_weights(x->m->arch, x->m->quant, 1, 0, pp, s, 0, &w);
		double r = (double)planpar_free(x->c, slots[s]) - (double)w.total_bytes;
		room[s] = r > 0 ? r : 0;
		sum += room[s];
	}
	for (uint32_t s = 0; s < pp; s++) {
		out[s] = sum > 0 ? (uint32_t)((double)layers * room[s] / sum) : layers / pp;
		if (!out[s])
			out[s] = 1;
		given += out[s];
	}
	/* Hand out (or take back) the rounding one layer at a time, largest room first. */
	while (given != layers) {
		uint32_t best = 0;
		for (uint32_t s = 1; s < pp; s++)
			if ((given < layers && room[s] / out[s] > room[best] / out[best]) ||
			    (given > layers && out[s] > 1 && room[s] / out[s] < room[best] / out[best]))
				best = s;
		if (given < layers) {
			out[best]++;
			given++;
		} else if (out[best] > 1) {
			out[best]--;
			given--;
		} else {
			break;
		}
	}
}

static const char *
partition_text(struct arena *a, const uint32_t *v, uint32_t n)
{
	const char *s = "";
	for (uint32_t i = 0; i < n; i++)
		s = arena_printf(a, "%s%s%u", s, i ? "," : "", v[i]);
	return s;
}

size_t
planpar_hosts_in(const struct catalog_slot *slots, size_t n)
{
	size_t hosts = 0;
	for (size_t k = 0; k < n; k++)
		hosts += k == 0 || slots[k].host != slots[k - 1].host;
	return hosts;
}

/* GPUs at the start of slots that are on the first slot's host. */
static size_t
first_host_run(const struct catalog_slot *slots, size_t n)
{
	size_t k = 1;
	while (k < n && slots[k].host == slots[0].host)
		k++;
	return n ? k : 0;
}

/* Both sizes auto: the rules of the file comment, each printing what decided it. */
void
planpar_choose_auto(const struct planpar_ctx *x, const struct catalog_slot *pool, size_t np,
    bool placed, struct plan_parallel *pl, uint32_t *partition, struct plan_rank *ranks,
    double *util, uint32_t *len)
{
	const struct catalog *c = x->c;
	const struct catalog_host *h = &c->hosts[pool[0].host];
	pl->tp = pl->pp = 1;
	if (!placed || np == 1) {
		if (planpar_candidate(x, 1, 1, pool, NULL, ranks, util, len) || np == 1) {
			pl->rule = arena_printf(x->a, "one GPU (GPU %u of host "
			    "'%s'): the model fits it", planpar_gpu(c, pool[0])->index, h->name);
			return;
		}
	}
	size_t n1 = first_host_run(pool, np);
	bool can_pp = planpar_pp_allowed(x);
	bool last = n1 == np;
	if (n1 > 1) {
		uint32_t n = (uint32_t)n1;
		bool differ = planpar_gpus_differ(c, pool, n1), heads = planpar_tp_divides(x->m->arch, n);
		if (can_pp && differ) {
			partition_by_memory(x, pool, n, partition);
			pl->pp = n;
			pl->partition_set = true;
		} else if (can_pp && (!heads || !h->nvlink)) {
			pl->pp = n;
		} else if (heads) {
			pl->tp = n;
		} else {
			pl->pp = n;             /* reported by the PP check */
			return;
		}
		bool ok = planpar_candidate(x, pl->tp, pl->pp, pool, pl->partition_set ? partition : NULL,
		    ranks, util, len);
		if (ok || last) {
			if (pl->partition_set)
				pl->rule = arena_printf(x->a, "pp %u with "
				    "VLLM_PP_LAYER_PARTITION=%s over the GPUs of host '%s': they differ in "
				    "free memory, so each stage gets layers in proportion to it", n,
				    partition_text(x->a, partition, n), h->name);
			else if (pl->pp > 1 && !heads)
				pl->rule = arena_printf(x->a, "pp %u over the GPUs of "
				    "host '%s' instead of tp: the model's %u attention heads are not divisible "
				    "by %u", n, h->name, x->m->arch->attention_heads, n);
			else if (pl->pp > 1)
				pl->rule = arena_printf(x->a, "pp %u over the GPUs of "
				    "host '%s' instead of tp: the host has no NVLink (interconnect: pcie), "
				    "where vLLM's docs prefer pipeline parallel", n, h->name);
			else
				pl->rule = arena_printf(x->a, "tp %u over the GPUs of "
				    "host '%s': the model does not fit one GPU", n, h->name);
			return;
		}
	}
	size_t hosts = planpar_hosts_in(pool, np);
	pl->partition_set = false;
	pl->tp = (uint32_t)n1;
	pl->pp = (uint32_t)hosts;
	if (np != n1 * hosts || !planpar_tp_divides(x->m->arch, pl->tp)) {
		pl->tp = 1;
		pl->pp = (uint32_t)np;
	}
	planpar_candidate(x, pl->tp, pl->pp, pool, NULL, ranks, util, len);
	pl->rule = arena_printf(x->a, "tp %u per host and pp %u over %zu "
	    "hosts: the model does not fit the GPUs of one host", pl->tp, pl->pp, hosts);
	return;
}

void
planpar_choose_other(const struct planpar_ctx *x, size_t np, bool placed,
    struct plan_parallel *pl, struct plan_rank *ranks, double *util, uint32_t *len)
{
	const struct catalog_role *r = x->r;
	const struct catalog_slot *pool = r->slots;
	uint32_t given = r->tp ? r->tp : r->pp, other = 1, most = (uint32_t)(np / given);
	for (other = placed ? (most ? most : 1) : 1; other <= (most ? most : 1); other++) {
		pl->tp = r->tp ? r->tp : other;
		pl->pp = r->pp ? r->pp : other;
		if ((r->tp || planpar_tp_divides(x->m->arch, pl->tp)) &&
		    planpar_candidate(x, pl->tp, pl->pp, pool, NULL, ranks, util, len))
			break;
	}
	if (other > (most ? most : 1))
		other = most ? most : 1;
	pl->tp = r->tp ? r->tp : other;
	pl->pp = r->pp ? r->pp : other;
	/* What was chosen, and which size the catalog gave. */
	if (r->tp)
		pl->rule = arena_printf(x->a, "pp %u chosen for the given tp %u: the fewest pipeline stages "
		    "that fit", pl->pp, pl->tp);
	else
		pl->rule = arena_printf(x->a, "tp %u chosen for the given pp %u: the smallest tensor-parallel "
		    "size that fits", pl->tp, pl->pp);
}
