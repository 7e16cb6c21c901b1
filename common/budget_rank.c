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

enum { RANK_SERVED_DTYPE_BYTES = 2, RANK_DEFAULT_FFN_RATIO = 4 };

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

static uint32_t
head_dim(const struct budget_arch *a)
{
	if (a->head_dim)
		return a->head_dim;
	return a->attention_heads ? a->hidden_size / a->attention_heads : 0;
}

/* Linear weights of one layer on one rank: elements, their inputs and outputs (for scales). */
struct rank_linear {
	uint64_t elements, inputs, outputs;
	uint64_t sharded_other;         /* column-parallel biases: divided with their outputs */
	uint64_t replicated_other;      /* norms and row-parallel biases: whole on every rank */
};

static struct rank_linear
rank_layer(const struct budget_arch *a, uint32_t tp, bool *kv_replicated)
{
	uint64_t h = a->hidden_size, hd = head_dim(a);
	uint32_t kvh = a->kv_heads ? a->kv_heads : a->attention_heads;
	uint32_t kv_rank = kvh / tp ? kvh / tp : 1;
	uint64_t q = (uint64_t)(a->attention_heads / tp) * hd, kv = (uint64_t)kv_rank * hd;
	uint64_t ff = (a->intermediate_size ? a->intermediate_size :
	    RANK_DEFAULT_FFN_RATIO * a->hidden_size) / tp;
	struct rank_linear l = {0};
	*kv_replicated = kvh < tp;
	/* qkv_proj (column: outputs split), o_proj (row: inputs split) */
	l.elements = h * (q + 2 * kv) + q * h;
	l.inputs = 3 * h + q;
	l.outputs = q + 2 * kv + h;
	if (a->mlp_ungated) {
		l.elements += 2 * h * ff;
		l.inputs += h + ff;
		l.outputs += ff + h;
	} else {
		l.elements += 3 * h * ff;
		l.inputs += 2 * h + ff;
		l.outputs += 2 * ff + h;
	}
	if (a->qkv_bias)
		l.sharded_other += q + 2 * kv;
	if (a->o_bias)
		l.replicated_other += h;
	if (a->mlp_bias) {
		l.sharded_other += a->mlp_ungated ? ff : 2 * ff;
		l.replicated_other += h;
	}
	l.replicated_other += (a->norm_bias ? 4 : 2) * h;
	return l;
}

/* Bytes of the linear weights of one layer in format q (the formula of budget_weights_bytes). */
static uint64_t
linear_bytes(const struct rank_linear *l, const struct budget_quant *q)
{
	if (!q || q->bits >= 16)
		return l->elements * RANK_SERVED_DTYPE_BYTES;
	uint64_t groups = q->group_size ? l->elements / q->group_size : l->outputs;
	uint64_t bytes = l->elements * q->bits / 8 + groups * q->scale_bytes;
	if (q->zero_point)
		bytes += groups * q->bits / 8;
	if (q->name && strcmp(q->name, "gptq") == 0)
		bytes += l->inputs * 4;
	return bytes;
}

void
budget_rank_weights(const struct budget_arch *a, const struct budget_quant *q, uint32_t tp,
    uint32_t pp, uint32_t stage, uint32_t stage_layers, struct budget_rank_weights *w)
{
	const uint64_t b16 = RANK_SERVED_DTYPE_BYTES;
	if (!tp)
		tp = 1;
	memset(w, 0, sizeof *w);
	struct rank_linear l = rank_layer(a, tp, &w->kv_replicated);
	w->sharded_bytes = (uint64_t)stage_layers * (linear_bytes(&l, q) + l.sharded_other * b16);
	w->replicated_bytes = (uint64_t)stage_layers * l.replicated_other * b16;
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
	*cal_out = p.calibration ? *p.calibration : budget_calibration_default;
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
