#include <CUnit/CUnit.h>
#include <jansson.h>
#include <string.h>

#include "hfconfig.h"

void suite_hfconfig(void);

static int
read_cfg(const char *text, struct budget_arch *a, struct hfconfig_info *info)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(j);
	int rc = hfconfig_from_json(j, a, info);
	json_decref(j);
	return rc;
}

/* shared/reference/seed-models.md, verbatim. */
static const char llama31[] =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"attention_bias\":false,\"attention_dropout\":0.0,"
    "\"bos_token_id\":128000,\"eos_token_id\":[128001,128008,128009],\"hidden_act\":\"silu\","
    "\"hidden_size\":4096,\"initializer_range\":0.02,\"intermediate_size\":14336,"
    "\"max_position_embeddings\":131072,\"mlp_bias\":false,\"model_type\":\"llama\","
    "\"num_attention_heads\":32,\"num_hidden_layers\":32,\"num_key_value_heads\":8,"
    "\"pretraining_tp\":1,\"rms_norm_eps\":1e-05,\"rope_scaling\":{\"factor\":8.0,"
    "\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,\"original_max_position_embeddings\":8192,"
    "\"rope_type\":\"llama3\"},\"rope_theta\":500000.0,\"tie_word_embeddings\":false,"
    "\"torch_dtype\":\"bfloat16\",\"transformers_version\":\"4.42.3\",\"use_cache\":true,"
    "\"vocab_size\":128256}";

static const char qwen25[] =
    "{\"architectures\":[\"Qwen2ForCausalLM\"],\"attention_dropout\":0.0,\"bos_token_id\":151643,"
    "\"eos_token_id\":151645,\"hidden_act\":\"silu\",\"hidden_size\":3584,\"initializer_range\":0.02,"
    "\"intermediate_size\":18944,\"max_position_embeddings\":32768,\"max_window_layers\":28,"
    "\"model_type\":\"qwen2\",\"num_attention_heads\":28,\"num_hidden_layers\":28,"
    "\"num_key_value_heads\":4,\"rms_norm_eps\":1e-06,\"rope_theta\":1000000.0,"
    "\"sliding_window\":131072,\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\","
    "\"transformers_version\":\"4.43.1\",\"use_cache\":true,\"use_sliding_window\":false,"
    "\"vocab_size\":152064}";

static void
test_llama(void)
{
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL_FATAL(read_cfg(llama31, &a, &info), 0);
	CU_ASSERT_EQUAL(a.layers, 32);
	CU_ASSERT_EQUAL(a.attention_heads, 32);
	CU_ASSERT_EQUAL(a.kv_heads, 8);
	CU_ASSERT_EQUAL(a.head_dim, 128);
	CU_ASSERT_TRUE(info.head_dim_derived);
	CU_ASSERT_EQUAL(a.hidden_size, 4096);
	CU_ASSERT_EQUAL(a.intermediate_size, 14336);
	CU_ASSERT_EQUAL(a.vocab_size, 128256);
	CU_ASSERT_EQUAL(a.max_position_embeddings, 131072);
	CU_ASSERT_EQUAL(a.sliding_window, 0);
	CU_ASSERT_FALSE(a.tie_word_embeddings);
	CU_ASSERT_FALSE(info.tie_defaulted);
	CU_ASSERT_EQUAL(a.dtype_bytes, 2);
	CU_ASSERT_FALSE(a.qkv_bias || a.o_bias || a.mlp_bias || a.norm_bias || a.mlp_ungated);
	CU_ASSERT_STRING_EQUAL(info.architecture, "LlamaForCausalLM");
	CU_ASSERT_STRING_EQUAL(info.model_type, "llama");
	CU_ASSERT_STRING_EQUAL(info.dtype, "bfloat16");
	CU_ASSERT_FALSE(info.quantized);
	CU_ASSERT_FALSE(info.text_config);
	/* The weights it implies are the repo's index total. */
	CU_ASSERT_EQUAL(budget_weights_bytes(&a, NULL), 16060522496ULL);
}

static void
test_qwen2(void)
{
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL_FATAL(read_cfg(qwen25, &a, &info), 0);
	CU_ASSERT_EQUAL(a.sliding_window, 0);         /* use_sliding_window false */
	CU_ASSERT_EQUAL(a.sliding_layers, 0);
	CU_ASSERT_TRUE(a.qkv_bias);                   /* Qwen2's q/k/v have biases, o_proj not */
	CU_ASSERT_FALSE(a.o_bias);
	CU_ASSERT_EQUAL(budget_weights_bytes(&a, NULL), 15231233024ULL);
	/* Turned on, the window applies from max_window_layers on. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"model_type\":\"qwen2\",\"num_hidden_layers\":28,"
	    "\"num_attention_heads\":28,\"num_key_value_heads\":4,\"hidden_size\":3584,"
	    "\"sliding_window\":4096,\"use_sliding_window\":true,\"max_window_layers\":21}", &a, &info), 0);
	CU_ASSERT_EQUAL(a.sliding_window, 4096);
	CU_ASSERT_EQUAL(a.sliding_layers, 7);
	/* max_window_layers = all layers: no layer slides. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"model_type\":\"qwen2\",\"num_hidden_layers\":28,"
	    "\"num_attention_heads\":28,\"num_key_value_heads\":4,\"hidden_size\":3584,"
	    "\"sliding_window\":4096,\"use_sliding_window\":true,\"max_window_layers\":28}", &a, &info), 0);
	CU_ASSERT_EQUAL(a.sliding_window, 0);
}

static void
test_sliding_families(void)
{
	struct budget_arch a;
	struct hfconfig_info info;
	/* Phi-3.5-mini and Mistral v0.1: one window for every layer. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"architectures\":[\"Phi3ForCausalLM\"],\"model_type\":\"phi3\","
	    "\"num_hidden_layers\":32,\"num_attention_heads\":32,\"num_key_value_heads\":32,"
	    "\"hidden_size\":3072,\"intermediate_size\":8192,\"vocab_size\":32064,"
	    "\"sliding_window\":262144,\"tie_word_embeddings\":false,\"torch_dtype\":\"bfloat16\"}",
	    &a, &info), 0);
	CU_ASSERT_EQUAL(a.head_dim, 96);
	CU_ASSERT_EQUAL(a.sliding_window, 262144);
	CU_ASSERT_EQUAL(a.sliding_layers, 32);
	CU_ASSERT_EQUAL(budget_weights_bytes(&a, NULL), 7642159104ULL);
	/* Mistral v0.3: sliding_window null. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"model_type\":\"mistral\",\"num_hidden_layers\":32,"
	    "\"num_attention_heads\":32,\"num_key_value_heads\":8,\"hidden_size\":4096,"
	    "\"sliding_window\":null,\"head_dim\":null}", &a, &info), 0);
	CU_ASSERT_EQUAL(a.sliding_window, 0);
	CU_ASSERT_EQUAL(a.head_dim, 128);
	/* layer_types (gpt-oss): 12 of 24 slide. */
	char buf[2048];
	int n = snprintf(buf, sizeof buf, "{\"num_hidden_layers\":24,\"num_attention_heads\":64,"
	    "\"num_key_value_heads\":8,\"hidden_size\":2880,\"head_dim\":64,\"sliding_window\":128,"
	    "\"num_local_experts\":32,\"layer_types\":[");
	for (int i = 0; i < 24; i++)
		n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\"%s\"", i ? "," : "",
		    i % 2 ? "full_attention" : "sliding_attention");
	snprintf(buf + n, sizeof buf - (size_t)n, "]}");
	CU_ASSERT_EQUAL_FATAL(read_cfg(buf, &a, &info), 0);
	CU_ASSERT_EQUAL(a.head_dim, 64);
	CU_ASSERT_EQUAL(a.sliding_window, 128);
	CU_ASSERT_EQUAL(a.sliding_layers, 12);
	CU_ASSERT_EQUAL(info.experts, 32);
	/* Gemma 3 inside text_config: every 6th layer global; dtype from the wrapper. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"architectures\":[\"Gemma3ForConditionalGeneration\"],"
	    "\"model_type\":\"gemma3\",\"torch_dtype\":\"bfloat16\",\"text_config\":{"
	    "\"model_type\":\"gemma3_text\",\"num_hidden_layers\":62,\"num_attention_heads\":32,"
	    "\"num_key_value_heads\":16,\"hidden_size\":5376,\"head_dim\":128,\"sliding_window\":1024,"
	    "\"sliding_window_pattern\":6}}", &a, &info), 0);
	CU_ASSERT_TRUE(info.text_config);
	CU_ASSERT_EQUAL(a.layers, 62);
	CU_ASSERT_EQUAL(a.sliding_layers, 62 - 10);
	CU_ASSERT_EQUAL(a.dtype_bytes, 2);
	CU_ASSERT_STRING_EQUAL(info.architecture, "Gemma3ForConditionalGeneration");
	CU_ASSERT_STRING_EQUAL(info.model_type, "gemma3_text");
	/* Gemma 2: alternating, layer 0 sliding. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"model_type\":\"gemma2\",\"num_hidden_layers\":42,"
	    "\"num_attention_heads\":16,\"num_key_value_heads\":8,\"hidden_size\":3584,"
	    "\"head_dim\":256,\"sliding_window\":4096}", &a, &info), 0);
	CU_ASSERT_EQUAL(a.sliding_layers, 21);
}

static void
test_starcoder2_and_dtypes(void)
{
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"architectures\":[\"Starcoder2ForCausalLM\"],"
	    "\"model_type\":\"starcoder2\",\"num_hidden_layers\":32,\"num_attention_heads\":36,"
	    "\"num_key_value_heads\":4,\"hidden_size\":4608,\"intermediate_size\":18432,"
	    "\"vocab_size\":49152,\"sliding_window\":4096,\"use_bias\":true,"
	    "\"dtype\":\"float32\"}", &a, &info), 0);
	CU_ASSERT_TRUE(a.qkv_bias && a.o_bias && a.mlp_bias && a.norm_bias && a.mlp_ungated);
	CU_ASSERT_EQUAL(a.sliding_layers, 32);
	CU_ASSERT_EQUAL(a.dtype_bytes, 4);            /* transformers 5 writes "dtype" */
	CU_ASSERT_STRING_EQUAL(info.dtype, "float32");
	CU_ASSERT_TRUE(info.tie_defaulted);
	CU_ASSERT_EQUAL(hfconfig_dtype_bytes("float16"), 2);
	CU_ASSERT_EQUAL(hfconfig_dtype_bytes("torch.bfloat16"), 2);
	CU_ASSERT_EQUAL(hfconfig_dtype_bytes("float8_e4m3fn"), 1);
	CU_ASSERT_EQUAL(hfconfig_dtype_bytes("int4"), 0);
	CU_ASSERT_EQUAL(hfconfig_dtype_bytes(NULL), 0);
	/* Llama with attention_bias: q, k, v and o. */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"num_hidden_layers\":2,\"num_attention_heads\":4,"
	    "\"hidden_size\":64,\"attention_bias\":true,\"mlp_bias\":true}", &a, &info), 0);
	CU_ASSERT_TRUE(a.qkv_bias && a.o_bias && a.mlp_bias);
	CU_ASSERT_FALSE(a.norm_bias || a.mlp_ungated);
	CU_ASSERT_EQUAL(a.kv_heads, 4);               /* absent: one per attention head */
	CU_ASSERT_TRUE(info.kv_heads_defaulted);
	CU_ASSERT_EQUAL(a.dtype_bytes, 0);
}

static void
test_quantization_config(void)
{
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"num_hidden_layers\":32,\"num_attention_heads\":32,"
	    "\"num_key_value_heads\":8,\"hidden_size\":4096,\"torch_dtype\":\"float16\","
	    "\"quantization_config\":{\"quant_method\":\"awq\",\"bits\":4,\"group_size\":128,"
	    "\"zero_point\":true,\"version\":\"gemm\"}}", &a, &info), 0);
	CU_ASSERT_TRUE(info.quantized);
	CU_ASSERT_STRING_EQUAL(info.quant_method, "awq");
	CU_ASSERT_EQUAL(info.quant_bits, 4);
	CU_ASSERT_EQUAL(info.quant_group_size, 128);
	CU_ASSERT_TRUE(info.quant_zero_point);
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"num_hidden_layers\":32,\"num_attention_heads\":32,"
	    "\"num_key_value_heads\":8,\"hidden_size\":4096,"
	    "\"quantization_config\":{\"quant_method\":\"gptq\",\"bits\":4,\"group_size\":32,"
	    "\"sym\":true}}", &a, &info), 0);
	CU_ASSERT_STRING_EQUAL(info.quant_method, "gptq");
	CU_ASSERT_EQUAL(info.quant_group_size, 32);
	CU_ASSERT_TRUE(info.quant_zero_point);        /* GPTQ stores qzeros even when symmetric */
	CU_ASSERT_EQUAL_FATAL(read_cfg("{\"num_hidden_layers\":32,\"num_attention_heads\":32,"
	    "\"num_key_value_heads\":8,\"hidden_size\":4096,"
	    "\"quantization_config\":{\"quant_method\":\"awq\",\"w_bit\":4,\"q_group_size\":64,"
	    "\"zero_point\":false}}", &a, &info), 0);
	CU_ASSERT_EQUAL(info.quant_bits, 4);
	CU_ASSERT_EQUAL(info.quant_group_size, 64);
	CU_ASSERT_FALSE(info.quant_zero_point);
}

static void
test_missing(void)
{
	struct budget_arch a;
	struct hfconfig_info info;
	CU_ASSERT_EQUAL(read_cfg("{\"num_hidden_layers\":32,\"num_attention_heads\":32}", &a, &info), -1);
	CU_ASSERT_STRING_EQUAL(info.missing, "hidden_size");
	CU_ASSERT_EQUAL(read_cfg("{\"num_hidden_layers\":\"32\",\"num_attention_heads\":32,"
	    "\"hidden_size\":4096}", &a, &info), -1);
	CU_ASSERT_STRING_EQUAL(info.missing, "num_hidden_layers");
	CU_ASSERT_EQUAL(read_cfg("{\"num_hidden_layers\":32,\"num_attention_heads\":0,"
	    "\"hidden_size\":4096}", &a, &info), -1);
	CU_ASSERT_STRING_EQUAL(info.missing, "num_attention_heads");
	CU_ASSERT_EQUAL(read_cfg("{\"num_hidden_layers\":32,\"num_attention_heads\":32,"
	    "\"hidden_size\":4096,\"num_key_value_heads\":-8}", &a, &info), -1);
	CU_ASSERT_STRING_EQUAL(info.missing, "num_key_value_heads");
	CU_ASSERT_EQUAL(read_cfg("{\"text_config\":{\"num_attention_heads\":32,\"hidden_size\":4096}}",
	    &a, &info), -1);
	CU_ASSERT_STRING_EQUAL(info.missing, "text_config.num_hidden_layers");
	CU_ASSERT_EQUAL(read_cfg("[1, 2]", &a, &info), -1);
	CU_ASSERT_STRING_EQUAL(info.missing, "(top level)");
	CU_ASSERT_EQUAL(hfconfig_from_json(NULL, &a, NULL), -1);
}

void
suite_hfconfig(void)
{
	CU_pSuite s = CU_add_suite("hfconfig", NULL, NULL);
	CU_add_test(s, "Llama 3.1 8B config.json", test_llama);
	CU_add_test(s, "Qwen2 sliding rules and biases", test_qwen2);
	CU_add_test(s, "sliding-window families", test_sliding_families);
	CU_add_test(s, "Starcoder2, biases, dtypes", test_starcoder2_and_dtypes);
	CU_add_test(s, "quantization_config", test_quantization_config);
	CU_add_test(s, "missing numbers", test_missing);
}
