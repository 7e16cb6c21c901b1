/*
 * One GPU rank's share of a model under tensor and pipeline parallel, read in vLLM's source:
 * get_pp_indices (vllm@5a6541db:vllm/distributed/utils.py), the Megatron-style linear layers
 * (QKVParallelLinear, MergedColumnParallelLinear, RowParallelLinear: outputs or inputs divided
 * by the TP size, a row-parallel bias whole on every rank), get_num_kv_heads (max(1, kv / tp))
 * and VocabParallelEmbedding / ParallelLMHead (vllm@00db0119:
 * vllm/model_executor/layers/vocab_parallel_embedding.py: the vocabulary padded to a multiple of
 * 64, then divide()d over the TP ranks). docs/budget.md, "Several GPUs", has the numbers.
 */
#include "budget_rank.h"

#include <string.h>

#include "budget_weights.h"

bool
budget_pp_layers(uint32_t layers, uint32_t pp, const uint32_t *partition, uint32_t *per_stage)
{
	if (!pp || pp > BUDGET_RANK_MAX_PP)
		return false;
	if (partition) {
		uint64_t sum = 0;
		for (uint32_t i = 0; i < pp; i++) {
			if (!partition[i])
				return false;
			per_stage[i] = partition[i];
			sum += partition[i];
		}
		return sum == layers;
	}
	for (uint32_t i = 0; i < pp; i++)
		per_stage[i] = layers / pp;
	/* for i in range(2, remaining_layers + 2): partitions[-i] += 1 */
	uint32_t rem = layers % pp;
	for (uint32_t i = 2; i < rem + 2; i++)
		per_stage[pp - i]++;
	return layers >= pp;
}

/*
 * The first layer of a stage, for where an MoE model's leading dense layers fall: 0 on the
 * first stage, the layers after all others on the last; a stage between them is not told its
 * first layer and is taken to follow the dense layers, which holds whenever the first stage
 * holds them all (one dense layer in DeepSeek-V2-Lite, three in V3: any split of up to 20 stages).
 */
static uint32_t
stage_first_layer(const struct budget_arch *a, uint32_t pp, uint32_t stage, uint32_t stage_layers)
{
	if (stage == 0)
		return 0;
	if (stage + 1 == pp)
		return a->layers > stage_layers ? a->layers - stage_layers : 0;
	return a->dense_layers;
}

/* Bytes of n layers like l on one rank: the linear weights and the column-parallel biases. */
static uint64_t
sharded_bytes(const struct budget_layer *l, const struct budget_quant *q, uint32_t n)
{
	return (uint64_t)n * (budget_layer_linear_bytes(l, q) + l->sharded_other * BUDGET_WEIGHT_16BIT_BYTES);
}

void
budget_rank_weights(const struct budget_arch *a, const struct budget_quant *q, uint32_t tp, uint32_t ep,
    uint32_t pp, uint32_t stage, uint32_t stage_layers, struct budget_rank_weights *w)
{
	const uint64_t b16 = BUDGET_WEIGHT_16BIT_BYTES;
	if (!tp)
		tp = 1;
	memset(w, 0, sizeof *w);
	struct budget_layer dense = budget_layer_tensors(a, tp, 1, false);
	/* modelc starts an MoE model of several ranks with --enable-expert-parallel (planargv.c). */
	struct budget_layer moe = budget_layer_tensors(a, tp, ep ? ep : tp, true);
	uint32_t nd = budget_dense_layers(a, stage_first_layer(a, pp, stage, stage_layers), stage_layers);
	uint32_t nm = stage_layers - nd;
	w->kv_replicated = budget_kv_heads(a) < tp;
	w->sharded_bytes = sharded_bytes(&dense, q, nd) + sharded_bytes(&moe, q, nm);
	w->replicated_bytes = ((uint64_t)nd * dense.replicated_other + (uint64_t)nm * moe.replicated_other) * b16;
	uint64_t padded = ((uint64_t)a->vocab_size + BUDGET_VOCAB_PADDING - 1) /
	    BUDGET_VOCAB_PADDING * BUDGET_VOCAB_PADDING;
	w->vocab_rows = (uint32_t)(padded / tp);
	uint64_t rows = (uint64_t)w->vocab_rows * a->hidden_size * b16;
	bool first = stage == 0, last = stage + 1 == pp;
	if (first)
		w->embed_bytes = rows;
	/* Tied lm_head shares embed_tokens on one stage; the last stage of several loads its own. */
	if (last) {
		w->lm_head_bytes = (a->norm_bias ? 2 : 1) * (uint64_t)a->hidden_size * b16;
		if (!a->tie_word_embeddings || !first)
			w->lm_head_bytes += rows;
	}
	w->total_bytes = w->sharded_bytes + w->replicated_bytes + w->embed_bytes + w->lm_head_bytes;
}

uint64_t
budget_rank_non_torch(const struct budget_calibration *cal, enum budget_engine e, uint32_t tp,
    uint32_t pp)
{
	uint64_t n = cal->non_torch_bytes;
	if (tp > 1)
		n += e == BUDGET_ENGINE_V1 ? BUDGET_RANK_NON_TORCH_PER_PEER * (tp - 1) :
		    cal->non_torch_tp_bytes;
	if (pp > 1)
		n += cal->non_torch_tp_bytes;
	return n;
}

void
budget_rank_fit(const struct budget_arch *a, const struct budget_params *params,
    const struct budget_rank_weights *w, uint32_t pp, uint32_t stage_layers,
    struct budget_calibration *cal_out, struct budget_result *r)
{
	struct budget_arch sa = *a;
	struct budget_params p = *params;
	/* The generation's constants, as the one-GPU fit takes them (budget_fit_checked): the
	 * given generation, else the engine's. */
	*cal_out = p.calibration ? *p.calibration : *budget_calibration_of(budget_params_generation(&p));
	uint32_t tp = p.tensor_parallel ? p.tensor_parallel : 1;
	cal_out->non_torch_bytes = budget_rank_non_torch(cal_out, p.engine, tp, pp);
	cal_out->non_torch_tp_bytes = 0;
	sa.layers = stage_layers;
	if (sa.sliding_layers > stage_layers)
		sa.sliding_layers = stage_layers;
	p.calibration = cal_out;
	p.weights_bytes = w->total_bytes;
	p.weights_per_gpu = true;
	budget_fit(&sa, &p, r);
}

double
budget_max_concurrency(uint64_t kv_tokens, uint32_t len, uint32_t block_size)
{
	if (!len)
		return 0;
	if (!block_size)
		block_size = 16;
	uint64_t blocks = ((uint64_t)len + block_size - 1) / block_size;
	return (double)(kv_tokens / block_size) / (double)blocks;
}
