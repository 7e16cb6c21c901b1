/*
 * One manifest per role, built as a jansson object and dumped with sorted keys, so the
 * bytes depend only on the plan. Files are listed by path; the cache blob name follows
 * huggingface_hub (shared/reference/hf-hub.md 2.4): sha256 for LFS files, git blob id otherwise.
 */
#include "emit_manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "emit_common.h"

/* A JSON string, or null for NULL; sets *bad when s is not valid UTF-8. */
static json_t *
str_or_null(const char *s, int *bad)
{
	if (!s)
		return json_null();
	json_t *v = json_string(s);
	if (!v)
		*bad = 1;
	return v;
}

/* "models--owner--name": the repo's folder in the hub cache. */
static char *
repo_folder(const char *repo)
{
	size_t n = strlen("models--") + 2 * strlen(repo) + 1;
	char *s = malloc(n), *q = s;
	if (!s)
		return NULL;
	q += sprintf(q, "models--");
	for (const char *r = repo; *r; r++) {
		if (*r == '/') {
			*q++ = '-';
			*q++ = '-';
		} else {
			*q++ = *r;
		}
	}
	*q = '\0';
	return s;
}

static void
unknown_add(json_t *unknown, const char *path, const char *what, int *bad)
{
	size_t n = strlen(path) + strlen(what) + 3;
	char *s = malloc(n);
	if (!s) {
		*bad = 1;
		return;
	}
	snprintf(s, n, "%s: %s", path, what);
	json_t *v = json_string(s);
	free(s);
	if (!v || json_array_append_new(unknown, v) < 0)
		*bad = 1;
}

static json_t *
file_object(const struct plan_file *f, const char *commit, json_t *unknown, int *bad)
{
	json_t *o = json_object();
	const char *blob = NULL;
	if (!o) {
		*bad = 1;
		return NULL;
	}
	json_object_set_new(o, "path", str_or_null(f->path, bad));
	json_object_set_new(o, "size", f->size_known ? json_integer((json_int_t)f->size) : json_null());
	json_object_set_new(o, "lfs", f->lfs < 0 ? json_null() : json_boolean(f->lfs));
	json_object_set_new(o, "sha256", str_or_null(f->sha256, bad));
	json_object_set_new(o, "blob_id", str_or_null(f->blob_id, bad));
	if (f->lfs == 1)
		blob = f->sha256;
	else if (f->lfs == 0)
		blob = f->blob_id;
	json_object_set_new(o, "blob", str_or_null(blob, bad));
	if (commit) {
		size_t n = strlen("snapshots/") + strlen(commit) + 1 + strlen(f->path) + 1;
		char *d = malloc(n);
		if (!d) {
			*bad = 1;
		} else {
			snprintf(d, n, "snapshots/%s/%s", commit, f->path);
			json_object_set_new(o, "destination", str_or_null(d, bad));
			free(d);
		}
	} else {
		json_object_set_new(o, "destination", json_null());
	}
	if (!f->size_known)
		unknown_add(unknown, f->path, "size", bad);
	if (f->lfs < 0)
		unknown_add(unknown, f->path, "lfs", bad);
	else if (!blob)
		unknown_add(unknown, f->path, f->lfs ? "sha256" : "blob_id", bad);
	return o;
}

static json_t *
manifest_object(const struct plan *p, const struct plan_role *r, int *bad)
{
	const struct catalog_role *c = r->role;
	const char *commit = r->lock ? r->lock->commit : NULL;
	json_t *o = json_object(), *files = json_array(), *unknown = json_array();

	if (!o || !files || !unknown) {
		json_decref(o), json_decref(files), json_decref(unknown);
		*bad = 1;
		return NULL;
	}
	char head[EMIT_NAME_MAX + 64];
	snprintf(head, sizeof head, "generated from %s by modelc; do not edit", emit_catalog_name(p).s);
	json_object_set_new(o, "_generated", json_string(head));
	json_object_set_new(o, "role", str_or_null(c->name, bad));
	json_object_set_new(o, "repo", str_or_null(c->repo, bad));
	json_object_set_new(o, "revision", str_or_null(c->repo ? c->revision : NULL, bad));
	json_object_set_new(o, "commit", str_or_null(commit, bad));
	json_object_set_new(o, "local_dir", str_or_null(r->local_dir ? r->local_dir : c->local, bad));
	json_object_set_new(o, "download", json_boolean(c->repo != NULL));
	if (!c->repo) {
		json_object_set_new(o, "repo_folder", json_null());
		json_object_set_new(o, "note", json_string("local-only role: nothing to download; "
		    "the model is read from local_dir"));
		json_object_set_new(o, "files", files);
		json_object_set_new(o, "total_bytes", json_integer(0));
		json_object_set_new(o, "complete", json_true());
		json_object_set_new(o, "unknown", unknown);
		return o;
	}
	char *folder = repo_folder(c->repo);
	json_object_set_new(o, "repo_folder", str_or_null(folder, bad));
	if (!folder)
		*bad = 1;
	free(folder);

	if (!r->lock)
		json_array_append_new(unknown, json_string("lock: the role has no entry in the lock"));
	if (!commit)
		json_array_append_new(unknown, json_string("commit"));
	if (r->lock && !r->lock->files_complete)
		json_array_append_new(unknown, json_string("files: the lock records a partial list"));

	const struct plan_file **sorted = r->nfiles ? malloc(r->nfiles * sizeof *sorted) : NULL;
	if (r->nfiles && !sorted) {
		*bad = 1;
	} else {
		uint64_t total = 0;
		for (size_t i = 0; i < r->nfiles; i++)
			sorted[i] = &r->files[i];
		emit_sort_files(sorted, r->nfiles);
		for (size_t i = 0; i < r->nfiles; i++) {
			json_t *fo = file_object(sorted[i], commit, unknown, bad);
			if (fo)
				json_array_append_new(files, fo);
			if (sorted[i]->size_known)
				total += sorted[i]->size;
		}
		json_object_set_new(o, "total_bytes", json_integer((json_int_t)total));
	}
	free(sorted);
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "complete", json_boolean(json_array_size(unknown) == 0));
	json_object_set_new(o, "unknown", unknown);
	return o;
}

int
emit_manifest(FILE *out, const struct plan *p, const struct plan_role *r)
{
	int bad = 0;
	json_t *o = manifest_object(p, r, &bad);
	if (!o || bad) {
		json_decref(o);
		errno = o ? EINVAL : ENOMEM;
		return -1;
	}
	int rc = json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
	json_decref(o);
	fputc('\n', out);
	if (rc < 0 || ferror(out)) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
