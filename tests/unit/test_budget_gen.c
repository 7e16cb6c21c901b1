#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "budget.h"
#include "hfconfig.h"

void suite_budget_gen(void);

#define GIB (1ULL << 30)

static const struct budget_arch llama31_8b = {
	.layers = 32, .attention_heads = 32, .kv_heads = 8, .head_dim = 128, .hidden_size = 4096,
	.intermediate_size = 14336, .vocab_size = 128256, .max_position_embeddings = 131072,
	.dtype_bytes = 2, .family = "LlamaForCausalLM",
};

static enum budget_generation
gen_of(const char *v, enum budget_engine e, bool given, bool *nearest)
{
	enum budget_generation g = BUDGET_GEN_COUNT;
	CU_ASSERT_EQUAL(budget_generation_of_version(v, e, given, &g, nearest), 0);
	return g;
}

static void
test_versions(void)
{
	bool nearest;
	/* Without an engine: V0 before 0.8.0, V1 up to 0.20, graphs in the budget from 0.21.0. */
	CU_ASSERT_EQUAL(gen_of("0.6.6", BUDGET_ENGINE_V1, false, &nearest), BUDGET_GEN_V0);
	CU_ASSERT_FALSE(nearest);
	CU_ASSERT_EQUAL(gen_of("0.8.5.post1", BUDGET_ENGINE_V1, false, &nearest), BUDGET_GEN_V1);
	CU_ASSERT_EQUAL(gen_of("0.16.1rc1.dev206+g097eb544e", BUDGET_ENGINE_V1, false, &nearest),
	    BUDGET_GEN_V1);
	CU_ASSERT_EQUAL(gen_of("0.20.2", BUDGET_ENGINE_V1, false, &nearest), BUDGET_GEN_V1);
	CU_ASSERT_EQUAL(gen_of("v0.21.0", BUDGET_ENGINE_V1, false, &nearest),
	    BUDGET_GEN_V1_GRAPHS_IN_BUDGET);
	CU_ASSERT_FALSE(nearest);
	/* The engine decides where both existed: V0 ran up to 0.10.x. */
	CU_ASSERT_EQUAL(gen_of("0.10.0", BUDGET_ENGINE_V0, true, &nearest), BUDGET_GEN_V0);
	CU_ASSERT_FALSE(nearest);
	/* Outside the modelled versions: the nearest generation, said so. */
	CU_ASSERT_EQUAL(gen_of("0.3", BUDGET_ENGINE_V1, false, &nearest), BUDGET_GEN_V0);
	CU_ASSERT_TRUE(nearest);
	CU_ASSERT_EQUAL(gen_of("1.2.0", BUDGET_ENGINE_V1, false, &nearest), BUDGET_GEN_NEWEST);
	CU_ASSERT_TRUE(nearest);
	CU_ASSERT_EQUAL(gen_of("0.12.0", BUDGET_ENGINE_V0, true, &nearest), BUDGET_GEN_V1);
	CU_ASSERT_TRUE(nearest);
	enum budget_generation g;
	CU_ASSERT_EQUAL(budget_generation_of_version("latest", BUDGET_ENGINE_V1, false, &g, &nearest), -1);
	CU_ASSERT_EQUAL(budget_generation_of_version("0.x", BUDGET_ENGINE_V1, false, &g, &nearest), -1);
	CU_ASSERT_EQUAL(budget_generation_named("v1-graphs-in-budget", &g), 0);
	CU_ASSERT_EQUAL(g, BUDGET_GEN_V1_GRAPHS_IN_BUDGET);
	CU_ASSERT_EQUAL(budget_generation_named("v2", &g), -1);
	CU_ASSERT_TRUE(budget_generation_rule(BUDGET_GEN_NEWEST)->graphs_in_budget);
	CU_ASSERT_FALSE(budget_generation_rule(BUDGET_GEN_V1)->graphs_in_budget);
	CU_ASSERT_TRUE(budget_generation_graphs_in_budget(BUDGET_GEN_V1_GRAPHS_IN_BUDGET));
	CU_ASSERT_FALSE(budget_generation_graphs_in_budget(BUDGET_GEN_V1));
	CU_ASSERT_FALSE(budget_generation_graphs_in_budget(BUDGET_GEN_V0));
}

static void
test_graphs_in_budget(void)
{
	/* From v0.21.0 the CUDA graph estimate is subtracted before the KV cache is sized, and the
	 * physical peak no longer adds it on top. */
	struct budget_params p = {.gpu_total_bytes = 24 * GIB, .utilization = 0.9,
		.max_model_len = 8192, .max_num_seqs = 8, .weights_bytes = 6 * GIB,
		.generation_set = true, .generation = BUDGET_GEN_V1};
	struct budget_result v1, v21;
	budget_fit(&llama31_8b, &p, &v1);
	p.generation = BUDGET_GEN_V1_GRAPHS_IN_BUDGET;
	budget_fit(&llama31_8b, &p, &v21);
	CU_ASSERT_EQUAL(v21.generation, BUDGET_GEN_V1_GRAPHS_IN_BUDGET);
	CU_ASSERT(v21.cuda_graph_bytes > 0);
	CU_ASSERT_EQUAL(v1.kv_cache_bytes - v21.kv_cache_bytes, v21.cuda_graph_bytes);
	CU_ASSERT_EQUAL(v1.peak_bytes - v21.peak_bytes, v21.cuda_graph_bytes);
	/* A V0 generation implies the V0 engine: the profile batch is the whole context. */
	p.generation = BUDGET_GEN_V0;
	budget_fit(&llama31_8b, &p, &v1);
	CU_ASSERT_EQUAL(v1.profile_tokens, 8192);
}

static void
test_evidence(void)
{
	enum budget_generation from;
	double spread;
	struct budget_arch a = llama31_8b;
	/* Llama of 8 GiB in V1: calibrated cases cover it. */
	CU_ASSERT_EQUAL(budget_evidence_gaps(&a, BUDGET_GEN_V1, 8 * GIB, &from, &spread),
	    BUDGET_EVIDENCE_COVERED);
	CU_ASSERT_EQUAL(spread, 0.0);
	/* The newest generation has no case: the nearest one's spread. */
	CU_ASSERT_EQUAL(budget_evidence_gaps(&a, BUDGET_GEN_NEWEST, 8 * GIB, &from, &spread),
	    BUDGET_EVIDENCE_GENERATION);
	CU_ASSERT_EQUAL(from, BUDGET_GEN_V1);
	CU_ASSERT_DOUBLE_EQUAL(spread, budget_evidence_of(BUDGET_GEN_V1)->spread, 1e-12);
	/* An architecture without a case, and a size outside the range. */
	snprintf(a.family, sizeof a.family, "%s", "Starcoder2ForCausalLM");
	CU_ASSERT_EQUAL(budget_evidence_gaps(&a, BUDGET_GEN_V1, 1024, &from, &spread),
	    BUDGET_EVIDENCE_FAMILY | BUDGET_EVIDENCE_SIZE);
	/* Multimodal: the spread seen on multimodal cases, larger than the generation's. */
	a = llama31_8b;
	a.multimodal = true;
	CU_ASSERT_EQUAL(budget_evidence_gaps(&a, BUDGET_GEN_V1, 8 * GIB, &from, &spread),
	    BUDGET_EVIDENCE_MULTIMODAL);
	CU_ASSERT(spread > budget_evidence_of(BUDGET_GEN_V1)->spread);
	/* In a fit, the margin widens by spread x the KV cache. */
	struct budget_params p = {.gpu_total_bytes = 24 * GIB, .utilization = 0.9,
		.max_model_len = 8192, .max_num_seqs = 8, .weights_bytes = 8 * GIB,
		.generation_set = true, .generation = BUDGET_GEN_NEWEST,
		.safety_margin_set = true, .safety_margin_bytes = 256ULL << 20};
	struct budget_result r, checked;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_EQUAL(r.evidence_gaps, 0);
	budget_fit_checked(&llama31_8b, &p, &checked);
	CU_ASSERT_EQUAL(checked.evidence_gaps, BUDGET_EVIDENCE_GENERATION);
	CU_ASSERT_EQUAL(checked.kv_cache_bytes, r.kv_cache_bytes);
	CU_ASSERT_EQUAL(checked.safety_margin_bytes, (256ULL << 20) +
	    (uint64_t)((double)checked.kv_cache_bytes * checked.evidence_spread));
	CU_ASSERT_EQUAL(checked.margin_source, BUDGET_EXACT);
	CU_ASSERT(checked.max_model_len_fit < r.max_model_len_fit);
	char text[256];
	budget_evidence_text(&checked, text, sizeof text);
	CU_ASSERT_STRING_EQUAL(text, "no calibrated case of vLLM generation v1-graphs-in-budget "
	    "(nearest with cases: v1)");
}

static void
test_moe_weights(void)
{
	/* Mixtral-8x7B: 8 experts of intermediate_size each, a router per layer: 46.70B parameters
	 * (the model card's 46.7B). */
	struct budget_arch mixtral = {.layers = 32, .attention_heads = 32, .kv_heads = 8,
		.head_dim = 128, .hidden_size = 4096, .intermediate_size = 14336, .vocab_size = 32000,
		.experts = 8};
	uint64_t per_layer = 4096ULL * 4096 * 2 + 2ULL * 4096 * 1024 + 8ULL * 3 * 4096 * 14336 +
	    4096ULL * 8 + 2 * 4096;
	uint64_t want = 2 * (32 * per_layer + 2ULL * 32000 * 4096 + 4096);
	CU_ASSERT_EQUAL(budget_weights_bytes(&mixtral, NULL), want);
	CU_ASSERT(want > 2 * 46600000000ULL && want < 2 * 46800000000ULL);
	/* Qwen3-30B-A3B: 128 experts of 768, no shared expert: 30.5B parameters. */
	struct budget_arch q3moe = {.layers = 48, .attention_heads = 32, .kv_heads = 4,
		.head_dim = 128, .hidden_size = 2048, .intermediate_size = 6144, .vocab_size = 151936,
		.experts = 128, .moe_intermediate_size = 768};
	uint64_t b = budget_weights_bytes(&q3moe, NULL);
	CU_ASSERT(b > 2 * 30400000000ULL && b < 2 * 30600000000ULL);
	/* DeepSeek-style: 3 dense layers first, one shared expert beside the routed ones. */
	struct budget_arch ds = q3moe;
	ds.dense_layers = 3;
	ds.shared_experts = 1;
	uint64_t with = budget_weights_bytes(&ds, NULL);
	uint64_t dense_delta = 3 * (2048ULL * 6144 * 3 - (128ULL * 3 * 2048 * 768 + 2048 * 128));
	uint64_t shared = 45ULL * 3 * 2048 * 768;
	CU_ASSERT_EQUAL(with, b + 2 * (dense_delta + shared));
}

static void
test_moe_config(void)
{
	json_error_t e;
	json_t *cfg = json_loads("{\"architectures\":[\"Qwen2MoeForCausalLM\"],\"model_type\":"
	    "\"qwen2_moe\",\"num_hidden_layers\":24,\"num_attention_heads\":16,\"hidden_size\":2048,"
	    "\"num_key_value_heads\":16,\"intermediate_size\":5632,\"num_experts\":60,"
	    "\"moe_intermediate_size\":1408,\"shared_expert_intermediate_size\":5632,"
	    "\"vision_config\":{},\"kv_lora_rank\":512}", 0, &e);
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL(hfconfig_from_json(cfg, &a, &info), 0);
	CU_ASSERT_EQUAL(a.experts, 60);
	CU_ASSERT_EQUAL(a.moe_intermediate_size, 1408);
	CU_ASSERT_EQUAL(a.shared_intermediate_size, 5632);
	CU_ASSERT_TRUE(a.shared_expert_gate);
	CU_ASSERT_STRING_EQUAL(a.family, "Qwen2MoeForCausalLM");
	CU_ASSERT_TRUE(a.multimodal);
	CU_ASSERT_EQUAL(a.kv_lora_rank, 512);
	CU_ASSERT_EQUAL(a.qk_rope_head_dim, 64);          /* transformers' default when absent */
	json_decref(cfg);
	cfg = json_loads("{\"num_hidden_layers\":61,\"num_attention_heads\":128,\"hidden_size\":7168,"
	    "\"n_routed_experts\":256,\"n_shared_experts\":1,\"first_k_dense_replace\":3,"
	    "\"moe_intermediate_size\":2048}", 0, &e);
	CU_ASSERT_EQUAL(hfconfig_from_json(cfg, &a, &info), 0);
	CU_ASSERT_EQUAL(a.experts, 256);
	CU_ASSERT_EQUAL(a.shared_experts, 1);
	CU_ASSERT_EQUAL(a.dense_layers, 3);
	CU_ASSERT_FALSE(a.shared_expert_gate);
	CU_ASSERT_FALSE(a.multimodal);
	json_decref(cfg);
}

/* MLA: one latent vector per token and layer, on every TP rank; V0 pads it to 256 bytes. */
static void
test_mla_kv(void)
{
	struct budget_arch r1 = {
		.layers = 61, .attention_heads = 128, .kv_heads = 128, .hidden_size = 7168,
		.kv_lora_rank = 512, .qk_rope_head_dim = 64, .dtype_bytes = 2,
	};
	struct budget_params p = {.engine = BUDGET_ENGINE_V1, .tensor_parallel = 8};
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&r1, &p), 61ULL * 576 * 2);   /* 70 272 */
	p.tensor_parallel = 1;                                                  /* not split */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&r1, &p), 61ULL * 576 * 2);
	p.kv_dtype_bytes = 1;                                                   /* fp8 */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&r1, &p), 61ULL * 576);
	/* V0 at TP8 (vm124: 21.43 GiB in 18 418 blocks of 16 = 78 084 B/token, 61 x 640 x 2). */
	p = (struct budget_params){.engine = BUDGET_ENGINE_V0, .tensor_parallel = 8};
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&r1, &p), 61ULL * 640 * 2);
	p.kv_dtype_bytes = 1;                   /* aligned in model-dtype elements, then fp8 */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&r1, &p), 61ULL * 640);
	/* A request of 1000 tokens: 63 blocks of 16 per layer. */
	p.kv_dtype_bytes = 0;
	p.block_size = 16;
	CU_ASSERT_EQUAL(budget_kv_request_bytes(&r1, &p, 1000), 61ULL * 63 * 16 * 640 * 2);

	json_error_t e;
	json_t *cfg = json_loads("{\"architectures\":[\"DeepseekV3ForCausalLM\"],"
	    "\"num_hidden_layers\":61,\"num_attention_heads\":128,\"num_key_value_heads\":128,"
	    "\"hidden_size\":7168,\"kv_lora_rank\":512,\"qk_rope_head_dim\":64,"
	    "\"qk_nope_head_dim\":128,\"v_head_dim\":128}", 0, &e);
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL(hfconfig_from_json(cfg, &a, &info), 0);
	CU_ASSERT_EQUAL(a.kv_lora_rank, 512);
	CU_ASSERT_EQUAL(a.qk_rope_head_dim, 64);
	p = (struct budget_params){.engine = BUDGET_ENGINE_V1};
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&a, &p), 61ULL * 576 * 2);
	json_decref(cfg);
}

void
suite_budget_gen(void)
{
	CU_pSuite s = CU_add_suite("budget_gen", NULL, NULL);
	CU_add_test(s, "vLLM versions to generations", test_versions);
	CU_add_test(s, "graphs inside the budget from v0.21", test_graphs_in_budget);
	CU_add_test(s, "evidence gaps widen the margin", test_evidence);
	CU_add_test(s, "MoE weights from the architecture", test_moe_weights);
	CU_add_test(s, "MoE numbers from config.json", test_moe_config);
	CU_add_test(s, "MLA latent KV per token", test_mla_kv);
}
