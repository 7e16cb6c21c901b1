/*
 * models.lock: read with jansson, validate strictly, write sorted and atomically.
 * Structural errors name the JSON path of the offending value, since jansson keeps no
 * positions after parsing; syntax errors carry jansson's line and column.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hfconfig.h"

enum { LOCK_HEX_SHA256 = 64, LOCK_HEX_SHA1 = 40, LOCK_MAX_LOCATED = 200 };

struct lock_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const char *path;
	const char *text;               /* the file, NUL-terminated, to place errors */
	unsigned located;               /* errors placed so far; each search scans the text */
};

/* The first `"name"` in [from, end) followed by blanks and ':' (a key), or NULL. */
static const char *
find_key(const char *from, const char *name, size_t n)
{
	for (const char *p = from; (p = strchr(p, '"')) != NULL; p++) {
		if (strncmp(p + 1, name, n) != 0 || p[n + 1] != '"')
			continue;
		const char *q = p + n + 2;
		while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
			q++;
		if (*q == ':')
			return p;
	}
	return NULL;
}

/*
 * Where the value at jpath sits in the file. jansson keeps no positions, so look for the
 * entry's key, then the field's key (when the path has no array index after the entry),
 * then the offending string value; the whole file when none is found.
 */
static struct diag_pos
lock_at(struct lock_ctx *c, const char *jpath, const char *value)
{
	const char *at = NULL, *from = c->text;
	/* Bounded, so a file of a million bad entries costs linear time, not quadratic. */
	if (!c->text || c->located++ >= LOCK_MAX_LOCATED)
		return diag_file(c->path);
	const char *rest = jpath;
	if (strncmp(jpath, "models[\"", 8) == 0) {
		const char *end = strstr(jpath + 8, "\"]");
		if (end && (at = find_key(c->text, jpath + 8, (size_t)(end - jpath - 8))) != NULL)
			from = at;
		rest = end ? end + 2 : "";
	}
	const char *field = strrchr(rest, '.');
	field = field ? field + 1 : (at ? "" : rest);
	if (*field && !strchr(rest, '[') && !strchr(field, ' ') && !strchr(field, '(')) {
		const char *f = find_key(from, field, strlen(field));
		if (f)
			at = from = f;
	}
	if (value && *value) {
		size_t n = strlen(value);
		for (const char *p = from; (p = strchr(p, '"')) != NULL; p++)
			if (strncmp(p + 1, value, n) == 0 && p[n + 1] == '"') {
				at = p;
				break;
			}
	}
	if (!at)
		return diag_file(c->path);
	struct diag_pos pos = {c->path, 1, 1};
	for (const char *p = c->text; p < at; p++) {
		if (*p == '\n') {
			pos.line++;
			pos.col = 1;
		} else {
			pos.col++;
		}
	}
	return pos;
}

static const char *
json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

/* Check v's type; on mismatch report "expected X, found Y". NULL v (absent) passes. */
static bool
want(struct lock_ctx *c, const json_t *v, json_type t, bool nullable, const char *jpath,
    const char *what)
{
	if (!v)
		return false;
	if (json_is_null(v) && nullable)
		return false;
	bool ok = json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v));
	if (!ok) {
		diag_error(c->diag, lock_at(c, jpath, NULL),
		    "%s: expected %s, found %s",
		    jpath, what, json_kind(v));
		return false;
	}
	return true;
}

/* Reject keys of obj that are not in allowed (a NULL-terminated list). */
static void
check_keys(struct lock_ctx *c, json_t *obj, const char *const *allowed, const char *jpath)
{
	const char *k;
	json_t *v;
	json_object_foreach(obj, k, v) {
		bool found = false;
		for (size_t i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], k) == 0)
				found = true;
		if (!found)
			diag_error(c->diag, lock_at(c, jpath, k), "%s: unknown key '%s'", jpath, k);
	}
}

static bool
is_lower_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}


static const char *
get_hex(struct lock_ctx *c, json_t *obj, const char *key, size_t n, const char *jpath)
{
	json_t *v = json_object_get(obj, key);
	const char *p = arena_printf(c->a, "%s.%s", jpath, key);
	if (!want(c, v, JSON_STRING, true, p, "a string or null"))
		return NULL;
	const char *s = json_string_value(v);
	if (!is_lower_hex(s, n)) {
		diag_error(c->diag, lock_at(c, p, s), "%s: expected %zu lowercase hex digits, found '%s'",
		    p, n, s);
		return NULL;
	}
	return arena_strdup(c->a, s);
}

static const char *
get_str(struct lock_ctx *c, json_t *obj, const char *key, const char *jpath)
{
	json_t *v = json_object_get(obj, key);
	const char *p = arena_printf(c->a, "%s.%s", jpath, key);
	if (!want(c, v, JSON_STRING, true, p, "a string or null"))
		return NULL;
	return arena_strdup(c->a, json_string_value(v));
}

/* A non-negative integer up to max, or unknown (null or absent). */
static struct lock_u64
get_u64(struct lock_ctx *c, json_t *obj, const char *key, uint64_t max, const char *jpath)
{
	struct lock_u64 r = {false, 0};
	json_t *v = json_object_get(obj, key);
	const char *p = arena_printf(c->a, "%s.%s", jpath, key);
	if (!want(c, v, JSON_INTEGER, true, p, "an integer or null"))
		return r;
	json_int_t n = json_integer_value(v);
	if (n < 0 || (uint64_t)n > max) {
		diag_error(c->diag, lock_at(c, p, NULL), "%s: %lld is out of range 0..%llu", p,
		    (long long)n, (unsigned long long)max);
		return r;
	}
	r.known = true;
	r.value = (uint64_t)n;
	return r;
}

/* 1, 0, or -1 for null/absent. */
static int
get_tristate(struct lock_ctx *c, json_t *obj, const char *key, const char *jpath)
{
	json_t *v = json_object_get(obj, key);
	const char *p = arena_printf(c->a, "%s.%s", jpath, key);
	if (!want(c, v, JSON_TRUE, true, p, "a boolean or null"))
		return -1;
	return json_is_true(v) ? 1 : 0;
}

static bool
is_repo_part(const char *s, size_t n)
{
	if (n == 0 || n > 96 || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return s[n - 1] != '.';
}

/* A Hugging Face repo id: owner/name, letters, digits, '-', '_', '.', no "..". */
static bool
is_repo_id(const char *s)
{
	const char *slash = strchr(s, '/');
	if (!slash || strchr(slash + 1, '/'))
		return false;
	if (strstr(s, ".."))
		return false;
	return is_repo_part(s, (size_t)(slash - s)) && is_repo_part(slash + 1, strlen(slash + 1));
}

/* A revision: a branch, tag or commit; printable, no spaces, not empty. */
static bool
is_revision(const char *s)
{
	if (!*s || strlen(s) > 255 || strstr(s, ".."))
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == '@' || *p == '\\')
			return false;
	return true;
}

/* A repo-relative file path: no leading '/', no empty, '.' or '..' parts, no control bytes. */
static bool
is_rel_path(const char *s)
{
	if (!*s || *s == '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < ' ' || *p == 0x7f || *p == '\\')
			return false;
	const char *part = s;
	for (;;) {
		size_t n = strcspn(part, "/");
		if (n == 0 || (n == 1 && part[0] == '.') || (n == 2 && part[0] == '.' && part[1] == '.'))
			return false;
		if (!part[n])
			return true;
		part += n + 1;
	}
}

static const char **
get_strings(struct lock_ctx *c, json_t *obj, const char *key, const char *jpath, size_t *n)
{
	json_t *v = json_object_get(obj, key);
	const char *p = arena_printf(c->a, "%s.%s", jpath, key);
	*n = 0;
	if (!want(c, v, JSON_ARRAY, true, p, "an array of strings"))
		return NULL;
	const char **out = arena_alloc(c->a, (json_array_size(v) + 1) * sizeof *out);
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		const char *ip = arena_printf(c->a, "%s[%zu]", p, i);
		if (want(c, item, JSON_STRING, false, ip, "a string"))
			out[(*n)++] = arena_strdup(c->a, json_string_value(item));
	}
	return out;
}

/* "config" is config.json itself (or the part of it that is known), read by hfconfig. */
static void
read_config(struct lock_ctx *c, json_t *cfg, const char *jpath, struct lock_model *m)
{
	if (!want(c, cfg, JSON_OBJECT, true, jpath, "an object or null"))
		return;
	struct hfconfig_info info;
	if (hfconfig_from_json(cfg, &m->arch, &info) != 0) {
		diag_error(c->diag, lock_at(c, jpath, NULL), "%s: '%s' is missing or not a positive integer",
		    jpath, info.missing);
		return;
	}
	m->has_config = true;
	char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
	if (text) {
		m->config_json = arena_strdup(c->a, text);
		free(text);
	}
	m->architecture = info.architecture[0] ? arena_strdup(c->a, info.architecture) : NULL;
	m->model_type = info.model_type[0] ? arena_strdup(c->a, info.model_type) : NULL;
	m->torch_dtype = info.dtype[0] ? arena_strdup(c->a, info.dtype) : NULL;
	json_t *q = json_object_get(cfg, "quantization_config");
	if (q && json_is_object(q)) {
		text = json_dumps(q, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
		if (text) {
			m->quantization_config = arena_strdup(c->a, text);
			free(text);
		}
	}
}

static const char *const weights_keys[] = {"bytes", "source", "dtypes", NULL};
static const char *const weights_sources[] = {"safetensors-index", "safetensors-headers", NULL};

static void
read_weights(struct lock_ctx *c, json_t *w, const char *jpath, struct lock_model *m)
{
	if (!want(c, w, JSON_OBJECT, true, jpath, "an object or null"))
		return;
	check_keys(c, w, weights_keys, jpath);
	m->weights_bytes = get_u64(c, w, "bytes", INT64_MAX, jpath);
	m->weights_source = get_str(c, w, "source", jpath);
	if (m->weights_source) {
		bool ok = false;
		for (size_t i = 0; weights_sources[i]; i++)
			ok |= strcmp(weights_sources[i], m->weights_source) == 0;
		if (!ok)
			diag_error(c->diag, lock_at(c, jpath, m->weights_source),
			    "%s: '%s' is not one of %s",
			    arena_printf(c->a, "%s.source", jpath), m->weights_source, "safetensors-index, safetensors-headers");
	}
	json_t *d = json_object_get(w, "dtypes");
	const char *dp = arena_printf(c->a, "%s.dtypes", jpath);
	if (!want(c, d, JSON_OBJECT, true, dp, "an object or null"))
		return;
	m->dtypes = arena_alloc(c->a, (json_object_size(d) + 1) * sizeof *m->dtypes);
	const char *k;
	json_t *v;
	json_object_foreach(d, k, v) {
		struct lock_u64 n = get_u64(c, d, k, INT64_MAX, dp);
		if (n.known) {
			m->dtypes[m->ndtypes].dtype = arena_strdup(c->a, k);
			m->dtypes[m->ndtypes++].bytes = n.value;
		}
	}
}

static const char *const file_keys[] = {"path", "size", "lfs", "sha256", "blob_id", NULL};

static int
cmp_file_path(const void *x, const void *y)
{
	return strcmp(((const struct lock_file *)x)->path, ((const struct lock_file *)y)->path);
}

static void
read_files(struct lock_ctx *c, json_t *files, const char *jpath, struct lock_model *m)
{
	if (!want(c, files, JSON_ARRAY, true, jpath, "an array or null"))
		return;
	m->files = arena_alloc(c->a, (json_array_size(files) + 1) * sizeof *m->files);
	size_t i;
	json_t *f;
	json_array_foreach(files, i, f) {
		const char *fp = arena_printf(c->a, "%s[%zu]", jpath, i);
		if (!want(c, f, JSON_OBJECT, false, fp, "an object"))
			continue;
		check_keys(c, f, file_keys, fp);
		struct lock_file *lf = &m->files[m->nfiles];
		json_t *pv = json_object_get(f, "path");
		const char *pp = arena_printf(c->a, "%s.path", fp);
		if (!pv) {
			diag_error(c->diag, lock_at(c, fp, NULL), "%s: required key is missing", pp);
			continue;
		}
		if (!want(c, pv, JSON_STRING, false, pp, "a string"))
			continue;
		lf->path = arena_strdup(c->a, json_string_value(pv));
		if (!is_rel_path(lf->path)) {
			diag_error(c->diag, lock_at(c, pp, lf->path),
			    "%s: '%s' is not a repo-relative path (no leading '/', no empty, '.' or '..' parts)",
			    pp, lf->path);
			continue;
		}
		lf->size = get_u64(c, f, "size", INT64_MAX, fp);
		lf->lfs = get_tristate(c, f, "lfs", fp);
		lf->sha256 = get_hex(c, f, "sha256", LOCK_HEX_SHA256, fp);
		lf->blob_id = get_hex(c, f, "blob_id", LOCK_HEX_SHA1, fp);
		m->nfiles++;
	}
	qsort(m->files, m->nfiles, sizeof *m->files, cmp_file_path);
	for (size_t k = 1; k < m->nfiles; k++)
		if (strcmp(m->files[k - 1].path, m->files[k].path) == 0)
			diag_error(c->diag, lock_at(c, jpath, m->files[k].path),
			    "%s: '%s' is listed twice",
			    jpath, m->files[k].path);
}

static const char *const model_keys[] = {"repo", "revision", "commit", "gated", "config",
	"config_from", "weights", "files", "files_complete", "sources", "unknown", NULL};

static void
read_model(struct lock_ctx *c, const char *key, json_t *e, struct lock_model *m)
{
	const char *jpath = arena_printf(c->a, "models[\"%s\"]", key);
	m->key = arena_strdup(c->a, key);
	if (!want(c, e, JSON_OBJECT, false, jpath, "an object"))
		return;
	check_keys(c, e, model_keys, jpath);
	m->repo = get_str(c, e, "repo", jpath);
	m->revision = get_str(c, e, "revision", jpath);
	if (strncmp(key, "local:", 6) == 0) {
		if (key[6] != '/')
			diag_error(c->diag, lock_at(c, jpath, NULL),
			    "%s: a local directory must be absolute, found '%s'",
			    jpath, key + 6);
		if (m->repo || m->revision)
			diag_error(c->diag, lock_at(c, jpath, NULL),
			    "%s: a local entry has no repo or revision",
			    jpath);
	} else if (!m->repo || !m->revision) {
		diag_error(c->diag, lock_at(c, jpath, NULL),
		    "%s: needs repo and revision (or a key 'local:/dir')",
		    jpath);
	} else {
		if (!is_repo_id(m->repo))
			diag_error(c->diag, lock_at(c, arena_printf(c->a, "%s.repo", jpath), NULL),
			    "%s: '%s' is not a Hugging Face repo id 'owner/name'",
			    arena_printf(c->a, "%s.repo", jpath), m->repo);
		if (!is_revision(m->revision))
			diag_error(c->diag, lock_at(c, arena_printf(c->a, "%s.revision", jpath), NULL),
			    "%s: '%s' is not a branch, tag or commit",
			    arena_printf(c->a, "%s.revision", jpath), m->revision);
		const char *expect = arena_printf(c->a, "%s@%s", m->repo, m->revision);
		if (strcmp(expect, key) != 0)
			diag_error(c->diag, lock_at(c, jpath, NULL),
			    "%s: the key does not match repo and revision (expected '%s')",
			    jpath, expect);
	}
	m->commit = get_hex(c, e, "commit", LOCK_HEX_SHA1, jpath);
	m->gated = get_str(c, e, "gated", jpath);
	if (m->gated && strcmp(m->gated, "false") && strcmp(m->gated, "auto") && strcmp(m->gated, "manual"))
		diag_error(c->diag, lock_at(c, arena_printf(c->a, "%s.gated", jpath), NULL),
		    "%s: '%s' is not one of %s",
		    arena_printf(c->a, "%s.gated", jpath), m->gated, "false, auto, manual");
	read_config(c, json_object_get(e, "config"), arena_printf(c->a, "%s.config", jpath), m);
	m->config_from = get_str(c, e, "config_from", jpath);
	read_weights(c, json_object_get(e, "weights"), arena_printf(c->a, "%s.weights", jpath), m);
	read_files(c, json_object_get(e, "files"), arena_printf(c->a, "%s.files", jpath), m);
	m->files_complete = get_tristate(c, e, "files_complete", jpath) == 1;
	m->sources = get_strings(c, e, "sources", jpath, &m->nsources);
	m->unknown = get_strings(c, e, "unknown", jpath, &m->nunknown);
}

static int
cmp_model_key(const void *x, const void *y)
{
	return strcmp(((const struct lock_model *)x)->key, ((const struct lock_model *)y)->key);
}

/* Read all of path into the arena, refusing files over LOCK_MAX_BYTES; NULL with errno. */
static char *
slurp(struct arena *a, const char *path, size_t *len, bool *too_big)
{
	*too_big = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if (st.st_size > LOCK_MAX_BYTES) {
		close(fd);
		*too_big = true;
		*len = (size_t)st.st_size;
		return NULL;
	}
	char *buf = arena_alloc(a, (size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			errno = e;
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

int
lock_read(struct arena *a, struct diag_sink *diag, const char *path, struct lock *out)
{
	struct lock_ctx c = {a, diag, path, NULL, 0};
	unsigned errors0 = diag->errors;
	size_t len = 0;
	bool too_big;

	memset(out, 0, sizeof *out);
	out->path = path;
	char *text = slurp(a, path, &len, &too_big);
	if (too_big) {
		diag_error(diag, diag_file(path), "is %zu bytes, more than the limit of %d bytes", len,
		    LOCK_MAX_BYTES);
		return 1;
	}
	if (!text) {
		diag_error(diag, diag_file(path), "cannot read: %s", strerror(errno));
		return -1;
	}
	c.text = text;
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		struct diag_pos pos = {path, je.line > 0 ? (unsigned)je.line : 1,
		    je.column > 0 ? (unsigned)je.column : 1};
		diag_error(diag, pos, "invalid JSON: %s", je.text);
		return 1;
	}
	if (!want(&c, root, JSON_OBJECT, false, "(top level)", "an object"))
		goto done;
	static const char *const top_keys[] = {"lock_version", "comment", "models", NULL};
	check_keys(&c, root, top_keys, "(top level)");
	json_t *ver = json_object_get(root, "lock_version");
	if (!ver)
		diag_error(diag, diag_file(path), "%s: required key is missing", "lock_version");
	else if (want(&c, ver, JSON_INTEGER, false, "lock_version", "an integer") &&
	    json_integer_value(ver) != LOCK_VERSION) {
		diag_error(diag, lock_at(&c, "lock_version", NULL), "lock_version: this modelc reads version %d, found %lld",
		    LOCK_VERSION, (long long)json_integer_value(ver));
		goto done;
	}
	json_t *models = json_object_get(root, "models");
	if (!models) {
		diag_error(diag, diag_file(path), "%s: required key is missing", "models");
		goto done;
	}
	if (!want(&c, models, JSON_OBJECT, false, "models", "an object"))
		goto done;
	out->models = arena_alloc(a, (json_object_size(models) + 1) * sizeof *out->models);
	const char *key;
	json_t *e;
	json_object_foreach(models, key, e)
		read_model(&c, key, e, &out->models[out->nmodels++]);
	qsort(out->models, out->nmodels, sizeof *out->models, cmp_model_key);
	for (size_t i = 0; i < out->nmodels; i++) {
		const char *from = out->models[i].config_from;
		if (from && !lock_find(out, from))
			diag_error(diag, lock_at(&c, arena_printf(a, "models[\"%s\"].config_from", out->models[i].key), NULL),
			    "%s: '%s' names no entry in this lock",
			    arena_printf(a, "models[\"%s\"].config_from", out->models[i].key), from);
	}
done:
	json_decref(root);
	return diag->errors > errors0 ? 1 : 0;
}

const struct lock_model *
lock_find(const struct lock *l, const char *key)
{
	size_t lo = 0, hi = l->nmodels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = strcmp(key, l->models[mid].key);
		if (r == 0)
			return &l->models[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static json_t *
jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *
ju64(struct lock_u64 v)
{
	return v.known ? json_integer((json_int_t)v.value) : json_null();
}

static int
cmp_str(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static json_t *
jstrings(const char **v, size_t n)
{
	json_t *arr = json_array();
	const char **sorted = malloc((n + 1) * sizeof *sorted);
	if (!sorted)
		return arr;
	if (n)
		memcpy(sorted, v, n * sizeof *sorted);
	qsort(sorted, n, sizeof *sorted, cmp_str);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_string(sorted[i]));
	free(sorted);
	return arr;
}

static json_t *
model_json(const struct lock_model *m)
{
	json_t *e = json_object();
	json_object_set_new(e, "repo", jstr(m->repo));
	json_object_set_new(e, "revision", jstr(m->revision));
	json_object_set_new(e, "commit", jstr(m->commit));
	json_object_set_new(e, "gated", jstr(m->gated));
	if (m->config_from)
		json_object_set_new(e, "config_from", json_string(m->config_from));
	json_t *cfg = m->config_json ? json_loads(m->config_json, 0, NULL) : NULL;
	json_object_set_new(e, "config", cfg ? cfg : json_null());
	if (m->weights_bytes.known || m->weights_source || m->ndtypes) {
		json_t *w = json_object();
		json_object_set_new(w, "bytes", ju64(m->weights_bytes));
		json_object_set_new(w, "source", jstr(m->weights_source));
		json_t *d = json_object();
		for (size_t i = 0; i < m->ndtypes; i++)
			json_object_set_new(d, m->dtypes[i].dtype, json_integer((json_int_t)m->dtypes[i].bytes));
		json_object_set_new(w, "dtypes", d);
		json_object_set_new(e, "weights", w);
	} else {
		json_object_set_new(e, "weights", json_null());
	}
	struct lock_file *files = malloc((m->nfiles + 1) * sizeof *files);
	json_t *fa = json_array();
	if (files) {
		if (m->nfiles)
			memcpy(files, m->files, m->nfiles * sizeof *files);
		qsort(files, m->nfiles, sizeof *files, cmp_file_path);
		for (size_t i = 0; i < m->nfiles; i++) {
			json_t *f = json_object();
			json_object_set_new(f, "path", json_string(files[i].path));
			json_object_set_new(f, "size", ju64(files[i].size));
			json_object_set_new(f, "lfs", files[i].lfs < 0 ? json_null() : json_boolean(files[i].lfs));
			json_object_set_new(f, "sha256", jstr(files[i].sha256));
			json_object_set_new(f, "blob_id", jstr(files[i].blob_id));
			json_array_append_new(fa, f);
		}
		free(files);
	}
	json_object_set_new(e, "files", fa);
	json_object_set_new(e, "files_complete", json_boolean(m->files_complete));
	json_object_set_new(e, "sources", jstrings(m->sources, m->nsources));
	json_object_set_new(e, "unknown", jstrings(m->unknown, m->nunknown));
	return e;
}

static int
dump_cb(const char *buf, size_t size, void *data)
{
	return fileio_write_all(*(int *)data, buf, size);
}

int
lock_write(const struct lock *l, const char *path)
{
	json_t *root = json_object();
	json_t *models = json_object();
	json_object_set_new(root, "lock_version", json_integer(LOCK_VERSION));
	json_object_set_new(root, "comment",
	    json_string("generated by modelc; facts not known are null and named in 'unknown'"));
	for (size_t i = 0; i < l->nmodels; i++)
		json_object_set_new(models, l->models[i].key, model_json(&l->models[i]));
	json_object_set_new(root, "models", models);

	struct fileio_atomic f;
	int rc = fileio_atomic_open(&f, path, 0644, FILEIO_EXACT_MODE);
	if (rc == 0) {
		errno = 0;
		size_t flags = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(15);
		if (json_dump_callback(root, dump_cb, &f.fd, flags) != 0 || fileio_write_all(f.fd, "\n", 1) != 0) {
			errno = errno ? errno : EIO;
			fileio_atomic_abort(&f);
			rc = -1;
		} else if ((rc = fileio_atomic_commit(&f)) == 0)
			fileio_sync_dir(path);
	}
	int saved = errno;
	json_decref(root);
	errno = saved;
	return rc;
}
