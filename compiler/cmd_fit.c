/*
 * modelc fit: the VRAM estimator for scripts. Reads one config.json, prints one JSON object
 * with the breakdown (all sizes in bytes per GPU) and exits 0 whether or not the model fits.
 * Exit 2: bad arguments; 1: the config lacks a required number; 3: the config cannot be read.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "budgetjson.h"
#include "cli.h"
#include "commands.h"
#include "diag.h"
#include "emit_common.h"
#include "fit.h"
#include "exitcode.h"
#include "hfconfig.h"
#include "size.h"

const char fit_usage[] =
    "usage: modelc fit ORG/REPO[@REV] --gpu PROFILE|SIZE [--max-model-len N|auto] [--quantization Q]\n"
    "                  [--kv-cache-dtype D] [--catalog FILE] [--json]\n"
    "       modelc fit --config PATH (--weights-bytes N | --quantization Q) --gpu-memory SIZE\n"
    "                  --utilization F --max-model-len N|auto [--max-num-seqs N]\n"
    "                  [--max-num-batched-tokens N] [--kv-cache-dtype auto|fp8|...]\n"
    "                  [--tensor-parallel-size N] [--enforce-eager] [--engine v0|v1]\n"
    "                  [--gpu-used SIZE] [--safety-margin SIZE] [--calibration K=V,...]\n"
    "                  [--keep-utilization] [--vllm-version X.Y[.Z]]\n"
    "SIZE is bytes or a decimal with GiB/MiB (2^30, 2^20) or GB/MB (10^9, 10^6).\n"
    "Q is awq, gptq, fp8, bitsandbytes, compressed-tensors or none.\n"
    "Without --vllm-version the newest modelled vLLM generation is used.\n"
    "The first form reads config.json and the safetensors headers from the Hub (HF_ENDPOINT) and\n"
    "takes the server settings of FILE (default models.yaml, when there is one) or vLLM's defaults.\n"
    "The second prints one JSON object; see docs/budget.md.\n";

struct fit_opts {
	const char *config;
	const char *weights;
	const char *quant;
	const char *gpu_memory;
	const char *utilization;
	const char *max_model_len;
	const char *max_num_seqs;
	const char *batched;
	const char *kv_dtype;
	const char *tp;
	const char *engine;
	const char *gpu_used;
	const char *margin;
	const char *calibration;
	const char *vllm_version;
	int eager;
	int keep_utilization;
};

static int
fit_bad(const char *fmt, const char *arg)
{
	return cli_usage_error("fit", fit_usage, fmt, arg);
}

static int
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* "forward_factor=1.2,non_torch_bytes=..." over the committed constants; 0 on success. */
static int
parse_calibration(const char *spec, struct budget_calibration *cal)
{
	char buf[512];
	if (strlen(spec) >= sizeof buf)
		return -1;
	strcpy(buf, spec);
	for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
		char *eq = strchr(tok, '='), *end;
		if (!eq)
			return -1;
		*eq = '\0';
		errno = 0;
		double v = strtod(eq + 1, &end);
		if (errno || *end || end == eq + 1 || v < 0)
			return -1;
		if (strcmp(tok, "forward_factor") == 0)
			cal->forward_factor = v;
		else if (strcmp(tok, "sampler_bytes_per_logit") == 0)
			cal->sampler_bytes_per_logit = v;
		else if (strcmp(tok, "non_torch_bytes") == 0)
			cal->non_torch_bytes = (uint64_t)v;
		else if (strcmp(tok, "non_torch_tp_bytes") == 0)
			cal->non_torch_tp_bytes = (uint64_t)v;
		else if (strcmp(tok, "cuda_graph_bytes") == 0)
			cal->cuda_graph_bytes = (uint64_t)v;
		else if (strcmp(tok, "cuda_graph_bytes_per_unit") == 0)
			cal->cuda_graph_bytes_per_unit = v;
		else if (strcmp(tok, "cuda_graph_bytes_per_size") == 0)
			cal->cuda_graph_bytes_per_size = v;
		else
			return -1;
	}
	return 0;
}

/* The generation whose rules were used and what the evidence says about this case. */
static void
fit_json_generation(json_t *o, const struct budget_result *r, const char *version)
{
	const struct budget_generation_rule *g = budget_generation_rule(r->generation);
	json_t *gen = json_object();
	json_object_set_new(gen, "name", json_string(g->name));
	json_object_set_new(gen, "versions", json_sprintf("%s-%s", g->first, g->last));
	json_object_set_new(gen, "vllm_version", version ? json_string(version) : json_null());
	json_object_set_new(gen, "default", json_boolean(version == NULL));
	json_object_set_new(gen, "graphs_in_budget", json_boolean(g->graphs_in_budget));
	json_object_set_new(gen, "source", json_string(g->source));
	json_object_set_new(o, "vllm_generation", gen);
	char text[256];
	budget_evidence_text(r, text, sizeof text);
	json_t *ev = json_object();
	json_object_set_new(ev, "covered", json_boolean(r->evidence_gaps == 0));
	json_object_set_new(ev, "text", json_string(text));
	static const struct {
		unsigned bit;
		const char *code;
	} codes[] = {
		{BUDGET_EVIDENCE_GENERATION, "generation"}, {BUDGET_EVIDENCE_FAMILY, "family"},
		{BUDGET_EVIDENCE_SIZE, "size"}, {BUDGET_EVIDENCE_MULTIMODAL, "multimodal"},
		{BUDGET_EVIDENCE_MLA, "mla"},
	};
	json_t *gaps = json_array();
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
		if (r->evidence_gaps & codes[i].bit)
			json_array_append_new(gaps, json_string(codes[i].code));
	json_object_set_new(ev, "gaps", gaps);
	json_object_set_new(ev, "nearest_generation",
	    json_string(budget_generation_rule(r->evidence_from)->name));
	json_object_set_new(ev, "margin_widened_by", json_real(r->evidence_spread));
	json_object_set_new(ev, "calibrated_cases",
	    json_integer(budget_evidence_of(r->evidence_from)->cases));
	json_object_set_new(o, "evidence", ev);
}

json_t *
fit_result_json(const struct budget_result *r, const char *version)
{
	json_t *o = json_object();
	budgetjson_terms(o, r);
	json_object_set_new(o, "max_num_seqs", json_integer(r->max_num_seqs));
	json_object_set_new(o, "max_num_batched_tokens", json_integer(r->max_num_batched_tokens));
	json_object_set_new(o, "cuda_context_bytes", json_integer((json_int_t)r->cuda_context_bytes));
	json_object_set_new(o, "kv_at_max_model_len", json_integer((json_int_t)r->kv_at_max_model_len));
	json_object_set_new(o, "activation_forward_bytes",
	    json_integer((json_int_t)r->activation_forward_bytes));
	json_object_set_new(o, "activation_sampler_bytes",
	    json_integer((json_int_t)r->activation_sampler_bytes));
	/* The physical check: in use + context + budget + graphs outside the budget <= CUDA total. */
	budgetjson_lowering(o, r);
	json_object_set_new(o, "gpu_used_bytes", json_integer((json_int_t)r->gpu_used_bytes));
	json_object_set_new(o, "peak_bytes", json_integer((json_int_t)r->peak_bytes));
	json_object_set_new(o, "cuda_graph_sizes", json_integer(r->cuda_graph_sizes));
	json_object_set_new(o, "cuda_graph_max_size", json_integer(r->cuda_graph_max_size));
	fit_json_generation(o, r, version);
	json_t *src = json_object();
	json_object_set_new(src, "weights", json_string(emit_source_name(r->weights_source)));
	json_object_set_new(src, "kv", json_string(emit_source_name(r->kv_source)));
	json_object_set_new(src, "activation", json_string(emit_source_name(r->activation_source)));
	json_object_set_new(src, "non_torch", json_string(emit_source_name(r->non_torch_source)));
	json_object_set_new(src, "cuda_graph", json_string(emit_source_name(r->cuda_graph_source)));
	json_object_set_new(src, "safety_margin", json_string(emit_source_name(r->margin_source)));
	json_object_set_new(o, "sources", src);
	return o;
}

/* Match argv[*i] against --name or --name=VALUE; store the value. 1 matched, -1 no value. */
static int
opt_value(int argc, char **argv, int *i, const char *name, const char **out)
{
	size_t n = strlen(name);
	const char *a = argv[*i];
	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*out = argv[++*i];
	return 1;
}

static int
parse_args(int argc, char **argv, struct fit_opts *o)
{
	const struct {
		const char *name;
		const char **slot;
	} opts[] = {
		{"--config", &o->config},
		{"--weights-bytes", &o->weights},
		{"--quantization", &o->quant},
		{"--gpu-memory", &o->gpu_memory},
		{"--utilization", &o->utilization},
		{"--max-model-len", &o->max_model_len},
		{"--max-num-seqs", &o->max_num_seqs},
		{"--max-num-batched-tokens", &o->batched},
		{"--kv-cache-dtype", &o->kv_dtype},
		{"--tensor-parallel-size", &o->tp},
		{"--engine", &o->engine},
		{"--gpu-used", &o->gpu_used},
		{"--safety-margin", &o->margin},
		{"--calibration", &o->calibration},
		{"--vllm-version", &o->vllm_version},
	};
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--enforce-eager") == 0) {
			o->eager = 1;
			continue;
		}
		if (strcmp(argv[i], "--keep-utilization") == 0) {
			o->keep_utilization = 1;
			continue;
		}
		int matched = 0;
		for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !matched; k++) {
			const char *prev = *opts[k].slot;
			matched = opt_value(argc, argv, &i, opts[k].name, opts[k].slot);
			if (matched < 0)
				return fit_bad("option '%s' needs a value", opts[k].name);
			if (matched && prev)
				return fit_bad("option '%s' given twice", opts[k].name);
		}
		if (!matched)
			return fit_bad("unknown argument '%s'", argv[i]);
	}
	if (!o->config)
		return fit_bad("missing %s", "--config");
	if (!o->weights == !o->quant)
		return fit_bad("give exactly one of %s", "--weights-bytes or --quantization");
	if (!o->gpu_memory)
		return fit_bad("missing %s", "--gpu-memory");
	if (!o->utilization)
		return fit_bad("missing %s", "--utilization");
	if (!o->max_model_len)
		return fit_bad("missing %s", "--max-model-len");
	return 0;
}

/* Turn the options into params; 0 on success, else the exit code after a message. */
static int
to_params(const struct fit_opts *o, struct budget_params *p, struct budget_calibration *cal)
{
	char *end;
	if (size_parse(o->gpu_memory, &p->gpu_total_bytes) || p->gpu_total_bytes == 0)
		return fit_bad("--gpu-memory: '%s' is not a size (bytes, or a number with GiB, MiB, GB or MB)",
		    o->gpu_memory);
	if (o->gpu_used && size_parse(o->gpu_used, &p->gpu_used_bytes))
		return fit_bad("--gpu-used: '%s' is not a size (bytes, or a number with GiB, MiB, GB or MB)",
		    o->gpu_used);
	if (o->margin) {
		if (size_parse(o->margin, &p->safety_margin_bytes))
			return fit_bad("--safety-margin: '%s' is not a size (bytes, or a number with GiB, MiB, GB or MB)",
			    o->margin);
		p->safety_margin_set = true;
	}
	errno = 0;
	p->utilization = strtod(o->utilization, &end);
	if (errno || *end || end == o->utilization || !(p->utilization > 0 && p->utilization <= 1))
		return fit_bad("--utilization: '%s' is not a number in (0, 1]", o->utilization);
	if (strcmp(o->max_model_len, "auto") == 0)
		p->max_model_len = 0;
	else if (cli_parse_u32(o->max_model_len, UINT32_MAX, &p->max_model_len) != 0)
		return fit_bad("--max-model-len: '%s' is not a positive integer or 'auto'", o->max_model_len);
	if (o->max_num_seqs && cli_parse_u32(o->max_num_seqs, UINT32_MAX, &p->max_num_seqs) != 0)
		return fit_bad("--max-num-seqs: '%s' is not a positive integer", o->max_num_seqs);
	if (o->batched && cli_parse_u32(o->batched, UINT32_MAX, &p->max_num_batched_tokens) != 0)
		return fit_bad("--max-num-batched-tokens: '%s' is not a positive integer", o->batched);
	if (o->tp && cli_parse_u32(o->tp, UINT32_MAX, &p->tensor_parallel) != 0)
		return fit_bad("--tensor-parallel-size: '%s' is not a positive integer", o->tp);
	if (o->kv_dtype && !budget_kv_dtype_bytes(o->kv_dtype, &p->kv_dtype_bytes)) {
		/* fit_bad's text and usage, with budget.h's list as an argument (a format is a literal). */
		diag_print(stderr, "modelc: fit: --kv-cache-dtype: '%s' is not one of %s\n%s", o->kv_dtype,
		    BUDGET_KV_DTYPE_NAMES, fit_usage);
		return EXITCODE_USAGE;
	}
	if (!o->engine || strcmp(o->engine, "v1") == 0)
		p->engine = BUDGET_ENGINE_V1;
	else if (strcmp(o->engine, "v0") == 0)
		p->engine = BUDGET_ENGINE_V0;
	else
		return fit_bad("--engine: '%s' is not v0 or v1", o->engine);
	p->generation_set = true;
	if (o->vllm_version) {
		bool nearest;
		if (budget_generation_of_version(o->vllm_version, p->engine, o->engine != NULL,
		    &p->generation, &nearest) != 0)
			return fit_bad("--vllm-version: '%s' is not a version X.Y or X.Y.Z", o->vllm_version);
		if (nearest) {
			const struct budget_generation_rule *g = budget_generation_rule(p->generation);
			diag_print(stderr, "modelc: fit: note: vLLM %s is outside the modelled versions; "
			    "using the nearest generation, %s (%s to %s)\n", o->vllm_version, g->name,
			    g->first, g->last);
		}
	} else if (o->engine && p->engine == BUDGET_ENGINE_V0) {
		p->generation = BUDGET_GEN_V0;
	} else {
		p->generation = BUDGET_GEN_NEWEST;
	}
	if (o->weights && (parse_u64(o->weights, &p->weights_bytes) != 0 || p->weights_bytes == 0))
		return fit_bad("--weights-bytes: '%s' is not a positive number of bytes", o->weights);
	if (o->quant && !budget_quant_named(o->quant))
		return fit_bad("--quantization: '%s' is not one of awq, gptq, fp8, bitsandbytes, compressed-tensors, none",
		    o->quant);
	p->enforce_eager = o->eager;
	p->keep_utilization = o->keep_utilization;
	*cal = *budget_calibration_of(p->generation);
	if (o->calibration) {
		if (parse_calibration(o->calibration, cal) != 0)
			return fit_bad("--calibration: '%s' is not a list of KEY=NUMBER (forward_factor, sampler_bytes_per_logit, non_torch_bytes, non_torch_tp_bytes, cuda_graph_bytes, cuda_graph_bytes_per_unit, cuda_graph_bytes_per_size)",
			    o->calibration);
		p->calibration = cal;
	}
	return 0;
}

int
cmd_fit(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(fit_usage, stdout);
			return EXITCODE_OK;
		}
	}
	if (argc > 1 && argv[1][0] != '-')
		return fit_hub(argc, argv);
	struct fit_opts o = {0};
	struct budget_params p = {0};
	struct budget_calibration cal;
	int rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	if ((rc = to_params(&o, &p, &cal)) != 0)
		return rc;

	json_error_t jerr;
	json_t *cfg = json_load_file(o.config, 0, &jerr);
	if (!cfg) {
		if (jerr.line > 0)
			diag_print(stderr, "modelc: %s:%d:%d: error: %s\n", o.config, jerr.line, jerr.column,
			    jerr.text);
		else
			diag_print(stderr, "modelc: fit: %s: %s\n", o.config, jerr.text);
		return EXITCODE_SYSTEM;
	}
	struct budget_arch arch;
	struct hfconfig_info info;
	if (hfconfig_from_json(cfg, &arch, &info) != 0) {
		diag_print(stderr, "modelc: %s: error: config.json has no positive integer '%s'\n", o.config,
		    info.missing);
		json_decref(cfg);
		return EXITCODE_REJECTED;
	}
	json_decref(cfg);
	if (o.quant) {
		struct budget_quant q = *budget_quant_named(o.quant);
		if (info.quantized && strcmp(info.quant_method, o.quant) == 0) {
			/* The checkpoint's own format refines the built-in defaults. */
			if (info.quant_bits)
				q.bits = info.quant_bits;
			if (info.quant_group_size)
				q.group_size = info.quant_group_size;
		}
		p.weights_bytes = budget_weights_bytes(&arch, &q);
		p.weights_source = BUDGET_FORMULA;
	}
	struct budget_result r;
	budget_fit_checked(&arch, &p, &r);
	if (!p.max_model_len && r.max_model_len_fit) {
		/* auto: the KV one request of the chosen length needs, as for a given length. */
		struct budget_params chosen = p;
		budget_defaults(&chosen);
		r.kv_at_max_model_len = budget_kv_request_bytes(&arch, &chosen, r.max_model_len_fit);
	}
	json_t *out = fit_result_json(&r, o.vllm_version);
	json_object_set_new(out, "gpu_total_bytes", json_integer((json_int_t)p.gpu_total_bytes));
	return fit_print_json(out);
}

int
fit_print_json(json_t *out)
{
	int ok = json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(out);
	if (ok != 0 || fputc('\n', stdout) == EOF || fflush(stdout) != 0) {
		diag_print(stderr, "modelc: fit: cannot write the result: %s\n", strerror(errno));
		return EXITCODE_SYSTEM;
	}
	return EXITCODE_OK;
}
