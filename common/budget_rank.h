#ifndef MODELC_BUDGET_RANK_H
#define MODELC_BUDGET_RANK_H

/*
 * The budget of one GPU rank of a model split by tensor parallel (TP) and pipeline parallel
 * (PP), as vLLM splits it: decoder layers sharded Megatron-style over the TP ranks, the layers
 * of the model split into PP stages by get_pp_indices, the vocabulary-parallel embedding on the
 * first stage and lm_head on the last, each padded to 64 rows and split over TP. A layer's
 * tensors are budget_layer_tensors' (common/budget_weights.h), the one-GPU weight formula's
 * own, so MoE layers count their experts and router. The rest of a rank's budget is
 * budget_fit's, with the stage's layers and a non-torch term that grows with TP. Formulas and
 * sources: docs/budget.md, "Several GPUs". libc only.
 */

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"

enum {
	BUDGET_RANK_MAX_PP = 64,
	BUDGET_VOCAB_PADDING = 64       /* vocab_parallel_embedding.py DEFAULT_VOCAB_PADDING_SIZE */
};

/*
 * Layers per stage into per_stage[0..pp-1]: partition when not NULL (VLLM_PP_LAYER_PARTITION),
 * else vLLM's get_pp_indices: layers / pp each, the remainder one more each on the stages
 * before the last, from the second-to-last backwards. false when pp is 0 or over
 * BUDGET_RANK_MAX_PP, or partition has a stage of 0 layers or does not add up to layers.
 */
bool budget_pp_layers(uint32_t layers, uint32_t pp, const uint32_t *partition, uint32_t *per_stage);

/* One rank's weights, by part. */
struct budget_rank_weights {
	uint64_t sharded_bytes;         /* the stage's decoder layers' TP shards (q/k/v, o, MLP) */
	uint64_t replicated_bytes;      /* what every TP rank holds whole: norms, row-parallel biases */
	uint64_t embed_bytes;           /* embed_tokens rows of this rank (first stage) */
	uint64_t lm_head_bytes;         /* lm_head rows and the final norm (last stage) */
	uint64_t total_bytes;
	uint32_t vocab_rows;            /* padded vocabulary rows per TP rank */
	bool kv_replicated;             /* kv_heads < tp: each rank holds one whole KV head */
};

/*
 * The weights of a rank of stage `stage` (of pp stages, holding stage_layers layers) at TP size
 * tp, for format q (NULL: 16-bit). tp is at least 1; heads that tp does not divide are the
 * caller's error (vLLM refuses them), counted here as the integer share. An MoE model's routed
 * experts are spread over ep ranks (0: tp): with --enable-expert-parallel vLLM's expert-parallel
 * group is tp x dp, so data-parallel replicas each hold experts / (tp x dp).
 * The leading dense layers (dense_layers) count on the stages that hold them: exactly on the
 * first and the last stage; a stage between them is taken to follow them.
 */
void budget_rank_weights(const struct budget_arch *a, const struct budget_quant *q, uint32_t tp, uint32_t ep,
    uint32_t pp, uint32_t stage, uint32_t stage_layers, struct budget_rank_weights *w);

/*
 * Memory outside torch's allocator on a rank: the calibrated one-GPU term, plus, for the V1
 * engine, BUDGET_RANK_NON_TORCH_PER_PEER for each other TP rank (NCCL and custom all-reduce
 * buffers; fitted on three logged TP cases, see docs/budget.md), or the calibrated TP term for
 * V0; plus the calibrated TP term once when pp > 1 (NCCL send/receive, no log to fit).
 */
uint64_t budget_rank_non_torch(const struct budget_calibration *cal, enum budget_engine e,
    uint32_t tp, uint32_t pp);

/* The V1 per-peer non-torch bytes: 0.55 GiB (vm51, vm55 at TP2; vm39 at TP4 agrees). */
#define BUDGET_RANK_NON_TORCH_PER_PEER 590558003ULL

/*
 * Fit one rank: params is the instance's (utilization, context, dtype; gpu_* of this rank's
 * GPU); the arch's layers become stage_layers, weights the rank's, non-torch the TP rule above.
 * The constants are params' calibration, else those of its vLLM generation (budget_calibration_of,
 * as the one-GPU fit takes them). *cal_out (kept by the caller while r is used) holds the
 * calibration the fit ran with.
 */
void budget_rank_fit(const struct budget_arch *a, const struct budget_params *params,
    const struct budget_rank_weights *w, uint32_t pp, uint32_t stage_layers,
    struct budget_calibration *cal_out, struct budget_result *r);

/* The number vLLM logs as "Maximum concurrency for len tokens per request": tokens / blocks of len. */
double budget_max_concurrency(uint64_t kv_tokens, uint32_t len, uint32_t block_size);

#endif
