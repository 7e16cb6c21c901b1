#ifndef MODELC_PLAN_CTX_H
#define MODELC_PLAN_CTX_H

/*
 * What the parts of plan_build share, and nothing else includes: plan.c joins a role with its
 * facts, plan_fit.c fits it to the GPU, plan_files.c picks the files serving needs, plan_rules.c
 * checks the disk budget across roles (the .env rules are plan_env.c's, on the finished plan).
 */

#include <stdbool.h>

#include "plan.h"

struct plan_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct catalog *c;
	const struct lock *l;
	bool *lock_used;                /* per lock entry, for the unused-entry warning */
	struct diag_pos *role_pos;      /* per role: where its name stands under roles: */
};

/* Where key's value sits in node, else where node sits, else the whole catalog file. */
struct diag_pos plan_pos(const struct plan_ctx *x, const struct ynode *node, const char *key);

/* Record a fact the role's budget lacks (arena-owned text); the role is then unverified. */
void plan_unverified(struct plan_ctx *x, struct plan_role *pr, const char *what);

/* The weight format called name: the catalog's table, else the built-in one; NULL if unknown. */
const struct budget_quant *plan_find_quant(const struct catalog *c, const char *name);

/* No quantization, or "none". */
bool plan_is_16bit(const char *quant);

/* Enough architecture for the KV cache (layers, KV heads, head_dim). */
bool plan_fits_arch(const struct budget_arch *a);

/* Enough architecture to compute the weights from it. */
bool plan_formula_arch(const struct budget_arch *a);

/* s in upper case, arena-owned. */
char *plan_upper(struct arena *a, const char *s);

/*
 * m's files that serving needs into *out (arena-owned); the sum of known sizes into *bytes;
 * false when a size is unknown or the list is partial.
 */
bool plan_collect_files(struct plan_ctx *x, const struct lock_model *m, struct plan_file **out, size_t *n,
    uint64_t *bytes);

/*
 * Fit pr to the GPU with weights (exact or computed): max_model_len resolved, utilization as
 * the start-up check allows, notes and errors at rpos, the ways out when it does not fit.
 */
void plan_fit(struct plan_ctx *x, struct plan_role *pr, uint64_t weights, bool weights_exact,
    struct diag_pos rpos);

/* What the roles download (a shared repo once) against storage.disk_budget. */
void plan_check_disk(struct plan_ctx *x, struct plan *out);

#endif
