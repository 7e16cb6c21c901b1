/*
 * The rules across roles, after every role is planned: .env keys that must not collide, values
 * that must survive the .env rule, and the downloads against the disk budget.
 */
#include <stdlib.h>
#include <string.h>

#include "emit_env.h"
#include "envfile.h"
#include "plan_ctx.h"
#include "size.h"

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

void
plan_check_env_keys(struct plan_ctx *x, struct plan *out)
{
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
		struct plan_role *pr = &out->roles[r];
		if (!pr->env_prefix)
			pr->env_prefix = plan_upper(x->a, pr->role->name);
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

static void
check_value(struct plan_ctx *x, const char *where, struct diag_pos pos, const char *key,
    const char *value)
{
	if (!value)
		return;
	const char *why = envfile_check_value(key, value, strlen(value));
	if (why)
		diag_error(x->diag, pos, "%s: cannot be written to .env as %s: %s", where, key, why);
}

void
plan_check_env_values(struct plan_ctx *x, struct plan *out)
{
	const struct catalog *c = x->c;
	const struct ynode *storage = c->root ? yamldoc_get(c->root, "storage") : NULL;
	check_value(x, "storage.hf_home", plan_pos(x, storage, "hf_home"), "HF_HOME", c->hf_home);
	/* A hub_cache derived from hf_home fails exactly when hf_home does: report it once. */
	if (storage && yamldoc_get(storage, "hub_cache"))
		check_value(x, "storage.hub_cache", plan_pos(x, storage, "hub_cache"), "HF_HUB_CACHE", c->hub_cache);
	for (size_t r = 0; r < out->nroles; r++) {
		const struct plan_role *pr = &out->roles[r];
		const struct catalog_role *role = pr->role;
		const char *n = role->name;
		const char *p = pr->env_prefix;
		struct arena *a = x->a;
		check_value(x, arena_printf(a, "roles.%s.repo", n), plan_pos(x, role->node, "repo"),
		    arena_printf(a, "%s_MODEL_ID", p), role->repo);
		check_value(x, arena_printf(a, "roles.%s.revision", n), plan_pos(x, role->node, "revision"),
		    arena_printf(a, "%s_REVISION", p), role->revision);
		check_value(x, arena_printf(a, "roles.%s.local", n), plan_pos(x, role->node, "local"),
		    arena_printf(a, "%s_MODEL_LOCAL", p), role->local);
		check_value(x, arena_printf(a, "roles.%s.quantization", n), plan_pos(x, role->node, "quantization"),
		    arena_printf(a, "%s_QUANTIZATION", p), role->quantization);
		check_value(x, arena_printf(a, "roles.%s.kv_cache_dtype", n),
		    plan_pos(x, role->node, "kv_cache_dtype"), arena_printf(a, "%s_KV_CACHE_DTYPE", p),
		    role->kv_cache_dtype);
	}
}

/* Sum what the roles download, counting a repo that several roles share once. */
void
plan_check_disk(struct plan_ctx *x, struct plan *out)
{
	bool *counted = calloc(x->l->nmodels + 1, sizeof *counted);
	if (!counted)
		abort();
	for (size_t r = 0; r < out->nroles; r++) {
		const struct plan_role *pr = &out->roles[r];
		if (!pr->lock || pr->local_present)
			continue;
		size_t i = (size_t)(pr->lock - x->l->models);
		if (counted[i])
			continue;
		counted[i] = true;
		out->download_bytes += pr->download_bytes;
	}
	free(counted);
	const struct catalog *c = x->c;
	if (c->disk_budget_bytes && out->download_bytes > c->disk_budget_bytes) {
		const struct ynode *storage = c->root ? yamldoc_get(c->root, "storage") : NULL;
		diag_error(x->diag, plan_pos(x, storage, "disk_budget"),
		    "storage.disk_budget: the roles download %.2f GiB, more than the disk budget of %.2f GiB",
		    size_gib(out->download_bytes), size_gib(c->disk_budget_bytes));
	}
}
