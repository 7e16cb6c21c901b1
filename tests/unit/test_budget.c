#include <CUnit/CUnit.h>
#include <string.h>

#include "budget.h"
#include "size.h"

void suite_budget(void);

#define GIB SIZE_GIB
#define MIB SIZE_MIB

/* The seed models' config.json numbers (shared/reference/seed-models.md). */
static const struct budget_arch llama31_8b = {
	.layers = 32, .attention_heads = 32, .kv_heads = 8, .head_dim = 128, .hidden_size = 4096,
	.intermediate_size = 14336, .vocab_size = 128256, .max_position_embeddings = 131072,
	.dtype_bytes = 2,
};
static const struct budget_arch qwen25_7b = {
	.layers = 28, .attention_heads = 28, .kv_heads = 4, .head_dim = 128, .hidden_size = 3584,
	.intermediate_size = 18944, .vocab_size = 152064, .max_position_embeddings = 32768,
	.dtype_bytes = 2, .qkv_bias = true,
};
static const struct budget_arch phi35_mini = {
	.layers = 32, .attention_heads = 32, .kv_heads = 32, .head_dim = 96, .hidden_size = 3072,
	.intermediate_size = 8192, .vocab_size = 32064, .max_position_embeddings = 131072,
	.sliding_window = 262144, .dtype_bytes = 2,
};
static const struct budget_arch starcoder2_7b = {
	.layers = 32, .attention_heads = 36, .kv_heads = 4, .head_dim = 128, .hidden_size = 4608,
	.intermediate_size = 18432, .vocab_size = 49152, .max_position_embeddings = 16384,
	.sliding_window = 4096, .dtype_bytes = 2, .qkv_bias = true, .o_bias = true,
	.mlp_bias = true, .norm_bias = true, .mlp_ungated = true,
};

static void
test_weights_bf16_exact(void)
{
	/* model.safetensors.index.json total_size of each repo. */
	CU_ASSERT_EQUAL(budget_weights_bytes(&llama31_8b, NULL), 16060522496ULL);
	CU_ASSERT_EQUAL(budget_weights_bytes(&qwen25_7b, NULL), 15231233024ULL);
	CU_ASSERT_EQUAL(budget_weights_bytes(&phi35_mini, NULL), 7642159104ULL);
	CU_ASSERT_EQUAL(budget_weights_bytes(&llama31_8b, budget_quant_named("none")), 16060522496ULL);
	/* Tied embeddings drop lm_head: vocab x hidden x 2 bytes less. */
	struct budget_arch tied = llama31_8b;
	tied.tie_word_embeddings = true;
	CU_ASSERT_EQUAL(budget_weights_bytes(&tied, NULL), 16060522496ULL - 128256ULL * 4096 * 2);
	/* Without Qwen2's q/k/v biases: (3584 + 2 x 512) x 28 layers x 2 bytes less. */
	struct budget_arch nobias = qwen25_7b;
	nobias.qkv_bias = false;
	CU_ASSERT_EQUAL(budget_weights_bytes(&nobias, NULL), 15231233024ULL - 4608ULL * 28 * 2);
}

static void
test_weights_awq(void)
{
	/* About 5.7 GB and 5.6 GB (seed-models.md): 4-bit linears with fp16 scales and 4-bit
	 * zeros per 128 inputs, embeddings and lm_head in 16-bit. */
	const struct budget_quant *awq = budget_quant_named("awq");
	CU_ASSERT_PTR_NOT_NULL_FATAL(awq);
	uint64_t llama = budget_weights_bytes(&llama31_8b, awq);
	uint64_t qwen = budget_weights_bytes(&qwen25_7b, awq);
	CU_ASSERT_EQUAL(llama, 5727854592ULL);
	CU_ASSERT(llama > 5650000000ULL && llama < 5750000000ULL);
	CU_ASSERT(qwen > 5550000000ULL && qwen < 5650000000ULL);
	/* GPTQ adds g_idx: one int32 per input feature of every linear. */
	uint64_t gptq = budget_weights_bytes(&llama31_8b, budget_quant_named("gptq"));
	uint64_t inputs = 32ULL * (3 * 4096 + 4096 + 2 * 4096 + 14336);
	CU_ASSERT_EQUAL(gptq, llama + inputs * 4);
	CU_ASSERT_PTR_NULL(budget_quant_named("awk"));
}

/* compressed-tensors (llm-compressor's W4A16): AWQ's tensors without the packed 4-bit zeros. */
static void
test_weights_compressed_tensors(void)
{
	const struct budget_quant *ct = budget_quant_named("compressed-tensors");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ct);
	CU_ASSERT_STRING_EQUAL(ct->name, "compressed-tensors");
	CU_ASSERT_EQUAL(ct->bits, 4);
	CU_ASSERT_EQUAL(ct->group_size, 128);
	CU_ASSERT_FALSE(ct->zero_point);
	CU_ASSERT_EQUAL(ct->scale_bytes, 2);
	CU_ASSERT(ct->embeddings_16bit);
	/* Linear weights of Llama 3.1 8B: 32 x (q, o 4096x4096; k, v 1024x4096; 3 x 14336x4096). */
	uint64_t linear = 32ULL * (2 * 4096ULL * 4096 + 2 * 1024ULL * 4096 + 3 * 14336ULL * 4096);
	uint64_t awq = budget_weights_bytes(&llama31_8b, budget_quant_named("awq"));
	CU_ASSERT_EQUAL(budget_weights_bytes(&llama31_8b, ct), awq - linear / 128 / 2);
}

static void
test_weights_starcoder2(void)
{
	/* LayerNorm (weight + bias), biased q/k/v/o and c_fc/c_proj, two MLP matrices. */
	uint64_t h = 4608, ff = 18432, kv = 512, layers = 32, vocab = 49152;
	uint64_t per_layer = h * h + 2 * h * kv + h * h + 2 * h * ff   /* weights */
	    + h + 2 * kv + h + ff + h                                    /* biases */
	    + 4 * h;                                                     /* two LayerNorms */
	uint64_t params = layers * per_layer + 2 * vocab * h + 2 * h;
	CU_ASSERT_EQUAL(budget_weights_bytes(&starcoder2_7b, NULL), params * 2);
}

static void
test_kv_per_token(void)
{
	struct budget_params p = {0};
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&llama31_8b, &p), 131072);   /* 2x32x8x128x2 */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&qwen25_7b, &p), 57344);     /* 2x28x4x128x2 */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&phi35_mini, &p), 393216);   /* 2x32x32x96x2 */
	p.kv_dtype_bytes = 1;                                                  /* fp8 */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&llama31_8b, &p), 65536);
	p.kv_dtype_bytes = 0;
	p.tensor_parallel = 2;                                                 /* heads split */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&qwen25_7b, &p), 28672);
	p.tensor_parallel = 8;                                                 /* replicated */
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&qwen25_7b, &p), 2 * 28 * 1 * 128 * 2);
	/* An fp32 checkpoint is served in 16-bit with dtype auto, and so is its KV cache. */
	struct budget_arch fp32 = llama31_8b;
	fp32.dtype_bytes = 4;
	p.tensor_parallel = 1;
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&fp32, &p), 131072);
	/* No head_dim: hidden / heads. */
	struct budget_arch nohd = llama31_8b;
	nohd.head_dim = 0;
	CU_ASSERT_EQUAL(budget_kv_bytes_per_token(&nohd, &p), 131072);
}

/* One list of --kv-cache-dtype names, the schema's enum; float32 is not vLLM's and fp8_ds_mla is MLA. */
static void
test_kv_dtype_bytes(void)
{
	static const struct {
		const char *name;
		bool known;
		uint32_t bytes;
	} cases[] = {
		{"auto", true, 0}, {"bfloat16", true, 2}, {"float16", true, 2}, {"fp8", true, 1},
		{"fp8_e4m3", true, 1}, {"fp8_e5m2", true, 1}, {"fp8_inc", true, 1},
		{"float32", false, 0}, {"float", false, 0}, {"fp8_ds_mla", false, 0}, {"FP8", false, 0},
		{"", false, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint32_t b = 99;
		CU_ASSERT_EQUAL(budget_kv_dtype_bytes(cases[i].name, &b), cases[i].known);
		CU_ASSERT_EQUAL(b, cases[i].known ? cases[i].bytes : 99);
	}
	uint32_t b = 7;
	CU_ASSERT_FALSE(budget_kv_dtype_bytes(NULL, &b));
	CU_ASSERT_STRING_EQUAL(BUDGET_KV_DTYPE_NAMES, "auto, bfloat16, float16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc");
}

static void
test_defaults(void)
{
	struct budget_params p = {.gpu_total_bytes = 8 * GIB, .max_model_len = 8192,
		.engine = BUDGET_ENGINE_V1};
	budget_defaults(&p);
	CU_ASSERT_EQUAL(p.max_num_batched_tokens, 2048);
	CU_ASSERT_EQUAL(p.max_num_seqs, 256);
	CU_ASSERT_EQUAL(p.block_size, 16);
	CU_ASSERT_EQUAL(p.tensor_parallel, 1);
	CU_ASSERT_DOUBLE_EQUAL(p.utilization, 0.9, 1e-12);
	struct budget_params h = {.gpu_total_bytes = 79 * GIB, .max_model_len = 8192,
		.engine = BUDGET_ENGINE_V1};
	budget_defaults(&h);
	CU_ASSERT_EQUAL(h.max_num_batched_tokens, 8192);
	CU_ASSERT_EQUAL(h.max_num_seqs, 1024);
	struct budget_params v0 = {.gpu_total_bytes = 24 * GIB, .max_model_len = 20000,
		.engine = BUDGET_ENGINE_V0};
	budget_defaults(&v0);
	CU_ASSERT_EQUAL(v0.max_num_batched_tokens, 20000);      /* no chunked prefill */
	CU_ASSERT_EQUAL(v0.max_num_seqs, 256);
	struct budget_params v0s = {.gpu_total_bytes = 24 * GIB, .max_model_len = 1024,
		.engine = BUDGET_ENGINE_V0};
	budget_defaults(&v0s);
	CU_ASSERT_EQUAL(v0s.max_num_batched_tokens, 2048);
	struct budget_params few = {.gpu_total_bytes = 8 * GIB, .max_num_batched_tokens = 64,
		.engine = BUDGET_ENGINE_V1};
	budget_defaults(&few);
	CU_ASSERT_EQUAL(few.max_num_seqs, 64);                   /* min(default, batched tokens) */
}

static void
test_sliding_request(void)
{
	/* V1 keeps window - 1 + max_num_batched_tokens tokens (+1 block) in sliding layers. */
	struct budget_params p = {.engine = BUDGET_ENGINE_V1, .max_num_batched_tokens = 2048,
		.block_size = 16};
	uint64_t page = 2ULL * 16 * 4 * 128 * 2;
	CU_ASSERT_EQUAL(budget_kv_request_bytes(&starcoder2_7b, &p, 16384),
	    32ULL * ((4096 - 1 + 2048 + 15) / 16 + 1) * page);
	/* Shorter than the window: the whole request, plus the extra block. */
	CU_ASSERT_EQUAL(budget_kv_request_bytes(&starcoder2_7b, &p, 1000), 32ULL * (63 + 1) * page);
	/* V0 makes no such saving. */
	p.engine = BUDGET_ENGINE_V0;
	CU_ASSERT_EQUAL(budget_kv_request_bytes(&starcoder2_7b, &p, 16384), 32ULL * 1024 * page);
	/* Hybrid: 12 of 24 layers slide (gpt-oss style). */
	struct budget_arch hy = {.layers = 24, .attention_heads = 64, .kv_heads = 8, .head_dim = 64,
		.hidden_size = 2880, .sliding_window = 128, .sliding_layers = 12};
	p.engine = BUDGET_ENGINE_V1;
	uint64_t hpage = 2ULL * 16 * 8 * 64 * 2;
	CU_ASSERT_EQUAL(budget_kv_request_bytes(&hy, &p, 16000),
	    12ULL * 1000 * hpage + 12ULL * ((127 + 2048 + 15) / 16 + 1) * hpage);
}

static void
test_fit_llama_3090_v0(void)
{
	/* vm01: RTX 3090, 23.58 GiB, 0.9, V0, max_model_len 20000, logged KV cache 3.81 GiB. */
	struct budget_params p = {.gpu_total_bytes = 25318832210ULL, .utilization = 0.9,
		.max_model_len = 20000, .engine = BUDGET_ENGINE_V0, .weights_bytes = 16094104649ULL};
	struct budget_result r;
	/* The checked fit takes V0's constants (the engine's generation) and the evidence check. */
	budget_fit_checked(&llama31_8b, &p, &r);
	CU_ASSERT_EQUAL(r.generation, BUDGET_GEN_V0);
	CU_ASSERT_EQUAL(r.evidence_gaps, BUDGET_EVIDENCE_COVERED);
	CU_ASSERT_EQUAL(r.weights_bytes, 16094104649ULL);
	CU_ASSERT_EQUAL(r.weights_source, BUDGET_EXACT);
	CU_ASSERT_EQUAL(r.kv_bytes_per_token, 131072);
	CU_ASSERT_EQUAL(r.profile_tokens, 20000);
	CU_ASSERT_EQUAL(r.budget_bytes, 22786948989ULL);
	CU_ASSERT_EQUAL(r.kv_cache_bytes, r.budget_bytes - r.weights_bytes - r.activation_bytes -
	    r.non_torch_bytes);
	/* Within 3% of what vLLM logged. */
	double logged = 3.81 * (double)GIB;
	CU_ASSERT((double)r.kv_cache_bytes > logged * 0.97 && (double)r.kv_cache_bytes < logged * 1.03);
	CU_ASSERT_EQUAL(r.kv_tokens % 16, 0);
	CU_ASSERT_EQUAL(r.kv_tokens, r.kv_cache_bytes / (131072ULL * 16) * 16);
	CU_ASSERT_EQUAL(r.safety_margin_bytes, 256 * MIB);
	/* V0 profiles max_model_len tokens, so a longer context leaves less than this. */
	CU_ASSERT(r.max_model_len_fit > 20000);
	CU_ASSERT(r.max_model_len_fit < (r.kv_cache_bytes - 256 * MIB) / (131072ULL * 16) * 16);
	CU_ASSERT_TRUE(r.fits);
	CU_ASSERT_EQUAL(r.activation_source, BUDGET_CALIBRATED);
	CU_ASSERT_EQUAL(r.kv_source, BUDGET_FORMULA);
	CU_ASSERT_EQUAL(r.margin_source, BUDGET_FORMULA);
	CU_ASSERT_FALSE(r.utilization_lowered);
}

static void
test_fit_boundary(void)
{
	struct budget_params p = {.gpu_total_bytes = 24 * GIB, .utilization = 0.9,
		.max_model_len = 4096, .weights_bytes = 16060522496ULL, .engine = BUDGET_ENGINE_V1};
	struct budget_result r;
	budget_fit(&llama31_8b, &p, &r);
	uint32_t fit = r.max_model_len_fit;
	CU_ASSERT(fit > 4096);
	p.max_model_len = fit;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_TRUE(r.fits);
	CU_ASSERT_EQUAL(r.kv_at_max_model_len, (uint64_t)fit / 16 * 16 * 131072);
	p.max_model_len = fit + 1;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_FALSE(r.fits);
	/* An explicit margin of 0 gives the whole KV cache. */
	p.safety_margin_set = true;
	p.safety_margin_bytes = 0;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_EQUAL(r.safety_margin_bytes, 0);
	CU_ASSERT_EQUAL(r.max_model_len_fit, r.kv_tokens);
	CU_ASSERT_EQUAL(r.margin_source, BUDGET_EXACT);
	/* Capped by max_position_embeddings. */
	struct budget_arch shortctx = llama31_8b;
	shortctx.max_position_embeddings = 2048;
	budget_fit(&shortctx, &p, &r);
	CU_ASSERT_EQUAL(r.max_model_len_fit, 2048);
	/* auto (0): fits when anything does. */
	p.max_model_len = 0;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_TRUE(r.fits);
}

static void
test_fit_boundary_v0(void)
{
	/* V0 profiles max_model_len tokens: the largest fitting length is found with the
	 * activation recomputed at that length, so it fits when asked for and one more does not. */
	struct budget_params p = {.gpu_total_bytes = 24 * GIB, .utilization = 0.9,
		.max_model_len = 4096, .weights_bytes = 16060522496ULL, .engine = BUDGET_ENGINE_V0};
	struct budget_result r, r4k;
	budget_fit(&llama31_8b, &p, &r4k);
	uint32_t fit = r4k.max_model_len_fit;
	CU_ASSERT(fit > 4096);
	p.max_model_len = fit;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_TRUE(r.fits);
	CU_ASSERT(r.activation_bytes > r4k.activation_bytes);
	CU_ASSERT_EQUAL(r.max_model_len_fit, fit);
	p.max_model_len = fit + 1;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_FALSE(r.fits);
	/* With chunked prefill (batched tokens given) the profile no longer follows the length. */
	p.max_num_batched_tokens = 2048;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT(r.max_model_len_fit > fit);
}

static void
test_fit_seed_8gb(void)
{
	/* The seed's facts: 16-bit Llama 3.1 8B and Phi-3.5-mini do not fit 8 GB; 4-bit Llama does
	 * with the context the numbers allow (a small max_num_seqs keeps the sampler small). */
	struct budget_params p = {.gpu_total_bytes = 8 * GIB, .utilization = 0.9,
		.max_model_len = 4096, .engine = BUDGET_ENGINE_V1};
	struct budget_result r;
	p.weights_bytes = budget_weights_bytes(&llama31_8b, NULL);
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_FALSE(r.fits);
	CU_ASSERT_EQUAL(r.kv_cache_bytes, 0);
	CU_ASSERT_EQUAL(r.max_model_len_fit, 0);
	p.weights_bytes = budget_weights_bytes(&phi35_mini, NULL);
	budget_fit(&phi35_mini, &p, &r);
	CU_ASSERT_FALSE(r.fits);
	p.weights_bytes = budget_weights_bytes(&llama31_8b, budget_quant_named("awq"));
	p.weights_source = BUDGET_FORMULA;
	p.max_num_seqs = 4;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_TRUE(r.fits);
	CU_ASSERT(r.max_model_len_fit >= 4096);
	CU_ASSERT_EQUAL(r.weights_source, BUDGET_FORMULA);
	/* fp8 KV doubles the tokens (up to block rounding). */
	struct budget_result r8;
	p.kv_dtype_bytes = 1;
	budget_fit(&llama31_8b, &p, &r8);
	CU_ASSERT_EQUAL(r8.kv_tokens, r.kv_cache_bytes / (65536ULL * 16) * 16);
}

/* Fit, and if it does not fit, the largest context that does (modelc's auto, switch's re-fit). */
static void
test_fit_context(void)
{
	struct budget_params p = {.gpu_total_bytes = 8 * GIB, .utilization = 0.9, .max_num_seqs = 4,
		.max_model_len = 131072, .engine = BUDGET_ENGINE_V1, .enforce_eager = true};
	struct budget_params used;
	struct budget_result r, once;
	p.weights_bytes = budget_weights_bytes(&llama31_8b, budget_quant_named("awq"));
	budget_fit(&llama31_8b, &p, &once);
	CU_ASSERT_FALSE(once.fits);
	CU_ASSERT(once.max_model_len_fit > 4096 && once.max_model_len_fit < 131072);
	/* Lowered to the largest that fits, with the defaults of that length. */
	CU_ASSERT_TRUE(budget_fit_context(&llama31_8b, &p, 1, &r, &used));
	CU_ASSERT_EQUAL(used.max_model_len, once.max_model_len_fit);
	CU_ASSERT_EQUAL(r.max_model_len_fit, once.max_model_len_fit);
	CU_ASSERT_EQUAL(used.max_num_batched_tokens, 2048);
	/* Not below min_len: a configured context is reported, not lowered. */
	CU_ASSERT_FALSE(budget_fit_context(&llama31_8b, &p, UINT32_MAX, &r, &used));
	CU_ASSERT_EQUAL(used.max_model_len, 131072);
	CU_ASSERT_FALSE(budget_fit_context(&llama31_8b, &p, once.max_model_len_fit + 1, &r, NULL));
	/* A context that fits stays as it is. */
	p.max_model_len = 2048;
	CU_ASSERT_TRUE(budget_fit_context(&llama31_8b, &p, 1, &r, &used));
	CU_ASSERT_EQUAL(used.max_model_len, 2048);
	/* Nothing fits: r is the first fit's breakdown. */
	p.weights_bytes = 8 * GIB;
	p.max_model_len = 4096;
	CU_ASSERT_FALSE(budget_fit_context(&llama31_8b, &p, 1, &r, &used));
	CU_ASSERT_EQUAL(r.max_model_len_fit, 0);
	CU_ASSERT_EQUAL(used.max_model_len, 4096);
}

/* The start-up check without an architecture: in use and the CUDA context, graphs unknown. */
static void
test_check_start(void)
{
	struct budget_params p = {.gpu_total_bytes = 8 * GIB, .gpu_used_bytes = 1 * GIB, .utilization = 0.9};
	struct budget_result r;
	memset(&r, 0, sizeof r);
	budget_check_start(&p, 0, &r);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.7968, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization_asked, 0.9, 1e-9);
	CU_ASSERT_EQUAL(r.utilization_reason, BUDGET_LOWERED_IN_USE);
	CU_ASSERT_EQUAL(r.gpu_used_bytes, 1 * GIB);
	CU_ASSERT_EQUAL(r.budget_bytes, 0);
	/* With graphs on top, whole hundredths: (8 - 1 - 0.625 - 0.5) / 8 = 0.734375. */
	budget_check_start(&p, GIB / 2, &r);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.73, 1e-9);
	CU_ASSERT_EQUAL(r.utilization_reason, BUDGET_LOWERED_PEAK);
	p.gpu_used_bytes = 0;
	budget_check_start(&p, 0, &r);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.9, 1e-9);
	CU_ASSERT_FALSE(r.utilization_lowered);
}

static void
test_utilization_lowered(void)
{
	/* Without graphs (enforce_eager): vLLM's start-up check, free = 8 - 1 - 0.625 (CUDA
	 * context) = 6.375 GiB < 0.9 x 8, lowered to 6.375 / 8 = 0.796875, 4 decimals down. */
	struct budget_params p = {.gpu_total_bytes = 8 * GIB, .gpu_used_bytes = 1 * GIB,
		.utilization = 0.9, .max_model_len = 1024, .weights_bytes = 1 * GIB,
		.enforce_eager = true};
	struct budget_result r;
	char why[256];
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_TRUE(r.utilization_lowered);
	CU_ASSERT_EQUAL(r.utilization_reason, BUDGET_LOWERED_IN_USE);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.7968, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization_asked, 0.9, 1e-12);
	CU_ASSERT_EQUAL(r.cuda_context_bytes, 640 * MIB);
	CU_ASSERT_EQUAL(r.budget_bytes, (uint64_t)(8.0 * GIB * 0.7968));
	CU_ASSERT_EQUAL(r.gpu_used_bytes, 1 * GIB);
	CU_ASSERT_STRING_EQUAL(budget_lowering_code(r.utilization_reason), "memory_in_use");
	budget_lowering_text(&r, why, sizeof why);
	CU_ASSERT_STRING_EQUAL(why, "utilization lowered from 0.9 to 0.7968 because 1.00 GiB in use by "
	    "other processes and the CUDA context (0.62 GiB) take their memory first, and vLLM refuses to "
	    "start when free memory is below total x utilization");
	p.gpu_used_bytes = 0;
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_FALSE(r.utilization_lowered);
	CU_ASSERT_EQUAL(r.utilization_reason, BUDGET_LOWERED_NONE);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.9, 1e-12);
	budget_lowering_text(&r, why, sizeof why);
	CU_ASSERT_STRING_EQUAL(why, "");
	CU_ASSERT_STRING_EQUAL(budget_lowering_code(r.utilization_reason), "none");
	p.gpu_used_bytes = 9 * GIB;                   /* nothing left */
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.0, 1e-12);
	CU_ASSERT_FALSE(r.fits);
}

static void
test_graph_sizes(void)
{
	/* V1 (config/vllm.py _set_cudagraph_sizes): up to min(2 x max_num_seqs, 512, batched
	 * tokens); 1, 2, 4, multiples of 8 below 256, multiples of 16 from 256. */
	struct budget_params p = {.engine = BUDGET_ENGINE_V1, .max_num_seqs = 8,
		.max_num_batched_tokens = 2048};
	uint32_t max = 0;
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&p, &max), 5);         /* 1 2 4 8 16 */
	CU_ASSERT_EQUAL(max, 16);
	p.max_num_seqs = 256;
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&p, &max), 51);        /* 3 + 31 + 17 */
	CU_ASSERT_EQUAL(max, 512);
	p.max_num_seqs = 1;
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&p, &max), 2);         /* 1 2 */
	CU_ASSERT_EQUAL(max, 2);
	p.max_num_seqs = 100;
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&p, &max), 28);        /* 3 + 8..200 */
	CU_ASSERT_EQUAL(max, 200);
	p.max_num_seqs = 256;
	p.max_num_batched_tokens = 300;                                 /* 3 + 31 + 256 272 288 */
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&p, &max), 37);
	CU_ASSERT_EQUAL(max, 300);
	/* V0 model_runner: 1, 2, 4, 8..256, up to max_num_seqs padded to a captured size. */
	struct budget_params v0 = {.engine = BUDGET_ENGINE_V0, .max_num_seqs = 16, .max_model_len = 4096};
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&v0, &max), 5);
	CU_ASSERT_EQUAL(max, 16);
	v0.max_num_seqs = 5;                                            /* padded to 8 */
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&v0, &max), 4);
	CU_ASSERT_EQUAL(max, 8);
	v0.max_num_seqs = 300;
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&v0, &max), 35);
	CU_ASSERT_EQUAL(max, 256);
	v0.enforce_eager = true;
	CU_ASSERT_EQUAL(budget_cuda_graph_sizes(&v0, &max), 0);
	CU_ASSERT_EQUAL(max, 0);
	/* Graph memory: the per-unit constant x sizes x layers x hidden_size. */
	struct budget_calibration cal = budget_calibration_default;
	cal.cuda_graph_bytes = 0;
	cal.cuda_graph_bytes_per_unit = 100.0;
	cal.cuda_graph_bytes_per_size = 0.0;
	struct budget_params f = {.gpu_total_bytes = 24 * GIB, .utilization = 0.9,
		.max_model_len = 4096, .max_num_seqs = 8, .weights_bytes = 8 * GIB,
		.calibration = &cal, .engine = BUDGET_ENGINE_V1};
	struct budget_result r;
	budget_fit(&llama31_8b, &f, &r);
	CU_ASSERT_EQUAL(r.cuda_graph_sizes, 5);
	CU_ASSERT_EQUAL(r.cuda_graph_max_size, 16);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 100ULL * 5 * 32 * 4096);
	CU_ASSERT_EQUAL(r.cuda_graph_source, BUDGET_CALIBRATED);
	/* The committed model: a constant per captured size, whatever the model's shape. */
	cal.cuda_graph_bytes_per_unit = 0.0;
	cal.cuda_graph_bytes_per_size = 1048576.0;
	budget_fit(&llama31_8b, &f, &r);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 5ULL << 20);
}

static void
test_physical_peak(void)
{
	/* The RTX 3070 profile (CUDA total 8,086,618,112 bytes), 4-bit Llama 3.1 8B, V1 (graphs on
	 * top of the budget), vLLM's 256 requests: 51 sizes x 25 MiB = 1,336,934,400 bytes of graphs.
	 * 0.9 x total + 640 MiB context + graphs passes the total, so utilization is lowered to
	 * floor(100 x (total - context - graphs) / total) / 100 = 0.75. */
	struct budget_params p = {.gpu_total_bytes = 8086618112ULL, .utilization = 0.9,
		.max_model_len = 4096, .engine = BUDGET_ENGINE_V1};
	struct budget_result r;
	char why[256];
	p.weights_bytes = budget_weights_bytes(&llama31_8b, budget_quant_named("awq"));
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_DOUBLE_EQUAL(budget_calibration_of(BUDGET_GEN_V1)->cuda_graph_bytes_per_size,
	    26214400.0, 1e-9);
	CU_ASSERT_EQUAL(r.cuda_graph_sizes, 51);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 1336934400ULL);
	CU_ASSERT_TRUE(r.utilization_lowered);
	CU_ASSERT_EQUAL(r.utilization_reason, BUDGET_LOWERED_PEAK);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.75, 1e-12);
	CU_ASSERT_EQUAL(r.budget_bytes, (uint64_t)(8086618112.0 * 0.75));
	CU_ASSERT_EQUAL(r.peak_bytes, 640 * MIB + r.budget_bytes + 1336934400ULL);
	CU_ASSERT(r.peak_bytes <= 8086618112ULL);
	CU_ASSERT_STRING_EQUAL(budget_lowering_code(r.utilization_reason), "cuda_context_and_graphs");
	budget_lowering_text(&r, why, sizeof why);
	CU_ASSERT_STRING_EQUAL(why, "utilization lowered from 0.90 to 0.75 so that the CUDA context "
	    "(0.62 GiB) and CUDA graphs (1.25 GiB) fit beside the budget");
	/* The seed catalog's 8 requests: 5 sizes, 131,072,000 bytes; 0.9 stays, and the peak is
	 * 8,080,116,940 bytes, under the total. */
	p.max_num_seqs = 8;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 131072000ULL);
	CU_ASSERT_FALSE(r.utilization_lowered);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.9, 1e-12);
	CU_ASSERT_EQUAL(r.peak_bytes, 8080116940ULL);
	/* Memory in use by others joins the reason. 1 GiB: room = total - 1 GiB - context -
	 * graphs = 6,210,715,648 bytes, 76.80% of the total: 0.76. */
	p.gpu_used_bytes = 1 * GIB;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_EQUAL(r.utilization_reason, BUDGET_LOWERED_PEAK);
	CU_ASSERT_DOUBLE_EQUAL(r.utilization, 0.76, 1e-12);
	CU_ASSERT(r.peak_bytes <= 8086618112ULL);
	budget_lowering_text(&r, why, sizeof why);
	CU_ASSERT_STRING_EQUAL(why, "utilization lowered from 0.90 to 0.76 so that the memory in use "
	    "by others (1.00 GiB), the CUDA context (0.62 GiB) and CUDA graphs (0.12 GiB) fit beside "
	    "the budget");
	/* The KV cache follows the lowered budget; keep_utilization reproduces a log as it ran. */
	struct budget_result kept;
	p.keep_utilization = true;
	budget_fit(&llama31_8b, &p, &kept);
	CU_ASSERT_FALSE(kept.utilization_lowered);
	CU_ASSERT_DOUBLE_EQUAL(kept.utilization, 0.9, 1e-12);
	CU_ASSERT_EQUAL(kept.kv_cache_bytes - r.kv_cache_bytes, kept.budget_bytes - r.budget_bytes);
	CU_ASSERT(kept.peak_bytes > 8086618112ULL);
	/* enforce_eager: no graphs, and only vLLM's start-up check remains. */
	p.keep_utilization = false;
	p.gpu_used_bytes = 0;
	p.max_num_seqs = 0;
	p.enforce_eager = true;
	budget_fit(&llama31_8b, &p, &r);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 0);
	CU_ASSERT_FALSE(r.utilization_lowered);
	CU_ASSERT_EQUAL(r.peak_bytes, 640 * MIB + r.budget_bytes);
}

static void
test_terms(void)
{
	/* Activation: the larger of the forward pass and the sampler warm-up. */
	struct budget_calibration cal = {.forward_factor = 1.0, .sampler_bytes_per_logit = 10.0,
		.non_torch_bytes = 100 * MIB, .non_torch_tp_bytes = 300 * MIB, .cuda_graph_bytes = 400 * MIB};
	struct budget_params p = {.gpu_total_bytes = 24 * GIB, .utilization = 0.9,
		.max_model_len = 4096, .max_num_batched_tokens = 2048, .max_num_seqs = 16,
		.weights_bytes = 8 * GIB, .calibration = &cal, .engine = BUDGET_ENGINE_V1};
	struct budget_result r;
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_EQUAL(r.activation_forward_bytes, 2048ULL * (3 * 3584 + 3 * 18944) * 2);
	CU_ASSERT_EQUAL(r.activation_sampler_bytes, 16ULL * 152064 * 10);
	CU_ASSERT_EQUAL(r.activation_bytes, r.activation_forward_bytes);
	CU_ASSERT_EQUAL(r.non_torch_bytes, 100 * MIB);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 400 * MIB);
	CU_ASSERT_EQUAL(r.profile_requests, 16);
	p.max_num_seqs = 256;
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_EQUAL(r.activation_bytes, 256ULL * 152064 * 10);
	/* TP 2: intermediate split, NCCL's non-torch memory added, weights halved. */
	p.tensor_parallel = 2;
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_EQUAL(r.activation_forward_bytes, 2048ULL * (3 * 3584 + 3 * 18944 / 2) * 2);
	CU_ASSERT_EQUAL(r.non_torch_bytes, 400 * MIB);
	CU_ASSERT_EQUAL(r.weights_bytes, 4 * GIB);
	p.enforce_eager = true;
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_EQUAL(r.cuda_graph_bytes, 0);
	CU_ASSERT_EQUAL(r.cuda_graph_source, BUDGET_EXACT);
	/* Graph memory sits outside the budget: the KV cache does not change with it. */
	struct budget_result eager = r;
	p.enforce_eager = false;
	budget_fit(&qwen25_7b, &p, &r);
	CU_ASSERT_EQUAL(r.kv_cache_bytes, eager.kv_cache_bytes);
	/* The default margin is 3% of the KV cache when that exceeds 256 MiB. */
	struct budget_params big = {.gpu_total_bytes = 80 * GIB, .utilization = 0.9,
		.max_model_len = 8192, .weights_bytes = 1 * GIB, .engine = BUDGET_ENGINE_V1};
	budget_fit(&qwen25_7b, &big, &r);
	CU_ASSERT_EQUAL(r.safety_margin_bytes, (uint64_t)((double)r.kv_cache_bytes * 0.03));
}

static void
test_hybrid_tokens(void)
{
	/* 10 sliding + 4 full layers: groups of 4 layers, 3 + 1 groups, padding wastes 2 layers. */
	struct budget_arch hy = {.layers = 14, .attention_heads = 8, .kv_heads = 8, .head_dim = 128,
		.hidden_size = 1024, .vocab_size = 1000, .sliding_window = 1024, .sliding_layers = 10,
		.dtype_bytes = 2};
	struct budget_calibration zero = {0};
	struct budget_params p = {.gpu_total_bytes = 16 * GIB, .utilization = 0.5,
		.max_model_len = 4096, .weights_bytes = 1, .calibration = &zero,
		.engine = BUDGET_ENGINE_V1};
	struct budget_result r;
	budget_fit(&hy, &p, &r);
	uint64_t page = 2ULL * 16 * 8 * 128 * 2;
	CU_ASSERT_EQUAL(r.kv_tokens, r.kv_cache_bytes / page / 4 / 4 * 16);
	/* V0: plain full attention in every layer. */
	p.engine = BUDGET_ENGINE_V0;
	budget_fit(&hy, &p, &r);
	CU_ASSERT_EQUAL(r.kv_tokens, r.kv_cache_bytes / page / 14 * 16);
}

/* fit's sizes go through size_parse, as the catalog's do (rounded down to whole bytes). */
static void
test_parse_size(void)
{
	uint64_t v = 0;
	CU_ASSERT_PTR_NULL(size_parse("8589934592", &v));
	CU_ASSERT_EQUAL(v, 8 * GIB);
	CU_ASSERT_PTR_NULL(size_parse("8GiB", &v));
	CU_ASSERT_EQUAL(v, 8 * GIB);
	CU_ASSERT_PTR_NULL(size_parse("23.58 GiB", &v));
	CU_ASSERT_EQUAL(v, 25318832209ULL);     /* 25318832209.92 bytes */
	CU_ASSERT_PTR_NULL(size_parse("512MiB", &v));
	CU_ASSERT_EQUAL(v, 512 * MIB);
	CU_ASSERT_PTR_NULL(size_parse("8GB", &v));
	CU_ASSERT_EQUAL(v, 8000000000ULL);
	CU_ASSERT_PTR_NULL(size_parse("1.5MB", &v));
	CU_ASSERT_EQUAL(v, 1500000ULL);
	CU_ASSERT_PTR_NULL(size_parse("100B", &v));
	CU_ASSERT_EQUAL(v, 100);
	CU_ASSERT_PTR_NOT_NULL(size_parse("1.5", &v));
	CU_ASSERT_PTR_NOT_NULL(size_parse("GiB", &v));
	CU_ASSERT_PTR_NOT_NULL(size_parse("8 gib", &v));
	CU_ASSERT_PTR_NOT_NULL(size_parse("-1GiB", &v));
	CU_ASSERT_PTR_NOT_NULL(size_parse("", &v));
	CU_ASSERT_PTR_NOT_NULL(size_parse("99999999999TB", &v));
}

void
suite_budget(void)
{
	CU_pSuite s = CU_add_suite("budget", NULL, NULL);
	CU_add_test(s, "bf16 weights match the index totals", test_weights_bf16_exact);
	CU_add_test(s, "AWQ/GPTQ 4-bit weights", test_weights_awq);
	CU_add_test(s, "compressed-tensors W4A16 weights", test_weights_compressed_tensors);
	CU_add_test(s, "starcoder2 layout", test_weights_starcoder2);
	CU_add_test(s, "KV bytes per token", test_kv_per_token);
	CU_add_test(s, "KV cache dtype names", test_kv_dtype_bytes);
	CU_add_test(s, "vLLM defaults", test_defaults);
	CU_add_test(s, "sliding-window request bytes", test_sliding_request);
	CU_add_test(s, "Llama 3.1 8B on a 3090 (vm01)", test_fit_llama_3090_v0);
	CU_add_test(s, "fit boundary and margin", test_fit_boundary);
	CU_add_test(s, "fit boundary, V0 profile", test_fit_boundary_v0);
	CU_add_test(s, "seed facts on 8 GB", test_fit_seed_8gb);
	CU_add_test(s, "utilization lowered", test_utilization_lowered);
	CU_add_test(s, "fit, else the largest context that fits", test_fit_context);
	CU_add_test(s, "start-up check without an architecture", test_check_start);
	CU_add_test(s, "CUDA graph capture sizes and memory", test_graph_sizes);
	CU_add_test(s, "physical peak: context + budget + graphs <= total", test_physical_peak);
	CU_add_test(s, "activation, non-torch, graphs", test_terms);
	CU_add_test(s, "hybrid KV tokens", test_hybrid_tokens);
	CU_add_test(s, "sizes", test_parse_size);
}
