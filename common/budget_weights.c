/*
 * Weights from the architecture (docs/budget.md, "Weights from the architecture"): the tensors
 * of each decoder layer, dense or MoE (routed experts, shared experts, the router), in 16 bits
 * or a quantization format, plus embeddings, lm_head and the final norm. The built-in formats
 * are the same numbers as schemas/quant-formats.json.
 */
#include "budget_weights.h"

#include <string.h>

enum { BUDGET_DEFAULT_FFN_RATIO = 4 };  /* unknown intermediate_size: the classic 4 x hidden */

static const struct budget_quant budget_quants[] = {
	/* AutoAWQ GEMM: 4-bit packed in int32, fp16 scales and packed 4-bit zeros per 128 inputs. */
	{.name = "awq", .bits = 4, .group_size = 128, .zero_point = true, .scale_bytes = 2,
	    .embeddings_16bit = true},
	/* GPTQ: the same tensors plus g_idx (one int32 per input feature). */
	{.name = "gptq", .bits = 4, .group_size = 128, .zero_point = true, .scale_bytes = 2,
	    .embeddings_16bit = true},
	/* FP8 weights with one fp32 scale per output channel. */
	{.name = "fp8", .bits = 8, .group_size = 0, .zero_point = false, .scale_bytes = 4,
	    .embeddings_16bit = true},
	/* bitsandbytes NF4: one fp32 absmax per 64 weights (no double quantization). */
	{.name = "bitsandbytes", .bits = 4, .group_size = 64, .zero_point = false, .scale_bytes = 4,
	    .embeddings_16bit = true},
	/*
	 * llm-compressor's compressed-tensors (what 'modelc quantize' scripts write), as its W4A16
	 * preset: symmetric 4-bit, fp16/bf16 scales per 128 inputs, no zero point. Other schemes
	 * weigh more; the checkpoint's exact bytes decide when the lock or the directory has them.
	 */
	{.name = "compressed-tensors", .bits = 4, .group_size = 128, .zero_point = false,
	    .scale_bytes = 2, .embeddings_16bit = true},
	{.name = "none", .bits = 16, .group_size = 0, .zero_point = false, .scale_bytes = 0,
	    .embeddings_16bit = true},
};

const struct budget_quant *
budget_quant_named(const char *name)
{
	for (size_t i = 0; i < sizeof budget_quants / sizeof budget_quants[0]; i++)
		if (strcmp(budget_quants[i].name, name) == 0)
			return &budget_quants[i];
	return NULL;
}

struct budget_layer
budget_layer_tensors(const struct budget_arch *a, uint32_t tp, uint32_t ep, bool moe_layer)
{
	if (!tp)
		tp = 1;
	if (!ep)
		ep = 1;
	uint64_t h = a->hidden_size, hd = budget_head_dim(a);
	uint32_t kvh = budget_kv_heads(a), kv_rank = kvh / tp;
	if (!kv_rank && kvh)
		kv_rank = 1;                /* fewer KV heads than ranks: one whole head each */
	uint64_t q = (uint64_t)(a->attention_heads / tp) * hd, kv = (uint64_t)kv_rank * hd;
	uint64_t ff = (a->intermediate_size ? a->intermediate_size : BUDGET_DEFAULT_FFN_RATIO * h) / tp;
	struct budget_layer l = {0};
	/* MoE layers replace the dense MLP by routed experts, shared experts and the router. */
	bool moe = a->experts && moe_layer;
	uint64_t eff = a->moe_intermediate_size ? a->moe_intermediate_size :
	    (a->intermediate_size ? a->intermediate_size : BUDGET_DEFAULT_FFN_RATIO * h);
	uint64_t sff = a->shared_intermediate_size ? a->shared_intermediate_size :
	    (uint64_t)a->shared_experts * eff;
	/* Expert parallel gives each rank experts / ep whole experts; without it every rank holds
	 * every expert, its width divided over TP. Shared experts are a TP-sharded MLP either way. */
	uint64_t experts = ep > 1 ? a->experts / ep : a->experts;
	if (ep <= 1)
		eff /= tp;
	sff /= tp;
	/* q, k, v (column-parallel), o (row-parallel) */
	l.elements = h * q + 2 * h * kv + q * h;
	l.inputs = 3 * h + q;
	l.outputs = q + 2 * kv + h;
	if (moe) {
		uint64_t width = experts * eff + sff;                /* gate/up/down of each expert */
		l.elements += 3 * h * width + h * a->experts;        /* + the router, whole */
		l.inputs += (experts + (sff ? 1 : 0)) * (2 * h + eff) + h;
		l.outputs += experts * (2 * eff + h) + (sff ? 2 * sff + h : 0) + a->experts;
		if (a->shared_expert_gate)
			l.elements += h;
	} else if (a->mlp_ungated) {
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
	if (a->mlp_bias && !moe) {
		l.sharded_other += a->mlp_ungated ? ff : 2 * ff;
		l.replicated_other += h;
	}
	l.replicated_other += (a->norm_bias ? 4 : 2) * h;  /* input and post-attention norms */
	return l;
}

uint64_t
budget_layer_linear_bytes(const struct budget_layer *l, const struct budget_quant *q)
{
	if (!q || q->bits >= 16)
		return l->elements * BUDGET_WEIGHT_16BIT_BYTES;
	uint64_t groups = q->group_size ? l->elements / q->group_size : l->outputs;
	uint64_t bytes = l->elements * q->bits / 8 + groups * q->scale_bytes;
	if (q->zero_point)
		bytes += groups * q->bits / 8;
	if (q->name && strcmp(q->name, "gptq") == 0)
		bytes += l->inputs * 4;
	return bytes;
}

uint32_t
budget_dense_layers(const struct budget_arch *a, uint32_t first, uint32_t n)
{
	if (!a->experts)
		return n;
	uint32_t dense = a->dense_layers < a->layers ? a->dense_layers : a->layers;
	if (first >= dense)
		return 0;
	return dense - first < n ? dense - first : n;
}

/* Bytes of one whole layer in format q: its linear weights and its 16-bit other tensors. */
static uint64_t
layer_bytes(const struct budget_arch *a, bool moe_layer, const struct budget_quant *q)
{
	struct budget_layer l = budget_layer_tensors(a, 1, 1, moe_layer);
	return budget_layer_linear_bytes(&l, q) + (l.sharded_other + l.replicated_other) *
	    BUDGET_WEIGHT_16BIT_BYTES;
}

uint64_t
budget_weights_bytes(const struct budget_arch *a, const struct budget_quant *q)
{
	const uint64_t b16 = BUDGET_WEIGHT_16BIT_BYTES;
	uint32_t dense = budget_dense_layers(a, 0, a->layers);
	uint64_t h = a->hidden_size, vocab = a->vocab_size;
	uint64_t embed = vocab * h * (a->tie_word_embeddings ? 1 : 2);
	uint64_t final_norm = (a->norm_bias ? 2 : 1) * h;
	/* Embeddings and lm_head stay 16-bit in every format vLLM loads here. */
	return (uint64_t)dense * layer_bytes(a, false, q) +
	    (uint64_t)(a->layers - dense) * layer_bytes(a, true, q) + (embed + final_norm) * b16;
}
