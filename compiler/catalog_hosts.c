/*
 * The multi-GPU part of the catalog: hosts: with their GPUs, deploy:, and each role's parallel:
 * and placement:. The schema has checked every type, range and pattern; what it cannot say
 * (names that must be unique, placements that must name known GPUs) is reported here.
 */
#include "catalog.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "size.h"

#define CATALOG_DEFAULT_IMAGE "vllm/vllm-openai:v0.19.1"
#define CATALOG_HOST_UTILIZATION 0.9
#define CATALOG_HOST_MARGIN (256 * SIZE_MIB)

static const char *
str_at(const struct ynode *map, const char *key)
{
	const struct ynode *n = yamldoc_get(map, key);
	return n && n->kind == YNODE_STRING ? n->text : NULL;
}

static uint32_t
u32_at(const struct ynode *map, const char *key, uint32_t def)
{
	double v;
	const struct ynode *n = yamldoc_get(map, key);
	return n && yamldoc_integral(n, &v) && v >= 0 && v <= UINT32_MAX ? (uint32_t)v : def;
}

static void
host_gpu(struct arena *a, struct diag_sink *diag, const char *schema_dir, const char *where,
    const struct ynode *n, struct catalog_gpu *g)
{
	g->node = n;
	g->index = u32_at(n, "index", 0);
	g->profile = str_at(n, "profile");
	if (g->profile)
		catalog_profile_bytes(a, diag, schema_dir, where, yamldoc_get(n, "profile"),
		    &g->total_bytes, &g->estimated);
	else
		g->total_bytes = catalog_size_at(a, diag, n, "memory", where, 0);
	g->used_bytes = catalog_size_at(a, diag, n, "memory_in_use", where, 0);
	const struct ynode *used = yamldoc_get(n, "memory_in_use");
	if (used && g->total_bytes && g->used_bytes >= g->total_bytes) {
		char total[SIZE_FORMAT_LEN];
		diag_error(diag, used->pos, "%s.memory_in_use: '%s' leaves nothing of the GPU's %s",
		    where, yamldoc_quote(a, used->text, used->text_len),
		    size_format(g->total_bytes, total, sizeof total));
	}
}

static void
one_host(struct arena *a, struct diag_sink *diag, const char *schema_dir, size_t i,
    const struct ynode *n, struct catalog_host *h)
{
	const char *where = arena_printf(a, "hosts[%zu]", i);
	h->node = n;
	h->name = str_at(n, "name");
	h->address = str_at(n, "address");
	h->interface = str_at(n, "interface");
	const char *ic = str_at(n, "interconnect");
	h->nvlink = ic && strcmp(ic, "nvlink") == 0;
	const struct ynode *u = yamldoc_get(n, "utilization");
	h->utilization = u && (u->kind == YNODE_INT || u->kind == YNODE_FLOAT) ? u->number :
	    CATALOG_HOST_UTILIZATION;
	h->safety_margin_bytes = catalog_size_at(a, diag, n, "safety_margin", where,
	    CATALOG_HOST_MARGIN);
	const struct ynode *gpus = yamldoc_get(n, "gpus");
	if (!gpus || gpus->kind != YNODE_SEQ)
		return;
	h->gpus = arena_alloc(a, (gpus->count + 1) * sizeof *h->gpus);
	h->ngpus = gpus->count;
	for (size_t k = 0; k < gpus->count; k++) {
		const char *gw = arena_printf(a, "%s.gpus[%zu]", where, k);
		host_gpu(a, diag, schema_dir, gw, gpus->items[k], &h->gpus[k]);
		for (size_t j = 0; j < k; j++)
			if (h->gpus[j].index == h->gpus[k].index)
				diag_error(diag, yamldoc_get(gpus->items[k], "index")->pos,
				    "%s.index: GPU %u of host '%s' is already listed at %s.gpus[%zu]",
				    gw, h->gpus[k].index, h->name ? h->name : "", where, j);
	}
}

/* The architectures vLLM pipelines, from schemas/pp-architectures.json. */
static void
load_pp_archs(struct arena *a, struct diag_sink *diag, const char *schema_dir, struct catalog *c)
{
	const char *file = arena_printf(a, "%s/pp-architectures.json", schema_dir);
	json_error_t err;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &err);
	json_t *list = root ? json_object_get(root, "supports_pp") : NULL;
	if (!root) {
		struct diag_pos pos = {file, (unsigned)(err.line > 0 ? err.line : 0),
		    (unsigned)(err.column > 0 ? err.column : 0)};
		diag_error(diag, pos, "%s", err.text);
		return;
	}
	if (!json_is_array(list)) {
		diag_error(diag, diag_file(file), "expected an object with an array '%s'", "supports_pp");
		json_decref(root);
		return;
	}
	c->pp_archs = arena_alloc(a, (json_array_size(list) + 1) * sizeof *c->pp_archs);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (json_is_string(v))
			c->pp_archs[c->npp_archs++] = arena_strdup(a, json_string_value(v));
	json_decref(root);
}

void
catalog_hosts(struct arena *a, struct diag_sink *diag, const char *schema_dir,
    const struct ynode *hosts, struct catalog *c)
{
	if (!hosts || hosts->kind != YNODE_SEQ || !hosts->count)
		return;
	c->hosts = arena_alloc(a, (hosts->count + 1) * sizeof *c->hosts);
	c->nhosts = hosts->count;
	for (size_t i = 0; i < hosts->count; i++) {
		one_host(a, diag, schema_dir, i, hosts->items[i], &c->hosts[i]);
		for (size_t j = 0; j < i; j++)
			if (c->hosts[i].name && c->hosts[j].name &&
			    strcmp(c->hosts[i].name, c->hosts[j].name) == 0)
				diag_error(diag, yamldoc_get(hosts->items[i], "name")->pos,
				    "hosts[%zu].name: '%s' is already the name of hosts[%zu]", i,
				    c->hosts[i].name, j);
	}
	/* The one-GPU fields, for code that plans one GPU (roles whose plan fails early, explain). */
	const struct catalog_host *h0 = &c->hosts[0];
	if (h0->ngpus) {
		c->gpu_profile = h0->gpus[0].profile;
		c->gpu_total_bytes = h0->gpus[0].total_bytes;
		c->gpu_total_estimated = h0->gpus[0].estimated;
		c->gpu_used_bytes = h0->gpus[0].used_bytes;
	}
	c->gpu_memory_utilization = h0->utilization;
	c->safety_margin_bytes = h0->safety_margin_bytes;

	const struct ynode *deploy = c->root ? yamldoc_get(c->root, "deploy") : NULL;
	c->image = str_at(deploy, "image");
	if (!c->image)
		c->image = CATALOG_DEFAULT_IMAGE;
	const char *backend = str_at(deploy, "executor_backend");
	c->backend_ray = backend && strcmp(backend, "ray") == 0;
	c->master_port = u32_at(deploy, "master_port", CATALOG_DEFAULT_MASTER_PORT);
	const struct ynode *targets = yamldoc_get(deploy, "targets");
	c->deploy_targets = targets ? 0 : CATALOG_TARGET_ALL;
	for (size_t i = 0; targets && targets->kind == YNODE_SEQ && i < targets->count; i++) {
		const char *t = targets->items[i]->kind == YNODE_STRING ? targets->items[i]->text : "";
		c->deploy_targets |= strcmp(t, "compose") == 0 ? CATALOG_TARGET_COMPOSE :
		    strcmp(t, "k8s") == 0 ? CATALOG_TARGET_K8S :
		    strcmp(t, "vllm-stack") == 0 ? CATALOG_TARGET_STACK : 0;
	}
	load_pp_archs(a, diag, schema_dir, c);
}

static uint32_t
parallel_size(const struct ynode *par, const char *key, uint32_t def)
{
	const struct ynode *n = yamldoc_get(par, key);
	if (!n)
		return def;
	return n->kind == YNODE_STRING ? CATALOG_PARALLEL_AUTO : u32_at(par, key, def);
}

void
catalog_parallel(struct arena *a, struct diag_sink *diag, bool hosts, const struct ynode *role,
    struct catalog_role *r)
{
	static const char *const keys[] = {"parallel", "placement"};
	for (size_t i = 0; !hosts && i < sizeof keys / sizeof keys[0]; i++) {
		const struct ynode *k = yamldoc_get(role, keys[i]);
		if (k)
			diag_warning(diag, k->pos, "roles.%s.%s: ignored: the catalog describes one GPU "
			    "(gpu:); describe the machines under hosts: to split a role", r->name, keys[i]);
	}
	const struct ynode *par = yamldoc_get(role, "parallel");
	r->tp = parallel_size(par, "tp", CATALOG_PARALLEL_AUTO);
	r->pp = parallel_size(par, "pp", CATALOG_PARALLEL_AUTO);
	r->dp = parallel_size(par, "dp", 1);
	const struct ynode *lp = yamldoc_get(par, "layer_partition");
	if (lp && lp->kind == YNODE_SEQ) {
		uint32_t *v = arena_alloc(a, (lp->count + 1) * sizeof *v);
		for (size_t i = 0; i < lp->count; i++) {
			double d;
			v[i] = yamldoc_integral(lp->items[i], &d) ? (uint32_t)d : 0;
		}
		r->layer_partition = v;
		r->nlayer_partition = lp->count;
	}
}

static bool
host_named(const struct catalog *c, const char *name, size_t len, size_t *out)
{
	for (size_t i = 0; i < c->nhosts; i++)
		if (c->hosts[i].name && strlen(c->hosts[i].name) == len &&
		    memcmp(c->hosts[i].name, name, len) == 0) {
			*out = i;
			return true;
		}
	return false;
}

/* Add one slot unless it is there already (reported: a GPU serves one rank). */
static void
add_slot(struct diag_sink *diag, struct catalog_role *r, const struct ynode *at, size_t host,
    size_t gpu, const struct catalog *c)
{
	for (size_t i = 0; i < r->nslots; i++)
		if (r->slots[i].host == host && r->slots[i].gpu == gpu) {
			diag_error(diag, at->pos, "roles.%s.placement: GPU %u of host '%s' is placed "
			    "twice; each GPU serves one rank", r->name, c->hosts[host].gpus[gpu].index,
			    c->hosts[host].name);
			return;
		}
	r->slots[r->nslots].host = host;
	r->slots[r->nslots].gpu = gpu;
	r->nslots++;
}

static size_t
total_gpus(const struct catalog *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->nhosts; i++)
		n += c->hosts[i].ngpus;
	return n;
}

static void
place_role(struct arena *a, struct diag_sink *diag, struct catalog *c, struct catalog_role *r)
{
	const struct ynode *pl = yamldoc_get(r->node, "placement");
	r->slots = arena_alloc(a, (total_gpus(c) + 1) * sizeof *r->slots);
	r->nslots = 0;
	if (!pl || pl->kind != YNODE_SEQ) {
		for (size_t h = 0; h < c->nhosts; h++)
			for (size_t g = 0; g < c->hosts[h].ngpus; g++) {
				r->slots[r->nslots].host = h;
				r->slots[r->nslots].gpu = g;
				r->nslots++;
			}
		return;
	}
	for (size_t i = 0; i < pl->count; i++) {
		const struct ynode *it = pl->items[i];
		if (it->kind != YNODE_STRING)
			continue;
		const char *slash = strchr(it->text, '/');
		size_t len = slash ? (size_t)(slash - it->text) : strlen(it->text);
		size_t h;
		if (!host_named(c, it->text, len, &h)) {
			diag_error(diag, it->pos, "roles.%s.placement[%zu]: '%.*s' is not a host of "
			    "hosts:", r->name, i, (int)len, it->text);
			continue;
		}
		const struct catalog_host *host = &c->hosts[h];
		if (!slash) {
			for (size_t g = 0; g < host->ngpus; g++)
				add_slot(diag, r, it, h, g, c);
			continue;
		}
		unsigned idx = (unsigned)strtoul(slash + 1, NULL, 10);
		size_t g = host->ngpus;
		for (size_t k = 0; k < host->ngpus; k++)
			if (host->gpus[k].index == idx)
				g = k;
		if (g == host->ngpus) {
			diag_error(diag, it->pos, "roles.%s.placement[%zu]: host '%s' has no GPU %u",
			    r->name, i, host->name, idx);
			continue;
		}
		add_slot(diag, r, it, h, g, c);
	}
}

void
catalog_placement(struct arena *a, struct diag_sink *diag, struct catalog *c)
{
	for (size_t i = 0; i < c->nroles; i++)
		place_role(a, diag, c, &c->roles[i]);
}
