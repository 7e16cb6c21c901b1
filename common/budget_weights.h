#ifndef MODELC_BUDGET_WEIGHTS_H
#define MODELC_BUDGET_WEIGHTS_H

/*
 * The tensors of one decoder layer, dense or MoE, on one tensor-parallel (TP) rank, as vLLM
 * shards them: q/k/v and the MLP's gate/up split by their outputs, o and down by their inputs
 * (Megatron-style), every expert's intermediate width split (FusedMoE without expert
 * parallel; with it, experts / ep whole experts a rank), KV heads max(1, kv / tp), and whole
 * on every rank the norms, the row-parallel biases and the MoE router. With tp 1 it is the whole layer: what budget_weights_bytes sums.
 * The formulas: docs/budget.md, "Weights from the architecture" and "Several GPUs". libc only.
 */

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"

enum { BUDGET_WEIGHT_16BIT_BYTES = 2 };   /* embeddings, norms, biases and 16-bit weights */

/* One layer's tensors on one rank. */
struct budget_layer {
	uint64_t elements;              /* linear weight elements: in x out summed over the matrices */
	uint64_t inputs;                /* in summed over the matrices (GPTQ g_idx) */
	uint64_t outputs;               /* out summed (per-channel scales) */
	uint64_t sharded_other;         /* column-parallel biases, 16-bit: divided with their outputs */
	uint64_t replicated_other;      /* norms and row-parallel biases, 16-bit: whole on every rank */
};

/*
 * The tensors of one layer (an MoE layer when moe_layer and a->experts) on a rank of tp ranks
 * (0 or 1: one GPU), the routed experts spread over ep ranks (0 or 1: no expert parallel).
 */
struct budget_layer budget_layer_tensors(const struct budget_arch *a, uint32_t tp, uint32_t ep,
    bool moe_layer);

/* Bytes of l's linear weights in format q (NULL: 16-bit), without its 16-bit other tensors. */
uint64_t budget_layer_linear_bytes(const struct budget_layer *l, const struct budget_quant *q);

/* How many of the layers first .. first + n - 1 have a dense MLP: the leading dense_layers of an MoE model, all of a dense one. */
uint32_t budget_dense_layers(const struct budget_arch *a, uint32_t first, uint32_t n);

#endif
