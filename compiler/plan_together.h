#ifndef MODELC_PLAN_TOGETHER_H
#define MODELC_PLAN_TOGETHER_H

/*
 * Co-residency: for every together: group, whether its roles fit side by side on the GPU,
 * each as its own vLLM process, and the limits each gets there; and per role what the proxy
 * needs (awake and sleeping bytes, host bytes for level-1 sleep, the cold-start timeout).
 * The arithmetic is common/budget.c's, as for one role, under the same vLLM generation (CUDA
 * graphs on top of a share or inside it). Model and sources: docs/budget.md,
 * "Roles together".
 */

#include <stdio.h>

#include "plan.h"

/* Seconds a cold start gets on top of weights / disk_read_rate, and the least timeout (llama-swap's). */
enum { PLAN_START_ALLOWANCE_S = 60, PLAN_MIN_TIMEOUT_S = 15 };

/* The least context an auto member is planned with in a group (or its own, if smaller). */
enum { PLAN_GROUP_MIN_AUTO_LEN = 2048 };

/* A member's share is a whole number of these steps of the GPU: 4 decimals, as .env prints it. */
enum { PLAN_SHARE_STEPS = 10000 };

/*
 * Plan out->roles' serving numbers and every group of the catalog into out->groups. A listed
 * group that cannot fit is an error at its name with the numbers and a note on what would make
 * it fit; a pair from all_pairs that cannot fit is only recorded (fits false).
 */
void plan_together(struct arena *a, struct diag_sink *diag, struct plan *out);

/* The derivation of group g's limits, for budget.txt and modelc explain, one line each. */
void plan_together_describe(FILE *f, const struct plan *p, const struct plan_group *g);

/* Where group g stands in the catalog: its name under together.groups, else together.all_pairs. */
struct diag_pos plan_together_pos(const struct catalog *c, const struct catalog_group *g);

/* The group called name, or NULL. */
const struct plan_group *plan_together_find(const struct plan *p, const char *name);

#endif
