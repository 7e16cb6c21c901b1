#include <CUnit/CUnit.h>
#include <string.h>

#include "budget.h"
#include "budget_rank.h"
#include "budget_weights.h"
#include "size.h"

void suite_budget_rank(void);

static const struct budget_arch llama31_8b = {
	.layers = 32, .attention_heads = 32, .kv_heads = 8, .head_dim = 128, .hidden_size = 4096,
	.intermediate_size = 14336, .vocab_size = 128256, .max_position_embeddings = 131072,
	.dtype_bytes = 2,
};

static void
test_pp_layers_as_vllm(void)
{
	uint32_t s[8];
	/* get_pp_indices: the remainder goes to the stages before the last, from the second-to-last. */
	CU_ASSERT_TRUE(budget_pp_layers(32, 2, NULL, s));
	CU_ASSERT_EQUAL(s[0], 16);
	CU_ASSERT_EQUAL(s[1], 16);
	CU_ASSERT_TRUE(budget_pp_layers(10, 4, NULL, s));
	CU_ASSERT_EQUAL(s[0], 2);
	CU_ASSERT_EQUAL(s[1], 3);
	CU_ASSERT_EQUAL(s[2], 3);
	CU_ASSERT_EQUAL(s[3], 2);
	CU_ASSERT_TRUE(budget_pp_layers(33, 4, NULL, s));
	CU_ASSERT_EQUAL(s[0], 8);
	CU_ASSERT_EQUAL(s[1], 8);
	CU_ASSERT_EQUAL(s[2], 9);
	CU_ASSERT_EQUAL(s[3], 8);
	CU_ASSERT_TRUE(budget_pp_layers(3, 3, NULL, s));
	CU_ASSERT_FALSE(budget_pp_layers(2, 3, NULL, s));
	CU_ASSERT_FALSE(budget_pp_layers(32, 0, NULL, s));
	const uint32_t good[] = {12, 20}, bad[] = {12, 21}, zero[] = {0, 32};
	CU_ASSERT_TRUE(budget_pp_layers(32, 2, good, s));
	CU_ASSERT_EQUAL(s[0], 12);
	CU_ASSERT_EQUAL(s[1], 20);
	CU_ASSERT_FALSE(budget_pp_layers(32, 2, bad, s));
	CU_ASSERT_FALSE(budget_pp_layers(32, 2, zero, s));
}

static void
test_rank_weights_one_gpu_is_the_model(void)
{
	/* 128256 is a multiple of 64: no padding, so one rank of one stage is budget_weights_bytes. */
	struct budget_rank_weights w;
	budget_rank_weights(&llama31_8b, NULL, 1, 0, 1, 0, 32, &w);
	CU_ASSERT_EQUAL(w.total_bytes, budget_weights_bytes(&llama31_8b, NULL));
	CU_ASSERT_EQUAL(w.total_bytes, 16060522496ULL);
	CU_ASSERT_EQUAL(w.vocab_rows, 128256);
	CU_ASSERT_FALSE(w.kv_replicated);
	const struct budget_quant *awq = budget_quant_named("awq");
	budget_rank_weights(&llama31_8b, awq, 1, 0, 1, 0, 32, &w);
	CU_ASSERT_EQUAL(w.total_bytes, budget_weights_bytes(&llama31_8b, awq));
}

static void
test_rank_weights_tp_shards(void)
{
	struct budget_rank_weights one, two;
	budget_rank_weights(&llama31_8b, NULL, 1, 0, 1, 0, 32, &one);
	budget_rank_weights(&llama31_8b, NULL, 2, 0, 1, 0, 32, &two);
	CU_ASSERT_EQUAL(2 * two.sharded_bytes, one.sharded_bytes);
	CU_ASSERT_EQUAL(two.replicated_bytes, one.replicated_bytes);
	CU_ASSERT_EQUAL(two.replicated_bytes, 32ULL * 2 * 4096 * 2);
	CU_ASSERT_EQUAL(two.vocab_rows, 64128);
	CU_ASSERT_EQUAL(two.embed_bytes, 64128ULL * 4096 * 2);
	CU_ASSERT_EQUAL(two.lm_head_bytes, 64128ULL * 4096 * 2 + 4096 * 2);
	/* 8 KV heads over 16 ranks: each holds one whole head, so k/v stop shrinking. */
	struct budget_rank_weights sixteen;
	budget_rank_weights(&llama31_8b, NULL, 16, 0, 1, 0, 32, &sixteen);
	CU_ASSERT_TRUE(sixteen.kv_replicated);
	uint64_t per_layer = 4096ULL * (2 * 128 + 2 * 128) + 2 * 128 * 4096ULL + 3ULL * 4096 * 896;
	CU_ASSERT_EQUAL(sixteen.sharded_bytes, 32 * per_layer * 2);
}

static void
test_rank_weights_vocab_padding_and_stages(void)
{
	struct budget_arch a = llama31_8b;
	a.vocab_size = 32001;               /* padded to 32064, 16032 rows per rank at TP2 */
	struct budget_rank_weights s0, s1;
	budget_rank_weights(&a, NULL, 2, 0, 2, 0, 16, &s0);
	budget_rank_weights(&a, NULL, 2, 0, 2, 1, 16, &s1);
	CU_ASSERT_EQUAL(s0.vocab_rows, 16032);
	CU_ASSERT_EQUAL(s0.embed_bytes, 16032ULL * 4096 * 2);
	CU_ASSERT_EQUAL(s0.lm_head_bytes, 0);
	CU_ASSERT_EQUAL(s1.embed_bytes, 0);
	CU_ASSERT_EQUAL(s1.lm_head_bytes, 16032ULL * 4096 * 2 + 4096 * 2);
	CU_ASSERT_EQUAL(s0.sharded_bytes, s1.sharded_bytes);
	/* Tied embeddings: one copy on one stage, but the last of two stages loads its own. */
	a.tie_word_embeddings = true;
	struct budget_rank_weights t1, t2;
	budget_rank_weights(&a, NULL, 1, 0, 1, 0, 32, &t1);
	budget_rank_weights(&a, NULL, 1, 0, 2, 1, 16, &t2);
	CU_ASSERT_EQUAL(t1.lm_head_bytes, 4096 * 2);
	CU_ASSERT_EQUAL(t2.lm_head_bytes, 32064ULL * 4096 * 2 + 4096 * 2);
}


/* A small MoE model whose tensors can be counted by hand: 4 experts of 8, a shared expert of 8. */
static const struct budget_arch tiny_moe = {
	.layers = 4, .attention_heads = 4, .kv_heads = 4, .head_dim = 4, .hidden_size = 16,
	.intermediate_size = 32, .vocab_size = 64, .max_position_embeddings = 4096, .dtype_bytes = 2,
	.experts = 4, .moe_intermediate_size = 8, .shared_experts = 1, .dense_layers = 1,
};

static void
test_rank_weights_moe(void)
{
	/* One GPU: the one-GPU formula, 1 dense and 3 MoE layers. */
	struct budget_rank_weights one, two;
	budget_rank_weights(&tiny_moe, NULL, 1, 0, 1, 0, 4, &one);
	CU_ASSERT_EQUAL(one.total_bytes, budget_weights_bytes(&tiny_moe, NULL));
	/* An MoE layer at TP 2: q, k, v 8 wide each, o 8 x 16: 512; 2 of the 4 experts (expert
	 * parallel) and half the shared expert: 3 x 16 x (2 x 8 + 4) = 960; the router whole: 64. */
	struct budget_layer moe = budget_layer_tensors(&tiny_moe, 2, 2, true);
	CU_ASSERT_EQUAL(moe.elements, 512 + 960 + 64);
	CU_ASSERT_EQUAL(moe.replicated_other, 2 * 16);
	/* The dense layer: the MLP of 32 split in two: 3 x 16 x 16. */
	struct budget_layer dense = budget_layer_tensors(&tiny_moe, 2, 1, false);
	CU_ASSERT_EQUAL(dense.elements, 512 + 3 * 16 * 16);
	budget_rank_weights(&tiny_moe, NULL, 2, 0, 1, 0, 4, &two);
	CU_ASSERT_EQUAL(two.sharded_bytes, (dense.elements + 3 * moe.elements) * 2);
	/* Every rank holds the router whole: two ranks hold it twice, the rest once. */
	CU_ASSERT_EQUAL(2 * two.sharded_bytes, one.sharded_bytes + 3 * 16 * 4 * 2);
	CU_ASSERT_EQUAL(two.replicated_bytes, one.replicated_bytes);
	/* TP 2 x DP 2 with expert parallel: the group is 4 ranks, so each holds 1 of the 4 experts,
	 * 3 x 16 x 8 fewer elements per MoE layer than at TP 2 alone; attention and the rest unchanged. */
	struct budget_rank_weights ep4;
	budget_rank_weights(&tiny_moe, NULL, 2, 4, 1, 0, 4, &ep4);
	struct budget_layer moe4 = budget_layer_tensors(&tiny_moe, 2, 4, true);
	CU_ASSERT_EQUAL(moe.elements - moe4.elements, 3 * 16 * 8);
	CU_ASSERT_EQUAL(ep4.sharded_bytes, (dense.elements + 3 * moe4.elements) * 2);
	CU_ASSERT_EQUAL(two.sharded_bytes - ep4.sharded_bytes, 3 * 3 * 16 * 8 * 2);
	CU_ASSERT_EQUAL(ep4.replicated_bytes, two.replicated_bytes);
}

static void
test_rank_weights_moe_stages(void)
{
	/* Two stages of 2 layers: the dense layer is on the first; both stages sum to the model. */
	struct budget_rank_weights all, s0, s1;
	budget_rank_weights(&tiny_moe, NULL, 1, 0, 1, 0, 4, &all);
	budget_rank_weights(&tiny_moe, NULL, 1, 0, 2, 0, 2, &s0);
	budget_rank_weights(&tiny_moe, NULL, 1, 0, 2, 1, 2, &s1);
	struct budget_layer dense = budget_layer_tensors(&tiny_moe, 1, 1, false);
	struct budget_layer moe = budget_layer_tensors(&tiny_moe, 1, 1, true);
	CU_ASSERT_EQUAL(s0.sharded_bytes, (dense.elements + moe.elements) * 2);
	CU_ASSERT_EQUAL(s1.sharded_bytes, 2 * moe.elements * 2);
	CU_ASSERT_EQUAL(s0.sharded_bytes + s1.sharded_bytes, all.sharded_bytes);
	CU_ASSERT_EQUAL(s0.replicated_bytes + s1.replicated_bytes, all.replicated_bytes);
	/* A last stage of 1 layer after a first of 3: all MoE. */
	budget_rank_weights(&tiny_moe, NULL, 1, 0, 2, 1, 1, &s1);
	CU_ASSERT_EQUAL(s1.sharded_bytes, moe.elements * 2);
	/* A dense model has no MoE layers anywhere. */
	CU_ASSERT_EQUAL(budget_dense_layers(&llama31_8b, 16, 16), 16);
	CU_ASSERT_EQUAL(budget_dense_layers(&tiny_moe, 0, 4), 1);
	CU_ASSERT_EQUAL(budget_dense_layers(&tiny_moe, 1, 3), 0);
}

static void
test_rank_fit_takes_the_generation(void)
{
	/* One rank of one GPU fits as the one-GPU budget does with its generation's constants. */
	for (int g = 0; g < BUDGET_GEN_COUNT; g++) {
		struct budget_params p = {.gpu_total_bytes = 24 * SIZE_GIB, .utilization = 0.9,
		    .max_model_len = 8192, .engine = BUDGET_ENGINE_V1, .generation_set = true,
		    .generation = (enum budget_generation)g};
		const struct budget_calibration *gen = budget_calibration_of((enum budget_generation)g);
		struct budget_rank_weights w;
		struct budget_calibration used;
		struct budget_result r, one;
		budget_rank_weights(&llama31_8b, NULL, 1, 0, 1, 0, 32, &w);
		budget_rank_fit(&llama31_8b, &p, &w, 1, 32, &used, &r);
		CU_ASSERT_DOUBLE_EQUAL(used.forward_factor, gen->forward_factor, 0);
		CU_ASSERT_DOUBLE_EQUAL(used.sampler_bytes_per_logit, gen->sampler_bytes_per_logit, 0);
		CU_ASSERT_EQUAL(used.non_torch_bytes, gen->non_torch_bytes);
		p.calibration = gen;
		p.weights_bytes = w.total_bytes;
		budget_fit(&llama31_8b, &p, &one);
		CU_ASSERT_EQUAL(r.activation_bytes, one.activation_bytes);
		CU_ASSERT_EQUAL(r.kv_cache_bytes, one.kv_cache_bytes);
	}
	/* The test can tell: V0's constants are not the default ones. */
	CU_ASSERT_NOT_EQUAL(budget_calibration_of(BUDGET_GEN_V0)->non_torch_bytes,
	    budget_calibration_default.non_torch_bytes);
}

static void
test_rank_non_torch_and_fit(void)
{
	const struct budget_calibration *cal = budget_calibration_of(BUDGET_GEN_V1);
	CU_ASSERT_EQUAL(budget_rank_non_torch(cal, BUDGET_ENGINE_V1, 1, 1), cal->non_torch_bytes);
	CU_ASSERT_EQUAL(budget_rank_non_torch(cal, BUDGET_ENGINE_V1, 2, 1),
	    cal->non_torch_bytes + BUDGET_RANK_NON_TORCH_PER_PEER);
	CU_ASSERT_EQUAL(budget_rank_non_torch(cal, BUDGET_ENGINE_V1, 4, 2),
	    cal->non_torch_bytes + 3 * BUDGET_RANK_NON_TORCH_PER_PEER + cal->non_torch_tp_bytes);
	CU_ASSERT_EQUAL(budget_rank_non_torch(cal, BUDGET_ENGINE_V0, 4, 1),
	    cal->non_torch_bytes + cal->non_torch_tp_bytes);

	struct budget_params p = {.gpu_total_bytes = 24 * SIZE_GIB, .utilization = 0.9,
	    .max_model_len = 8192, .tensor_parallel = 2, .enforce_eager = true,
	    .engine = BUDGET_ENGINE_V1};
	struct budget_rank_weights w;
	struct budget_calibration used;
	struct budget_result r;
	budget_rank_weights(&llama31_8b, NULL, 2, 0, 1, 0, 32, &w);
	budget_rank_fit(&llama31_8b, &p, &w, 1, 32, &used, &r);
	CU_ASSERT_EQUAL(r.weights_bytes, w.total_bytes);
	CU_ASSERT_EQUAL(r.non_torch_bytes, budget_rank_non_torch(cal, BUDGET_ENGINE_V1, 2, 1));
	/* max(1, 8 / 2) = 4 KV heads: 2 x 32 x 4 x 128 x 2 bytes per token. */
	CU_ASSERT_EQUAL(r.kv_bytes_per_token, 2ULL * 32 * 4 * 128 * 2);
	CU_ASSERT_TRUE(r.fits);
	/* Half the layers on a stage: half the KV bytes per token. */
	p.tensor_parallel = 1;
	budget_rank_weights(&llama31_8b, NULL, 1, 0, 2, 1, 16, &w);
	budget_rank_fit(&llama31_8b, &p, &w, 2, 16, &used, &r);
	CU_ASSERT_EQUAL(r.kv_bytes_per_token, 2ULL * 16 * 8 * 128 * 2);
}

static void
test_max_concurrency(void)
{
	/* vLLM: blocks / blocks per request: 40960 tokens of 16-token blocks, 8192 per request. */
	CU_ASSERT_DOUBLE_EQUAL(budget_max_concurrency(40960, 8192, 16), 5.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(budget_max_concurrency(40960, 8200, 16), 2560.0 / 513.0, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(budget_max_concurrency(100, 0, 16), 0.0, 1e-9);
}

void
suite_budget_rank(void)
{
	CU_pSuite s = CU_add_suite("budget_rank", NULL, NULL);
	CU_add_test(s, "pp layers as get_pp_indices", test_pp_layers_as_vllm);
	CU_add_test(s, "one rank of one gpu is the model", test_rank_weights_one_gpu_is_the_model);
	CU_add_test(s, "tp shards", test_rank_weights_tp_shards);
	CU_add_test(s, "vocab padding and stages", test_rank_weights_vocab_padding_and_stages);
	CU_add_test(s, "moe layers per rank", test_rank_weights_moe);
	CU_add_test(s, "moe dense layers per stage", test_rank_weights_moe_stages);
	CU_add_test(s, "fit takes the generation's constants", test_rank_fit_takes_the_generation);
	CU_add_test(s, "non-torch and fit", test_rank_non_torch_and_fit);
	CU_add_test(s, "max concurrency", test_max_concurrency);
}
