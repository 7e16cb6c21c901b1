#include "catalog_serve.h"

#include <string.h>

#include "suggest.h"

/* A sleep_mode value: 1, 2, or 0 for "off" and for none (then def). */
static uint32_t
sleep_level(const struct ynode *n, uint32_t def)
{
	if (!n)
		return def;
	return n->kind == YNODE_INT && (n->integer == 1 || n->integer == 2) ? (uint32_t)n->integer : 0;
}

/* Who already answers to a name: a role's name, served_model_name or alias. */
struct claim {
	const char *name;
	const struct catalog_role *role;
	bool alias;
};

/*
 * Every name a request may use must lead to one role: a role's own name, its
 * served_model_name and its aliases, across all roles. Reported at the alias. A linear
 * search per alias: aliases are few, and a catalog without them costs nothing here.
 */
static void
check_names(struct arena *a, struct diag_sink *diag, const struct catalog *c)
{
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < c->nroles; i++)
		cap += 2 + c->roles[i].naliases;
	struct claim *v = arena_alloc(a, (cap + 1) * sizeof *v);
	for (size_t i = 0; i < c->nroles; i++) {
		const struct catalog_role *r = &c->roles[i];
		v[n++] = (struct claim){r->name, r, false};
		if (strcmp(r->served_model_name, r->name))
			v[n++] = (struct claim){r->served_model_name, r, false};
	}
	for (size_t i = 0; i < c->nroles; i++) {
		const struct catalog_role *r = &c->roles[i];
		const struct ynode *list = yamldoc_get(r->node, "aliases");
		for (size_t k = 0; k < r->naliases; k++) {
			const char *name = r->aliases[k];
			const struct claim *hit = NULL;
			for (size_t j = 0; j < n && !hit; j++)
				if (strcmp(v[j].name, name) == 0)
					hit = &v[j];
			struct diag_pos pos = list->items[k]->pos;
			if (hit && hit->role == r && hit->alias)
				diag_error(diag, pos, "roles.%s.aliases[%zu]: '%s' is listed twice", r->name, k, name);
			else if (hit && hit->role == r)
				diag_error(diag, pos, "roles.%s.aliases[%zu]: '%s' is already the role's name or "
				    "served_model_name", r->name, k, name);
			else if (hit)
				diag_error(diag, pos, "roles.%s.aliases[%zu]: '%s' is already a name of role '%s'; "
				    "a request's model must lead to one role", r->name, k, name, hit->role->name);
			else
				v[n++] = (struct claim){name, r, true};
		}
	}
}

/* The role called name, with a did-you-mean when there is none. */
static const struct catalog_role *
group_role(struct arena *a, struct diag_sink *diag, const struct catalog *c, const char *group,
    size_t k, const struct ynode *item)
{
	const struct catalog_role *r = catalog_role(c, item->text);
	if (r)
		return r;
	const char **names = arena_alloc(a, (c->nroles + 1) * sizeof *names);
	for (size_t i = 0; i < c->nroles; i++)
		names[i] = c->roles[i].name;
	const char *best = suggest_best(item->text, names, c->nroles);
	if (best)
		diag_error(diag, item->pos, "together.groups.%s[%zu]: '%s' is not a role (did you mean '%s'?)",
		    group, k, item->text, best);
	else
		diag_error(diag, item->pos, "together.groups.%s[%zu]: '%s' is not a role", group, k, item->text);
	return NULL;
}

static void
listed_groups(struct arena *a, struct diag_sink *diag, const struct ynode *groups, struct catalog *c)
{
	for (size_t g = 0; g < groups->count; g++) {
		const struct ynode *list = groups->items[g];
		struct catalog_group *out = &c->groups[c->ngroups];
		out->name = groups->keys[g];
		out->node = list;
		out->roles = arena_alloc(a, (list->count + 1) * sizeof *out->roles);
		out->role_nodes = arena_alloc(a, (list->count + 1) * sizeof *out->role_nodes);
		bool ok = true;
		for (size_t k = 0; k < list->count; k++) {
			const struct catalog_role *r = group_role(a, diag, c, out->name, k, list->items[k]);
			ok &= r != NULL;
			for (size_t j = 0; r && j < out->nroles; j++)
				if (out->roles[j] == r) {
					diag_error(diag, list->items[k]->pos, "together.groups.%s[%zu]: '%s' is listed "
					    "twice; one server serves a role", out->name, k, r->name);
					ok = false;
					r = NULL;
				}
			if (r) {
				out->role_nodes[out->nroles] = list->items[k];
				out->roles[out->nroles++] = r;
			}
		}
		if (ok)
			c->ngroups++;
	}
}

static void
all_pairs(struct arena *a, struct diag_sink *diag, const struct ynode *flag, struct catalog *c)
{
	if (c->nroles > CATALOG_MAX_ALL_PAIRS_ROLES) {
		diag_error(diag, flag->pos, "together.all_pairs: %zu roles make %zu pairs; the most is %d "
		    "roles: list the groups you want under together.groups instead", c->nroles,
		    c->nroles * (c->nroles - 1) / 2, CATALOG_MAX_ALL_PAIRS_ROLES);
		return;
	}
	for (size_t i = 0; i < c->nroles; i++)
		for (size_t j = i + 1; j < c->nroles; j++) {
			struct catalog_group *g = &c->groups[c->ngroups++];
			g->name = arena_printf(a, "%s+%s", c->roles[i].name, c->roles[j].name);
			g->node = flag;
			g->all_pairs = true;
			g->roles = arena_alloc(a, 2 * sizeof *g->roles);
			g->role_nodes = arena_alloc(a, 2 * sizeof *g->role_nodes);
			g->roles[0] = &c->roles[i];
			g->roles[1] = &c->roles[j];
			g->role_nodes[0] = g->role_nodes[1] = flag;
			g->nroles = 2;
		}
}

void
catalog_serve_from_yaml(struct arena *a, struct diag_sink *diag, const struct ynode *root,
    struct catalog *c)
{
	const struct ynode *server = yamldoc_get(root, "server");
	c->sleep_level = sleep_level(yamldoc_get(server, "sleep_mode"), 0);
	for (size_t i = 0; i < c->nroles; i++) {
		struct catalog_role *r = &c->roles[i];
		const struct ynode *ttl = yamldoc_get(r->node, "ttl");
		const struct ynode *aliases = yamldoc_get(r->node, "aliases");
		r->ttl_seconds = ttl && ttl->kind == YNODE_INT && ttl->integer > 0 ? (uint32_t)ttl->integer : 0;
		r->sleep_level = sleep_level(yamldoc_get(r->node, "sleep_mode"), c->sleep_level);
		if (aliases && aliases->kind == YNODE_SEQ) {
			r->aliases = arena_alloc(a, (aliases->count + 1) * sizeof *r->aliases);
			for (size_t k = 0; k < aliases->count; k++)
				r->aliases[r->naliases++] = aliases->items[k]->text;
		}
	}
	check_names(a, diag, c);

	const struct ynode *together = yamldoc_get(root, "together");
	const struct ynode *groups = yamldoc_get(together, "groups");
	const struct ynode *pairs = yamldoc_get(together, "all_pairs");
	bool want_pairs = pairs && pairs->kind == YNODE_BOOL && pairs->boolean;
	size_t listed = groups && groups->kind == YNODE_MAP ? groups->count : 0;
	size_t npairs = want_pairs && c->nroles <= CATALOG_MAX_ALL_PAIRS_ROLES ? c->nroles * (c->nroles - 1) / 2 : 0;
	c->groups = arena_alloc(a, (listed + npairs + 1) * sizeof *c->groups);
	if (listed)
		listed_groups(a, diag, groups, c);
	if (want_pairs)
		all_pairs(a, diag, pairs, c);
}
