#include "tensorcheck.h"

#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "fileio.h"

struct tc_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct ckptdir *d;
	const struct tensorcheck *c;
	unsigned errors;                /* printed */
	unsigned hidden;                /* counted only */
	size_t quantized;
};

/* Is the module exempt from quantization by the config's ignore list? */
static bool
ignored(const struct tc_ctx *x, const char *module)
{
	if (!json_is_array(x->c->ignore))
		return false;
	size_t i;
	json_t *v;
	json_array_foreach(x->c->ignore, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		if (strncmp(s, "re:", 3) == 0) {
			regex_t re;
			char *anchored = arena_printf(x->a, "^(%s)", s + 3);
			if (regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) == 0) {
				bool m = regexec(&re, module, 0, NULL, 0) == 0;
				regfree(&re);
				if (m)
					return true;
			}
		} else if (x->c->format == TENSORCHECK_AWQ_GEMM ? strstr(module, s) != NULL : strcmp(module, s) == 0) {
			return true;
		}
	}
	return false;
}

/* One linear layer: its module name and its in/out features. */
struct linear {
	const char *name;
	uint64_t in, out;
};

static size_t
arch_linears(const char *model_type, const struct budget_arch *a, struct linear *l)
{
	uint64_t h = a->hidden_size, i = a->intermediate_size;
	uint64_t q = (uint64_t)a->attention_heads * a->head_dim, kv = (uint64_t)a->kv_heads * a->head_dim;
	if (!model_type)
		return 0;
	if (!strcmp(model_type, "llama") || !strcmp(model_type, "mistral") || !strcmp(model_type, "qwen2") ||
	    !strcmp(model_type, "qwen3")) {
		struct linear t[] = {{"self_attn.q_proj", h, q}, {"self_attn.k_proj", h, kv}, {"self_attn.v_proj", h, kv},
			{"self_attn.o_proj", q, h}, {"mlp.gate_proj", h, i}, {"mlp.up_proj", h, i}, {"mlp.down_proj", i, h}};
		memcpy(l, t, sizeof t);
		return sizeof t / sizeof t[0];
	}
	if (!strcmp(model_type, "phi3")) {
		struct linear t[] = {{"self_attn.qkv_proj", h, q + 2 * kv}, {"self_attn.o_proj", q, h},
			{"mlp.gate_up_proj", h, 2 * i}, {"mlp.down_proj", i, h}};
		memcpy(l, t, sizeof t);
		return sizeof t / sizeof t[0];
	}
	if (!strcmp(model_type, "starcoder2")) {
		struct linear t[] = {{"self_attn.q_proj", h, q}, {"self_attn.k_proj", h, kv}, {"self_attn.v_proj", h, kv},
			{"self_attn.o_proj", q, h}, {"mlp.c_fc", h, i}, {"mlp.c_proj", i, h}};
		memcpy(l, t, sizeof t);
		return sizeof t / sizeof t[0];
	}
	return 0;
}

static const char *
shape_str(struct arena *a, const uint64_t *shape, size_t n)
{
	char buf[256];
	size_t at = 0;
	at += (size_t)snprintf(buf + at, sizeof buf - at, "[");
	for (size_t i = 0; i < n && at < sizeof buf; i++)
		at += (size_t)snprintf(buf + at, sizeof buf - at, "%s%llu", i ? ", " : "", (unsigned long long)shape[i]);
	if (at < sizeof buf)
		snprintf(buf + at, sizeof buf - at, "]");
	return arena_strdup(a, buf);
}

/* A tensor a format requires, with the shape and dtypes it must have. */
struct want_tensor {
	const char *suffix;
	uint64_t shape[2];
	size_t ndim;
	const char *dtype;              /* the dtype, or two separated by '|' */
	bool optional;
};

static bool
dtype_ok(const char *want, const char *have)
{
	size_t n = strlen(have);
	for (const char *p = want; *p;) {
		size_t k = strcspn(p, "|");
		if (k == n && strncmp(p, have, n) == 0)
			return true;
		p += k;
		if (*p)
			p++;
	}
	return false;
}

/* Whether to print one more tensor problem; past the limit it is only counted. */
static bool
tensor_gate(struct tc_ctx *x)
{
	if (x->errors >= TENSORCHECK_MAX_ERRORS) {
		x->hidden++;
		x->diag->errors++;
		return false;
	}
	x->errors++;
	return true;
}

static uint64_t
cdiv(uint64_t x, uint64_t y)
{
	return (x + y - 1) / y;
}

static void
check_linear(struct tc_ctx *x, const char *module, const struct linear *l)
{
	const struct tensorcheck *r = x->c;
	uint64_t pack = 32 / r->bits;
	uint64_t groups = r->group_size ? l->in / r->group_size : 1;
	struct want_tensor w[5];
	size_t nw = 0;
	const char *needs = "";
	switch (r->format) {
	case TENSORCHECK_AWQ_GEMM:
		w[nw++] = (struct want_tensor){"qweight", {l->in, l->out / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"qzeros", {groups, l->out / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"scales", {groups, l->out}, 2, "F16", false};
		needs = "AWQ GEMM needs qweight, qzeros and scales for every quantized linear layer";
		break;
	case TENSORCHECK_GPTQ:
		w[nw++] = (struct want_tensor){"qweight", {l->in / pack, l->out}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"qzeros", {groups, l->out / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"scales", {groups, l->out}, 2, "F16", false};
		w[nw++] = (struct want_tensor){"g_idx", {l->in, 0}, 1, "I32", true};
		needs = "GPTQ needs qweight, qzeros and scales for every quantized linear layer";
		break;
	case TENSORCHECK_COMPRESSED:
	default:
		w[nw++] = (struct want_tensor){"weight_packed", {l->out, l->in / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"weight_scale", {l->out, groups}, 2, "F16|BF16", false};
		if (!r->symmetric)
			w[nw++] = (struct want_tensor){"weight_zero_point", {cdiv(l->out, pack), groups}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"weight_shape", {2, 0}, 1, "I64", true};
		w[nw++] = (struct want_tensor){"weight_g_idx", {l->in, 0}, 1, "I32", true};
		needs = r->symmetric ? "pack-quantized needs weight_packed and weight_scale for every quantized linear layer"
		    : "asymmetric pack-quantized needs weight_packed, weight_scale and weight_zero_point for every "
		      "quantized linear layer";
		break;
	}
	const char *first = arena_printf(x->a, "%s.%s", module, w[0].suffix);
	const struct ckptdir_tensor *anchor = ckptdir_tensor(x->d, first);
	if (!anchor) {
		const struct ckptdir_tensor *plain = ckptdir_tensor(x->d, arena_printf(x->a, "%s.weight", module));
		if (plain && ignored(x, module))
			return;
		if (!tensor_gate(x))
			return;
		if (plain)
			diag_error(x->diag, diag_file(plain->file), "tensor '%s' is %s: linear layer '%s' is not quantized "
			    "and not in the config's ignore list", plain->name, plain->t->dtype, module);
		else
			diag_error(x->diag, diag_file(x->d->index_path), "tensor '%s' is missing (%s)", first, needs);
		return;
	}
	x->quantized++;
	for (size_t i = 0; i < nw; i++) {
		const char *name = arena_printf(x->a, "%s.%s", module, w[i].suffix);
		const struct ckptdir_tensor *t = ckptdir_tensor(x->d, name);
		if (!t) {
			if (!w[i].optional && tensor_gate(x))
				diag_error(x->diag, diag_file(anchor->file), "tensor '%s' is missing (%s)", name, needs);
			continue;
		}
		const struct safetensors_tensor *st = t->t;
		bool shape_ok = st->ndim == w[i].ndim;
		for (size_t d = 0; shape_ok && d < w[i].ndim; d++)
			shape_ok = st->shape[d] == w[i].shape[d];
		if (!shape_ok && tensor_gate(x))
			diag_error(x->diag, diag_file(t->file),
			    "tensor '%s' has shape %s, expected %s (%s for in_features %llu, out_features %llu, %u bits, "
			    "group size %u)", name, shape_str(x->a, st->shape, st->ndim),
			    shape_str(x->a, w[i].shape, w[i].ndim), r->format_name, (unsigned long long)l->in,
			    (unsigned long long)l->out, r->bits, r->group_size);
		if (!dtype_ok(w[i].dtype, st->dtype) && tensor_gate(x))
			diag_error(x->diag, diag_file(t->file), "tensor '%s' has dtype %s, expected %s (%s)", name, st->dtype,
			    strcmp(w[i].dtype, "F16|BF16") == 0 ? "F16 or BF16" : w[i].dtype, r->format_name);
	}
}

size_t
tensorcheck_run(struct arena *a, struct diag_sink *diag, const struct ckptdir *d, const struct tensorcheck *r)
{
	struct tc_ctx ctx = {a, diag, d, r, 0, 0, 0}, *x = &ctx;
	struct linear l[8];
	size_t nl = arch_linears(r->model_type, r->arch, l);
	if (!nl) {
		diag_error(x->diag, diag_file(fileio_join(x->a, d->dir, "config.json")),
		    "model_type '%s' has no known layout of linear layers (llama, mistral, qwen2, qwen3, phi3, starcoder2)",
		    r->model_type ? r->model_type : "(none)");
		return 0;
	}
	for (uint32_t layer = 0; layer < r->arch->layers; layer++)
		for (size_t i = 0; i < nl; i++)
			check_linear(x, arena_printf(x->a, "model.layers.%u.%s", layer, l[i].name), &l[i]);
	if (x->hidden)
		diag_note(x->diag, diag_file(d->dir), "%u more tensor problems not shown", x->hidden);
	return x->quantized;
}
