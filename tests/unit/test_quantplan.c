#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "quantplan.h"
#include "size.h"

void suite_quantplan(void);

static const uint64_t GIB = SIZE_GIB;

/* Llama 3.1 8B (shared/reference/seed-models.md). */
static struct budget_arch
llama8b(void)
{
	struct budget_arch a = {0};
	a.layers = 32;
	a.attention_heads = 32;
	a.kv_heads = 8;
	a.head_dim = 128;
	a.hidden_size = 4096;
	a.intermediate_size = 14336;
	a.vocab_size = 128256;
	a.max_position_embeddings = 131072;
	a.dtype_bytes = 2;
	return a;
}

/* Qwen2.5 7B: q/k/v carry biases. */
static struct budget_arch
qwen7b(void)
{
	struct budget_arch a = {0};
	a.layers = 28;
	a.attention_heads = 28;
	a.kv_heads = 4;
	a.head_dim = 128;
	a.hidden_size = 3584;
	a.intermediate_size = 18944;
	a.vocab_size = 152064;
	a.max_position_embeddings = 32768;
	a.dtype_bytes = 2;
	a.qkv_bias = true;
	return a;
}

static struct budget_params
serve_8gb(uint32_t len)
{
	struct budget_params p;
	memset(&p, 0, sizeof p);
	p.gpu_total_bytes = 8 * GIB;
	p.utilization = 0.9;
	p.max_model_len = len;
	p.max_num_seqs = 1;
	p.tensor_parallel = 1;
	p.engine = BUDGET_ENGINE_V1;
	p.safety_margin_bytes = 256 * SIZE_MIB;
	budget_defaults(&p);
	return p;
}

static void
test_check(void)
{
	struct budget_arch a = llama8b();
	struct quantplan_opts o = {0};
	CU_ASSERT_PTR_NULL(quantplan_check(&a, &o));
	o.method = "awk";
	CU_ASSERT_STRING_EQUAL(quantplan_check(&a, &o), "the method must be awq or gptq");
	o.method = "awq";
	o.bits = 8;
	CU_ASSERT_STRING_EQUAL(quantplan_check(&a, &o), "awq supports only 4 bits");
	o.method = "gptq";
	CU_ASSERT_PTR_NULL(quantplan_check(&a, &o));
	o.bits = 3;
	CU_ASSERT_STRING_EQUAL(quantplan_check(&a, &o), "bits must be 4 or 8");
	o.bits = 4;
	o.group_size = 100;
	CU_ASSERT_STRING_EQUAL(quantplan_check(&a, &o), "the group size must be 32, 64 or 128");
	o.group_size = 128;
	a.hidden_size = 4000;
	CU_ASSERT_STRING_EQUAL(quantplan_check(&a, &o),
	    "group size 128 does not divide the input width 4000 of a linear layer");
	a.hidden_size = 0;
	CU_ASSERT_STRING_EQUAL(quantplan_check(&a, &o),
	    "the architecture is incomplete (layers, hidden, intermediate, heads and vocab are needed)");
}

static void
test_sizes(void)
{
	/* The prediction is budget_weights_bytes with the AWQ format; the published checkpoints
	 * (hugging-quants Llama 3.1 8B AWQ ~5.7 GB, Qwen2.5 7B AWQ ~5.6 GB) are within 2%. */
	struct budget_arch a = llama8b();
	struct budget_params s = serve_8gb(8192);
	struct quantplan_opts o = {0};
	struct quantplan p;
	quantplan_compute(&a, &o, &s, 16060522496ull, 8 * GIB, &p);
	struct budget_quant q = quantplan_quant("awq", 4, 128);
	CU_ASSERT_EQUAL(p.predicted_bytes, budget_weights_bytes(&a, &q));
	CU_ASSERT(p.predicted_bytes > 5.6e9 && p.predicted_bytes < 5.8e9);
	CU_ASSERT_EQUAL(p.source_bytes, 16060522496ull);
	CU_ASSERT(p.source_exact);
	CU_ASSERT_EQUAL(p.disk_bytes, 16060522496ull + p.predicted_bytes);
	CU_ASSERT_STRING_EQUAL(p.scheme, "W4A16_ASYM");
	CU_ASSERT_STRING_EQUAL(p.opts.dataset, "HuggingFaceH4/ultrachat_200k");
	CU_ASSERT_STRING_EQUAL(p.opts.dataset_split, "train_sft");
	CU_ASSERT_EQUAL(p.opts.samples, 256);
	CU_ASSERT_EQUAL(p.opts.seq_len, 512);
	/* The fit is budget_fit's at the predicted weights. */
	CU_ASSERT_EQUAL(p.serve.weights_bytes, p.predicted_bytes);
	CU_ASSERT_EQUAL(p.fit.weights_bytes, p.predicted_bytes);

	struct budget_arch qw = qwen7b();
	quantplan_compute(&qw, &o, &s, 0, 8 * GIB, &p);
	CU_ASSERT(p.predicted_bytes > 5.5e9 && p.predicted_bytes < 5.7e9);
	CU_ASSERT_FALSE(p.source_exact);
	CU_ASSERT_EQUAL(p.source_bytes, budget_weights_bytes(&qw, NULL));

	/* GPTQ's format carries g_idx: a little more than AWQ. */
	o.method = "gptq";
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	CU_ASSERT_STRING_EQUAL(p.scheme, "W4A16");
	struct budget_quant g = quantplan_quant("gptq", 4, 128);
	CU_ASSERT_EQUAL(p.predicted_bytes, budget_weights_bytes(&a, &g));
	o.group_size = 64;
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	CU_ASSERT_PTR_NULL(p.scheme);
	CU_ASSERT_EQUAL(p.quant.group_size, 64);
}

static void
test_job(void)
{
	struct budget_arch a = llama8b();
	struct budget_params s = serve_8gb(8192);
	struct quantplan_opts o = {0};
	struct quantplan p;
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	/* One decoder layer in bf16: q, k, v, o, gate, up, down and two norms. */
	CU_ASSERT_EQUAL(p.layer_bytes, (4096ull * 4096 * 2 + 2ull * 4096 * 1024 + 3ull * 4096 * 14336 + 2 * 4096) * 2);
	CU_ASSERT_EQUAL(p.layer_bytes, 436224000ull);
	CU_ASSERT_EQUAL(p.embed_bytes, 128256ull * 4096 * 2);
	/* Logits of one 512-token sample (128256 x 512 x 2) outweigh one layer's activations. */
	CU_ASSERT_EQUAL(p.activation_bytes, 128256ull * 512 * 2);
	/* AWQ caches the inputs of its four mappings for all 256 x 512 tokens: 6.5 GiB, too much
	 * for 8 GiB next to the embeddings, so the plan offloads it and keeps one sample. */
	CU_ASSERT_EQUAL(p.awq_cache_bytes, 256ull * 512 * (2 * 4096 + 4096 + 14336) * 2);
	CU_ASSERT(p.awq_offload);
	CU_ASSERT_EQUAL(p.method_bytes, 512ull * (2 * 4096 + 4096 + 14336) * 2);
	CU_ASSERT_EQUAL(p.gpu_need_bytes, p.embed_bytes + p.activation_bytes + p.method_bytes + 512 * SIZE_MIB);
	CU_ASSERT(p.gpu_ok);
	CU_ASSERT_EQUAL(p.host_ram_bytes, p.source_bytes + 2ull * 256 * 512 * 4096 * 2 + p.awq_cache_bytes);

	/* On an 80 GiB card the cache stays on the GPU. */
	quantplan_compute(&a, &o, &s, 0, 80 * GIB, &p);
	CU_ASSERT_FALSE(p.awq_offload);
	CU_ASSERT_EQUAL(p.method_bytes, p.awq_cache_bytes);
	CU_ASSERT(p.gpu_ok);

	/* GPTQ holds one float32 Hessian per linear layer of the layer being calibrated. */
	o.method = "gptq";
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	CU_ASSERT_EQUAL(p.method_bytes, 4ull * (5ull * 4096 * 4096 + 4096ull * 4096 + 14336ull * 14336));
	CU_ASSERT_EQUAL(p.awq_cache_bytes, 0);
	CU_ASSERT(p.gpu_ok);

	/* A GPU with 1 GiB free cannot hold the embeddings and a sample. */
	quantplan_compute(&a, &o, &s, 0, 1 * GIB, &p);
	CU_ASSERT_FALSE(p.gpu_ok);
}

static void
test_dir_name(void)
{
	struct budget_arch a = llama8b();
	struct budget_params s = serve_8gb(8192);
	struct quantplan_opts o = {0};
	struct quantplan p;
	char buf[128];
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	CU_ASSERT_STRING_EQUAL(quantplan_dir_name("meta-llama/Llama-3.1-8B-Instruct", &p, buf, sizeof buf),
	    "llama-3.1-8b-instruct-awq-w4g128");
	o.method = "gptq";
	o.bits = 8;
	o.group_size = 32;
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	CU_ASSERT_STRING_EQUAL(quantplan_dir_name("Qwen/Qwen2.5 7B+x", &p, buf, sizeof buf), "qwen2.5-7b-x-gptq-w8g32");
}

static char *
script_of(const struct quantplan *p, const struct quantplan_target *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(quantplan_write_script(f, p, t), 0);
	fclose(f);
	return buf;
}

static void
test_script(void)
{
	struct budget_arch a = llama8b();
	struct budget_params s = serve_8gb(8192);
	struct quantplan_opts o = {0};
	struct quantplan p;
	quantplan_compute(&a, &o, &s, 0, 8 * GIB, &p);
	struct quantplan_target t = {"primary", "models.yaml", "meta-llama/Llama-3.1-8B-Instruct",
		"0e9e39f249a16976918f6564b8830bc894c89659", "/mnt/f/models/llama-3.1-8b-instruct-awq-w4g128",
		"/mnt/f/hf \"cache\""};
	char *sc = script_of(&p, &t);
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "# generated by modelc quantize from models.yaml (role 'primary'); do not edit"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "from llmcompressor import oneshot\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "from llmcompressor.modifiers.awq import AWQModifier\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "MODEL_ID = \"meta-llama/Llama-3.1-8B-Instruct\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "REVISION = \"0e9e39f249a16976918f6564b8830bc894c89659\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "OUTPUT_DIR = \"/mnt/f/models/llama-3.1-8b-instruct-awq-w4g128\"\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "NUM_CALIBRATION_SAMPLES = 256\nMAX_SEQUENCE_LENGTH = 512\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "os.environ.setdefault(\"HF_HOME\", \"/mnt/f/hf \\\"cache\\\"\")\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "device_map=None)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "AWQModifier(targets=[\"Linear\"], scheme=\"W4A16_ASYM\", ignore=[\"lm_head\"]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "offload_device=torch.device(\"cpu\")"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "model.save_pretrained(partial, save_compressed=True)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "os.rename(partial, OUTPUT_DIR)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "modelc adopt primary {OUTPUT_DIR}"));
	free(sc);

	/* GPTQ at a group size with no preset: explicit config_groups; no offload argument. */
	o.method = "gptq";
	o.group_size = 64;
	o.samples = 512;
	o.seq_len = 2048;
	o.dataset = "neuralmagic/LLM_compression_calibration";
	quantplan_compute(&a, &o, &s, 0, 80 * GIB, &p);
	t.hf_home = NULL;
	sc = script_of(&p, &t);
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "from llmcompressor.modifiers.quantization import GPTQModifier\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "\"num_bits\": 4, \"type\": \"int\", \"symmetric\": True, \"strategy\": \"group\", "
					  "\"group_size\": 64}}},\n    ignore=[\"lm_head\"])]\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sc, "DATASET_ID = \"neuralmagic/LLM_compression_calibration\"\n"
					  "DATASET_SPLIT = \"train\"\n"));
	CU_ASSERT_PTR_NULL(strstr(sc, "offload_device"));
	CU_ASSERT_PTR_NULL(strstr(sc, "HF_HOME"));
	free(sc);
}

void
suite_quantplan(void)
{
	CU_pSuite s = CU_add_suite("quantplan", NULL, NULL);
	CU_add_test(s, "check", test_check);
	CU_add_test(s, "sizes", test_sizes);
	CU_add_test(s, "job", test_job);
	CU_add_test(s, "dir_name", test_dir_name);
	CU_add_test(s, "script", test_script);
}
