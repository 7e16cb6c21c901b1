#ifndef MODELC_PLANPAR_INT_H
#define MODELC_PLANPAR_INT_H

/*
 * What the parts of the parallel planner share (planpar.c drives them): the role being
 * planned, a candidate shape, the per-rank fit (planpar_fit.c), the auto rules
 * (planpar_auto.c) and the hard errors vLLM would raise at start-up (planpar_checks.c).
 * Private to those files.
 */

#include "planpar.h"

#define PLANPAR_SUPPORTS_PP "schemas/pp-architectures.json"

/* The role being planned and where its diagnostics go. */
struct planpar_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct catalog *c;
	const struct catalog_role *r;
	struct diag_pos rpos;
	const struct planpar_model *m;
	const struct budget_params *base;
};

/* One replica's layout: tp x pp GPUs in rank order, the layers per stage (NULL: vLLM's split). */
struct planpar_shape {
	uint32_t tp, pp;
	uint32_t ep;                    /* an MoE model's routed experts spread over ep ranks (0: tp) */
	const struct catalog_slot *slots;
	const uint32_t *partition;
};

/* The GPU of slot s, and its memory not yet in use. */
const struct catalog_gpu *planpar_gpu(const struct catalog *c, struct catalog_slot s);
uint64_t planpar_free(const struct catalog *c, struct catalog_slot s);

/* The position of roles.NAME.parallel.KEY (key NULL: parallel:), else the role's name. */
struct diag_pos planpar_pos(const struct planpar_ctx *x, const char *key);

/* Whether the n slots' GPUs differ in memory or memory in use. */
bool planpar_gpus_differ(const struct catalog *c, const struct catalog_slot *slots, size_t n);

/* Hosts the n slots span (a host counts again each time the slots come back to it). */
size_t planpar_hosts_in(const struct catalog_slot *slots, size_t n);

/*
 * Fit every rank of shape s, lowering an auto context to what the tightest rank allows; the
 * one utilization into *util, the context into *len. true when every rank fits; ranks hold the
 * last fit either way.
 */
bool planpar_try_shape(const struct planpar_ctx *x, const struct planpar_shape *s,
    struct plan_rank *ranks, double *util, uint32_t *len);

/* planpar_try_shape on the first tp x pp GPUs of pool; false without trying when pp > layers. */
bool planpar_candidate(const struct planpar_ctx *x, uint32_t tp, uint32_t pp,
    const struct catalog_slot *pool, const uint32_t *partition, struct plan_rank *ranks,
    double *util, uint32_t *len);

/*
 * Both sizes auto: choose tp and pp (and a layer partition) over the np GPUs of pool by the
 * rules of docs/budget.md, setting pl->rule to the sentence that decided.
 */
void planpar_choose_auto(const struct planpar_ctx *x, const struct catalog_slot *pool,
    size_t np, bool placed, struct plan_parallel *pl, uint32_t *partition,
    struct plan_rank *ranks, double *util, uint32_t *len);

/* One size given, the other auto: the smallest other size that fits; sets pl->tp, pp, rule. */
void planpar_choose_other(const struct planpar_ctx *x, size_t np, bool placed,
    struct plan_parallel *pl, struct plan_rank *ranks, double *util, uint32_t *len);

/* vLLM's divisibility rules for TP, without a diagnostic. */
bool planpar_tp_divides(const struct budget_arch *a, uint32_t tp);

/* Whether the architecture may be pipelined (unknown: yes, with a warning at the check). */
bool planpar_pp_allowed(const struct planpar_ctx *x);

/*
 * The hard errors, each reported at the catalog value that caused it with vLLM's own message
 * where it has one; false after reporting.
 */
bool planpar_check_gpus(const struct planpar_ctx *x, const struct plan_parallel *pl,
    bool placed);
bool planpar_check_tp(const struct planpar_ctx *x, uint32_t tp);
bool planpar_check_pp(const struct planpar_ctx *x, uint32_t pp);
bool planpar_check_partition(const struct planpar_ctx *x, uint32_t pp);
bool planpar_check_nodes(const struct planpar_ctx *x, const struct plan_parallel *pl);

/* Report every rank of ranks[0..n) that does not fit at len: rank, host, GPU and the numbers. */
void planpar_report_over(const struct planpar_ctx *x, const struct plan_rank *ranks, size_t n,
    uint32_t len);

#endif
