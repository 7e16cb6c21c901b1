#include "plan_env.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "emit_env.h"
#include "envfile.h"
#include "fileio.h"

struct plan_env_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct plan *p;
	const struct diag_pos *role_pos;
};

/* One .env key and who owns it, for the collision check. */
struct env_key {
	const char *key;
	size_t role;                    /* index + 1; 0 for a global key */
};

static int
cmp_env_key(const void *p, const void *q)
{
	const struct env_key *a = p, *b = q;
	int r = strcmp(a->key, b->key);
	if (r)
		return r;
	return a->role < b->role ? -1 : a->role > b->role;
}

static void
check_keys(struct plan_env_ctx *x)
{
	const struct plan *out = x->p;
	size_t nsuf = 0, nglob = 0;
	while (emit_env_role_suffixes[nsuf])
		nsuf++;
	while (emit_env_global_keys[nglob])
		nglob++;
	size_t n = 0;
	struct env_key *keys = malloc((nglob + out->nroles * nsuf + 1) * sizeof *keys);
	if (!keys)
		abort();
	for (size_t i = 0; i < nglob; i++)
		keys[n++] = (struct env_key){emit_env_global_keys[i], 0};
	for (size_t r = 0; r < out->nroles; r++) {
		const struct plan_role *pr = &out->roles[r];
		for (size_t s = 0; s < nsuf; s++) {
			/* Role names match ^[a-z][a-z0-9_]{0,31}$, so k is a valid, non-special key. */
			const char *k = arena_printf(x->a, "%s%s", pr->env_prefix, emit_env_role_suffixes[s]);
			keys[n++] = (struct env_key){k, r + 1};
		}
	}
	qsort(keys, n, sizeof *keys, cmp_env_key);
	/* One error per role: a role named "vllm" would otherwise collide five times. */
	bool *reported = arena_alloc(x->a, (out->nroles + 1) * sizeof *reported);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i - 1].key, keys[i].key) != 0 || keys[i].role == 0)
			continue;
		/* Report at the later role; the first owner (global or earlier role) keeps the key. */
		size_t first = i - 1;
		while (first > 0 && strcmp(keys[first - 1].key, keys[i].key) == 0)
			first--;
		const struct catalog_role *role = out->roles[keys[i].role - 1].role;
		const char *other = keys[first].role == 0 ? "a global key"
		    : arena_printf(x->a, "the same key of role '%s'", out->roles[keys[first].role - 1].role->name);
		if (keys[first].role == keys[i].role || reported[keys[i].role - 1])
			continue;
		reported[keys[i].role - 1] = true;
		diag_error(x->diag, x->role_pos[keys[i].role - 1], "roles.%s: .env key '%s' collides with %s",
		    role->name, keys[i].key, other);
	}
	free(keys);
}

/* One .env assignment a catalog value ends up in. */
struct env_use {
	const char *key;
	const char *value;              /* NULL: not written */
	const char *how;                /* how value derives from the catalog's, or "" when it is that value */
};

/*
 * Check every assignment one catalog value feeds, reporting at the value: the first that the
 * envfile rule refuses, and the longest that is over the length limit (the one to shorten by).
 */
static void
check_uses(struct plan_env_ctx *x, const char *where, struct diag_pos pos, const struct env_use *use,
    size_t n)
{
	const struct env_use *longest = NULL;
	size_t longest_bytes = 0;
	bool refused = false;

	for (size_t i = 0; i < n; i++) {
		if (!use[i].value)
			continue;
		size_t len = strlen(use[i].value);
		size_t bytes = envfile_assignment_bytes(use[i].key, len);
		if (bytes > ENVFILE_MAX_ASSIGNMENT) {
			if (bytes > longest_bytes) {
				longest = &use[i];
				longest_bytes = bytes;
			}
			continue;
		}
		const char *why = refused ? NULL : envfile_check_value(use[i].key, use[i].value, len);
		if (why) {
			diag_error(x->diag, pos, "%s: cannot be written to .env as %s: %s", where,
			    arena_printf(x->a, "%s%s", use[i].key, use[i].how), why);
			refused = true;
		}
	}
	if (longest)
		diag_error(x->diag, pos, "%s: cannot be written to .env as %s: the assignment would be %zu "
		    "bytes, over the limit of %d (no child process could start)", where,
		    arena_printf(x->a, "%s%s", longest->key, longest->how), longest_bytes,
		    ENVFILE_MAX_ASSIGNMENT);
}

/* Where key's value sits in node, else where node sits, else the whole catalog file. */
static struct diag_pos
pos_of(const struct plan_env_ctx *x, const struct ynode *node, const char *key)
{
	const struct ynode *v = node && key ? yamldoc_get(node, key) : NULL;
	if (v)
		return v->pos;
	return node ? node->pos : diag_file(x->p->catalog->path);
}

static void
check_storage(struct plan_env_ctx *x)
{
	const struct catalog *c = x->p->catalog;
	const struct ynode *storage = c->root ? yamldoc_get(c->root, "storage") : NULL;
	if (!c->hf_home)
		return;
	/* The catalog derives hub_cache (hf_home/hub) when none is given: then it is hf_home's to answer for. */
	bool own_hub = storage && yamldoc_get(storage, "hub_cache");
	const char *hub = own_hub ? NULL : c->hub_cache;
	char *datasets = fileio_join(NULL, c->hf_home, "datasets");
	if (!datasets)
		abort();
	const struct env_use home[] = {
		{"HF_HOME", c->hf_home, ""},
		{"HF_HUB_CACHE", hub, " (hf_home/hub)"},
		{"TRANSFORMERS_CACHE", hub, " (hf_home/hub)"},
		{"HF_DATASETS_CACHE", datasets, " (hf_home/datasets)"},
	};
	check_uses(x, "storage.hf_home", pos_of(x, storage, "hf_home"), home, sizeof home / sizeof home[0]);
	free(datasets);
	if (!own_hub)
		return;
	const struct env_use cache[] = {
		{"HF_HUB_CACHE", c->hub_cache, ""},
		{"TRANSFORMERS_CACHE", c->hub_cache, " (kept equal to HF_HUB_CACHE)"},
	};
	check_uses(x, "storage.hub_cache", pos_of(x, storage, "hub_cache"), cache, sizeof cache / sizeof cache[0]);
}

static void
check_field(struct plan_env_ctx *x, const struct catalog_role *role, const char *field,
    const struct env_use *use, size_t n)
{
	check_uses(x, arena_printf(x->a, "roles.%s.%s", role->name, field), pos_of(x, role->node, field),
	    use, n);
}

/*
 * A role's values, each under every key it may reach; the VLLM_* copies, last in each list,
 * exist only for the active role. The model id is the local directory on a machine that has
 * it and the repo elsewhere: both are checked as the model id, so the verdict does not depend
 * on where modelc runs.
 */
static void
check_role(struct plan_env_ctx *x, const struct plan_role *pr, bool active)
{
	const struct catalog_role *role = pr->role;
	struct arena *a = x->a;
	const char *p = pr->env_prefix;
	const char *id = arena_printf(a, "%s_MODEL_ID", p);
	const char *act = " (for the active role)";
	size_t v = active ? 1 : 0;

	const struct env_use repo[] = {{id, role->repo, ""}, {"VLLM_MODEL_ID", role->repo, act}};
	check_field(x, role, "repo", repo, 1 + v);
	const struct env_use revision[] = {{arena_printf(a, "%s_REVISION", p), role->revision, ""}};
	check_field(x, role, "revision", revision, 1);
	const struct env_use local[] = {
		{arena_printf(a, "%s_MODEL_LOCAL", p), role->local, ""},
		{id, role->local, ""},
		{"VLLM_MODEL_ID", role->local, act},
	};
	check_field(x, role, "local", local, 2 + v);
	const struct env_use quant[] = {
		{arena_printf(a, "%s_QUANTIZATION", p), role->quantization, ""},
		{"VLLM_QUANTIZATION", role->quantization, act},
	};
	check_field(x, role, "quantization", quant, 1 + v);
	const struct env_use kv[] = {
		{arena_printf(a, "%s_KV_CACHE_DTYPE", p), role->kv_cache_dtype, ""},
		{"VLLM_KV_CACHE_DTYPE", role->kv_cache_dtype, act},
	};
	check_field(x, role, "kv_cache_dtype", kv, 1 + v);
}

void
plan_env_check(struct arena *a, struct diag_sink *diag, const struct plan *p,
    const struct diag_pos *role_pos)
{
	struct plan_env_ctx x = {a, diag, p, role_pos};
	check_keys(&x);
	check_storage(&x);
	const struct plan_role *active = emit_primary(p);
	for (size_t r = 0; r < p->nroles; r++)
		check_role(&x, &p->roles[r], &p->roles[r] == active);
}
