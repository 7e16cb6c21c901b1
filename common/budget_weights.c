/*
 * Weights from the architecture (docs/budget.md, "Weights from the architecture"): the tensors
 * of each decoder layer, dense or MoE (routed experts, shared experts, the router), in 16 bits
 * or a quantization format, plus embeddings, lm_head and the final norm. The built-in formats
 * are the same numbers as schemas/quant-formats.json.
 */
#include <string.h>

#include "budget.h"

enum {
	BUDGET_DEFAULT_FFN_RATIO = 4,        /* unknown intermediate_size: the classic 4 x hidden */
	BUDGET_SERVED_DTYPE_BYTES = 2        /* embeddings, norms and 16-bit weights */
};

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

/* Linear-layer weight elements of one decoder layer, per (in, out) pair summed. */
struct budget_linear {
	uint64_t elements;                  /* in x out summed over the layer's matrices */
	uint64_t inputs;                    /* in summed over the matrices (GPTQ g_idx) */
	uint64_t outputs;                   /* out summed (per-channel scales) */
	uint64_t other;                     /* biases and norms, 16-bit */
};

static struct budget_linear
layer_tensors(const struct budget_arch *a, bool moe_layer)
{
	uint64_t h = a->hidden_size, hd = budget_head_dim(a);
	uint64_t q = (uint64_t)a->attention_heads * hd, kv = (uint64_t)budget_kv_heads(a) * hd;
	uint64_t ff = a->intermediate_size ? a->intermediate_size : BUDGET_DEFAULT_FFN_RATIO * h;
	struct budget_linear l = {0};
	/* MoE layers replace the dense MLP by routed experts, shared experts and the router. */
	bool moe = a->experts && moe_layer;
	uint64_t eff = a->moe_intermediate_size ? a->moe_intermediate_size : ff;
	uint64_t sff = a->shared_intermediate_size ? a->shared_intermediate_size :
	    (uint64_t)a->shared_experts * eff;
	/* q, k, v, o */
	l.elements = h * q + 2 * h * kv + q * h;
	l.inputs = 3 * h + q;
	l.outputs = q + 2 * kv + h;
	if (moe) {
		uint64_t width = (uint64_t)a->experts * eff + sff;   /* gate/up/down of each expert */
		l.elements += 3 * h * width + h * a->experts;        /* + the router */
		l.inputs += (uint64_t)(a->experts + (sff ? 1 : 0)) * (2 * h + eff) + h;
		l.outputs += (uint64_t)a->experts * (2 * eff + h) + (sff ? 2 * sff + h : 0) + a->experts;
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
		l.other += q + 2 * kv;
	if (a->o_bias)
		l.other += h;
	if (a->mlp_bias && !moe)
		l.other += a->mlp_ungated ? ff + h : 2 * ff + h;
	l.other += (a->norm_bias ? 4 : 2) * h;      /* input and post-attention norms */
	return l;
}

/* Bytes of one layer's tensors in format q (NULL: 16-bit). */
static uint64_t
layer_bytes(struct budget_linear l, const struct budget_quant *q)
{
	const uint64_t b16 = BUDGET_SERVED_DTYPE_BYTES;
	uint64_t linear;
	if (!q || q->bits >= 16) {
		linear = l.elements * b16;
	} else {
		uint64_t groups = q->group_size ? l.elements / q->group_size : l.outputs;
		linear = l.elements * q->bits / 8;
		linear += groups * q->scale_bytes;
		if (q->zero_point)
			linear += groups * q->bits / 8;
		if (q->name && strcmp(q->name, "gptq") == 0)
			linear += l.inputs * 4;
	}
	return linear + l.other * b16;
}

uint64_t
budget_weights_bytes(const struct budget_arch *a, const struct budget_quant *q)
{
	const uint64_t b16 = BUDGET_SERVED_DTYPE_BYTES;
	uint32_t dense = a->experts ? (a->dense_layers < a->layers ? a->dense_layers : a->layers) :
	    a->layers;
	uint64_t h = a->hidden_size, vocab = a->vocab_size;
	uint64_t embed = vocab * h * (a->tie_word_embeddings ? 1 : 2);
	uint64_t final_norm = (a->norm_bias ? 2 : 1) * h;
	/* Embeddings and lm_head stay 16-bit in every format vLLM loads here. */
	return (uint64_t)dense * layer_bytes(layer_tensors(a, false), q) +
	    (uint64_t)(a->layers - dense) * layer_bytes(layer_tensors(a, true), q) +
	    (embed + final_norm) * b16;
}
