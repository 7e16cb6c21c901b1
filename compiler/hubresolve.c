#include "hubresolve.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "digest.h"
#include "hfconfig.h"
#include "safetensors.h"

static int
fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

int
hubresolve_small_file(const char *path)
{
	static const char *const names[] = {"config.json", "generation_config.json", "tokenizer.json",
		"tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
		"added_tokens.json", "chat_template.jinja", "chat_template.json", "preprocessor_config.json",
		"quantize_config.json", "tokenizer.model", NULL};
	size_t n = strlen(path);
	if (n > 11 && strcmp(path + n - 11, ".index.json") == 0)
		return 1;
	for (size_t i = 0; names[i]; i++)
		if (strcmp(path, names[i]) == 0)
			return 1;
	return 0;
}

struct files {
	struct lock_file *v;
	size_t n, cap;
};

static int
cmp_file(const void *x, const void *y)
{
	return strcmp(((const struct lock_file *)x)->path, ((const struct lock_file *)y)->path);
}

/* Read one tree page's entries into fs. */
static int
tree_page(struct arena *a, const char *body, size_t len, struct files *fs, char *err, size_t errlen)
{
	json_error_t je;
	json_t *arr = json_loadb(body, len, 0, &je);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return fail(EXITCODE_SYSTEM, err, errlen, "the tree listing is not a JSON array (%s)", je.text);
	}
	size_t i;
	json_t *e;
	int rc = EXITCODE_OK;
	json_array_foreach(arr, i, e) {
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *path = json_string_value(json_object_get(e, "path"));
		if (!type || !path) {
			rc = fail(EXITCODE_SYSTEM, err, errlen, "a tree entry has no type or path");
			break;
		}
		if (strcmp(type, "file"))
			continue;
		char why[128];
		if (hub_path_check(path, strlen(path), why, sizeof why)) {
			rc = fail(EXITCODE_REJECTED, err, errlen, "the Hub lists a file '%s' that %s; refusing it", path, why);
			break;
		}
		if (fs->n == fs->cap) {
			fs->cap = fs->cap ? 2 * fs->cap : 64;
			struct lock_file *nv = arena_alloc(a, fs->cap * sizeof *nv);
			if (fs->n)
				memcpy(nv, fs->v, fs->n * sizeof *nv);
			fs->v = nv;
		}
		struct lock_file *f = &fs->v[fs->n++];
		memset(f, 0, sizeof *f);
		f->path = arena_strdup(a, path);
		json_t *sz = json_object_get(e, "size");
		if (json_is_integer(sz) && json_integer_value(sz) >= 0)
			f->size = (struct lock_u64){true, (uint64_t)json_integer_value(sz)};
		const char *oid = json_string_value(json_object_get(e, "oid"));
		if (oid && hub_is_hex(oid, 40))
			f->blob_id = arena_strdup(a, oid);
		json_t *lfs = json_object_get(e, "lfs");
		f->lfs = json_is_object(lfs) ? 1 : 0;
		if (f->lfs) {
			const char *sha = json_string_value(json_object_get(lfs, "oid"));
			if (!sha)
				sha = json_string_value(json_object_get(lfs, "sha256"));
			if (sha && hub_is_hex(sha, 64))
				f->sha256 = arena_strdup(a, sha);
			json_t *ls = json_object_get(lfs, "size");
			if (json_is_integer(ls) && json_integer_value(ls) >= 0)
				f->size = (struct lock_u64){true, (uint64_t)json_integer_value(ls)};
		}
	}
	json_decref(arr);
	return rc;
}

/* Download a small file, check its git blob id against the tree, record its sha256. */
static int
small_file(const struct hub *h, struct arena *a, const char *repo, const char *commit,
    struct lock_file *f, char **body, size_t *len, char *err, size_t errlen)
{
	char *url = hub_resolve_url(h, repo, commit, f->path);
	struct hub_response r;
	int rc = hub_request(h, "GET", url, 0, UINT64_MAX, false, HUBRESOLVE_SMALL_MAX, repo, commit, f->path,
	    &r, err, errlen);
	free(url);
	if (rc)
		return rc;
	struct digest d;
	char s256[65], s1[41];
	if (digest_init(&d, true, r.len)) {
		hub_response_free(&r);
		return fail(EXITCODE_SYSTEM, err, errlen, "out of memory");
	}
	digest_update(&d, r.body, r.len);
	digest_final(&d, s256, s1);
	digest_free(&d);
	if (f->size.known && f->size.value != r.len) {
		hub_response_free(&r);
		return fail(EXITCODE_REJECTED, err, errlen, "%s: the Hub sent %zu bytes, its tree lists %llu", f->path,
		    r.len, (unsigned long long)f->size.value);
	}
	if (f->blob_id && !digest_equal(s1, f->blob_id, 40)) {
		hub_response_free(&r);
		return fail(EXITCODE_REJECTED, err, errlen, "%s: the content's git blob id is %s, the tree lists %s", f->path,
		    s1, f->blob_id);
	}
	f->sha256 = arena_strdup(a, s256);
	f->size = (struct lock_u64){true, r.len};
	*body = r.body;
	*len = r.len;
	return EXITCODE_OK;
}

struct dtype_sum {
	struct lock_dtype_bytes *v;
	size_t n;
};

/* Read a safetensors header with Range requests and add its dtypes. */
static int
st_header(const struct hub *h, struct arena *a, const char *repo, const char *commit,
    const struct lock_file *f, struct dtype_sum *ds, uint64_t *data_bytes, char *err, size_t errlen)
{
	char *url = hub_resolve_url(h, repo, commit, f->path);
	struct hub_response r;
	uint64_t want = HUBRESOLVE_HEADER_PROBE;
	if (f->size.known && f->size.value < want)
		want = f->size.value;
	int rc = hub_request(h, "GET", url, 0, want ? want - 1 : 0, false, HUBRESOLVE_HEADER_PROBE, repo, commit,
	    f->path, &r, err, errlen);
	if (rc) {
		free(url);
		return rc;
	}
	uint64_t n;
	char why[256];
	if (safetensors_header_len(r.body, r.len, &n, why, sizeof why)) {
		hub_response_free(&r);
		free(url);
		return fail(EXITCODE_REJECTED, err, errlen, "%s: %s", f->path, why);
	}
	if (r.len < SAFETENSORS_PREFIX + n) {
		/* The header is larger than the probe: ask for exactly the rest of it. */
		hub_response_free(&r);
		rc = hub_request(h, "GET", url, 0, SAFETENSORS_PREFIX + n - 1, false, SAFETENSORS_PREFIX + n, repo, commit,
		    f->path, &r, err, errlen);
		if (rc) {
			free(url);
			return rc;
		}
	}
	free(url);
	struct arena tmp = {0};
	struct safetensors_header sh;
	if (r.h.status == 200 && f->size.known && r.len > SAFETENSORS_PREFIX + n && r.len != f->size.value) {
		hub_response_free(&r);
		return fail(EXITCODE_SYSTEM, err, errlen, "%s: the server ignored the Range request", f->path);
	}
	if (safetensors_parse(r.body, r.len, &tmp, &sh, why, sizeof why)) {
		hub_response_free(&r);
		arena_free(&tmp);
		return fail(EXITCODE_REJECTED, err, errlen, "%s: %s", f->path, why);
	}
	hub_response_free(&r);
	if (f->size.known && safetensors_check_file_size(&sh, f->size.value, why, sizeof why)) {
		arena_free(&tmp);
		return fail(EXITCODE_REJECTED, err, errlen, "%s: %s (the tree's size)", f->path, why);
	}
	for (size_t i = 0; i < sh.ndtypes; i++) {
		size_t j = 0;
		while (j < ds->n && strcmp(ds->v[j].dtype, sh.dtypes[i].dtype))
			j++;
		if (j == ds->n) {
			ds->v[ds->n].dtype = arena_strdup(a, sh.dtypes[i].dtype);
			ds->v[ds->n++].bytes = 0;
		}
		ds->v[j].bytes += sh.dtypes[i].bytes;
	}
	*data_bytes += sh.data_bytes;
	arena_free(&tmp);
	return EXITCODE_OK;
}

static void
add_str(struct arena *a, const char ***v, size_t *n, const char *s)
{
	const char **nv = arena_alloc(a, (*n + 1) * sizeof *nv);
	if (*n)
		memcpy(nv, *v, *n * sizeof *nv);
	nv[(*n)++] = arena_strdup(a, s);
	*v = nv;
}

int
hubresolve_model(const struct hub *h, struct arena *a, const char *repo, const char *revision,
    struct lock_model *out, FILE *progress, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	out->key = arena_printf(a, "%s@%s", repo, revision);
	out->repo = arena_strdup(a, repo);
	out->revision = arena_strdup(a, revision);
	/* 1. revision -> commit */
	char *url = hub_api_url(h, repo, "revision", revision, NULL);
	struct hub_response r;
	int rc = hub_request(h, "GET", url, 0, UINT64_MAX, false, HUBRESOLVE_MAX_JSON, repo, revision, NULL, &r,
	    err, errlen);
	free(url);
	if (rc)
		return rc;
	json_t *info = json_loadb(r.body, r.len, 0, NULL);
	hub_response_free(&r);
	const char *sha = json_string_value(json_object_get(info, "sha"));
	if (!sha || !hub_is_hex(sha, 40)) {
		json_decref(info);
		return fail(EXITCODE_SYSTEM, err, errlen, "the Hub's answer for %s@%s has no 40-hex 'sha'", repo, revision);
	}
	out->commit = arena_strdup(a, sha);
	json_t *g = json_object_get(info, "gated");
	if (json_is_false(g))
		out->gated = "false";
	else if (json_is_string(g))
		out->gated = arena_strdup(a, json_string_value(g));
	json_decref(info);
	add_str(a, &out->sources, &out->nsources, arena_printf(a, "%s/api/models/%s/revision/%s", h->endpoint, repo,
	    revision));
	if (progress)
		diag_print(progress, "modelc: lock: %s@%s is commit %s\n", repo, revision, out->commit);
	/* 2. the whole tree at that commit, page by page */
	struct files fs = {0};
	char *next = hub_api_url(h, repo, "tree", out->commit, "?recursive=true&expand=false");
	unsigned pages = 0;
	while (next) {
		if (++pages > HUBRESOLVE_MAX_PAGES) {
			free(next);
			return fail(EXITCODE_SYSTEM, err, errlen, "the tree of %s has more than %d pages", repo,
			    HUBRESOLVE_MAX_PAGES);
		}
		rc = hub_request(h, "GET", next, 0, UINT64_MAX, false, HUBRESOLVE_MAX_JSON, repo, out->commit, NULL, &r,
		    err, errlen);
		free(next);
		next = NULL;
		if (rc)
			return rc;
		rc = tree_page(a, r.body, r.len, &fs, err, errlen);
		if (!rc && r.h.link_next[0]) {
			if (!hub_is_hub_host(h, r.h.link_next))
				rc = fail(EXITCODE_SYSTEM, err, errlen, "the tree's next page is on another host (%s)", r.h.link_next);
			else
				next = strdup(r.h.link_next);
		}
		hub_response_free(&r);
		if (rc)
			return rc;
	}
	if (fs.n)
		qsort(fs.v, fs.n, sizeof *fs.v, cmp_file);
	/* A path listed twice (on two pages, say) would be fetched and recorded twice. */
	for (size_t i = 1; i < fs.n; i++)
		if (!strcmp(fs.v[i - 1].path, fs.v[i].path))
			return fail(EXITCODE_REJECTED, err, errlen, "the Hub lists the file '%s' twice", fs.v[i].path);
	out->files = fs.v;
	out->nfiles = fs.n;
	out->files_complete = true;
	add_str(a, &out->sources, &out->nsources, arena_printf(a, "%s/api/models/%s/tree/%s?recursive=true (%u pages)",
	    h->endpoint, repo, out->commit, pages));
	/* 3. small files, config.json */
	json_t *index = NULL;
	for (size_t i = 0; i < fs.n; i++) {
		struct lock_file *f = &fs.v[i];
		if (f->lfs || !hubresolve_small_file(f->path))
			continue;
		char *body = NULL;
		size_t len = 0;
		rc = small_file(h, a, repo, out->commit, f, &body, &len, err, errlen);
		if (rc) {
			json_decref(index);
			return rc;
		}
		if (!strcmp(f->path, "config.json")) {
			json_error_t je;
			json_t *cfg = json_loadb(body, len, 0, &je);
			struct hfconfig_info ci;
			if (!json_is_object(cfg)) {
				free(body);
				json_decref(cfg);
				json_decref(index);
				return fail(EXITCODE_REJECTED, err, errlen, "config.json is not a JSON object (%s)", je.text);
			}
			char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
			out->config_json = text ? arena_strdup(a, text) : NULL;
			free(text);
			if (hfconfig_from_json(cfg, &out->arch, &ci) == 0) {
				out->has_config = true;
				out->architecture = ci.architecture[0] ? arena_strdup(a, ci.architecture) : NULL;
				out->model_type = ci.model_type[0] ? arena_strdup(a, ci.model_type) : NULL;
				out->torch_dtype = ci.dtype[0] ? arena_strdup(a, ci.dtype) : NULL;
			} else
				add_str(a, &out->unknown, &out->nunknown, arena_printf(a, "config: '%s' is missing", ci.missing));
			json_t *q = json_object_get(cfg, "quantization_config");
			if (json_is_object(q)) {
				text = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS);
				out->quantization_config = text ? arena_strdup(a, text) : NULL;
				free(text);
			}
			json_decref(cfg);
		} else if (!strcmp(f->path, "model.safetensors.index.json"))
			index = json_loadb(body, len, 0, NULL);
		free(body);
	}
	if (!out->config_json)
		add_str(a, &out->unknown, &out->nunknown, "config: the repo has no config.json");
	/* 4. weights: every safetensors header, and the index's total_size when there is one */
	/* At most one entry per dtype safetensors knows (about 20). */
	struct dtype_sum ds = {arena_alloc(a, 64 * sizeof *ds.v), 0};
	uint64_t data = 0;
	unsigned nst = 0;
	for (size_t i = 0; i < fs.n; i++) {
		size_t l = strlen(fs.v[i].path);
		if (l < 12 || strcmp(fs.v[i].path + l - 12, ".safetensors") || !strncmp(fs.v[i].path, "original/", 9))
			continue;
		rc = st_header(h, a, repo, out->commit, &fs.v[i], &ds, &data, err, errlen);
		if (rc) {
			json_decref(index);
			return rc;
		}
		nst++;
	}
	json_t *ts = json_object_get(json_object_get(index, "metadata"), "total_size");
	if (nst) {
		out->dtypes = ds.v;
		out->ndtypes = ds.n;
		out->weights_bytes = (struct lock_u64){true, data};
		out->weights_source = "safetensors-headers";
		add_str(a, &out->sources, &out->nsources, arena_printf(a, "safetensors headers of %u files (HTTP Range)",
		    nst));
		if (json_is_integer(ts) && (uint64_t)json_integer_value(ts) != data && progress)
			diag_print(progress, "modelc: lock: note: %s: the index's total_size is %lld, the headers sum to %llu; "
			    "the headers are recorded\n", repo, (long long)json_integer_value(ts), (unsigned long long)data);
	} else if (json_is_integer(ts)) {
		out->weights_bytes = (struct lock_u64){true, (uint64_t)json_integer_value(ts)};
		out->weights_source = "safetensors-index";
	} else
		add_str(a, &out->unknown, &out->nunknown, "weights: no safetensors files");
	json_decref(index);
	if (progress)
		diag_print(progress, "modelc: lock: %s@%s: %zu files, %u safetensors headers read\n", repo, revision, fs.n,
		    nst);
	return EXITCODE_OK;
}
