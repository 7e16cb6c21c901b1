/*
 * One `vllm serve` per node, as vLLM's docs start them (parallelism_scaling.md,
 * data_parallel_deployment.md): the single-GPU flags switch uses, then the parallel sizes,
 * --distributed-executor-backend always, --nnodes/--node-rank/--master-addr/--master-port
 * when a replica spans hosts (--headless on the other nodes), the data-parallel placement flags
 * when replicas span hosts (hybrid load balancing: each node serves its own replicas, a router
 * spreads requests over them), and the knobs the plan chose (--kv-cache-memory-bytes,
 * --disable-custom-all-reduce, --enable-expert-parallel).
 */
#include "planargv.h"

#include <stdlib.h>
#include <string.h>

#include "emit_common.h"

enum { ARGV_MAX = 80 + SERVEDNAMES_MAX, ENV_MAX = 12 };

struct list {
	const char *v[ARGV_MAX];
	size_t n;
};

static void
add(struct list *l, const char *s)
{
	if (l->n + 1 < ARGV_MAX)
		l->v[l->n++] = s;
}

static void
add2(struct arena *a, struct list *l, const char *flag, const char *fmt, unsigned long long v)
{
	add(l, flag);
	add(l, arena_printf(a, fmt, v));
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static const char **
finish(struct arena *a, struct list *l, size_t *n, int sort)
{
	if (sort)
		qsort(l->v, l->n, sizeof l->v[0], cmp_str);
	const char **out = arena_alloc(a, (l->n + 1) * sizeof *out);
	memcpy(out, l->v, l->n * sizeof *out);
	out[l->n] = NULL;
	if (n)
		*n = l->n;
	return out;
}

/* As .env prints it (emit_util), so that every copy of the value has the same digits. */
static const char *
util_text(struct arena *a, double u)
{
	return arena_strdup(a, emit_util(u).s);
}

size_t
planargv_served_names(const struct plan_role *pr, const char *out[SERVEDNAMES_MAX])
{
	const struct catalog_role *r = pr->role;
	struct servednames_role sr = {r->served_model_name, r->name, (const char *const *)r->aliases,
	    r->naliases, pr->model_id, r->repo, r->local};
	return servednames_list(&sr, out);
}

uint32_t
planargv_port(const struct plan *p, const struct plan_role *pr)
{
	return p->catalog->port + (uint32_t)(pr - p->roles);
}

/* The flags every node shares: the model, its limits and the parallel layout. */
static void
common_flags(struct arena *a, const struct plan *p, const struct plan_role *pr, struct list *l)
{
	const struct catalog *c = p->catalog;
	const struct catalog_role *r = pr->role;
	const struct plan_parallel *pl = pr->par;
	for (const char **s = c->server_command; *s; s++)
		add(l, *s);
	add(l, pr->model_id ? pr->model_id : r->name);
	if (pr->lock && pr->lock->commit && !pr->local_present) {
		add(l, "--revision");
		add(l, pr->lock->commit);
	}
	const char *names[SERVEDNAMES_MAX];
	size_t nn = planargv_served_names(pr, names);
	add(l, "--served-model-name");
	for (size_t k = 0; k < nn; k++)
		add(l, names[k]);
	add2(a, l, "--max-model-len", "%llu", pl->max_model_len);
	add(l, "--gpu-memory-utilization");
	add(l, util_text(a, pl->utilization));
	if (pr->dtype && strcmp(pr->dtype, "auto") != 0) {
		add(l, "--dtype");
		add(l, pr->dtype);
	}
	if (pr->kv_cache_dtype && strcmp(pr->kv_cache_dtype, "auto") != 0) {
		add(l, "--kv-cache-dtype");
		add(l, pr->kv_cache_dtype);
	}
	if (pr->quantization_flag) {
		add(l, "--quantization");
		add(l, pr->quantization_flag);
	}
	add2(a, l, "--max-num-seqs", "%llu", pr->params.max_num_seqs);
	add2(a, l, "--max-num-batched-tokens", "%llu", pr->params.max_num_batched_tokens);
	if (pr->params.enforce_eager)
		add(l, "--enforce-eager");
	add2(a, l, "--tensor-parallel-size", "%llu", pl->tp);
	add2(a, l, "--pipeline-parallel-size", "%llu", pl->pp);
	add(l, "--distributed-executor-backend");
	add(l, c->backend_ray ? "ray" : "mp");
	if (pl->kv_cache_memory_bytes)
		add2(a, l, "--kv-cache-memory-bytes", "%llu", pl->kv_cache_memory_bytes);
	if (pl->p2p_disable)
		add(l, "--disable-custom-all-reduce");
	if (pl->moe && pl->tp * pl->dp > 1)
		add(l, "--enable-expert-parallel");
}

size_t
planargv_nodes(struct arena *a, const struct plan *p, const struct plan_role *pr,
    struct planargv_node **out)
{
	const struct catalog *c = p->catalog;
	const struct plan_parallel *pl = pr->par;
	size_t n = 0;
	struct planargv_node *v = arena_alloc(a, (pl->nranks + 1) * sizeof *v);
	for (size_t k = 0; k < pl->nranks; k++) {
		if (n && v[n - 1].host == pl->ranks[k].slot.host) {
			v[n - 1].nranks++;
			continue;
		}
		memset(&v[n], 0, sizeof v[n]);
		v[n].host = pl->ranks[k].slot.host;
		v[n].node_rank = (uint32_t)n;
		v[n].first_rank = (uint32_t)k;
		v[n].nranks = 1;
		n++;
	}
	uint32_t per_replica = pl->tp * pl->pp;
	const struct catalog_host *h0 = &c->hosts[v[0].host];
	const char *master = h0->address ? h0->address : "127.0.0.1";
	for (size_t i = 0; i < n; i++) {
		struct planargv_node *nd = &v[i];
		const struct catalog_host *h = &c->hosts[nd->host];
		struct list argv = {{0}, 0}, env = {{0}, 0};
		const char *cvd = "";
		for (uint32_t k = 0; k < nd->nranks; k++) {
			const struct plan_rank *rk = &pl->ranks[nd->first_rank + k];
			cvd = arena_printf(a, "%s%s%u", cvd, k ? "," : "",
			    h->gpus[rk->slot.gpu].index);
		}
		nd->cuda_visible = cvd;
		/* Replicas over hosts balance per node (vLLM's hybrid LB): every node serves HTTP,
		 * and the router (emit_compose) spreads requests over them. */
		bool hybrid = pl->dp > 1 && n > 1;
		nd->serves_http = i == 0 || hybrid;
		common_flags(a, p, pr, &argv);
		if (pl->dp > 1) {
			add2(a, &argv, "--data-parallel-size", "%llu", pl->dp);
			if (n > 1) {
				add2(a, &argv, "--data-parallel-size-local", "%llu", nd->nranks / per_replica);
				add2(a, &argv, "--data-parallel-start-rank", "%llu",
				    nd->first_rank / per_replica);
				add(&argv, "--data-parallel-hybrid-lb");
				add(&argv, "--data-parallel-address");
				add(&argv, master);
				add2(a, &argv, "--data-parallel-rpc-port", "%llu", PLANARGV_DP_RPC_PORT);
			}
		} else if (n > 1 && !c->backend_ray) {
			add2(a, &argv, "--nnodes", "%llu", n);
			add2(a, &argv, "--node-rank", "%llu", i);
			add(&argv, "--master-addr");
			add(&argv, master);
			add2(a, &argv, "--master-port", "%llu", c->master_port);
		}
		if (!nd->serves_http)
			add(&argv, "--headless");
		else {
			/* In a container (and for the other nodes) the server listens on every address;
			 * Compose publishes the port on server.host only. */
			add(&argv, "--host");
			add(&argv, "0.0.0.0");
			add2(a, &argv, "--port", "%llu", planargv_port(p, pr));
		}
		nd->argv = finish(a, &argv, &nd->argc, 0);
		add(&env, arena_printf(a, "CUDA_VISIBLE_DEVICES=%s", cvd));
		if (pl->partition_set) {
			const char *s = "";
			for (uint32_t st = 0; st < pl->pp; st++)
				s = arena_printf(a, "%s%s%u", s, st ? "," : "", pl->stage_layers[st]);
			add(&env, arena_printf(a, "VLLM_PP_LAYER_PARTITION=%s", s));
		}
		if (pl->p2p_disable && !h->nvlink)
			add(&env, "NCCL_P2P_DISABLE=1");
		if (n > 1 && h->address)
			add(&env, arena_printf(a, "VLLM_HOST_IP=%s", h->address));
		if (h->interface) {
			add(&env, arena_printf(a, "NCCL_SOCKET_IFNAME=%s", h->interface));
			add(&env, arena_printf(a, "GLOO_SOCKET_IFNAME=%s", h->interface));
		}
		nd->env = finish(a, &env, NULL, 1);
	}
	*out = v;
	return n;
}

const struct planargv_router *
planargv_router(struct arena *a, const struct plan *p, const struct plan_role *pr,
    const struct planargv_node *nodes, size_t n)
{
	const struct catalog *c = p->catalog;
	/* The router keeps one model per backend: the first name, the one responses report. */
	const char *names[SERVEDNAMES_MAX];
	planargv_served_names(pr, names);
	const char *name = names[0];
	const char *backends = "", *models = "";
	size_t serving = 0;
	for (size_t i = 0; i < n; i++) {
		const struct catalog_host *h = &c->hosts[nodes[i].host];
		if (!nodes[i].serves_http)
			continue;
		backends = arena_printf(a, "%s%shttp://%s:%u", backends, serving ? "," : "",
		    h->address ? h->address : "127.0.0.1", planargv_port(p, pr));
		models = arena_printf(a, "%s%s%s", models, serving ? "," : "", name);
		serving++;
	}
	if (serving < 2)
		return NULL;
	struct planargv_router *r = arena_alloc(a, sizeof *r);
	struct list argv = {{0}, 0};
	r->port = planargv_port(p, pr) + (uint32_t)p->nroles;
	add(&argv, "--host");
	add(&argv, "0.0.0.0");
	add2(a, &argv, "--port", "%llu", r->port);
	add(&argv, "--service-discovery");
	add(&argv, "static");
	add(&argv, "--static-backends");
	add(&argv, backends);
	add(&argv, "--static-models");
	add(&argv, models);
	add(&argv, "--routing-logic");
	add(&argv, "roundrobin");
	r->argv = finish(a, &argv, &r->argc, 0);
	return r;
}
