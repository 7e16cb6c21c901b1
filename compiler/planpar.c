/*
 * Sizes, ranks and the per-rank fit of a role over several GPUs. The auto rules follow vLLM's
 * docs (parallelism_scaling.md): one GPU if the model fits; else TP over the GPUs of one host,
 * PP instead when the heads do not divide or the host has no NVLink; else TP per host and PP
 * over hosts; GPUs that differ in free memory get PP with layers in proportion to memory.
 */
#include "planpar.h"

#include <stdio.h>
#include <string.h>

#include "planparams.h"
#include "size.h"

#define PLANPAR_SUPPORTS_PP "schemas/pp-architectures.json"

struct shape {
	uint32_t tp, pp;
	const struct catalog_slot *slots;   /* tp x pp GPUs, rank order */
	const uint32_t *partition;          /* NULL: get_pp_indices */
};

struct ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct catalog *c;
	const struct catalog_role *r;
	struct diag_pos rpos;
	const struct planpar_model *m;
	const struct budget_params *base;
};

static const struct catalog_gpu *
gpu_of(const struct catalog *c, struct catalog_slot s)
{
	return &c->hosts[s.host].gpus[s.gpu];
}

static uint64_t
free_of(const struct catalog *c, struct catalog_slot s)
{
	const struct catalog_gpu *g = gpu_of(c, s);
	return g->total_bytes > g->used_bytes ? g->total_bytes - g->used_bytes : 0;
}

static struct diag_pos
par_pos(const struct ctx *x, const char *key)
{
	const struct ynode *par = yamldoc_get(x->r->node, "parallel");
	const struct ynode *n = key ? yamldoc_get(par, key) : par;
	return n ? n->pos : x->rpos;
}

/* vLLM's own divisibility rules for TP (verify_with_parallel_config, LlamaAttention). */
static bool
tp_divides(const struct budget_arch *a, uint32_t tp)
{
	uint32_t kv = a->kv_heads ? a->kv_heads : a->attention_heads;
	if (!a->attention_heads || a->attention_heads % tp)
		return false;
	return kv >= tp ? kv % tp == 0 : tp % kv == 0;
}

static bool
tp_check(const struct ctx *x, uint32_t tp)
{
	const struct budget_arch *a = x->m->arch;
	uint32_t kv = a->kv_heads ? a->kv_heads : a->attention_heads;
	if (a->attention_heads % tp) {
		diag_error(x->diag, par_pos(x, "tp"), "roles.%s.parallel.tp: %u does not divide the "
		    "model's %u attention heads; vLLM refuses it: \"Total number of attention heads "
		    "(%u) must be divisible by tensor parallel size (%u).\"", x->r->name, tp,
		    a->attention_heads, a->attention_heads, tp);
		return false;
	}
	if (!tp_divides(a, tp)) {
		diag_error(x->diag, par_pos(x, "tp"), "roles.%s.parallel.tp: %u and the model's %u KV "
		    "heads: vLLM needs one to divide the other (each rank holds whole KV heads)",
		    x->r->name, tp, kv);
		return false;
	}
	return true;
}

static bool
pp_supported(const struct ctx *x, uint32_t pp)
{
	const char *arch = x->m->architecture;
	if (pp <= 1)
		return true;
	if (!arch) {
		diag_warning(x->diag, par_pos(x, "pp"), "roles.%s.parallel.pp: %u with an unknown "
		    "architecture: vLLM refuses pipeline parallel for models without SupportsPP",
		    x->r->name, pp);
		return true;
	}
	for (size_t i = 0; i < x->c->npp_archs; i++)
		if (strcmp(x->c->pp_archs[i], arch) == 0)
			return true;
	diag_error(x->diag, par_pos(x, "pp"), "roles.%s.parallel.pp: %u, but '%s' is not in %s, "
	    "the architectures known to implement vLLM's SupportsPP; vLLM says: \"Pipeline "
	    "parallelism is not supported for this model. Supported models implement the "
	    "`SupportsPP` interface.\"", x->r->name, pp, arch, PLANPAR_SUPPORTS_PP);
	return false;
}

/* The exact checkpoint bytes split in the formula's proportions (else the formula). */
static void
scale_weights(const struct ctx *x, struct budget_rank_weights *w)
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

/* Fit every rank of one replica at len (min_len as budget_fit_context); false: a rank does not fit. */
static bool
fit_shape(const struct ctx *x, const struct shape *s, struct plan_rank *ranks, double util,
    uint32_t len, uint32_t min_len)
{
	uint32_t n = s->tp * s->pp, stages[BUDGET_RANK_MAX_PP];
	bool all = true;
	budget_pp_layers(x->m->arch->layers, s->pp, s->partition, stages);
	for (uint32_t k = 0; k < n; k++) {
		struct plan_rank *pr = &ranks[k];
		const struct catalog_gpu *g = gpu_of(x->c, s->slots[k]);
		memset(pr, 0, sizeof *pr);
		pr->rank = k;
		pr->stage = k / s->tp;
		pr->tp_rank = k % s->tp;
		pr->slot = s->slots[k];
		pr->layers = stages[pr->stage];
		budget_rank_weights(x->m->arch, x->m->quant, s->tp, s->pp, pr->stage, pr->layers,
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
shape_utilization(const struct ctx *x, const struct shape *s)
{
	double u = x->base->utilization;
	for (uint32_t k = 0; k < s->tp * s->pp; k++) {
		const struct catalog_host *h = &x->c->hosts[s->slots[k].host];
		double hu = x->r->gpu_memory_utilization > 0 ? x->r->gpu_memory_utilization :
		    h->utilization;
		struct budget_params p = *x->base;
		struct budget_result r;
		p.gpu_total_bytes = gpu_of(x->c, s->slots[k])->total_bytes;
		p.gpu_used_bytes = gpu_of(x->c, s->slots[k])->used_bytes;
		p.utilization = hu;
		budget_check_start(&p, 0, &r);
		if (k == 0 || r.utilization < u)
			u = r.utilization;
	}
	return u;
}

/*
 * Fit the shape, lowering an auto context to what the tightest rank allows. true when every
 * rank fits; ranks hold the last fit either way.
 */
static bool
try_shape(const struct ctx *x, const struct shape *s, struct plan_rank *ranks, double *util,
    uint32_t *len_out)
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

static bool
gpus_differ(const struct catalog *c, const struct catalog_slot *slots, size_t n)
{
	for (size_t k = 1; k < n; k++)
		if (gpu_of(c, slots[k])->total_bytes != gpu_of(c, slots[0])->total_bytes ||
		    gpu_of(c, slots[k])->used_bytes != gpu_of(c, slots[0])->used_bytes)
			return true;
	return false;
}

/* Layers per stage in proportion to what each stage's GPU has left for layers (equal KV tokens). */
static void
partition_by_memory(const struct ctx *x, const struct catalog_slot *slots, uint32_t pp,
    uint32_t *out)
{
	uint32_t layers = x->m->arch->layers, given = 0;
	double room[BUDGET_RANK_MAX_PP], sum = 0;
	for (uint32_t s = 0; s < pp; s++) {
		struct budget_rank_weights w;
		budget_rank_weights(x->m->arch, x->m->quant, 1, pp, s, 0, &w);
		double r = (double)free_of(x->c, slots[s]) - (double)w.total_bytes;
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

static size_t
hosts_in(const struct catalog_slot *slots, size_t n)
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


/* The first replica's GPUs when it tries n of the pool: the first n. */
static bool
candidate(struct ctx *x, uint32_t tp, uint32_t pp, const struct catalog_slot *pool,
    const uint32_t *partition, struct plan_rank *ranks, double *util, uint32_t *len)
{
	struct shape s = {tp, pp, pool, partition};
	if (pp > x->m->arch->layers)
		return false;
	return try_shape(x, &s, ranks, util, len);
}

static bool
pp_allowed(const struct ctx *x)
{
	if (!x->m->architecture)
		return true;
	for (size_t i = 0; i < x->c->npp_archs; i++)
		if (strcmp(x->c->pp_archs[i], x->m->architecture) == 0)
			return true;
	return false;
}

/* Both sizes auto: the rules of the file comment, each printing what decided it. */
static bool
choose_auto(struct ctx *x, const struct catalog_slot *pool, size_t np, bool placed,
    struct plan_parallel *pl, uint32_t *partition, struct plan_rank *ranks, double *util,
    uint32_t *len)
{
	const struct catalog *c = x->c;
	const struct catalog_host *h = &c->hosts[pool[0].host];
	pl->tp = pl->pp = 1;
	if (!placed || np == 1) {
		if (candidate(x, 1, 1, pool, NULL, ranks, util, len) || np == 1) {
			pl->rule = arena_printf(x->a, "one GPU (GPU %u of host "
			    "'%s'): the model fits it", gpu_of(c, pool[0])->index, h->name);
			return true;
		}
	}
	size_t n1 = first_host_run(pool, np);
	bool can_pp = pp_allowed(x);
	bool last = n1 == np;
	if (n1 > 1) {
		uint32_t n = (uint32_t)n1;
		bool differ = gpus_differ(c, pool, n1), heads = tp_divides(x->m->arch, n);
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
			return true;
		}
		bool ok = candidate(x, pl->tp, pl->pp, pool, pl->partition_set ? partition : NULL,
		    ranks, util, len);
		if (ok || last) {
			if (pl->partition_set)
				pl->rule = arena_printf(x->a, "pp %u with "
				    "VLLM_PP_LAYER_PARTITION=%s over the GPUs of host '%s': they differ in "
				    "free memory, so each stage gets layers in proportion to it", n, partition_text(x->a, partition, n), h->name);
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
			return true;
		}
	}
	size_t hosts = hosts_in(pool, np);
	pl->partition_set = false;
	pl->tp = (uint32_t)n1;
	pl->pp = (uint32_t)hosts;
	if (np != n1 * hosts || !tp_divides(x->m->arch, pl->tp)) {
		pl->tp = 1;
		pl->pp = (uint32_t)np;
	}
	candidate(x, pl->tp, pl->pp, pool, NULL, ranks, util, len);
	pl->rule = arena_printf(x->a, "tp %u per host and pp %u over %zu "
	    "hosts: the model does not fit the GPUs of one host", pl->tp, pl->pp, hosts);
	return true;
}

static void
report_over(const struct ctx *x, const struct plan_rank *ranks, size_t n, uint32_t len)
{
	for (size_t k = 0; k < n; k++) {
		const struct plan_rank *pr = &ranks[k];
		const struct budget_result *res = &pr->result;
		if (res->fits)
			continue;
		const struct catalog_host *h = &x->c->hosts[pr->slot.host];
		uint64_t before = res->weights_bytes + res->activation_bytes + res->non_torch_bytes +
		    res->safety_margin_bytes;
		if (!res->max_model_len_fit)
			diag_error(x->diag, x->rpos, "roles.%s: rank %u (host '%s', GPU %u) does not fit "
			    "at any context: needs %.2f GiB before the KV cache, budget is %.2f GiB",
			    x->r->name, pr->rank, h->name, gpu_of(x->c, pr->slot)->index,
			    size_gib(before), size_gib(res->budget_bytes));
		else
			diag_error(x->diag, x->rpos, "roles.%s: rank %u (host '%s', GPU %u) needs %.2f GiB "
			    "at max_model_len %u, budget is %.2f GiB", x->r->name, pr->rank, h->name,
			    gpu_of(x->c, pr->slot)->index,
			    size_gib(before + res->kv_bytes_per_token * (uint64_t)len),
			    len, size_gib(res->budget_bytes));
	}
}

static bool
partition_ok(const struct ctx *x, uint32_t pp)
{
	const struct catalog_role *r = x->r;
	if (!r->layer_partition)
		return true;
	uint64_t sum = 0;
	for (size_t i = 0; i < r->nlayer_partition; i++)
		sum += r->layer_partition[i];
	if (r->nlayer_partition != pp) {
		diag_error(x->diag, par_pos(x, "layer_partition"), "roles.%s.parallel.layer_partition: "
		    "%zu stages for pp %u; VLLM_PP_LAYER_PARTITION needs one number per stage", r->name,
		    r->nlayer_partition, pp);
		return false;
	}
	if (sum != x->m->arch->layers) {
		diag_error(x->diag, par_pos(x, "layer_partition"), "roles.%s.parallel.layer_partition: "
		    "adds up to %llu layers, the model has %u; vLLM raises \"sum(partitions)=%llu does "
		    "not match num_hidden_layers=%u.\"", r->name, (unsigned long long)sum,
		    x->m->arch->layers, (unsigned long long)sum, x->m->arch->layers);
		return false;
	}
	return true;
}

/* Ray across nodes needs an image with Ray: the stock one has none from v0.19.0. */
static bool
image_has_ray(const char *image)
{
	const char *colon = strrchr(image, ':');
	unsigned major = 0, minor = 0;
	if (strncmp(image, "vllm/vllm-openai:", 17) != 0 || !colon)
		return true;
	if (sscanf(colon + 1, "v%u.%u", &major, &minor) != 2)
		return strcmp(colon + 1, "latest") != 0;
	return major == 0 && minor < 19;
}

static bool
nodes_ok(const struct ctx *x, const struct plan_parallel *pl)
{
	bool ok = true;
	if (pl->nnodes <= 1)
		return true;
	for (size_t k = 0; k < pl->nranks; k++) {
		const struct catalog_host *h = &x->c->hosts[pl->ranks[k].slot.host];
		if ((k == 0 || pl->ranks[k].slot.host != pl->ranks[k - 1].slot.host) && !h->address) {
			diag_error(x->diag, x->rpos, "roles.%s: spans %zu hosts, but hosts[%zu] ('%s') has "
			    "no address; vLLM's nodes reach each other at --master-addr and VLLM_HOST_IP",
			    x->r->name, pl->nnodes, pl->ranks[k].slot.host, h->name);
			ok = false;
		}
	}
	const struct ynode *deploy = yamldoc_get(x->c->root, "deploy");
	const struct ynode *be = yamldoc_get(deploy, "executor_backend");
	if (x->c->backend_ray && !image_has_ray(x->c->image)) {
		diag_error(x->diag, be ? be->pos : x->rpos, "deploy.executor_backend: 'ray' with "
		    "roles.%s over %zu hosts, but image '%s' has no Ray (the stock vLLM image dropped "
		    "it in v0.19.0); use mp, or an image that ships the ray CLI", x->r->name,
		    pl->nnodes, x->c->image);
		ok = false;
	}
	return ok;
}

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
summarize(const struct ctx *x, struct plan_parallel *pl)
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
		    d->rank, x->c->hosts[d->slot.host].name, gpu_of(x->c, d->slot)->index,
		    (unsigned long long)pl->kv_tokens);
	if (gpus_differ(x->c, used, pl->nranks)) {
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
	struct ctx x = {a, diag, c, r, rpos, m, base};
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
		uint32_t given = r->tp ? r->tp : r->pp, other = 1, most = (uint32_t)(np / given);
		for (other = placed ? (most ? most : 1) : 1; other <= (most ? most : 1); other++) {
			pl->tp = r->tp ? r->tp : other;
			pl->pp = r->pp ? r->pp : other;
			if ((r->tp || tp_divides(m->arch, pl->tp)) && candidate(&x, pl->tp, pl->pp, pool,
			    NULL, ranks, &util, &len))
				break;
		}
		if (other > (most ? most : 1))
			other = most ? most : 1;
		pl->tp = r->tp ? r->tp : other;
		pl->pp = r->pp ? r->pp : other;
		if (r->tp)
			pl->rule = arena_printf(a, "pp %u: the fewest stages of tp %u "
			    "that fit", pl->pp, pl->tp);
		else
			pl->rule = arena_printf(a, "tp %u: the smallest tensor-parallel "
			    "size of pp %u that fits", pl->tp, pl->pp);
	} else if (r->layer_partition) {
		pl->tp = 1;
		pl->pp = (uint32_t)r->nlayer_partition;
	} else {
		choose_auto(&x, pool, np, placed, pl, partition, ranks, &util, &len);
	}
	if (pl->rule)
		diag_note(diag, rpos, "roles.%s: parallel auto: %s", r->name, pl->rule);
	uint32_t n = pl->tp * pl->pp;
	if (!r->dp)
		dp = (uint32_t)(nslots / n ? nslots / n : 1);
	pl->dp = dp;
	if ((placed || r->tp || r->pp || r->dp != 1) && (placed ? (size_t)n * dp != nslots :
	    (size_t)n * dp > nslots)) {
		diag_error(diag, par_pos(&x, NULL), "roles.%s.parallel: tp %u x pp %u x dp %u is %u GPUs, "
		    "placement names %zu", r->name, pl->tp, pl->pp, dp, n * dp, nslots);
		return NULL;
	}
	if (!tp_check(&x, pl->tp) | !pp_supported(&x, pl->pp) | !partition_ok(&x, pl->pp))
		return NULL;
	if (r->layer_partition) {
		memcpy(partition, r->layer_partition, pl->pp * sizeof *partition);
		pl->partition_set = true;
	}
	pl->nranks = (size_t)n * dp;
	pl->ranks = arena_alloc(a, (pl->nranks + 1) * sizeof *pl->ranks);
	bool fits = true;
	for (uint32_t rep = 0; rep < dp; rep++) {
		struct shape s = {pl->tp, pl->pp, r->slots + (size_t)rep * n,
		    pl->partition_set ? partition : NULL};
		double u;
		uint32_t l;
		fits = try_shape(&x, &s, pl->ranks + (size_t)rep * n, &u, &l) && fits;
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
	pl->nnodes = hosts_in(r->slots, n);
	if (!fits) {
		report_over(&x, pl->ranks, pl->nranks, len);
		return NULL;
	}
	if (!nodes_ok(&x, pl))
		return NULL;
	pl->fits = true;
	summarize(&x, pl);
	return diag->errors == errors0 ? pl : NULL;
}
