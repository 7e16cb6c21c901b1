/*
 * modelc fit ORG/REPO[@REV] --gpu PROFILE|SIZE: the quick fit people know from hf-mem and
 * gguf-parser. config.json and the exact weight bytes come from the Hub as modelc lock reads
 * them (hubresolve); the server settings from the catalog when there is one, else vLLM's
 * defaults; the fit is the build's own (planparams_role, budget_fit_context). One line of
 * verdict, then what it used and the breakdown; --json prints modelc fit's JSON object.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "diag.h"
#include "emit_common.h"
#include "emit_report.h"
#include "exitcode.h"
#include "fit.h"
#include "frontend.h"
#include "gpuprofile.h"
#include "hfconfig.h"
#include "hubresolve.h"
#include "planparams.h"
#include "size.h"

struct fit_hub_opts {
	const char *repo;
	const char *revision;
	const char *gpu;
	const char *max_model_len;
	const char *quant;
	const char *kv_dtype;
	const char *catalog;
	bool catalog_given;
	bool json;
};

static int
hub_bad(const char *fmt, const char *arg)
{
	return cli_usage_error("fit", fit_usage, fmt, arg);
}

static int
parse(int argc, char **argv, struct arena *a, struct fit_hub_opts *o)
{
	memset(o, 0, sizeof *o);
	o->catalog = "models.yaml";
	const char *spec = argv[1];
	const char *at = strchr(spec, '@');
	o->repo = at ? arena_printf(a, "%.*s", (int)(at - spec), spec) : spec;
	o->revision = at ? at + 1 : "main";
	if (!*o->repo || !*o->revision)
		return hub_bad("'%s' is not ORG/REPO or ORG/REPO@REVISION", spec);
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		const char **slot = !strcmp(arg, "--gpu") ? &o->gpu
		    : !strcmp(arg, "--max-model-len") ? &o->max_model_len
		    : !strcmp(arg, "--quantization") ? &o->quant
		    : !strcmp(arg, "--kv-cache-dtype") ? &o->kv_dtype
		    : !strcmp(arg, "--catalog") ? &o->catalog : NULL;
		if (!strcmp(arg, "--json")) {
			o->json = true;
			continue;
		}
		if (!slot)
			return hub_bad("unknown argument '%s'", arg);
		if (!v)
			return hub_bad("option '%s' needs a value", arg);
		*slot = v;
		o->catalog_given |= slot == &o->catalog;
		i++;
	}
	if (!o->gpu)
		return hub_bad("missing %s", "--gpu PROFILE|SIZE");
	if (o->quant && !budget_quant_named(o->quant))
		return hub_bad("--quantization: '%s' is not one of awq, gptq, fp8, bitsandbytes, compressed-tensors, none",
		    o->quant);
	uint32_t kvb;
	if (o->kv_dtype && !budget_kv_dtype_bytes(o->kv_dtype, &kvb)) {
		/* As cmd_fit.c says it: the list is an argument, so the format stays a literal. */
		diag_print(stderr, "modelc: fit: --kv-cache-dtype: '%s' is not one of %s\n%s", o->kv_dtype,
		    BUDGET_KV_DTYPE_NAMES, fit_usage);
		return EXITCODE_USAGE;
	}
	return 0;
}

/* The GPU of --gpu into c: a size, or a profile of gpu-profiles.json. 0, or the exit code. */
static int
fit_gpu(struct arena *a, const struct fit_hub_opts *o, struct catalog *c, const char **said)
{
	uint64_t bytes;
	if (size_parse(o->gpu, &bytes) == 0 && bytes > 0) {
		c->gpu_profile = NULL;
		c->gpu_total_bytes = bytes;
		c->gpu_total_estimated = false;
		*said = arena_printf(a, "CUDA total %.2f GiB, as given (--gpu %s)", size_gib(bytes), o->gpu);
		return 0;
	}
	const char *dir = frontend_schema_dir(a, o->catalog);
	struct gpuprofile gp;
	const char *best, *known;
	int rc = dir ? gpuprofile_find(a, dir, o->gpu, &gp, &best, &known) : -1;
	if (rc < 0) {
		diag_print(stderr, "modelc: fit: cannot read gpu-profiles.json (looked in %s); set MODELC_SCHEMA_DIR\n",
		    frontend_schema_search(a, o->catalog));
		return EXITCODE_SYSTEM;
	}
	if (rc > 0) {
		if (best)
			diag_print(stderr, "modelc: fit: error: --gpu: '%s' is neither a size (8GiB, 8192MiB) nor a "
			    "known GPU profile (did you mean '%s'?); known profiles: %s\n", o->gpu, best, known);
		else
			diag_print(stderr, "modelc: fit: error: --gpu: '%s' is neither a size (8GiB, 8192MiB) nor a "
			    "known GPU profile; known profiles: %s\n", o->gpu, known);
		return EXITCODE_USAGE;
	}
	c->gpu_profile = gp.name;
	c->gpu_total_bytes = gp.cuda_total_bytes;
	c->gpu_total_estimated = gp.estimated;
	*said = arena_printf(a, "CUDA total %.2f GiB from profile %s (%s)%s", size_gib(gp.cuda_total_bytes), gp.name,
	    gp.description, gp.estimated ? ", estimated from the card's nominal size; give --gpu SIZE with your "
	    "card's CUDA total ('switch gpu' measures it) for an exact answer" : ", measured");
	return 0;
}

/* The catalog whose server settings the fit takes, or vLLM's defaults; *from says which. */
static int
fit_settings(struct arena *a, const struct fit_hub_opts *o, struct catalog *c, const char **from)
{
	memset(c, 0, sizeof *c);
	if (o->catalog_given || access(o->catalog, F_OK) == 0) {
		struct diag_sink d;
		diag_init(&d, stderr, "modelc");
		int rc = frontend_load(a, &d, o->catalog, NULL, c);
		if (rc != EXITCODE_OK)
			return rc;
		*from = arena_printf(a, "server settings of %s", o->catalog);
		c->nroles = 0;
		return 0;
	}
	c->gpu_memory_utilization = 0.9;
	c->safety_margin_bytes = 256 * SIZE_MIB;
	c->engine = BUDGET_ENGINE_V1;
	c->generation = BUDGET_GEN_NEWEST;
	*from = "vLLM's defaults (no models.yaml here; --catalog FILE takes a catalog's)";
	return 0;
}

/* The weight format: --quantization, else the checkpoint's own, else none (16-bit). */
static const char *
fit_quant(const struct fit_hub_opts *o, const struct hfconfig_info *info)
{
	if (o->quant)
		return o->quant;
	if (info->quantized && budget_quant_named(info->quant_method))
		return info->quant_method;
	return "none";
}

static void
row(const char *term, uint64_t bytes, const char *note)
{
	printf("  %-20s %9.2f GiB  %s\n", term, size_gib(bytes), note);
}

static void
print_human(const struct fit_hub_opts *o, const struct lock_model *m, const struct catalog *c,
    const struct catalog_role *role, const struct budget_params *used, const struct budget_result *r,
    const char *gpu_said, const char *from, uint32_t cap, uint32_t mem_fit)
{
	char gpu[160];
	if (c->gpu_profile)
		snprintf(gpu, sizeof gpu, "%s", c->gpu_profile);
	else
		snprintf(gpu, sizeof gpu, "a GPU of %s", o->gpu);
	if (r->fits)
		printf("%s@%s fits %s at max_model_len %u", o->repo, o->revision, gpu, used->max_model_len);
	else if (r->max_model_len_fit)
		printf("%s@%s does not fit %s at max_model_len %u; the largest that fits is %u", o->repo, o->revision,
		    gpu, used->max_model_len, r->max_model_len_fit);
	else
		printf("%s@%s does not fit %s at any context", o->repo, o->revision, gpu);
	if (r->fits && role->max_model_len_auto)
		printf(" (auto: %s)", cap && mem_fit >= cap
		    ? "the model's own limit decides; more would fit" : "memory decides");
	printf("\n  model: quantization %s, commit %s; weights %s\n", role->quantization,
	    m->commit ? m->commit : "?", r->weights_source == BUDGET_EXACT ? "exact (the safetensors headers)"
	    : "computed from the architecture for this quantization");
	printf("  GPU: %s; %.2f GiB in use by others\n", gpu_said, size_gib(c->gpu_used_bytes));
	printf("  server: %s: utilization %.2f%s, max_num_seqs %u, max_num_batched_tokens %u, engine %s%s\n", from,
	    r->utilization, r->utilization_lowered ? " (lowered)" : "", r->max_num_seqs, r->max_num_batched_tokens,
	    emit_engine_name(used->engine), used->enforce_eager ? ", enforce_eager" : "");
	if (cap)
		printf("  context: the model's limit is %u; memory allows %u\n", cap, mem_fit);
	row("weights", r->weights_bytes, emit_source_name(r->weights_source));
	row("activation peak", r->activation_bytes, emit_source_name(r->activation_source));
	row("non-torch memory", r->non_torch_bytes, emit_source_name(r->non_torch_source));
	row("CUDA graphs", r->cuda_graph_bytes, emit_source_name(r->cuda_graph_source));
	row("CUDA context", r->cuda_context_bytes, "outside the budget; estimated");
	row("budget", r->budget_bytes, "CUDA total x utilization");
	row("KV cache", r->kv_cache_bytes, "what vLLM allocates");
	char note[192];
	row("safety margin", r->safety_margin_bytes, emit_margin_note(note, sizeof note, r));
	row("physical peak", r->peak_bytes, r->peak_bytes <= c->gpu_total_bytes ? "within the CUDA total"
	    : "OVER the CUDA total");
	printf("  %-20s %9llu B    %llu tokens in the KV cache\n", "KV per token",
	    (unsigned long long)r->kv_bytes_per_token, (unsigned long long)r->kv_tokens);
}

int
fit_hub(int argc, char **argv)
{
	struct arena a = {0};
	struct fit_hub_opts o;
	int rc = parse(argc, argv, &a, &o);
	struct catalog c;
	const char *from = NULL, *gpu_said = NULL;
	if (rc || (rc = fit_settings(&a, &o, &c, &from)) || (rc = fit_gpu(&a, &o, &c, &gpu_said))) {
		arena_free(&a);
		return rc;
	}
	char err[3 * HUB_URL_MAX];
	struct hub hub;
	if (hub_open(&hub, err, sizeof err)) {
		diag_print(stderr, "modelc: fit: %s\n", err);
		arena_free(&a);
		return EXITCODE_SYSTEM;
	}
	struct lock_model m;
	rc = hub.offline ? -1 : hubresolve_model(&hub, &a, o.repo, o.revision, &m, NULL, err, sizeof err);
	hub_close(&hub);
	if (rc < 0) {
		diag_print(stderr, "modelc: fit: HF_HUB_OFFLINE is set, and 'modelc fit %s' must ask the Hub; unset it, "
		    "or use --config PATH with a config.json on disk\n", argv[1]);
		arena_free(&a);
		return EXITCODE_REJECTED;
	}
	if (rc) {
		diag_print(stderr, "modelc: fit: error: %s@%s: %s\n", o.repo, o.revision, err);
		arena_free(&a);
		return rc;
	}
	json_t *cfg = m.config_json ? json_loads(m.config_json, 0, NULL) : NULL;
	struct hfconfig_info info;
	struct budget_arch arch;
	int bad = !cfg || hfconfig_from_json(cfg, &arch, &info) != 0;
	json_decref(cfg);
	if (bad) {
		diag_print(stderr, "modelc: fit: error: %s@%s: config.json %s; the budget needs num_hidden_layers, "
		    "num_attention_heads, num_key_value_heads and hidden_size\n", o.repo, o.revision,
		    m.config_json ? "lacks a number" : "is missing");
		arena_free(&a);
		return EXITCODE_REJECTED;
	}
	struct catalog_role role = {.name = "fit", .repo = o.repo, .revision = o.revision};
	role.quantization = fit_quant(&o, &info);
	role.kv_cache_dtype = o.kv_dtype;
	if (!o.max_model_len || !strcmp(o.max_model_len, "auto"))
		role.max_model_len_auto = true;
	else if (cli_parse_u32(o.max_model_len, UINT32_MAX, &role.max_model_len) != 0) {
		arena_free(&a);
		return hub_bad("--max-model-len: '%s' is not a positive integer or 'auto'", o.max_model_len);
	}
	const struct budget_quant *q = budget_quant_named(role.quantization);
	bool in_flight = !info.quantized && (!strcmp(role.quantization, "bitsandbytes") || !strcmp(role.quantization, "fp8"));
	if (!arch.dtype_bytes)
		arch.dtype_bytes = !strcmp(role.quantization, "awq") ? 2 : hfconfig_dtype_bytes(info.dtype);
	if (!arch.dtype_bytes)
		arch.dtype_bytes = 2;
	struct budget_params p, used;
	struct diag_sink d;
	diag_init(&d, stderr, "modelc");
	planparams_role(&c, &role, &p, &d);
	if (m.weights_bytes.known && !in_flight) {
		p.weights_bytes = m.weights_bytes.value;
		p.weights_source = BUDGET_EXACT;
	} else {
		p.weights_bytes = budget_weights_bytes(&arch, q);
		p.weights_source = BUDGET_FORMULA;
	}
	uint32_t cap = arch.max_position_embeddings;
	/* What memory alone allows, past the model's limit: which bound decides. */
	uint32_t mem_fit = planparams_memory_len(&arch, &p);
	p.max_model_len = planparams_len(&role, &arch);
	struct budget_result r;
	budget_fit_context_checked(&arch, &p, planparams_min_len(&role), &r, &used);
	/* Not fitting in 16 bits: what a 4-bit AWQ checkpoint of the same model would fit. */
	uint32_t awq_fit = 0;
	if (!r.fits && q && q->bits > 4) {
		struct budget_params q4 = p;
		q4.weights_bytes = budget_weights_bytes(&arch, budget_quant_named("awq"));
		q4.weights_source = BUDGET_FORMULA;
		awq_fit = planparams_memory_len(&arch, &q4);
		if (cap && awq_fit > cap)
			awq_fit = cap;
	}
	if (o.json) {
		json_t *out = fit_result_json(&r, c.vllm_version);
		json_object_set_new(out, "gpu_total_bytes", json_integer((json_int_t)c.gpu_total_bytes));
		rc = fit_print_json(out);
	} else {
		print_human(&o, &m, &c, &role, &used, &r, gpu_said, from, cap, mem_fit);
		if (awq_fit)
			printf("  a 4-bit AWQ checkpoint of this model would fit %u tokens (--quantization awq; 'modelc add' "
			    "then 'modelc quantize ROLE' makes one)\n", awq_fit);
	}
	arena_free(&a);
	return rc;
}
