#include "quantplan.h"
#include "size.h"

#include <ctype.h>
#include <string.h>

/* CUDA context, cuBLAS workspace and PyTorch's allocator slack before any tensor is placed. */
#define QUANTPLAN_CUDA_CONTEXT (512 * SIZE_MIB)

static const char default_dataset[] = "HuggingFaceH4/ultrachat_200k";
static const char default_split[] = "train_sft";

struct budget_quant
quantplan_quant(const char *method, uint32_t bits, uint32_t group_size)
{
	/* The built-in format of that name (the one `modelc build` fits with), at these bits and groups. */
	const struct budget_quant *named = method ? budget_quant_named(method) : NULL;
	struct budget_quant q = {0};
	if (named) {
		q = *named;
	} else {
		q.name = method;
		q.zero_point = true;
		q.scale_bytes = 2;
		q.embeddings_16bit = true;
	}
	q.bits = bits;
	q.group_size = group_size;
	return q;
}

static void
fill_defaults(const struct quantplan_opts *in, struct quantplan_opts *o)
{
	*o = *in;
	if (!o->method)
		o->method = "awq";
	if (!o->bits)
		o->bits = QUANTPLAN_DEFAULT_BITS;
	if (!o->group_size)
		o->group_size = QUANTPLAN_DEFAULT_GROUP;
	if (!o->dataset)
		o->dataset = default_dataset;
	if (!o->dataset_split)
		o->dataset_split = o->dataset == default_dataset ? default_split : "train";
	if (!o->samples)
		o->samples = QUANTPLAN_DEFAULT_SAMPLES;
	if (!o->seq_len)
		o->seq_len = QUANTPLAN_DEFAULT_SEQ_LEN;
}

const char *
quantplan_check(const struct budget_arch *a, const struct quantplan_opts *in)
{
	static char msg[160];
	struct quantplan_opts o;
	fill_defaults(in, &o);
	if (strcmp(o.method, "awq") != 0 && strcmp(o.method, "gptq") != 0)
		return "the method must be awq or gptq";
	/* vLLM's AWQ kernels are 4-bit only; GPTQ also has 8-bit kernels. */
	if (strcmp(o.method, "awq") == 0 && o.bits != 4)
		return "awq supports only 4 bits";
	if (o.bits != 4 && o.bits != 8)
		return "bits must be 4 or 8";
	if (o.group_size != 32 && o.group_size != 64 && o.group_size != 128)
		return "the group size must be 32, 64 or 128";
	if (!a->layers || !a->hidden_size || !a->intermediate_size || !a->attention_heads || !a->vocab_size)
		return "the architecture is incomplete (layers, hidden, intermediate, heads and vocab are needed)";
	uint32_t hd = a->head_dim ? a->head_dim : a->hidden_size / a->attention_heads;
	uint32_t ins[] = {a->hidden_size, a->intermediate_size, a->attention_heads * hd};
	for (size_t i = 0; i < sizeof ins / sizeof ins[0]; i++)
		if (ins[i] % o.group_size != 0) {
			snprintf(msg, sizeof msg, "group size %u does not divide the input width %u of a linear layer",
			    o.group_size, ins[i]);
			return msg;
		}
	return NULL;
}

static uint64_t
max64(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

void
quantplan_compute(const struct budget_arch *a, const struct quantplan_opts *opts,
    const struct budget_params *serve, uint64_t source_bytes, uint64_t gpu_free_bytes,
    struct quantplan *p)
{
	memset(p, 0, sizeof *p);
	fill_defaults(opts, &p->opts);
	const struct quantplan_opts *o = &p->opts;
	bool awq = strcmp(o->method, "awq") == 0;
	p->quant = quantplan_quant(awq ? "awq" : "gptq", o->bits, o->group_size);
	if (o->group_size == 128)
		p->scheme = o->bits == 4 ? (awq ? "W4A16_ASYM" : "W4A16") : "W8A16";

	uint64_t db = a->dtype_bytes ? a->dtype_bytes : 2;
	if (source_bytes) {
		p->source_bytes = source_bytes;
		p->source_exact = true;
	} else {
		/* The formula counts 16-bit weights; a float32 checkpoint is twice that. */
		p->source_bytes = budget_weights_bytes(a, NULL) / 2 * db;
	}
	p->predicted_bytes = budget_weights_bytes(a, &p->quant);

	p->serve = *serve;
	p->serve.weights_bytes = p->predicted_bytes;
	budget_fit_checked(a, &p->serve, &p->fit);

	uint64_t hidden = a->hidden_size, inter = a->intermediate_size;
	uint64_t hd = a->head_dim ? a->head_dim : hidden / a->attention_heads;
	uint64_t q_out = (uint64_t)a->attention_heads * hd;
	uint64_t kv_out = (uint64_t)(a->kv_heads ? a->kv_heads : a->attention_heads) * hd;
	uint64_t seq = o->seq_len, tokens = (uint64_t)o->samples * o->seq_len;

	/* One decoder layer: q, k, v, o, gate, up, down and two norms. */
	uint64_t layer_params = hidden * q_out + 2 * hidden * kv_out + q_out * hidden + 3 * hidden * inter +
	    2 * hidden;
	p->layer_bytes = layer_params * db;
	p->embed_bytes = (uint64_t)a->vocab_size * hidden * db;

	/*
	 * One sample through one layer: input, residual, norm and attention outputs, q/k/v, gate,
	 * up and their product, plus eager attention scores (sdpa needs less); or the logits of
	 * the last subgraph, whichever is larger. llm-compressor calibrates one sample at a time.
	 */
	uint64_t layer_act = seq * db * (4 * hidden + 3 * inter + q_out + 2 * kv_out) +
	    (uint64_t)a->attention_heads * seq * seq * db;
	p->activation_bytes = max64(layer_act, seq * (uint64_t)a->vocab_size * db);

	/* Per-sample inputs of the four AWQ mappings: qkv, v->o, gate/up, up->down. */
	uint64_t awq_inputs = db * (2 * hidden + q_out + inter);
	uint64_t base = max64(p->layer_bytes, p->embed_bytes) + p->activation_bytes + QUANTPLAN_CUDA_CONTEXT;
	if (awq) {
		p->awq_cache_bytes = tokens * awq_inputs;
		p->awq_offload = base + p->awq_cache_bytes > gpu_free_bytes;
		p->method_bytes = p->awq_offload ? seq * awq_inputs : p->awq_cache_bytes;
	} else {
		/* One float32 Hessian (in x in) per linear layer of the layer being calibrated. */
		p->method_bytes = 4 * (5 * hidden * hidden + q_out * q_out + inter * inter);
	}
	p->gpu_need_bytes = base + p->method_bytes;
	p->gpu_free_bytes = gpu_free_bytes;
	p->gpu_ok = p->gpu_need_bytes <= gpu_free_bytes;

	p->disk_bytes = p->source_bytes + p->predicted_bytes;
	/* The model in CPU memory, the pipeline's per-layer inputs for every sample, AWQ's cache. */
	p->host_ram_bytes = p->source_bytes + 2 * tokens * hidden * db + (p->awq_offload ? p->awq_cache_bytes : 0);
}

char *
quantplan_dir_name(const char *repo, const struct quantplan *p, char *buf, size_t len)
{
	const char *name = repo ? strrchr(repo, '/') : NULL;
	name = name ? name + 1 : repo ? repo : "model";
	char base[128];
	size_t n = 0;
	for (; *name && n + 1 < sizeof base; name++) {
		unsigned char c = (unsigned char)*name;
		base[n++] = (char)(isalnum(c) || c == '.' || c == '_' || c == '-' ? tolower(c) : '-');
	}
	base[n] = '\0';
	snprintf(buf, len, "%s-%s-w%ug%u", base, p->opts.method, p->opts.bits, p->opts.group_size);
	return buf;
}

/* A Python string literal for s. */
static void
py_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}


int
quantplan_write_script(FILE *out, const struct quantplan *p, const struct quantplan_target *t)
{
	const struct quantplan_opts *o = &p->opts;
	bool awq = strcmp(o->method, "awq") == 0;
	fprintf(out, "#!/usr/bin/env python3\n");
	fprintf(out, "# generated by modelc quantize from %s (role '%s'); do not edit, re-run modelc quantize\n",
	    t->catalog_path, t->role);
	fprintf(out, "#\n# Quantizes %s@%s to %s, %u-bit weights in groups of %u, with llm-compressor,\n",
	    t->repo, t->revision, awq ? "AWQ" : "GPTQ", o->bits, o->group_size);
	fprintf(out, "# and saves it compressed (compressed-tensors, pack-quantized) for vLLM.\n#\n");
	fprintf(out, "# Needs, as planned by modelc:\n");
	fprintf(out, "#   GPU memory  %.2f GiB (largest of layer/embedding %.2f, activations %.2f, %s %.2f, CUDA context 0.50)\n",
	    size_gib(p->gpu_need_bytes), size_gib(p->layer_bytes > p->embed_bytes ? p->layer_bytes : p->embed_bytes),
	    size_gib(p->activation_bytes), awq ? "AWQ cache" : "GPTQ Hessians", size_gib(p->method_bytes));
	fprintf(out, "#   host memory %.2f GiB (the 16-bit weights stay in CPU memory; one layer at a time is onloaded)\n",
	    size_gib(p->host_ram_bytes));
	fprintf(out, "#   disk        %.2f GiB (16-bit source %.2f + quantized output %.2f)\n", size_gib(p->disk_bytes),
	    size_gib(p->source_bytes), size_gib(p->predicted_bytes));
	fprintf(out, "#   Python packages: llmcompressor >= 0.6 (sequential onloading; pulls torch, transformers, datasets)\n");
	fprintf(out, "#\n# Run on the GPU host: python3 THIS_FILE; then, where models.yaml lives:\n");
	fprintf(out, "#   modelc adopt %s %s\n\n", t->role, t->output_dir);
	fputs("import os\nimport shutil\nimport sys\n\nimport torch\nfrom datasets import load_dataset\n"
	      "from transformers import AutoModelForCausalLM, AutoTokenizer\n\nfrom llmcompressor import oneshot\n",
	    out);
	fprintf(out, "from llmcompressor.modifiers.%s import %s\n\n", awq ? "awq" : "quantization",
	    awq ? "AWQModifier" : "GPTQModifier");
	fputs("MODEL_ID = ", out);
	py_str(out, t->repo);
	fputs("\nREVISION = ", out);
	py_str(out, t->revision);
	fputs("\nOUTPUT_DIR = ", out);
	py_str(out, t->output_dir);
	fputs("\nDATASET_ID = ", out);
	py_str(out, o->dataset);
	fputs("\nDATASET_SPLIT = ", out);
	py_str(out, o->dataset_split);
	fprintf(out, "\nNUM_CALIBRATION_SAMPLES = %u\nMAX_SEQUENCE_LENGTH = %u\n", o->samples, o->seq_len);
	fprintf(out, "GPU_MEMORY_NEEDED = %llu  # bytes, from the plan\n\n", (unsigned long long)p->gpu_need_bytes);
	if (t->hf_home) {
		fputs("os.environ.setdefault(\"HF_HOME\", ", out);
		py_str(out, t->hf_home);
		fputs(")\n\n", out);
	}
	fputs("if os.path.exists(OUTPUT_DIR):\n"
	      "    sys.exit(f\"{OUTPUT_DIR} exists; move it away or remove it first\")\n"
	      "if not torch.cuda.is_available():\n"
	      "    sys.exit(\"no CUDA GPU visible; run this on the GPU host\")\n"
	      "free, total = torch.cuda.mem_get_info()\n"
	      "if free < GPU_MEMORY_NEEDED:\n"
	      "    print(f\"warning: {free / 2**30:.2f} GiB free on the GPU, the plan needs \"\n"
	      "          f\"{GPU_MEMORY_NEEDED / 2**30:.2f} GiB; close other GPU programs\", file=sys.stderr)\n\n",
	    out);
	fputs("# Sequential onloading: the model is loaded into CPU memory (device_map=None) and\n"
	      "# llm-compressor moves one decoder layer at a time onto the GPU while it calibrates.\n"
	      "model = AutoModelForCausalLM.from_pretrained(MODEL_ID, revision=REVISION, dtype=\"auto\", device_map=None)\n"
	      "tokenizer = AutoTokenizer.from_pretrained(MODEL_ID, revision=REVISION)\n\n"
	      "ds = load_dataset(DATASET_ID, split=f\"{DATASET_SPLIT}[:{NUM_CALIBRATION_SAMPLES}]\")\n"
	      "ds = ds.shuffle(seed=42)\n\n\n"
	      "def to_text(example):\n"
	      "    if \"messages\" in example and tokenizer.chat_template:\n"
	      "        return {\"text\": tokenizer.apply_chat_template(example[\"messages\"], tokenize=False)}\n"
	      "    return {\"text\": example[\"text\"]}\n\n\n"
	      "def tokenize(example):\n"
	      "    return tokenizer(example[\"text\"], padding=False, max_length=MAX_SEQUENCE_LENGTH,\n"
	      "                     truncation=True, add_special_tokens=False)\n\n\n"
	      "ds = ds.map(to_text)\n"
	      "ds = ds.map(tokenize, remove_columns=ds.column_names)\n\n",
	    out);
	const char *mod = awq ? "AWQModifier" : "GPTQModifier";
	if (p->scheme) {
		fprintf(out, "recipe = [%s(targets=[\"Linear\"], scheme=\"%s\", ignore=[\"lm_head\"]", mod, p->scheme);
	} else {
		fprintf(out, "recipe = [%s(\n    config_groups={\"group_0\": {\"targets\": [\"Linear\"], \"weights\": {\n"
			     "        \"num_bits\": %u, \"type\": \"int\", \"symmetric\": %s, \"strategy\": \"group\", \"group_size\": %u}}},\n"
			     "    ignore=[\"lm_head\"]",
		    mod, o->bits, awq ? "False" : "True", o->group_size);
	}
	if (awq && p->awq_offload)
		fputs(",\n    # the plan found AWQ's cached inputs too large for the GPU\n"
		      "    offload_device=torch.device(\"cpu\")",
		    out);
	fputs(")]\n\n", out);
	fputs("oneshot(model=model, dataset=ds, recipe=recipe, max_seq_length=MAX_SEQUENCE_LENGTH,\n"
	      "        num_calibration_samples=NUM_CALIBRATION_SAMPLES)\n\n"
	      "# Save next to the target and rename, so a crash never leaves a half-written OUTPUT_DIR.\n"
	      "partial = OUTPUT_DIR + \".partial\"\n"
	      "shutil.rmtree(partial, ignore_errors=True)\n"
	      "model.save_pretrained(partial, save_compressed=True)\n"
	      "tokenizer.save_pretrained(partial)\n"
	      "os.rename(partial, OUTPUT_DIR)\n",
	    out);
	fprintf(out, "print(f\"wrote {OUTPUT_DIR}; next, where models.yaml lives: modelc adopt %s {OUTPUT_DIR}\")\n",
	    t->role);
	return ferror(out) ? -1 : 0;
}
