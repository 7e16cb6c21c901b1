/*
 * The rules across roles, after every role is planned, but those of .env (plan_env.c): the
 * downloads against the disk budget.
 */
#include <stdlib.h>

#include "plan_ctx.h"
#include "size.h"

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
