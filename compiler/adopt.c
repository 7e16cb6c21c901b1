#include "adopt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hfconfig.h"
#include "quantplan.h"
#include "safetensors.h"

/* Tensor problems past this many are counted, not printed, so one bad setting stays readable. */
enum { ADOPT_MAX_TENSOR_ERRORS = 20, ADOPT_HASH_CHUNK = 1 << 20 };

/* A tensor and the shard that holds it. */
struct adopt_tensor {
	const char *name;
	const struct safetensors_tensor *t;
	const char *file;               /* path for messages: DIR/shard */
};

struct adopt_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const char *dir;
	struct adopt_result *r;
	struct adopt_tensor *tensors;
	size_t ntensors;
	const char *index_path;         /* DIR/model.safetensors.index.json or DIR/model.safetensors */
	json_t *ignore;                 /* modules_to_not_convert / ignore, borrowed from the config */
	bool symmetric;
	unsigned tensor_errors;
	unsigned tensor_errors_hidden;
};

static json_t *
load_json(struct adopt_ctx *x, const char *path)
{
	size_t len;
	char *text = fileio_read_all(x->a, path, ADOPT_MAX_CONFIG_BYTES, 0, &len);
	if (!text) {
		diag_error(x->diag, diag_file(path), "cannot read: %s", strerror(errno));
		return NULL;
	}
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		struct diag_pos pos = {path, (unsigned)je.line, (unsigned)je.column};
		diag_error(x->diag, pos, "not valid JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		diag_error(x->diag, diag_file(path), "not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

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
		r->format = ADOPT_AWQ_GEMM;
		r->format_name = "AWQ GEMM";
		r->method = "awq";
		r->bits = json_u32_any(q, "bits", "w_bit");
		r->group_size = json_u32_any(q, "group_size", "q_group_size");
		r->zero_point = !json_is_false(json_object_get(q, "zero_point"));
		x->ignore = json_object_get(q, "modules_to_not_convert");
	} else if (strcmp(qm, "gptq") == 0) {
		r->format = ADOPT_GPTQ;
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
		r->format = ADOPT_COMPRESSED;
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
		bool ok = r->format == ADOPT_COMPRESSED || strcmp(w->method, r->method) == 0;
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

static int
cmp_tensor_name(const void *p, const void *q)
{
	return strcmp(((const struct adopt_tensor *)p)->name, ((const struct adopt_tensor *)q)->name);
}

static const struct adopt_tensor *
find_tensor(const struct adopt_ctx *x, const char *name)
{
	struct adopt_tensor key = {name, NULL, NULL};
	return bsearch(&key, x->tensors, x->ntensors, sizeof key, cmp_tensor_name);
}

/* Read and check one shard's header; adds its tensors to x. NULL when unusable. */
static const struct safetensors_header *
read_shard(struct adopt_ctx *x, const char *name)
{
	const char *path = fileio_join(x->a, x->dir, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		diag_error(x->diag, diag_file(path), "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	char err[256];
	unsigned char prefix[SAFETENSORS_PREFIX];
	uint64_t n;
	struct safetensors_header *h = NULL;
	ssize_t got = fstat(fd, &st) == 0 ? pread(fd, prefix, sizeof prefix, 0) : -1;
	if (got < 0) {
		diag_error(x->diag, diag_file(path), "cannot read: %s", strerror(errno));
		goto out;
	}
	if (safetensors_header_len(prefix, (size_t)got, &n, err, sizeof err) != 0) {
		diag_error(x->diag, diag_file(path), "%s", err);
		goto out;
	}
	if ((uint64_t)st.st_size < SAFETENSORS_PREFIX + n) {
		diag_error(x->diag, diag_file(path), "truncated: file has %llu bytes, its header alone needs %llu",
		    (unsigned long long)st.st_size, (unsigned long long)(SAFETENSORS_PREFIX + n));
		goto out;
	}
	char *buf = arena_alloc(x->a, SAFETENSORS_PREFIX + n + 1);
	size_t have = 0;
	while (have < SAFETENSORS_PREFIX + n) {
		ssize_t k = pread(fd, buf + have, SAFETENSORS_PREFIX + n - have, (off_t)have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			diag_error(x->diag, diag_file(path), "cannot read: %s", k < 0 ? strerror(errno) : "short read");
			goto out;
		}
		have += (size_t)k;
	}
	h = arena_alloc(x->a, sizeof *h);
	if (safetensors_parse(buf, have, x->a, h, err, sizeof err) != 0) {
		diag_error(x->diag, diag_file(path), "%s", err);
		h = NULL;
		goto out;
	}
	if (safetensors_check_file_size(h, (uint64_t)st.st_size, err, sizeof err) != 0) {
		diag_error(x->diag, diag_file(path), "%s%s", (uint64_t)st.st_size < h->data_offset + h->data_bytes
		    ? "truncated: " : "", err);
		h = NULL;
		goto out;
	}
out:
	close(fd);
	return h;
}

/* Add a file that belongs to the checkpoint to the result's list. */
static void
add_file(struct adopt_ctx *x, const char *name, uint64_t size)
{
	struct adopt_result *r = x->r;
	for (size_t i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].name, name) == 0)
			return;
	struct adopt_file *f = &r->files[r->nfiles++];
	f->name = arena_strdup(x->a, name);
	f->size = size;
	f->sha256[0] = '\0';
}

static int
cmp_file(const void *p, const void *q)
{
	return strcmp(((const struct adopt_file *)p)->name, ((const struct adopt_file *)q)->name);
}

/* Every regular file at the top of dir (no dot files): what serving the directory reads. */
static bool
list_files(struct adopt_ctx *x)
{
	DIR *d = opendir(x->dir);
	if (!d) {
		diag_error(x->diag, diag_file(x->dir), "cannot open directory: %s", strerror(errno));
		return false;
	}
	size_t cap = 16;
	x->r->files = arena_alloc(x->a, cap * sizeof *x->r->files);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		if (stat(fileio_join(x->a, x->dir, e->d_name), &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (x->r->nfiles == cap) {
			struct adopt_file *nf = arena_alloc(x->a, 2 * cap * sizeof *nf);
			memcpy(nf, x->r->files, cap * sizeof *nf);
			x->r->files = nf;
			cap *= 2;
		}
		add_file(x, e->d_name, (uint64_t)st.st_size);
	}
	closedir(d);
	qsort(x->r->files, x->r->nfiles, sizeof *x->r->files, cmp_file);
	return true;
}

static bool
has_file(const struct adopt_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->r->nfiles; i++)
		if (strcmp(x->r->files[i].name, name) == 0)
			return true;
	return false;
}

/* Shards from the index (checked against it) or the single model.safetensors. */
static bool
read_shards(struct adopt_ctx *x)
{
	const char **shards = NULL;
	size_t nshards = 0;
	bool missing = false;
	json_t *map = NULL, *index = NULL;
	if (has_file(x, "model.safetensors.index.json")) {
		x->index_path = fileio_join(x->a, x->dir, "model.safetensors.index.json");
		index = load_json(x, x->index_path);
		if (!index)
			return false;
		map = json_object_get(index, "weight_map");
		if (!json_is_object(map) || json_object_size(map) == 0) {
			diag_error(x->diag, diag_file(x->index_path), "has no weight_map object");
			json_decref(index);
			return false;
		}
		shards = arena_alloc(x->a, json_object_size(map) * sizeof *shards);
		size_t *counts = arena_alloc(x->a, json_object_size(map) * sizeof *counts);
		const char *k;
		json_t *v;
		json_object_foreach(map, k, v) {
			if (!json_is_string(v)) {
				diag_error(x->diag, diag_file(x->index_path), "weight_map entry for '%s' is not a string", k);
				continue;
			}
			const char *s = json_string_value(v);
			size_t i = 0;
			while (i < nshards && strcmp(shards[i], s) != 0)
				i++;
			if (i == nshards)
				shards[nshards++] = arena_strdup(x->a, s);
			counts[i]++;
		}
		/* Keep the shards that exist; name each missing one once. */
		size_t kept = 0;
		for (size_t i = 0; i < nshards; i++) {
			if (strchr(shards[i], '/') || shards[i][0] == '.')
				diag_error(x->diag, diag_file(x->index_path), "shard '%s' is not a file name in the directory",
				    shards[i]);
			else if (!has_file(x, shards[i]))
				diag_error(x->diag, diag_file(x->index_path), "shard '%s' does not exist (%zu tensors are mapped to it)",
				    shards[i], counts[i]);
			else {
				shards[kept++] = shards[i];
				continue;
			}
			missing = true;
		}
		nshards = kept;
	} else if (has_file(x, "model.safetensors")) {
		x->index_path = fileio_join(x->a, x->dir, "model.safetensors");
		shards = arena_alloc(x->a, sizeof *shards);
		shards[nshards++] = "model.safetensors";
	} else {
		diag_error(x->diag, diag_file(x->dir), "has neither model.safetensors nor model.safetensors.index.json");
		return false;
	}

	const struct safetensors_header **hs = arena_alloc(x->a, (nshards + 1) * sizeof *hs);
	size_t total = 0;
	bool ok = !missing;
	for (size_t i = 0; i < nshards; i++) {
		hs[i] = read_shard(x, shards[i]);
		if (!hs[i])
			ok = false;
		else
			total += hs[i]->ntensors;
	}
	x->tensors = arena_alloc(x->a, (total + 1) * sizeof *x->tensors);
	size_t ndt = 0;
	x->r->dtypes = arena_alloc(x->a, 32 * sizeof *x->r->dtypes);
	for (size_t i = 0; i < nshards; i++) {
		if (!hs[i])
			continue;
		const char *path = fileio_join(x->a, x->dir, shards[i]);
		for (size_t j = 0; j < hs[i]->ntensors; j++) {
			struct adopt_tensor *t = &x->tensors[x->ntensors++];
			t->name = hs[i]->tensors[j].name;
			t->t = &hs[i]->tensors[j];
			t->file = path;
		}
		for (size_t j = 0; j < hs[i]->ndtypes; j++) {
			size_t k = 0;
			while (k < ndt && strcmp(x->r->dtypes[k].dtype, hs[i]->dtypes[j].dtype))
				k++;
			if (k == ndt && ndt < 32)
				x->r->dtypes[ndt++].dtype = hs[i]->dtypes[j].dtype;
			if (k < 32)
				x->r->dtypes[k].bytes += hs[i]->dtypes[j].bytes;
		}
		x->r->tensor_bytes += hs[i]->data_bytes;
	}
	x->r->ndtypes = ndt;
	qsort(x->tensors, x->ntensors, sizeof *x->tensors, cmp_tensor_name);
	for (size_t i = 1; i < x->ntensors; i++)
		if (strcmp(x->tensors[i - 1].name, x->tensors[i].name) == 0) {
			diag_error(x->diag, diag_file(x->tensors[i].file), "tensor '%s' is also in %s", x->tensors[i].name,
			    x->tensors[i - 1].file);
			ok = false;
		}
	if (map && ok) {
		const char *k;
		json_t *v;
		json_object_foreach(map, k, v) {
			const struct adopt_tensor *t = find_tensor(x, k);
			const char *want = json_string_value(v);
			if (!want)
				continue;
			if (!t)
				diag_error(x->diag, diag_file(fileio_join(x->a, x->dir, want)),
				    "tensor '%s' is listed here by the index but the shard does not hold it", k);
			else if (strcmp(t->file, fileio_join(x->a, x->dir, want)) != 0)
				diag_error(x->diag, diag_file(t->file), "tensor '%s' is here, the index says it is in %s", k, want);
		}
	}
	if (index)
		json_decref(index);
	return ok;
}

/* Is the module exempt from quantization by the config's ignore list? */
static bool
ignored(const struct adopt_ctx *x, const char *module)
{
	if (!json_is_array(x->ignore))
		return false;
	size_t i;
	json_t *v;
	json_array_foreach(x->ignore, i, v) {
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
		} else if (x->r->format == ADOPT_AWQ_GEMM ? strstr(module, s) != NULL : strcmp(module, s) == 0) {
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
tensor_gate(struct adopt_ctx *x)
{
	if (x->tensor_errors >= ADOPT_MAX_TENSOR_ERRORS) {
		x->tensor_errors_hidden++;
		x->diag->errors++;
		return false;
	}
	x->tensor_errors++;
	return true;
}

static uint64_t
cdiv(uint64_t x, uint64_t y)
{
	return (x + y - 1) / y;
}

static void
check_linear(struct adopt_ctx *x, const char *module, const struct linear *l)
{
	const struct adopt_result *r = x->r;
	uint64_t pack = 32 / r->bits;
	uint64_t groups = r->group_size ? l->in / r->group_size : 1;
	struct want_tensor w[5];
	size_t nw = 0;
	const char *needs = "";
	switch (r->format) {
	case ADOPT_AWQ_GEMM:
		w[nw++] = (struct want_tensor){"qweight", {l->in, l->out / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"qzeros", {groups, l->out / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"scales", {groups, l->out}, 2, "F16", false};
		needs = "AWQ GEMM needs qweight, qzeros and scales for every quantized linear layer";
		break;
	case ADOPT_GPTQ:
		w[nw++] = (struct want_tensor){"qweight", {l->in / pack, l->out}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"qzeros", {groups, l->out / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"scales", {groups, l->out}, 2, "F16", false};
		w[nw++] = (struct want_tensor){"g_idx", {l->in, 0}, 1, "I32", true};
		needs = "GPTQ needs qweight, qzeros and scales for every quantized linear layer";
		break;
	case ADOPT_COMPRESSED:
		w[nw++] = (struct want_tensor){"weight_packed", {l->out, l->in / pack}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"weight_scale", {l->out, groups}, 2, "F16|BF16", false};
		if (!x->symmetric)
			w[nw++] = (struct want_tensor){"weight_zero_point", {cdiv(l->out, pack), groups}, 2, "I32", false};
		w[nw++] = (struct want_tensor){"weight_shape", {2, 0}, 1, "I64", true};
		w[nw++] = (struct want_tensor){"weight_g_idx", {l->in, 0}, 1, "I32", true};
		needs = x->symmetric ? "pack-quantized needs weight_packed and weight_scale for every quantized linear layer"
		    : "asymmetric pack-quantized needs weight_packed, weight_scale and weight_zero_point for every "
		      "quantized linear layer";
		break;
	}
	const char *first = arena_printf(x->a, "%s.%s", module, w[0].suffix);
	const struct adopt_tensor *anchor = find_tensor(x, first);
	if (!anchor) {
		const struct adopt_tensor *plain = find_tensor(x, arena_printf(x->a, "%s.weight", module));
		if (plain && ignored(x, module))
			return;
		if (!tensor_gate(x))
			return;
		if (plain)
			diag_error(x->diag, diag_file(plain->file), "tensor '%s' is %s: linear layer '%s' is not quantized "
			    "and not in the config's ignore list", plain->name, plain->t->dtype, module);
		else
			diag_error(x->diag, diag_file(x->index_path), "tensor '%s' is missing (%s)", first, needs);
		return;
	}
	x->r->quantized_linears++;
	for (size_t i = 0; i < nw; i++) {
		const char *name = arena_printf(x->a, "%s.%s", module, w[i].suffix);
		const struct adopt_tensor *t = find_tensor(x, name);
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

static void
check_tensors(struct adopt_ctx *x)
{
	const struct adopt_result *r = x->r;
	struct linear l[8];
	size_t nl = arch_linears(r->model_type, &r->arch, l);
	if (!nl) {
		diag_error(x->diag, diag_file(fileio_join(x->a, x->dir, "config.json")),
		    "model_type '%s' has no known layout of linear layers (llama, mistral, qwen2, qwen3, phi3, starcoder2)",
		    r->model_type ? r->model_type : "(none)");
		return;
	}
	for (uint32_t layer = 0; layer < r->arch.layers; layer++)
		for (size_t i = 0; i < nl; i++)
			check_linear(x, arena_printf(x->a, "model.layers.%u.%s", layer, l[i].name), &l[i]);
	if (x->tensor_errors_hidden)
		diag_note(x->diag, diag_file(x->dir), "%u more tensor problems not shown", x->tensor_errors_hidden);
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
	if (!list_files(&x))
		return -1;
	const char *cfg_path = fileio_join(a, dir, "config.json");
	json_t *cfg = load_json(&x, cfg_path);
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
	bool shards_ok = read_shards(&x);
	if (quant_ok && shards_ok && diag->errors == before)
		check_tensors(&x);
	if (quant_ok && shards_ok && diag->errors == before)
		check_size(&x, want);
	json_decref(cfg);
	return diag->errors == before ? 0 : -1;
}

int
adopt_hash_files(const char *dir, struct adopt_result *r, size_t *failed)
{
	unsigned char *buf = malloc(ADOPT_HASH_CHUNK);
	if (!buf)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < r->nfiles && rc == 0; i++) {
		size_t n = strlen(dir);
		char *path = malloc(n + strlen(r->files[i].name) + 2);
		if (!path) {
			rc = -1;
			break;
		}
		sprintf(path, "%s%s%s", dir, n && dir[n - 1] == '/' ? "" : "/", r->files[i].name);
		int fd = open(path, O_RDONLY);
		free(path);
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		if (fd < 0 || !md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
			rc = -1;
		} else {
			for (;;) {
				ssize_t k = read(fd, buf, ADOPT_HASH_CHUNK);
				if (k < 0 && errno == EINTR)
					continue;
				if (k < 0) {
					rc = -1;
					break;
				}
				if (k == 0)
					break;
				EVP_DigestUpdate(md, buf, (size_t)k);
			}
			unsigned char d[32];
			unsigned dl = 0;
			if (rc == 0 && EVP_DigestFinal_ex(md, d, &dl) == 1)
				for (unsigned j = 0; j < dl; j++)
					sprintf(r->files[i].sha256 + 2 * j, "%02x", d[j]);
		}
		int e = errno;
		if (fd >= 0)
			close(fd);
		EVP_MD_CTX_free(md);
		if (rc) {
			*failed = i;
			errno = e;
		}
	}
	free(buf);
	return rc;
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

static int
cmp_model(const void *p, const void *q)
{
	return strcmp(((const struct lock_model *)p)->key, ((const struct lock_model *)q)->key);
}

struct lock
adopt_lock_merge(struct arena *a, const struct lock *l, const struct lock_model *m)
{
	struct lock out = {0};
	out.path = l ? l->path : NULL;
	size_t n = l ? l->nmodels : 0;
	out.models = arena_alloc(a, (n + 1) * sizeof *out.models);
	bool replaced = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(l->models[i].key, m->key) == 0) {
			out.models[out.nmodels++] = *m;
			replaced = true;
		} else {
			out.models[out.nmodels++] = l->models[i];
		}
	}
	if (!replaced)
		out.models[out.nmodels++] = *m;
	qsort(out.models, out.nmodels, sizeof *out.models, cmp_model);
	return out;
}

/* Byte offset of the start of 1-based line, or (size_t)-1. */
static size_t
line_start(const char *text, size_t len, unsigned line)
{
	size_t off = 0;
	for (unsigned n = 1; n < line; n++) {
		const char *nl = memchr(text + off, '\n', len - off);
		if (!nl)
			return (size_t)-1;
		off = (size_t)(nl - text) + 1;
	}
	return off;
}

static size_t
line_end(const char *text, size_t len, size_t off)
{
	const char *nl = memchr(text + off, '\n', len - off);
	return nl ? (size_t)(nl - text) : len;
}

/* A YAML string scalar: plain when nothing in it means anything to YAML, else single-quoted. */
static char *
yaml_scalar(struct arena *a, const char *v)
{
	/* A plain scalar that YAML would read as null, a boolean or a number must be quoted. */
	static const char *const special[] = {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False",
		"FALSE", NULL};
	bool plain = v[0] == '/' || (v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z');
	for (size_t i = 0; special[i] && plain; i++)
		plain = strcmp(v, special[i]) != 0;
	for (const char *p = v; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._+-@", *p);
	if (plain)
		return arena_strdup(a, v);
	size_t n = 2;
	for (const char *p = v; *p; p++)
		n += *p == '\'' ? 2 : 1;
	char *s = arena_alloc(a, n + 1), *o = s;
	*o++ = '\'';
	for (const char *p = v; *p; p++) {
		if (*p == '\'')
			*o++ = '\'';
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return s;
}

/* The end of the scalar value that starts at off on its line; (size_t)-1 when it does not end there. */
static size_t
value_end(const char *text, size_t off, size_t eol)
{
	if (off >= eol)
		return off;
	char q = text[off];
	if (q == '\'' || q == '"') {
		for (size_t i = off + 1; i < eol; i++) {
			if (q == '"' && text[i] == '\\') {
				i++;
				continue;
			}
			if (text[i] == q) {
				if (q == '\'' && i + 1 < eol && text[i + 1] == '\'') {
					i++;
					continue;
				}
				return i + 1;
			}
		}
		return (size_t)-1;
	}
	if (q == '|' || q == '>' || q == '[' || q == '{' || q == '&' || q == '*' || q == '!')
		return (size_t)-1;
	if (q == '#')
		return off;
	size_t end = off;
	for (size_t i = off; i < eol; i++) {
		if (text[i] == '#' && i > off && (text[i - 1] == ' ' || text[i - 1] == '\t'))
			break;
		/* A CRLF file's '\r' belongs to the line end, not to the value. */
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
			end = i + 1;
	}
	return end;
}

/* Is the line after the one ending at eol a continuation of a value (more indented than col)? */
static bool
continues(const char *text, size_t len, size_t eol, unsigned key_col)
{
	size_t off = eol + 1;
	while (off < len) {
		size_t e = line_end(text, len, off);
		size_t i = off;
		while (i < e && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i == e || text[i] == '#') {
			off = e + 1;
			continue;
		}
		return i - off + 1 > key_col;
	}
	return false;
}

static char *
splice(struct arena *a, const char *text, size_t len, size_t from, size_t to, const char *ins, size_t *out_len)
{
	size_t n = strlen(ins);
	char *s = arena_alloc(a, len - (to - from) + n + 1);
	memcpy(s, text, from);
	memcpy(s + from, ins, n);
	memcpy(s + from + n, text + to, len - to);
	*out_len = len - (to - from) + n;
	s[*out_len] = '\0';
	return s;
}

char *
adopt_yaml_set(struct arena *a, const char *text, size_t len, const struct ynode *role, const char *key,
    const char *value, size_t *out_len, const char **why)
{
	*why = NULL;
	if (strchr(value, '\n') || strchr(value, '\r')) {
		*why = "the directory name contains a line break";
		return NULL;
	}
	if (!role || role->kind != YNODE_MAP || role->count == 0) {
		*why = "the role is not a mapping with keys";
		return NULL;
	}
	size_t rs = line_start(text, len, role->pos.line);
	if (rs != (size_t)-1 && rs + role->pos.col - 1 < len && text[rs + role->pos.col - 1] == '{') {
		*why = "the role is written as a flow mapping ({...})";
		return NULL;
	}
	const char *scalar = yaml_scalar(a, value);
	for (size_t i = 0; i < role->count; i++) {
		if (strcmp(role->keys[i], key) != 0)
			continue;
		struct diag_pos kp = role->key_pos[i];
		size_t ls = line_start(text, len, kp.line);
		if (ls == (size_t)-1) {
			*why = "the key's position is outside the file";
			return NULL;
		}
		size_t eol = line_end(text, len, ls);
		size_t k = ls + kp.col - 1;
		/* Past the key (which may be quoted) to its ':'. */
		size_t ke = value_end(text, k, eol);
		if (text[k] != '\'' && text[k] != '"')
			ke = k + strcspn(text + k, ":\n");
		if (ke == (size_t)-1 || ke >= eol || (text[ke] != ':' && (ke = ke + strcspn(text + ke, ":\n")) >= eol)) {
			*why = "the key is not followed by ':' on its line";
			return NULL;
		}
		size_t vs = ke + 1;
		while (vs < eol && (text[vs] == ' ' || text[vs] == '\t'))
			vs++;
		size_t ve = value_end(text, vs, eol);
		if (ve == (size_t)-1 || (vs == eol && continues(text, len, eol, kp.col))) {
			*why = "the value spans lines or is not a plain or quoted scalar";
			return NULL;
		}
		const char *ins = arena_printf(a, " %s%s", scalar, ve < eol && text[ve] == '#' ? " " : "");
		return splice(a, text, len, ke + 1, ve, ins, out_len);
	}
	/* No such key yet: a new line after repo's, or before the first key, at the keys' indentation. */
	size_t at_key = 0;
	bool after = false;
	for (size_t i = 0; i < role->count; i++)
		if (strcmp(role->keys[i], "repo") == 0) {
			at_key = i;
			after = true;
		}
	struct diag_pos kp = role->key_pos[at_key];
	size_t ls = line_start(text, len, kp.line);
	if (ls == (size_t)-1) {
		*why = "the key's position is outside the file";
		return NULL;
	}
	for (size_t i = ls; i < ls + kp.col - 1; i++)
		if (i >= len || (text[i] != ' ' && text[i] != '\t')) {
			*why = "the role's keys do not start their lines";
			return NULL;
		}
	size_t eol = line_end(text, len, ls);
	if (after) {
		const struct ynode *v = role->items[at_key];
		size_t vs = line_start(text, len, v->pos.line);
		vs = vs == (size_t)-1 ? (size_t)-1 : vs + v->pos.col - 1;
		if (v->pos.line != kp.line || value_end(text, vs, eol) == (size_t)-1 || continues(text, len, eol, kp.col))
			after = false;
	}
	const char *indent = arena_strndup(a, text + ls, kp.col - 1);
	const char *line = arena_printf(a, "%s%s: %s\n", indent, key, scalar);
	if (!after)
		return splice(a, text, len, ls, ls, line, out_len);
	if (eol < len)
		return splice(a, text, len, eol + 1, eol + 1, line, out_len);
	/* The repo line ends the file without a newline. */
	return splice(a, text, len, len, len, arena_printf(a, "\n%s", line), out_len);
}
