#include "plan_env.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "emit_env.h"
#include "envfile.h"
#include "fileio.h"
#include "plan_together.h"

struct plan_env_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct plan *p;
	const struct diag_pos *role_pos;
};

/* One .env key and who owns it, for the collision check. */
struct env_key {
	const char *key;
	size_t owner;                   /* 0 a global key; 1 + role index; 1 + nroles + group index */
	size_t member;                  /* a group's key: the member's role index */
};

static int
cmp_env_key(const void *p, const void *q)
{
	const struct env_key *a = p, *b = q;
	int r = strcmp(a->key, b->key);
	if (r)
		return r;
	return a->owner < b->owner ? -1 : a->owner > b->owner;
}

/* Who owns key k, for the message: "a global key", "the same key of role 'x'", ... */
static const char *
owner_text(const struct plan_env_ctx *x, const struct env_key *k)
{
	const struct plan *p = x->p;
	if (k->owner == 0)
		return "a global key";
	if (k->owner <= p->nroles)
		return arena_printf(x->a, "the same key of role '%s'", p->roles[k->owner - 1].role->name);
	const struct catalog_group *g = p->groups[k->owner - 1 - p->nroles].group;
	return arena_printf(x->a, "the same key of member '%s' of %s '%s'", p->roles[k->member].role->name,
	    g->all_pairs ? "pair" : "group", g->name);
}

/* The keys .env will hold: the global ones, each role's, each member's of a group that fits. */
static size_t
collect_keys(struct plan_env_ctx *x, struct env_key **out)
{
	const struct plan *p = x->p;
	size_t nsuf = 0, nglob = 0, ngsuf = 0, nmembers = 0;
	while (emit_env_role_suffixes[nsuf])
		nsuf++;
	while (emit_env_global_keys[nglob])
		nglob++;
	while (emit_env_group_suffixes[ngsuf])
		ngsuf++;
	for (size_t g = 0; g < p->ngroups; g++)
		nmembers += p->groups[g].fits ? p->groups[g].nmembers : 0;
	size_t n = 0;
	struct env_key *keys = arena_alloc(x->a, (nglob + p->nroles * nsuf + nmembers * ngsuf + 1) * sizeof *keys);
	for (size_t i = 0; i < nglob; i++)
		keys[n++] = (struct env_key){emit_env_global_keys[i], 0, 0};
	for (size_t r = 0; r < p->nroles; r++)
		for (size_t s = 0; s < nsuf; s++)
			/* Role names match ^[a-z][a-z0-9_]{0,31}$, so k is a valid, non-special key. */
			keys[n++] = (struct env_key){arena_printf(x->a, "%s%s", p->roles[r].env_prefix,
			    emit_env_role_suffixes[s]), r + 1, 0};
	for (size_t g = 0; g < p->ngroups; g++)
		for (size_t k = 0; p->groups[g].fits && k < p->groups[g].nmembers; k++)
			for (size_t s = 0; s < ngsuf; s++) {
				char *key = arena_alloc(x->a, EMIT_ENV_KEY_MAX);
				size_t role = p->groups[g].members[k].role;
				emit_env_group_key(key, p->groups[g].group->name, p->roles[role].role->name,
				    emit_env_group_suffixes[s]);
				keys[n++] = (struct env_key){key, 1 + p->nroles + g, role};
			}
	*out = keys;
	return n;
}

/*
 * Every key .env will hold is unique. One error per owner (a role named "vllm" would otherwise
 * collide five times), at the later owner: the first one (global, earlier role, role before
 * group, listed group before pair) keeps the key.
 */
static void
check_keys(struct plan_env_ctx *x)
{
	const struct plan *p = x->p;
	struct env_key *keys;
	size_t n = collect_keys(x, &keys);
	qsort(keys, n, sizeof *keys, cmp_env_key);
	bool *reported = arena_alloc(x->a, (1 + p->nroles + p->ngroups) * sizeof *reported);
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i - 1].key, keys[i].key) != 0 || keys[i].owner == 0)
			continue;
		size_t first = i - 1;
		while (first > 0 && strcmp(keys[first - 1].key, keys[i].key) == 0)
			first--;
		if (keys[first].owner == keys[i].owner || reported[keys[i].owner])
			continue;
		reported[keys[i].owner] = true;
		const char *other = owner_text(x, &keys[first]);
		if (keys[i].owner <= p->nroles) {
			const struct catalog_role *role = p->roles[keys[i].owner - 1].role;
			diag_error(x->diag, x->role_pos[keys[i].owner - 1], "roles.%s: .env key '%s' collides with %s",
			    role->name, keys[i].key, other);
			continue;
		}
		const struct catalog_group *g = p->groups[keys[i].owner - 1 - p->nroles].group;
		diag_error(x->diag, plan_together_pos(p->catalog, g), "%s: .env key '%s' of member '%s' of %s '%s' "
		    "collides with %s; rename one of them", g->all_pairs ? "together.all_pairs" :
		    arena_printf(x->a, "together.groups.%s", g->name), keys[i].key,
		    p->roles[keys[i].member].role->name, g->all_pairs ? "pair" : "group", g->name, other);
	}
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
