/*
 * The hard errors of a role over several GPUs (docs/budget.md, "Several GPUs"): what vLLM
 * would refuse at start-up, said before anything is written, at the catalog value to change,
 * with vLLM's own words where it has them.
 */
#include "planpar_int.h"

#include <stdio.h>
#include <string.h>

#include "size.h"

/* vLLM's own divisibility rules for TP (verify_with_parallel_config, LlamaAttention). */
bool
planpar_tp_divides(const struct budget_arch *a, uint32_t tp)
{
	uint32_t kv = a->kv_heads ? a->kv_heads : a->attention_heads;
	if (!a->attention_heads || a->attention_heads % tp)
		return false;
	return kv >= tp ? kv % tp == 0 : tp % kv == 0;
}

bool
planpar_check_tp(const struct planpar_ctx *x, uint32_t tp)
{
	const struct budget_arch *a = x->m->arch;
	uint32_t kv = a->kv_heads ? a->kv_heads : a->attention_heads;
	if (a->attention_heads % tp) {
		diag_error(x->diag, planpar_pos(x, "tp"), "roles.%s.parallel.tp: %u does not divide the "
		    "model's %u attention heads; vLLM refuses it: \"Total number of attention heads "
		    "(%u) must be divisible by tensor parallel size (%u).\"", x->r->name, tp,
		    a->attention_heads, a->attention_heads, tp);
		return false;
	}
	if (!planpar_tp_divides(a, tp)) {
		diag_error(x->diag, planpar_pos(x, "tp"), "roles.%s.parallel.tp: %u and the model's %u KV "
		    "heads: vLLM needs one to divide the other (each rank holds whole KV heads)",
		    x->r->name, tp, kv);
		return false;
	}
	return true;
}

bool
planpar_pp_allowed(const struct planpar_ctx *x)
{
	if (!x->m->architecture)
		return true;
	for (size_t i = 0; i < x->c->npp_archs; i++)
		if (strcmp(x->c->pp_archs[i], x->m->architecture) == 0)
			return true;
	return false;
}

bool
planpar_check_pp(const struct planpar_ctx *x, uint32_t pp)
{
	const char *arch = x->m->architecture;
	if (pp <= 1)
		return true;
	if (!arch) {
		diag_warning(x->diag, planpar_pos(x, "pp"), "roles.%s.parallel.pp: %u with an unknown "
		    "architecture: vLLM refuses pipeline parallel for models without SupportsPP",
		    x->r->name, pp);
		return true;
	}
	for (size_t i = 0; i < x->c->npp_archs; i++)
		if (strcmp(x->c->pp_archs[i], arch) == 0)
			return true;
	diag_error(x->diag, planpar_pos(x, "pp"), "roles.%s.parallel.pp: %u, but '%s' is not in %s, "
	    "the architectures known to implement vLLM's SupportsPP; vLLM says: \"Pipeline "
	    "parallelism is not supported for this model. Supported models implement the "
	    "`SupportsPP` interface.\"", x->r->name, pp, arch, PLANPAR_SUPPORTS_PP);
	return false;
}

bool
planpar_check_partition(const struct planpar_ctx *x, uint32_t pp)
{
	const struct catalog_role *r = x->r;
	if (!r->layer_partition)
		return true;
	uint64_t sum = 0;
	for (size_t i = 0; i < r->nlayer_partition; i++)
		sum += r->layer_partition[i];
	if (r->nlayer_partition != pp) {
		diag_error(x->diag, planpar_pos(x, "layer_partition"), "roles.%s.parallel.layer_partition: "
		    "%zu stages for pp %u; VLLM_PP_LAYER_PARTITION needs one number per stage", r->name,
		    r->nlayer_partition, pp);
		return false;
	}
	if (sum != x->m->arch->layers) {
		diag_error(x->diag, planpar_pos(x, "layer_partition"), "roles.%s.parallel.layer_partition: "
		    "adds up to %llu layers, the model has %u; vLLM raises \"sum(partitions)=%llu does "
		    "not match num_hidden_layers=%u.\"", r->name, (unsigned long long)sum,
		    x->m->arch->layers, (unsigned long long)sum, x->m->arch->layers);
		return false;
	}
	return true;
}

void
planpar_report_over(const struct planpar_ctx *x, const struct plan_rank *ranks, size_t n,
    uint32_t len)
{
	for (size_t k = 0; k < n; k++) {
		const struct plan_rank *pr = &ranks[k];
		const struct budget_result *res = &pr->result;
		if (res->fits)
			continue;
		const struct catalog_host *h = &x->c->hosts[pr->slot.host];
		uint64_t before = budget_before_kv_bytes(res);
		const char *of = pr->replica || ranks[n - 1].replica ?
		    arena_printf(x->a, " of replica %u", pr->replica) : "";
		if (!res->max_model_len_fit)
			diag_error(x->diag, x->rpos, "roles.%s: rank %u%s (host '%s', GPU %u) does not "
			    "fit at any context: needs %.2f GiB before the KV cache, budget is %.2f GiB; "
			    "spread the role over more GPUs (tp, pp) or quantize it", x->r->name, pr->rank,
			    of, h->name, planpar_gpu(x->c, pr->slot)->index, size_gib(before),
			    size_gib(res->budget_bytes));
		else
			diag_error(x->diag, x->rpos, "roles.%s: rank %u%s (host '%s', GPU %u) needs "
			    "%.2f GiB at max_model_len %u, budget is %.2f GiB; lower max_model_len or "
			    "spread the role over more GPUs (tp, pp)", x->r->name, pr->rank, of, h->name,
			    planpar_gpu(x->c, pr->slot)->index,
			    size_gib(before + res->kv_bytes_per_token * (uint64_t)len),
			    len, size_gib(res->budget_bytes));
	}
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

bool
planpar_check_gpus(const struct planpar_ctx *x, const struct plan_parallel *pl, bool placed)
{
	const struct catalog_role *r = x->r;
	uint32_t n = pl->tp * pl->pp * pl->dp;
	bool given = placed || r->tp || r->pp || r->dp != 1;
	if (!given || (placed ? n == r->nslots : n <= r->nslots))
		return true;
	if (placed)
		diag_error(x->diag, planpar_pos(x, NULL), "roles.%s.parallel: tp %u x pp %u x dp %u "
		    "is %u GPUs, placement names %zu; vLLM starts one rank per GPU, so place %u GPUs "
		    "or change the sizes", r->name, pl->tp, pl->pp, pl->dp, n, r->nslots, n);
	else
		diag_error(x->diag, planpar_pos(x, NULL), "roles.%s.parallel: tp %u x pp %u x dp %u "
		    "is %u GPUs, the hosts have %zu; lower the sizes or describe more GPUs under hosts:",
		    r->name, pl->tp, pl->pp, pl->dp, n, r->nslots);
	return false;
}

/* The first host of ranks[0..n) that has no address, else n. */
static size_t
host_without_address(const struct planpar_ctx *x, const struct plan_rank *ranks, size_t n)
{
	for (size_t k = 0; k < n; k++)
		if (!x->c->hosts[ranks[k].slot.host].address)
			return k;
	return n;
}

/* The first rank of a host run holding several replicas, else nranks. */
static size_t
several_replicas(const struct plan_parallel *pl)
{
	size_t per = (size_t)pl->tp * pl->pp, start = 0;
	for (size_t k = 1; k <= pl->nranks; k++) {
		if (k < pl->nranks && pl->ranks[k].slot.host == pl->ranks[start].slot.host)
			continue;
		if (k - start > per)
			return start;
		start = k;
	}
	return pl->nranks;
}

bool
planpar_check_nodes(const struct planpar_ctx *x, const struct plan_parallel *pl)
{
	const struct catalog_role *r = x->r;
	size_t hosts = planpar_hosts_in(r->slots, pl->nranks), k;
	bool ok = true;
	if (pl->dp > 1 && pl->nnodes > 1) {
		diag_error(x->diag, planpar_pos(x, "dp"), "roles.%s.parallel.dp: %u replicas of tp %u "
		    "x pp %u, each over %zu hosts; modelc writes data-parallel replicas that each fit "
		    "one host: lower tp x pp to a host's GPUs, or use dp: 1", r->name, pl->dp, pl->tp,
		    pl->pp, pl->nnodes);
		ok = false;
	} else if (hosts > 1 && (k = host_without_address(x, pl->ranks, pl->nranks)) < pl->nranks) {
		size_t h = pl->ranks[k].slot.host;
		if (pl->nnodes > 1)
			diag_error(x->diag, x->rpos, "roles.%s: spans %zu hosts, but hosts[%zu] ('%s') "
			    "has no address; vLLM's nodes reach each other at --master-addr and "
			    "VLLM_HOST_IP: set hosts[%zu].address", r->name, pl->nnodes, h,
			    x->c->hosts[h].name, h);
		else
			diag_error(x->diag, x->rpos, "roles.%s: dp %u over %zu hosts, but hosts[%zu] "
			    "('%s') has no address; the other nodes reach rank 0 at "
			    "--data-parallel-address and the router reaches every node at its address: "
			    "set hosts[%zu].address", r->name, pl->dp, hosts, h, x->c->hosts[h].name, h);
		ok = false;
	}
	const struct ynode *deploy = yamldoc_get(x->c->root, "deploy");
	const struct ynode *targets = yamldoc_get(deploy, "targets");
	size_t many = several_replicas(pl);
	if (ok && pl->dp > 1 && hosts > 2 && many < pl->nranks &&
	    (x->c->deploy_targets & CATALOG_TARGET_K8S)) {
		diag_error(x->diag, targets ? targets->pos : planpar_pos(x, "dp"), "roles.%s: dp %u "
		    "over %zu hosts runs several replicas on host '%s'; k8s gives it a "
		    "LeaderWorkerSet, whose workers share one template, so over more than 2 hosts "
		    "each host must run one replica: place tp x pp GPUs per host, or leave k8s out "
		    "of deploy.targets", r->name, pl->dp, hosts,
		    x->c->hosts[pl->ranks[many].slot.host].name);
		ok = false;
	}
	if (pl->nnodes > 1 && !(x->c->deploy_targets & (CATALOG_TARGET_COMPOSE | CATALOG_TARGET_K8S))) {
		diag_error(x->diag, targets ? targets->pos : x->rpos, "deploy.targets: roles.%s needs "
		    "tp %u x pp %u = %u GPUs, more than one host has, but 'vllm-stack' alone runs each "
		    "replica in one pod (chart vllm-stack 0.1.12 goes multi-node only through Ray); "
		    "add compose or k8s (a LeaderWorkerSet) to deploy.targets, or fit the role in "
		    "one host", r->name, pl->tp, pl->pp, pl->tp * pl->pp);
		ok = false;
	}
	const struct ynode *be = yamldoc_get(deploy, "executor_backend");
	if (x->c->backend_ray && pl->tp * pl->pp > 1 && !image_has_ray(x->c->image)) {
		diag_error(x->diag, be ? be->pos : x->rpos, "deploy.executor_backend: 'ray' for "
		    "roles.%s (tp %u x pp %u over %zu host%s), but image '%s' has no Ray (the stock "
		    "vLLM image dropped it in v0.19.0); use mp, or an image that ships the ray CLI",
		    r->name, pl->tp, pl->pp, pl->nnodes, pl->nnodes == 1 ? "" : "s", x->c->image);
		ok = false;
	}
	return ok;
}
