#ifndef MODELC_PLANPAR_H
#define MODELC_PLANPAR_H

/*
 * A role of a hosts: catalog split over GPUs: the TP, PP and DP sizes (given, or chosen by the
 * auto rules of docs/budget.md, "Several GPUs"), each rank's GPU and budget, the rank whose KV
 * cache decides, and the hard errors vLLM would otherwise raise at start-up. Pure: reads the
 * catalog, writes diagnostics.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "budget_rank.h"
#include "catalog.h"
#include "diag.h"

struct plan;                    /* plan.h, which includes this header */

struct plan_rank {
	uint32_t rank;                  /* vLLM's global rank in the replica: stage x tp + tp_rank */
	uint32_t replica, stage, tp_rank;
	struct catalog_slot slot;       /* its GPU: hosts[slot.host].gpus[slot.gpu] */
	uint32_t layers;                /* decoder layers of its stage */
	struct budget_rank_weights weights;
	struct budget_calibration calibration; /* what its fit ran with (non-torch by TP) */
	struct budget_params params;
	struct budget_result result;
};

struct plan_parallel {
	uint32_t tp, pp, dp;
	const char *rule;               /* the sentence that decided the sizes */
	uint32_t stage_layers[BUDGET_RANK_MAX_PP];
	bool partition_set;             /* write VLLM_PP_LAYER_PARTITION (given or computed) */
	struct plan_rank *ranks;        /* tp x pp x dp, replica-major */
	size_t nranks;
	size_t deciding;                /* the rank with the fewest KV tokens */
	uint64_t kv_tokens;             /* vLLM's "GPU KV cache size" (the smallest rank's) */
	double concurrency;             /* "Maximum concurrency for max_model_len tokens per request" */
	double utilization;             /* one --gpu-memory-utilization for every GPU */
	uint64_t kv_cache_memory_bytes; /* --kv-cache-memory-bytes when the GPUs differ; else 0 */
	uint32_t max_model_len;
	size_t nnodes;                  /* hosts one replica spans */
	bool moe;                       /* --enable-expert-parallel */
	bool p2p_disable;               /* TP over PCIe: NCCL_P2P_DISABLE=1, --disable-custom-all-reduce */
	bool fits;
};

/* What planpar_role needs of a role beyond the catalog. */
struct planpar_model {
	const struct budget_arch *arch;
	const struct budget_quant *quant;
	uint64_t exact_weights;         /* the checkpoint's bytes, 0 when unknown */
	const char *architecture;       /* config.json architectures[0], or NULL */
	const char *config_json;        /* the lock's config text (experts), or NULL */
};

/*
 * Plan role r over its placement with base (planparams_role's, weights unset): sizes, ranks,
 * fit. Reports every hard error at the role's value (rpos: the role's name); NULL after an
 * error, else the plan in the arena (fits false never returns: a rank over budget is an error).
 */
const struct plan_parallel *planpar_role(struct arena *a, struct diag_sink *diag,
    const struct catalog *c, const struct catalog_role *r, struct diag_pos rpos,
    const struct planpar_model *m, const struct budget_params *base);

/*
 * Across the placed roles of p: an error at server.port when the roles' deploy ports would pass
 * 65535; a warning at a role whose placement shares a GPU with an earlier role's (role_pos:
 * each role's name), since their deploy files cannot run at once.
 */
void planpar_check_shared(struct diag_sink *diag, const struct plan *p, const struct diag_pos *role_pos);

#endif
