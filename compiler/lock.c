/*
 * models.lock: read as positioned JSON (jsondoc), checked against
 * schemas/models.lock.schema.json by the validator the catalog uses, then by the rules no
 * schema can say (an entry's key is its repo@revision, config_from names an entry, a path is
 * listed once, config has the numbers the budget needs); written sorted and atomically.
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
#include "frontend.h"
#include "hfconfig.h"
#include "jsondoc.h"
#include "jsonschema.h"
#include "repoid.h"

static const char *const LOCK_SCHEMA = "models.lock.schema.json";

struct lock_ctx {
	struct arena *a;
	struct diag_sink *diag;
	bool schema_ok;         /* no violation: what the schema says is known to hold */
};

/*
 * The readers below take a value only when it has the kind the schema wants, so that a lock
 * the schema rejected still yields what it can (for the catalog's checks in the same run)
 * without a second complaint about the same value.
 */
static const char *
node_str(struct lock_ctx *c, const struct ynode *map, const char *key)
{
	const struct ynode *v = yamldoc_get(map, key);
	return v && v->kind == YNODE_STRING ? arena_strndup(c->a, v->text, v->text_len) : NULL;
}

/* A non-negative integer up to INT64_MAX (1e3 counts, as JSON Schema's integer does), or unknown. */
static struct lock_u64
node_u64(const struct ynode *v)
{
	struct lock_u64 r = {false, 0};
	double d;
	if (!v || !yamldoc_integral(v, &d) || d < 0 || d > (double)INT64_MAX)
		return r;
	r.known = true;
	r.value = v->kind == YNODE_INT ? (uint64_t)v->integer : (uint64_t)d;
	return r;
}

/* 1, 0, or -1 for null or absent. */
static int
node_tristate(const struct ynode *map, const char *key)
{
	const struct ynode *v = yamldoc_get(map, key);
	return v && v->kind == YNODE_BOOL ? v->boolean : -1;
}

static const char **
node_strings(struct lock_ctx *c, const struct ynode *map, const char *key, size_t *n)
{
	const struct ynode *v = yamldoc_get(map, key);
	*n = 0;
	if (!v || v->kind != YNODE_SEQ)
		return NULL;
	const char **out = arena_alloc(c->a, (v->count + 1) * sizeof *out);
	for (size_t i = 0; i < v->count; i++)
		if (v->items[i]->kind == YNODE_STRING)
			out[(*n)++] = arena_strndup(c->a, v->items[i]->text, v->items[i]->text_len);
	return out;
}

/* "config" is config.json itself (or the part of it that is known), read by hfconfig. */
static void
read_config(struct lock_ctx *c, const json_t *cfg, const struct ynode *node, const char *jpath,
    struct lock_model *m)
{
	struct hfconfig_info info;
	if (hfconfig_from_json(cfg, &m->arch, &info) != 0) {
		diag_error(c->diag, node->pos, "%s: '%s' is missing or not a positive integer",
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

static void
read_weights(struct lock_ctx *c, const struct ynode *w, struct lock_model *m)
{
	if (!w || w->kind != YNODE_MAP)
		return;
	m->weights_bytes = node_u64(yamldoc_get(w, "bytes"));
	m->weights_source = node_str(c, w, "source");
	const struct ynode *d = yamldoc_get(w, "dtypes");
	if (!d || d->kind != YNODE_MAP)
		return;
	m->dtypes = arena_alloc(c->a, (d->count + 1) * sizeof *m->dtypes);
	for (size_t i = 0; i < d->count; i++) {
		struct lock_u64 n = node_u64(d->items[i]);
		if (n.known) {
			m->dtypes[m->ndtypes].dtype = arena_strdup(c->a, d->keys[i]);
			m->dtypes[m->ndtypes++].bytes = n.value;
		}
	}
}

static int
cmp_file_path(const void *x, const void *y)
{
	return strcmp(((const struct lock_file *)x)->path, ((const struct lock_file *)y)->path);
}

/* A file and where its path was written, to name the second of two equal paths. */
struct lock_seen {
	const char *path;
	struct diag_pos pos;
	size_t order;
};

static int
cmp_seen(const void *x, const void *y)
{
	const struct lock_seen *a = x, *b = y;
	int r = strcmp(a->path, b->path);
	return r ? r : a->order < b->order ? -1 : a->order > b->order;
}

static void
read_files(struct lock_ctx *c, const struct ynode *files, const char *jpath, struct lock_model *m)
{
	if (!files || files->kind != YNODE_SEQ)
		return;
	m->files = arena_alloc(c->a, (files->count + 1) * sizeof *m->files);
	struct lock_seen *seen = arena_alloc(c->a, (files->count + 1) * sizeof *seen);
	for (size_t i = 0; i < files->count; i++) {
		const struct ynode *f = files->items[i], *pv = yamldoc_get(f, "path");
		if (f->kind != YNODE_MAP || !pv || pv->kind != YNODE_STRING)
			continue;
		struct lock_file *lf = &m->files[m->nfiles];
		lf->path = arena_strndup(c->a, pv->text, pv->text_len);
		lf->size = node_u64(yamldoc_get(f, "size"));
		lf->lfs = node_tristate(f, "lfs");
		lf->sha256 = node_str(c, f, "sha256");
		lf->blob_id = node_str(c, f, "blob_id");
		seen[m->nfiles] = (struct lock_seen){lf->path, pv->pos, m->nfiles};
		m->nfiles++;
	}
	qsort(m->files, m->nfiles, sizeof *m->files, cmp_file_path);
	qsort(seen, m->nfiles, sizeof *seen, cmp_seen);
	for (size_t k = 1; k < m->nfiles; k++)
		if (strcmp(seen[k - 1].path, seen[k].path) == 0)
			diag_error(c->diag, seen[k].pos, "%s: '%s' is listed twice", jpath, seen[k].path);
}

static bool
is_local_key(const char *key)
{
	return strncmp(key, "local:", 6) == 0;
}

/* One entry: e is its node (at kpos, the key's place), je the same in jansson's tree. */
static void
read_model(struct lock_ctx *c, const char *key, struct diag_pos kpos, const struct ynode *e,
    const json_t *je, struct lock_model *m)
{
	const char *jpath = jschema_path_key(c->a, "models", key);
	m->key = arena_strdup(c->a, key);
	if (e->kind != YNODE_MAP)
		return;
	m->repo = node_str(c, e, "repo");
	m->revision = node_str(c, e, "revision");
	if (!is_local_key(key) && m->repo && m->revision) {
		const char *expect = arena_printf(c->a, "%s@%s", m->repo, m->revision);
		if (strcmp(expect, key) != 0)
			diag_error(c->diag, kpos, "%s: the key does not match repo and revision (expected '%s')",
			    jpath, expect);
		/* The schema says the same unless someone edited it: repo ids become URLs and folders. */
		char why[128];
		if (c->schema_ok && repoid_check(m->repo, why, sizeof why))
			diag_error(c->diag, yamldoc_get(e, "repo")->pos,
			    "%s.repo: '%s' is not a Hugging Face repository id: %s", jpath, m->repo, why);
	}
	m->commit = node_str(c, e, "commit");
	const struct ynode *gated = yamldoc_get(e, "gated");
	m->gated = gated && gated->kind == YNODE_BOOL && !gated->boolean ? "false" : node_str(c, e, "gated");
	const struct ynode *cfg = yamldoc_get(e, "config");
	if (cfg && cfg->kind == YNODE_MAP)
		read_config(c, json_object_get(je, "config"), cfg, arena_printf(c->a, "%s.config", jpath), m);
	m->config_from = node_str(c, e, "config_from");
	read_weights(c, yamldoc_get(e, "weights"), m);
	read_files(c, yamldoc_get(e, "files"), arena_printf(c->a, "%s.files", jpath), m);
	m->files_complete = node_tristate(e, "files_complete") == 1;
	m->sources = node_strings(c, e, "sources", &m->nsources);
	m->unknown = node_strings(c, e, "unknown", &m->nunknown);
}

static int
cmp_model_key(const void *x, const void *y)
{
	return strcmp(((const struct lock_model *)x)->key, ((const struct lock_model *)y)->key);
}

/* The lock_version of another format, or 0: its keys would only give misleading errors here. */
static long long
lock_other_version(const struct ynode *root)
{
	const struct ynode *ver = yamldoc_get(root, "lock_version");
	return ver && ver->kind == YNODE_INT && ver->integer != LOCK_VERSION ? ver->integer : 0;
}

/*
 * Read path, parse it and check it against the schema: *root and *json are the document when
 * it is JSON at all. 0 valid, 1 errors reported, -1 the lock could not be read (errno), -2 the
 * schema could not be found or loaded (reported).
 */
static int
lock_parse(struct arena *a, struct diag_sink *diag, const char *path, const char *schema_dir,
    const struct ynode **root, json_t **json, struct srcfile *src)
{
	struct ynode *doc;

	*root = NULL;
	int rc = jsondoc_load(a, diag, path, LOCK_MAX_BYTES, &doc, json, src);
	if (rc != 0)
		return rc;
	*root = doc;
	if (lock_other_version(doc)) {
		diag_error(diag, yamldoc_get(doc, "lock_version")->pos,
		    "lock_version: this modelc reads version %d, found %lld", LOCK_VERSION, lock_other_version(doc));
		return 1;
	}
	if (!schema_dir)
		schema_dir = frontend_schema_dir(a, path);
	if (!schema_dir) {
		diag_error(diag, diag_file(path), "cannot find %s (looked in %s); set MODELC_SCHEMA_DIR",
		    LOCK_SCHEMA, frontend_schema_search(a, path));
		return -2;
	}
	struct jschema *s = jschema_load(a, diag, arena_printf(a, "%s/%s", schema_dir, LOCK_SCHEMA));
	if (!s)
		return -2;
	unsigned violations = jschema_validate_json(s, a, diag, doc);
	jschema_free(s);
	return violations ? 1 : 0;
}

int
lock_check_schema(struct arena *a, struct diag_sink *diag, const char *path, const char *schema_dir,
    const struct ynode **root)
{
	json_t *json;
	int rc = lock_parse(a, diag, path, schema_dir, root, &json, NULL);
	json_decref(json);
	if (rc == -2)
		errno = EINVAL;
	return rc < 0 ? -1 : rc;
}

/* An entry's config_from, and where it was written. */
struct lock_from {
	const char *from;
	const char *jpath;
	struct diag_pos pos;
};

int
lock_read(struct arena *a, struct diag_sink *diag, const char *path, const char *schema_dir,
    struct lock *out)
{
	struct lock_ctx c = {a, diag, false};
	unsigned errors0 = diag->errors;
	const struct ynode *root;
	json_t *json;

	memset(out, 0, sizeof *out);
	out->path = path;
	int rc = lock_parse(a, diag, path, schema_dir, &root, &json, &out->source);
	if (rc < 0) {
		json_decref(json);
		if (rc == -2)
			errno = EINVAL;
		return -1;
	}
	c.schema_ok = rc == 0;
	const struct ynode *models = root && !lock_other_version(root) ? yamldoc_get(root, "models") : NULL;
	if (!models || models->kind != YNODE_MAP) {
		json_decref(json);
		return diag->errors > errors0 ? 1 : 0;
	}
	const json_t *jmodels = json_object_get(json, "models");
	out->models = arena_alloc(a, (models->count + 1) * sizeof *out->models);
	struct lock_from *froms = arena_alloc(a, (models->count + 1) * sizeof *froms);
	size_t nfroms = 0;
	for (size_t i = 0; i < models->count; i++) {
		struct lock_model *m = &out->models[out->nmodels++];
		read_model(&c, models->keys[i], models->key_pos[i], models->items[i],
		    json_object_get(jmodels, models->keys[i]), m);
		const struct ynode *from = yamldoc_get(models->items[i], "config_from");
		if (m->config_from && from)
			froms[nfroms++] = (struct lock_from){m->config_from,
			    arena_printf(a, "%s.config_from", jschema_path_key(a, "models", m->key)), from->pos};
	}
	qsort(out->models, out->nmodels, sizeof *out->models, cmp_model_key);
	for (size_t i = 0; i < nfroms; i++)
		if (!lock_find(out, froms[i].from))
			diag_error(diag, froms[i].pos, "%s: '%s' names no entry in this lock", froms[i].jpath,
			    froms[i].from);
	json_decref(json);
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
	json_object_set_new(e, "gated", m->gated && strcmp(m->gated, "false") == 0 ? json_false() : jstr(m->gated));
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

const char *
lock_path_next_to(struct arena *a, const char *catalog)
{
	const char *slash = strrchr(catalog, '/');
	if (!slash)
		return "models.lock";
	return arena_printf(a, "%.*s/models.lock", (int)(slash - catalog), catalog);
}
