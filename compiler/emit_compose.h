#ifndef MODELC_EMIT_COMPOSE_H
#define MODELC_EMIT_COMPOSE_H

/*
 * generated/compose/<role>.compose.yaml (a role on one host) and <role>.node<k>.compose.yaml
 * (one per node of a role over several hosts), for hosts: catalogs (docs/outputs.md).
 */

#include <stddef.h>
#include <stdio.h>

#include "plan.h"

/* How many Compose files the plan has (0 for a one-GPU catalog). */
size_t emit_compose_count(const struct plan *p);

/* The path of Compose file index (0 .. count-1) and its role and node; malloc'ed, NULL when out of memory. */
char *emit_compose_path(const struct plan *p, size_t index, size_t *role, size_t *node);

/* Write the Compose file of node `node` of role `role`; 0, or -1 when the stream failed. */
int emit_compose(FILE *out, const struct plan *p, size_t role, size_t node);

#endif
