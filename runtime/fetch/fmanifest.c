#define _DEFAULT_SOURCE
#include "fmanifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "fileio.h"
#include "hub.h"
#include "repoid.h"

static char *
dup_or_null(json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static int from_json(const char *path, json_t *root, struct fmanifest *m, char *err, size_t errlen);

int
fmanifest_read(const char *path, struct fmanifest *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	/* A manifest is a few kilobytes; refuse a huge one before jansson holds it in memory. */
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > FMANIFEST_MAX_BYTES)
		return errmsg_fail(err, errlen, "%s: %lld bytes, more than a manifest may have (%d); refusing it", path,
		    (long long)st.st_size, FMANIFEST_MAX_BYTES);
	json_error_t je;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		if (je.line < 0 || je.position == 0)
			return errmsg_fail(err, errlen, "%s: cannot read: %s", path, je.text);
		return errmsg_fail(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
	}
	return from_json(path, root, m, err, errlen);
}

int
fmanifest_parse(const char *path, const char *text, size_t len, struct fmanifest *m, char *err, size_t errlen)
{
	memset(m, 0, sizeof *m);
	if (len > FMANIFEST_MAX_BYTES)
		return errmsg_fail(err, errlen, "%s: %zu bytes, more than a manifest may have (%d); refusing it", path, len,
		    FMANIFEST_MAX_BYTES);
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return errmsg_fail(err, errlen, "%s:%d:%d: not valid JSON: %s", path, je.line, je.column, je.text);
	return from_json(path, root, m, err, errlen);
}

/* The checks after parsing; takes root's reference. */
static int
from_json(const char *path, json_t *root, struct fmanifest *m, char *err, size_t errlen)
{
	int rc = -1;
	char why[256];
	m->path = strdup(path);
	if (!json_is_object(root)) {
		errmsg_fail(err, errlen, "%s: not a JSON object", path);
		goto done;
	}
	m->role = dup_or_null(json_object_get(root, "role"));
	m->repo = dup_or_null(json_object_get(root, "repo"));
	m->revision = dup_or_null(json_object_get(root, "revision"));
	m->commit = dup_or_null(json_object_get(root, "commit"));
	m->repo_folder = dup_or_null(json_object_get(root, "repo_folder"));
	json_t *dl = json_object_get(root, "download");
	m->download = dl ? json_is_true(dl) : m->repo != NULL;
	m->complete = json_is_true(json_object_get(root, "complete"));
	json_t *tb = json_object_get(root, "total_bytes");
	m->total_bytes = json_is_integer(tb) && json_integer_value(tb) > 0 ? (uint64_t)json_integer_value(tb) : 0;
	if (!m->role) {
		errmsg_fail(err, errlen, "%s: 'role' is missing", path);
		goto done;
	}
	if (!m->repo || !m->download) {
		rc = 0;  /* a local-only role: nothing to fetch */
		goto done;
	}
	if (repoid_check(m->repo, why, sizeof why)) {
		errmsg_fail(err, errlen, "%s: repo '%s' is not a Hub repo id: %s", path, m->repo, why);
		goto done;
	}
	if (!m->commit || !hub_is_hex(m->commit, 40)) {
		errmsg_fail(err, errlen, "%s: role '%s' has no pinned commit; run 'modelc lock' then 'modelc build'",
		    path, m->role);
		json_decref(root);
		fmanifest_free(m);
		m->unpinned = true;
		return -1;
	}
	if (!m->revision)
		m->revision = strdup("main");
	if (hub_path_check(m->revision, strlen(m->revision), why, sizeof why)) {
		errmsg_fail(err, errlen, "%s: revision '%s' %s", path, m->revision, why);
		goto done;
	}
	free(m->repo_folder);
	m->repo_folder = malloc(strlen(m->repo) * 2 + 16);
	char *q = m->repo_folder + sprintf(m->repo_folder, "models--");
	for (const char *r = m->repo; *r; r++) {
		if (*r == '/')
			*q++ = '-', *q++ = '-';
		else
			*q++ = *r;
	}
	*q = '\0';
	json_t *files = json_object_get(root, "files");
	if (!json_is_array(files) || json_array_size(files) > FMANIFEST_MAX_FILES) {
		errmsg_fail(err, errlen, "%s: 'files' is missing or not an array", path);
		goto done;
	}
	m->nfiles = json_array_size(files);
	m->files = calloc(m->nfiles ? m->nfiles : 1, sizeof *m->files);
	for (size_t i = 0; i < m->nfiles; i++) {
		json_t *f = json_array_get(files, i);
		struct fmanifest_file *mf = &m->files[i];
		const char *p = json_string_value(json_object_get(f, "path"));
		if (!p) {
			errmsg_fail(err, errlen, "%s: files[%zu]: 'path' is missing", path, i);
			goto done;
		}
		if (hub_path_check(p, strlen(p), why, sizeof why)) {
			errmsg_fail(err, errlen, "%s: files[%zu]: path '%s' %s; refusing to write it", path, i, p, why);
			goto done;
		}
		mf->path = strdup(p);
		json_t *sz = json_object_get(f, "size");
		if (json_is_integer(sz) && json_integer_value(sz) >= 0) {
			mf->size = (uint64_t)json_integer_value(sz);
			mf->size_known = true;
		}
		json_t *lfs = json_object_get(f, "lfs");
		mf->lfs = json_is_boolean(lfs) ? json_is_true(lfs) : -1;
		mf->sha256 = dup_or_null(json_object_get(f, "sha256"));
		mf->blob_id = dup_or_null(json_object_get(f, "blob_id"));
		if (mf->sha256 && !hub_is_hex(mf->sha256, 64)) {
			errmsg_fail(err, errlen, "%s: files[%zu]: sha256 of '%s' is not 64 lower-case hex digits", path, i, p);
			goto done;
		}
		if (mf->blob_id && !hub_is_hex(mf->blob_id, 40)) {
			errmsg_fail(err, errlen, "%s: files[%zu]: blob_id of '%s' is not 40 lower-case hex digits", path, i, p);
			goto done;
		}
		if (mf->lfs == 1 && mf->sha256)
			mf->blob = strdup(mf->sha256);
		else if (mf->lfs == 0 && mf->blob_id)
			mf->blob = strdup(mf->blob_id);
		const char *blob = json_string_value(json_object_get(f, "blob"));
		if (blob && mf->blob && strcmp(blob, mf->blob)) {
			errmsg_fail(err, errlen, "%s: files[%zu]: blob '%s' of '%s' is not its %s", path, i, blob, p,
			    mf->lfs ? "sha256" : "blob_id");
			goto done;
		}
	}
	rc = 0;
done:
	json_decref(root);
	if (rc)
		fmanifest_free(m);
	return rc;
}

void
fmanifest_free(struct fmanifest *m)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		free(m->files[i].path);
		free(m->files[i].sha256);
		free(m->files[i].blob_id);
		free(m->files[i].blob);
	}
	free(m->files);
	free(m->path);
	free(m->role);
	free(m->repo);
	free(m->revision);
	free(m->commit);
	free(m->repo_folder);
	memset(m, 0, sizeof *m);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
fmanifest_list(const char *dir, char ***roles, size_t *n, char *err, size_t errlen)
{
	*roles = NULL;
	*n = 0;
	DIR *d = opendir(dir);
	if (!d)
		return errmsg_fail(err, errlen, "%s: %s (run 'modelc build' first, or pass --manifests DIR)", dir,
		    strerror(errno));
	size_t cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l <= 5 || strcmp(e->d_name + l - 5, ".json") || e->d_name[0] == '.')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 8;
			char **nr = realloc(*roles, cap * sizeof *nr);
			if (!nr)
				break;
			*roles = nr;
		}
		(*roles)[(*n)++] = strndup(e->d_name, l - 5);
	}
	closedir(d);
	if (*n)
		qsort(*roles, *n, sizeof **roles, cmp_str);
	return 0;
}

int
fmanifest_pin(struct fmanifest *m, size_t i, const char *sha256, const char *blob_id,
    uint64_t size, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root = json_load_file(m->path, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return errmsg_fail(err, errlen, "%s: cannot read: %s", m->path, je.text);
	json_t *f = json_array_get(json_object_get(root, "files"), i);
	int rc = -1;
	if (!json_is_object(f)) {
		errmsg_fail(err, errlen, "%s: files[%zu] changed while fetch ran", m->path, i);
		goto done;
	}
	if (sha256)
		json_object_set_new(f, "sha256", json_string(sha256));
	if (blob_id)
		json_object_set_new(f, "blob_id", json_string(blob_id));
	json_object_set_new(f, "size", json_integer((json_int_t)size));
	const char *blob = m->files[i].lfs == 1 ? sha256 : blob_id;
	if (blob)
		json_object_set_new(f, "blob", json_string(blob));
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	struct fileio_atomic fa;
	if (!text || fileio_atomic_open(&fa, m->path, 0644, 0) != 0) {
		errmsg_fail(err, errlen, "%s: %s", text ? fa.tmp : m->path, strerror(text ? errno : ENOMEM));
		free(text);
		goto done;
	}
	int ok = fileio_write_all(fa.fd, text, strlen(text)) == 0 && fileio_write_all(fa.fd, "\n", 1) == 0;
	free(text);
	if (!ok || fileio_atomic_commit(&fa) != 0) {
		fileio_atomic_abort(&fa);
		errmsg_fail(err, errlen, "%s: %s", m->path, strerror(errno));
		goto done;
	}
	rc = 0;
done:
	json_decref(root);
	return rc;
}
