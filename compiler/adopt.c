/*
 * modelc adopt's check of a quantized checkpoint directory: config.json's architecture and
 * quantization_config against the plan and the role's locked model, then the shards
 * (ckptdir), every quantized layer's tensors (tensorcheck) and the total size against the
 * budget's prediction.
 */
#include "adopt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"
#include "hfconfig.h"
#include "quantplan.h"

struct adopt_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const char *dir;
	struct adopt_result *r;
	json_t *ignore;                 /* modules_to_not_convert / ignore, borrowed from the config */
	bool symmetric;
};

/* A positive integer member, or 0. */
static uint32_t
get_u32(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > UINT32_MAX)
		return 0;
	return (uint32_t)json_integer_value(v);
}

static const char *
get_str(struct arena *a, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? arena_strdup(a, json_string_value(v)) : NULL;
}

static void
read_arch(struct adopt_ctx *x, json_t *cfg, const char *path)
{
	struct adopt_result *r = x->r;
	struct hfconfig_info info;
	memset(&r->arch, 0, sizeof r->arch);
	if (hfconfig_from_json(cfg, &r->arch, &info) != 0)
		diag_error(x->diag, diag_file(path), "'%s' is missing or not a positive integer", info.missing);
	else if (!r->arch.intermediate_size || !r->arch.vocab_size)
		diag_error(x->diag, diag_file(path), "'%s' is missing or not a positive integer",
		    !r->arch.intermediate_size ? "intermediate_size" : "vocab_size");
	r->architecture = info.architecture[0] ? arena_strdup(x->a, info.architecture) : NULL;
	r->model_type = info.model_type[0] ? arena_strdup(x->a, info.model_type) : NULL;
	r->torch_dtype = info.dtype[0] ? arena_strdup(x->a, info.dtype) : NULL;
	if (!r->arch.dtype_bytes)
		r->arch.dtype_bytes = 2;
}

/* The role's locked architecture must be the one in the directory: adopting another model is an error. */
static void
check_same_model(struct adopt_ctx *x, const struct adopt_expect *w, const char *path)
{
	if (!w->arch)
		return;
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{"num_hidden_layers", offsetof(struct budget_arch, layers)},
		{"num_attention_heads", offsetof(struct budget_arch, attention_heads)},
		{"num_key_value_heads", offsetof(struct budget_arch, kv_heads)},
		{"hidden_size", offsetof(struct budget_arch, hidden_size)},
		{"intermediate_size", offsetof(struct budget_arch, intermediate_size)},
		{"vocab_size", offsetof(struct budget_arch, vocab_size)},
	};
	const char *diffs = NULL;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		uint32_t want = *(const uint32_t *)((const char *)w->arch + fields[i].off);
		uint32_t have = *(const uint32_t *)((const char *)&x->r->arch + fields[i].off);
		if (want && have && want != have)
			diffs = arena_printf(x->a, "%s%s%s %u (not %u)", diffs ? diffs : "", diffs ? ", " : "",
			    fields[i].key, have, want);
	}
	if (diffs)
		diag_error(x->diag, diag_file(path), "not the role's model %s: %s",
		    w->arch_source ? w->arch_source : "in models.lock", diffs);
}

static uint32_t
json_u32_any(json_t *obj, const char *k1, const char *k2)
{
	uint32_t v = get_u32(obj, k1);
	return v || !k2 ? v : get_u32(obj, k2);
}

/* Read quantization_config into the result; false when it is unusable. */
static bool
read_quant(struct adopt_ctx *x, json_t *cfg, const char *path)
{
	struct adopt_result *r = x->r;
	json_t *q = json_object_get(cfg, "quantization_config");
	if (!json_is_object(q)) {
		diag_error(x->diag, diag_file(path), "has no quantization_config; '%s' is not a quantized checkpoint",
		    x->dir);
		return false;
	}
	char *text = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
	if (text) {
		r->quantization_config = arena_strdup(x->a, text);
		free(text);
	}
	const char *qm = get_str(x->a, q, "quant_method");
	if (!qm) {
		diag_error(x->diag, diag_file(path), "quantization_config has no quant_method");
		return false;
	}
	if (strcmp(qm, "awq") == 0) {
		const char *ver = get_str(x->a, q, "version");
		if (ver && strcasecmp(ver, "gemm") != 0) {
			diag_error(x->diag, diag_file(path),
			    "quantization_config.version '%s' is not supported; vLLM loads AWQ 'gemm' checkpoints", ver);
			return false;
		}
		r->format = TENSORCHECK_AWQ_GEMM;
		r->format_name = "AWQ GEMM";
		r->method = "awq";
		r->bits = json_u32_any(q, "bits", "w_bit");
		r->group_size = json_u32_any(q, "group_size", "q_group_size");
		r->zero_point = !json_is_false(json_object_get(q, "zero_point"));
		x->ignore = json_object_get(q, "modules_to_not_convert");
	} else if (strcmp(qm, "gptq") == 0) {
		r->format = TENSORCHECK_GPTQ;
		r->format_name = "GPTQ";
		r->method = "gptq";
		r->bits = get_u32(q, "bits");
		/* group_size -1 means one group per input row: per-channel. */
		json_t *g = json_object_get(q, "group_size");
		r->group_size = json_is_integer(g) && json_integer_value(g) > 0 ? (uint32_t)json_integer_value(g) : 0;
		r->zero_point = true;
	} else if (strcmp(qm, "compressed-tensors") == 0) {
		const char *fmt = get_str(x->a, q, "format");
		if (!fmt || strcmp(fmt, "pack-quantized") != 0) {
			diag_error(x->diag, diag_file(path),
			    "quantization_config.format '%s' is not supported; expected 'pack-quantized'",
			    fmt ? fmt : "(none)");
			return false;
		}
		r->format = TENSORCHECK_COMPRESSED;
		r->format_name = "compressed-tensors pack-quantized";
		json_t *groups = json_object_get(q, "config_groups");
		const char *gk;
		json_t *gv;
		json_t *weights = NULL;
		size_t ngroups = 0;
		if (json_is_object(groups))
			json_object_foreach(groups, gk, gv) {
				json_t *wv = json_object_get(gv, "weights");
				if (json_is_object(wv)) {
					weights = weights ? weights : wv;
					ngroups++;
				}
			}
		if (!weights) {
			diag_error(x->diag, diag_file(path),
			    "quantization_config.config_groups has no group with quantized weights");
			return false;
		}
		if (ngroups > 1) {
			diag_error(x->diag, diag_file(path),
			    "quantization_config.config_groups has %zu weight groups; only one is supported", ngroups);
			return false;
		}
		r->bits = get_u32(weights, "num_bits");
		r->group_size = get_u32(weights, "group_size");
		const char *strategy = get_str(x->a, weights, "strategy");
		if (strategy && strcmp(strategy, "group") != 0 && strcmp(strategy, "channel") != 0) {
			diag_error(x->diag, diag_file(path),
			    "quantization_config weights strategy '%s' is not supported; expected 'group' or 'channel'",
			    strategy);
			return false;
		}
		if (strategy && strcmp(strategy, "channel") == 0)
			r->group_size = 0;
		x->symmetric = !json_is_false(json_object_get(weights, "symmetric"));
		r->zero_point = !x->symmetric;
		r->method = r->zero_point ? "awq" : "gptq";
		x->ignore = json_object_get(q, "ignore");
	} else {
		diag_error(x->diag, diag_file(path),
		    "quantization_config.quant_method '%s' is not supported (awq, gptq, compressed-tensors)", qm);
		return false;
	}
	if (r->bits != 4 && r->bits != 8) {
		diag_error(x->diag, diag_file(path), "quantization_config: %u bits is not supported (4 or 8)", r->bits);
		return false;
	}
	return true;
}

/* Does the plan accept what the directory is? */
static void
check_plan(struct adopt_ctx *x, const struct adopt_expect *w, const char *path)
{
	const struct adopt_result *r = x->r;
	if (w->method) {
		bool ok = r->format == TENSORCHECK_COMPRESSED || strcmp(w->method, r->method) == 0;
		if (!ok)
			diag_error(x->diag, diag_file(path), "quantization_config.quant_method is '%s', the plan is %s",
			    r->method, w->method);
	}
	if (w->bits && r->bits != w->bits)
		diag_error(x->diag, diag_file(path), "quantization_config: bits is %u, the plan is %u", r->bits, w->bits);
	if (w->group_size && r->group_size != w->group_size)
		diag_error(x->diag, diag_file(path), "quantization_config: group_size is %u, the plan is %u",
		    r->group_size, w->group_size);
}

static void
check_size(struct adopt_ctx *x, const struct adopt_expect *w)
{
	struct adopt_result *r = x->r;
	struct budget_quant q = quantplan_quant(r->method, r->bits, r->group_size);
	q.zero_point = r->zero_point;
	r->predicted_bytes = budget_weights_bytes(&r->arch, &q);
	double tol = w->tolerance > 0 ? w->tolerance : 0.05;
	if (!r->predicted_bytes)
		return;
	double diff = ((double)r->tensor_bytes - (double)r->predicted_bytes) / (double)r->predicted_bytes;
	if (diff > tol || diff < -tol)
		diag_error(x->diag, diag_file(x->dir),
		    "tensors hold %llu bytes, %.1f%% %s the %llu predicted for %u-bit groups of %u; %.0f%% is allowed",
		    (unsigned long long)r->tensor_bytes, 100.0 * (diff < 0 ? -diff : diff), diff < 0 ? "below" : "above",
		    (unsigned long long)r->predicted_bytes, r->bits, r->group_size, 100.0 * tol);
}

int
adopt_check(struct arena *a, struct diag_sink *diag, const char *dir, const struct adopt_expect *want,
    struct adopt_result *out)
{
	memset(out, 0, sizeof *out);
	struct adopt_ctx x = {0};
	x.a = a;
	x.diag = diag;
	x.dir = dir;
	x.r = out;
	unsigned before = diag->errors;
	struct ckptdir d;
	if (!ckptdir_list(a, diag, dir, &d))
		return -1;
	const char *cfg_path = fileio_join(a, dir, "config.json");
	json_t *cfg = ckptdir_json(a, diag, cfg_path);
	if (!cfg)
		return -1;
	read_arch(&x, cfg, cfg_path);
	char *cfg_text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	if (cfg_text) {
		out->config_json = arena_strdup(a, cfg_text);
		free(cfg_text);
	}
	check_same_model(&x, want, cfg_path);
	bool quant_ok = read_quant(&x, cfg, cfg_path);
	if (quant_ok)
		check_plan(&x, want, cfg_path);
	bool shards_ok = ckptdir_read_shards(a, diag, &d);
	out->files = d.files;
	out->nfiles = d.nfiles;
	out->dtypes = d.dtypes;
	out->ndtypes = d.ndtypes;
	out->tensor_bytes = d.tensor_bytes;
	if (quant_ok && shards_ok && diag->errors == before) {
		struct tensorcheck tc = {out->format, out->format_name, out->bits, out->group_size, x.symmetric, x.ignore,
			out->model_type, &out->arch};
		out->quantized_linears = tensorcheck_run(a, diag, &d, &tc);
	}
	if (quant_ok && shards_ok && diag->errors == before)
		check_size(&x, want);
	json_decref(cfg);
	return diag->errors == before ? 0 : -1;
}

void
adopt_lock_model(struct arena *a, const char *dir, const struct adopt_result *r, struct lock_model *m)
{
	memset(m, 0, sizeof *m);
	m->key = arena_printf(a, "local:%s", dir);
	m->has_config = true;
	m->architecture = r->architecture;
	m->model_type = r->model_type;
	m->arch = r->arch;
	m->torch_dtype = r->torch_dtype;
	m->quantization_config = r->quantization_config;
	m->config_json = r->config_json;
	m->weights_bytes.known = true;
	m->weights_bytes.value = r->tensor_bytes;
	m->weights_source = "safetensors-headers";
	m->dtypes = arena_alloc(a, (r->ndtypes + 1) * sizeof *m->dtypes);
	for (size_t i = 0; i < r->ndtypes; i++)
		m->dtypes[m->ndtypes++] = r->dtypes[i];
	m->files = arena_alloc(a, (r->nfiles + 1) * sizeof *m->files);
	for (size_t i = 0; i < r->nfiles; i++) {
		struct lock_file *f = &m->files[m->nfiles++];
		f->path = r->files[i].name;
		f->size.known = true;
		f->size.value = r->files[i].size;
		f->lfs = -1;
		f->sha256 = r->files[i].sha256[0] ? arena_strdup(a, r->files[i].sha256) : NULL;
	}
	m->files_complete = true;
	m->sources = arena_alloc(a, 2 * sizeof *m->sources);
	m->sources[m->nsources++] = arena_printf(a,
	    "modelc adopt: config.json, safetensors headers and sha256 of every file in %s", dir);
}
