/*
 * What the placed roles of a hosts: catalog share when their deploy files run side by side on
 * one host: ports (planargv_port gives each role its own) and GPUs. A GPU two placements share
 * is a warning, not an error: a catalog often lists more roles than fit at once, for switch and
 * switch-proxy to swap, and each role's files are valid alone; only starting both is not.
 */
#include "planpar.h"

#include <stdio.h>
#include <string.h>

#include "emit_common.h"
#include "plan.h"
#include "yamldoc.h"

/* The together: group that lists both roles, or NULL. */
static const char *
group_of(const struct catalog *c, const struct catalog_role *x, const struct catalog_role *y)
{
	for (size_t g = 0; g < c->ngroups; g++) {
		int hx = 0, hy = 0;
		for (size_t k = 0; k < c->groups[g].nroles; k++) {
			hx |= c->groups[g].roles[k] == x;
			hy |= c->groups[g].roles[k] == y;
		}
		if (hx && hy)
			return c->groups[g].name;
	}
	return NULL;
}

/* The first GPU of b's placement that a's uses too, into *s. */
static bool
shared_gpu(const struct plan_parallel *a, const struct plan_parallel *b, struct catalog_slot *s)
{
	for (size_t j = 0; j < b->nranks; j++)
		for (size_t i = 0; i < a->nranks; i++)
			if (a->ranks[i].slot.host == b->ranks[j].slot.host &&
			    a->ranks[i].slot.gpu == b->ranks[j].slot.gpu) {
				*s = b->ranks[j].slot;
				return true;
			}
	return false;
}

static void
check_gpus(struct diag_sink *diag, const struct plan *p, const struct diag_pos *role_pos)
{
	const struct catalog *c = p->catalog;
	for (size_t j = 0; j < p->nroles; j++)
		for (size_t i = 0; i < j && p->roles[j].par; i++) {
			const struct plan_parallel *a = p->roles[i].par, *b = p->roles[j].par;
			struct catalog_slot s;
			if (!a || !shared_gpu(a, b, &s))
				continue;
			const char *ni = p->roles[i].role->name, *nj = p->roles[j].role->name;
			const char *g = group_of(c, p->roles[i].role, p->roles[j].role);
			char why[160] = "";
			if (g)
				snprintf(why, sizeof why, " (the together: group '%s' splits the GPU for "
				    "switch-proxy; the deploy files carry each role's limits alone)", g);
			diag_warning(diag, role_pos[j], "roles.%s: its placement shares GPU %u of host '%s' "
			    "with role '%s', and their deploy files reserve it at gpu_memory_utilization %s "
			    "(%s) and %s (%s): they cannot run at once from these files%s; start one at a "
			    "time, or place them on different GPUs (roles.%s.placement)", nj,
			    c->hosts[s.host].gpus[s.gpu].index, c->hosts[s.host].name, ni,
			    emit_util(a->utilization).s, ni, emit_util(b->utilization).s, nj, why, nj);
			break;
		}
}

void
planpar_check_shared(struct diag_sink *diag, const struct plan *p, const struct diag_pos *role_pos)
{
	const struct catalog *c = p->catalog;
	size_t placed = 0;
	for (size_t i = 0; i < p->nroles; i++)
		placed += p->roles[i].par != NULL;
	if (!placed)
		return;
	/* Role ports server.port + index, their routers' one role count higher. */
	uint64_t last = (uint64_t)c->port + 2 * p->nroles - 1;
	if (last > 65535) {
		const struct ynode *n = yamldoc_get(yamldoc_get(c->root, "server"), "port");
		diag_error(diag, n ? n->pos : role_pos[0], "server.port: %u leaves too few ports for the "
		    "deploy files of %zu roles: they serve on server.port + the role's index and their "
		    "routers on %zu more, up to %llu; give a port of at most %llu", c->port, p->nroles,
		    p->nroles, (unsigned long long)last, (unsigned long long)(65536 - 2 * p->nroles));
		return;
	}
	check_gpus(diag, p, role_pos);
}
