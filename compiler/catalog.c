#include "catalog.h"

#include <jansson.h>
#include <string.h>

#include "catalog_serve.h"
#include "mskey.h"
#include "repoid.h"
#include "size.h"
#include "suggest.h"

/* Defaults of optional keys; tests/unit/test_catalog.c checks each against the schema's "default". */
#define CATALOG_DEFAULT_UTILIZATION 0.9
#define CATALOG_DEFAULT_SAFETY_MARGIN (256 * SIZE_MIB)
#define CATALOG_DEFAULT_HOST "127.0.0.1"
#define CATALOG_DEFAULT_REVISION "main"
#define CATALOG_DEFAULT_DTYPE "auto"
#define CATALOG_DEFAULT_KV_CACHE_DTYPE "auto"
enum { CATALOG_DEFAULT_PORT = 8000 };

static const char *const catalog_default_command[] = {"vllm", "serve", NULL};

struct catalog_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const char *schema_dir;
};

static const char *
catalog_str(const struct ynode *map, const char *key, const char *def)
{
	const struct ynode *n = yamldoc_get(map, key);
	return n && n->kind == YNODE_STRING ? n->text : def;
}

static double
catalog_num(const struct ynode *map, const char *key, double def)
{
	const struct ynode *n = yamldoc_get(map, key);
	return n && (n->kind == YNODE_INT || n->kind == YNODE_FLOAT) ? n->number : def;
}

/* Integers arrive as YAML integers or as floats without a fraction (1e3); the schema bounds them. */
static uint32_t
catalog_u32(const struct ynode *map, const char *key, uint32_t def)
{
	double v;
	const struct ynode *n = yamldoc_get(map, key);
	if (!n || !yamldoc_integral(n, &v) || v < 0 || v > UINT32_MAX)
		return def;
	return (uint32_t)v;
}

static uint64_t
catalog_size(struct catalog_ctx *cx, const struct ynode *map, const char *key, const char *path,
    uint64_t def)
{
	double v;
	const struct ynode *n = yamldoc_get(map, key);
	if (!n)
		return def;
	if (yamldoc_integral(n, &v))
		return (uint64_t)v;
	uint64_t bytes = def;
	const char *why = size_parse(n->text, &bytes);
	if (why)
		diag_error(cx->diag, n->pos, "%s.%s: '%s' %s", path, key,
		    yamldoc_quote(cx->a, n->text, n->text_len), why);
	return bytes;
}

static json_t *
catalog_load_table(struct catalog_ctx *cx, const char *name, const char *array_key)
{
	const char *file = arena_printf(cx->a, "%s/%s", cx->schema_dir, name);
	json_error_t err;
	json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		struct diag_pos pos = {file, (unsigned)(err.line > 0 ? err.line : 0),
		    (unsigned)(err.column > 0 ? err.column : 0)};
		diag_error(cx->diag, pos, "%s", err.text);
		return NULL;
	}
	if (!json_is_array(json_object_get(root, array_key))) {
		diag_error(cx->diag, diag_file(file), "expected an object with an array '%s'", array_key);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* Fill c->quants from quant-formats.json; every field of struct budget_quant must be there. */
static void
catalog_load_quants(struct catalog_ctx *cx, struct catalog *c)
{
	json_t *root = catalog_load_table(cx, "quant-formats.json", "formats");
	if (!root)
		return;
	const char *file = arena_printf(cx->a, "%s/quant-formats.json", cx->schema_dir);
	json_t *list = json_object_get(root, "formats");
	struct budget_quant *q = arena_alloc(cx->a, (json_array_size(list) + 1) * sizeof *q);
	size_t i, n = 0;
	json_t *f;
	json_array_foreach(list, i, f) {
		json_t *name = json_object_get(f, "name"), *bits = json_object_get(f, "bits");
		json_t *group = json_object_get(f, "group_size"), *zero = json_object_get(f, "zero_point");
		json_t *scale = json_object_get(f, "scale_bytes"), *emb = json_object_get(f, "embeddings_16bit");
		if (!json_is_string(name) || !json_is_integer(bits) || !json_is_integer(group) ||
		    !json_is_boolean(zero) || !json_is_integer(scale) || !json_is_boolean(emb)) {
			diag_error(cx->diag, diag_file(file), "formats[%zu]: needs name, bits, group_size, "
			    "zero_point, scale_bytes and embeddings_16bit", i);
			continue;
		}
		q[n].name = arena_strdup(cx->a, json_string_value(name));
		q[n].bits = (uint32_t)json_integer_value(bits);
		q[n].group_size = (uint32_t)json_integer_value(group);
		q[n].zero_point = json_is_true(zero);
		q[n].scale_bytes = (uint32_t)json_integer_value(scale);
		q[n].embeddings_16bit = json_is_true(emb);
		n++;
	}
	c->quants = q;
	c->nquants = n;
	json_decref(root);
}

/* Resolve the profile named at pn in gpu-profiles.json, naming the closest known one when unknown. */
static void
catalog_resolve_profile(struct catalog_ctx *cx, const char *where, const struct ynode *pn,
    uint64_t *total_bytes, bool *estimated)
{
	const char *want = pn->text;
	json_t *root = catalog_load_table(cx, "gpu-profiles.json", "profiles");
	if (!root)
		return;
	const char *file = arena_printf(cx->a, "%s/gpu-profiles.json", cx->schema_dir);
	json_t *list = json_object_get(root, "profiles");
	size_t n = json_array_size(list), i;
	const char **names = arena_alloc(cx->a, (n + 1) * sizeof *names);
	const char *known = "";
	json_t *p;
	bool found = false;
	json_array_foreach(list, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		names[i] = name ? name : "";
		known = arena_printf(cx->a, "%s%s%s", known, i ? ", " : "", names[i]);
		if (!name || strcmp(name, want) != 0)
			continue;
		json_t *total = json_object_get(p, "cuda_total_bytes");
		json_t *est = json_object_get(p, "estimated");
		if (!json_is_integer(total) || json_integer_value(total) <= 0 || !json_is_boolean(est)) {
			diag_error(cx->diag, diag_file(file), "profile '%s': needs a positive "
			    "cuda_total_bytes and estimated true or false", name);
		} else {
			*total_bytes = (uint64_t)json_integer_value(total);
			*estimated = json_is_true(est);
		}
		found = true;
	}
	if (!found) {
		const char *best = suggest_best(want, names, n);
		const char *q = yamldoc_quote(cx->a, pn->text, pn->text_len);
		if (best)
			diag_error(cx->diag, pn->pos, "%s.profile: '%s' is not a known GPU profile "
			    "(did you mean '%s'?)", where, q, best);
		else
			diag_error(cx->diag, pn->pos, "%s.profile: '%s' is not a known GPU profile", where, q);
		diag_note(cx->diag, pn->pos, "known profiles: %s (in %s); or give %s.memory instead",
		    known, file, where);
	}
	json_decref(root);
}

static void
catalog_gpu(struct catalog_ctx *cx, struct catalog *c, const struct ynode *gpu)
{
	c->gpu_profile = catalog_str(gpu, "profile", NULL);
	if (c->gpu_profile)
		catalog_resolve_profile(cx, "gpu", yamldoc_get(gpu, "profile"), &c->gpu_total_bytes,
		    &c->gpu_total_estimated);
	c->gpu_profile_bytes = c->gpu_total_bytes;
	c->gpu_profile_estimated = c->gpu_total_estimated;
	const struct ynode *mem = yamldoc_get(gpu, "memory");
	if (mem) {
		/* A measured total wins over the profile's number, which is most often an estimate. */
		uint64_t profile_total = c->gpu_total_bytes;
		c->gpu_total_bytes = catalog_size(cx, gpu, "memory", "gpu", 0);
		if (c->gpu_profile && profile_total)
			diag_note(cx->diag, mem->pos, "gpu.memory %.2f GiB is the total the budget uses; profile '%s' "
			    "says %.2f GiB%s", size_gib(c->gpu_total_bytes), c->gpu_profile, size_gib(profile_total),
			    c->gpu_total_estimated ? " (an estimate)" : "");
		c->gpu_total_estimated = false;
		c->gpu_memory_given = true;
	}
	c->gpu_used_bytes = catalog_size(cx, gpu, "memory_in_use", "gpu", 0);
	c->gpu_memory_utilization = catalog_num(gpu, "utilization", CATALOG_DEFAULT_UTILIZATION);
	c->safety_margin_bytes = catalog_size(cx, gpu, "safety_margin", "gpu",
	    CATALOG_DEFAULT_SAFETY_MARGIN);
	const struct ynode *used = yamldoc_get(gpu, "memory_in_use");
	if (used && c->gpu_total_bytes && c->gpu_used_bytes >= c->gpu_total_bytes) {
		char total[SIZE_FORMAT_LEN];
		diag_error(cx->diag, used->pos, "gpu.memory_in_use: '%s' leaves nothing of the GPU's %s",
		    yamldoc_quote(cx->a, used->text, used->text_len),
		    size_format(c->gpu_total_bytes, total, sizeof total));
	}
}

/* The generation of memory rules: server.vllm_version with the engine, else the newest. */
static void
catalog_generation(struct catalog_ctx *cx, struct catalog *c, const struct ynode *server)
{
	const struct ynode *v = yamldoc_get(server, "vllm_version");
	bool nearest = false;
	c->vllm_version = catalog_str(server, "vllm_version", NULL);
	c->generation = c->engine == BUDGET_ENGINE_V0 && !yamldoc_get(server, "vllm_version") ?
	    BUDGET_GEN_V0 : BUDGET_GEN_NEWEST;
	if (!c->vllm_version)
		return;
	if (budget_generation_of_version(c->vllm_version, c->engine,
	    yamldoc_get(server, "engine") != NULL, &c->generation, &nearest) != 0) {
		diag_error(cx->diag, v->pos, "server.vllm_version: '%s' is not a version X.Y or X.Y.Z",
		    c->vllm_version);
		return;
	}
	if (nearest) {
		const struct budget_generation_rule *g = budget_generation_rule(c->generation);
		diag_note(cx->diag, v->pos, "server.vllm_version: vLLM %s is outside the modelled "
		    "versions; using the nearest generation, %s (%s to %s)", c->vllm_version, g->name,
		    g->first, g->last);
	}
}

static void
catalog_server(struct catalog_ctx *cx, struct catalog *c, struct arena *a,
    const struct ynode *server)
{
	const struct ynode *cmd = yamldoc_get(server, "command");
	if (cmd && cmd->kind == YNODE_SEQ) {
		const char **argv = arena_alloc(a, (cmd->count + 1) * sizeof *argv);
		for (size_t i = 0; i < cmd->count; i++)
			argv[i] = cmd->items[i]->text;
		c->server_command = argv;
	} else {
		c->server_command = (const char **)catalog_default_command;
	}
	c->host = catalog_str(server, "host", CATALOG_DEFAULT_HOST);
	c->port = catalog_u32(server, "port", CATALOG_DEFAULT_PORT);
	c->max_num_seqs = catalog_u32(server, "max_num_seqs", 0);
	c->max_num_batched_tokens = catalog_u32(server, "max_num_batched_tokens", 0);
	const struct ynode *eager = yamldoc_get(server, "enforce_eager");
	c->enforce_eager = eager && eager->kind == YNODE_BOOL && eager->boolean;
	const char *engine = catalog_str(server, "engine", "v1");
	c->engine = strcmp(engine, "v0") == 0 ? BUDGET_ENGINE_V0 : BUDGET_ENGINE_V1;
	catalog_generation(cx, c, server);
}

/* trust: each key must decode (the schema checks only its characters), and none twice. */
static void
catalog_trust(struct catalog_ctx *cx, struct catalog *c, const struct ynode *trust)
{
	if (!trust || trust->kind != YNODE_SEQ)
		return;
	c->trust = arena_alloc(cx->a, (trust->count + 1) * sizeof *c->trust);
	c->trust_nodes = arena_alloc(cx->a, (trust->count + 1) * sizeof *c->trust_nodes);
	struct mskey_public *keys = arena_alloc(cx->a, (trust->count + 1) * sizeof *keys);
	size_t *index = arena_alloc(cx->a, (trust->count + 1) * sizeof *index);
	for (size_t i = 0; i < trust->count; i++) {
		const struct ynode *n = trust->items[i];
		char why[128], id[MSKEY_ID_HEX_LEN + 1];
		struct mskey_public k;
		if (n->kind != YNODE_STRING)
			continue;
		if (mskey_public_decode(n->text, n->text_len, &k, why, sizeof why)) {
			diag_error(cx->diag, n->pos, "trust[%zu]: '%s': %s", i, yamldoc_quote(cx->a, n->text, n->text_len), why);
			continue;
		}
		size_t dup = 0;
		while (dup < c->ntrust && memcmp(keys[dup].id, k.id, MSKEY_ID_BYTES))
			dup++;
		if (dup < c->ntrust) {
			mskey_id_hex(k.id, id);
			diag_error(cx->diag, n->pos, "trust[%zu]: key %s is listed twice (first as trust[%zu])", i, id,
			    index[dup]);
			continue;
		}
		keys[c->ntrust] = k;
		index[c->ntrust] = i;
		c->trust_nodes[c->ntrust] = n;
		c->trust[c->ntrust++] = n->text;
	}
}

static void
catalog_max_model_len(const struct ynode *n, struct catalog_role *r)
{
	double v;
	if (n && yamldoc_integral(n, &v)) {
		r->max_model_len = (uint32_t)v;
		r->max_model_len_auto = false;
	} else {
		r->max_model_len = 0;
		r->max_model_len_auto = true;
	}
}

static void
catalog_role_from(struct catalog_ctx *cx, const struct ynode *defaults, const char *name,
    const struct ynode *n, bool hosts, struct catalog_role *r)
{
	r->name = name;
	r->node = n;
	r->repo = catalog_str(n, "repo", NULL);
	/* The schema says the same unless someone edited it: a repo id becomes URLs and folders. */
	char why[128];
	if (r->repo && repoid_check(r->repo, why, sizeof why))
		diag_error(cx->diag, yamldoc_get(n, "repo")->pos,
		    "roles.%s.repo: '%s' is not a Hugging Face repository id: %s", name, r->repo, why);
	r->revision = r->repo ? catalog_str(n, "revision", CATALOG_DEFAULT_REVISION) : NULL;
	r->local = catalog_str(n, "local", NULL);
	r->quantization = catalog_str(n, "quantization", "none");
	r->dtype = catalog_str(n, "dtype", catalog_str(defaults, "dtype", CATALOG_DEFAULT_DTYPE));
	r->kv_cache_dtype = catalog_str(n, "kv_cache_dtype",
	    catalog_str(defaults, "kv_cache_dtype", CATALOG_DEFAULT_KV_CACHE_DTYPE));
	const struct ynode *len = yamldoc_get(n, "max_model_len");
	catalog_max_model_len(len ? len : yamldoc_get(defaults, "max_model_len"), r);
	r->max_num_seqs = catalog_u32(n, "max_num_seqs", 0);
	r->max_num_batched_tokens = catalog_u32(n, "max_num_batched_tokens", 0);
	r->gpu_memory_utilization = catalog_num(n, "gpu_memory_utilization", 0);
	r->served_model_name = catalog_str(n, "served_model_name", name);
	r->rationale = catalog_str(n, "rationale", NULL);
	r->ttft_threshold_ms = catalog_num(n, "ttft_threshold_ms", 0);
	catalog_parallel(cx->a, cx->diag, hosts, n, r);
	const struct ynode *rev = yamldoc_get(n, "revision");
	if (rev && !r->repo)
		diag_warning(cx->diag, rev->pos, "roles.%s.revision: ignored: the role has no repo", name);
}

int
catalog_from_yaml(struct arena *a, struct diag_sink *diag, const char *schema_dir,
    const struct ynode *root, const char *path, struct catalog *out)
{
	struct catalog_ctx cx = {a, diag, schema_dir};
	unsigned errors_before = diag->errors;
	struct catalog *c = out;

	memset(c, 0, sizeof *c);
	c->path = path;
	c->root = root;

	const struct ynode *storage = yamldoc_get(root, "storage");
	c->hf_home = catalog_str(storage, "hf_home", NULL);
	c->hub_cache = catalog_str(storage, "hub_cache", NULL);
	if (!c->hub_cache && c->hf_home) {
		size_t len = strlen(c->hf_home);
		bool slash = len > 0 && c->hf_home[len - 1] == '/';
		c->hub_cache = arena_printf(a, "%s%shub", c->hf_home, slash ? "" : "/");
	}
	c->models_dir = catalog_str(storage, "models_dir", NULL);
	c->disk_budget_bytes = catalog_size(&cx, storage, "disk_budget", "storage", 0);

	if (yamldoc_get(root, "hosts"))
		catalog_hosts(a, diag, schema_dir, yamldoc_get(root, "hosts"), c);
	else
		catalog_gpu(&cx, c, yamldoc_get(root, "gpu"));
	const struct ynode *server = yamldoc_get(root, "server");
	catalog_server(&cx, c, a, server);
	c->disk_read_rate = catalog_size(&cx, server, "disk_read_rate", "server", CATALOG_DEFAULT_DISK_READ_RATE);
	if (!c->disk_read_rate) {
		const struct ynode *n = yamldoc_get(server, "disk_read_rate");
		diag_error(diag, n->pos, "server.disk_read_rate: expected more than 0 bytes per second, found '%s'",
		    yamldoc_quote(a, n->text, n->text_len));
	}
	catalog_load_quants(&cx, c);

	const struct ynode *defaults = yamldoc_get(root, "defaults");
	const struct ynode *roles = yamldoc_get(root, "roles");
	if (roles && roles->kind == YNODE_MAP) {
		c->roles = arena_alloc(a, (roles->count + 1) * sizeof *c->roles);
		for (size_t i = 0; i < roles->count; i++)
			catalog_role_from(&cx, defaults, roles->keys[i], roles->items[i], c->nhosts > 0,
			    &c->roles[i]);
		c->nroles = roles->count;
	}
	if (c->nhosts)
		catalog_placement(a, diag, c);
	const struct ynode *ex = yamldoc_get(root, "excluded");
	if (ex && ex->kind == YNODE_SEQ) {
		c->excluded = arena_alloc(a, (ex->count + 1) * sizeof *c->excluded);
		for (size_t i = 0; i < ex->count; i++) {
			c->excluded[i].model = catalog_str(ex->items[i], "model", NULL);
			c->excluded[i].reason = catalog_str(ex->items[i], "reason", NULL);
			c->excluded[i].node = ex->items[i];
		}
		c->nexcluded = ex->count;
	}
	catalog_serve_from_yaml(a, diag, root, c);
	catalog_trust(&cx, c, yamldoc_get(root, "trust"));
	return diag->errors != errors_before ? -1 : 0;
}

const struct catalog_role *
catalog_role(const struct catalog *c, const char *name)
{
	for (size_t i = 0; i < c->nroles; i++)
		if (strcmp(c->roles[i].name, name) == 0)
			return &c->roles[i];
	return NULL;
}

const struct budget_quant *
catalog_quant(const struct catalog *c, const char *name)
{
	for (size_t i = 0; i < c->nquants; i++)
		if (strcmp(c->quants[i].name, name) == 0)
			return &c->quants[i];
	return NULL;
}

uint64_t
catalog_size_at(struct arena *a, struct diag_sink *diag, const struct ynode *map, const char *key,
    const char *path, uint64_t def)
{
	struct catalog_ctx cx = {a, diag, NULL};
	return catalog_size(&cx, map, key, path, def);
}

void
catalog_profile_bytes(struct arena *a, struct diag_sink *diag, const char *schema_dir,
    const char *where, const struct ynode *pn, uint64_t *total_bytes, bool *estimated)
{
	struct catalog_ctx cx = {a, diag, schema_dir};
	catalog_resolve_profile(&cx, where, pn, total_bytes, estimated);
}
