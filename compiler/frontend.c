#define _DEFAULT_SOURCE /* realpath */
#include "frontend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "jsonschema.h"
#include "size.h"

#ifndef MODELC_DATADIR
#define MODELC_DATADIR "/usr/local/share/modelc"
#endif

enum { FRONTEND_MAX_CANDIDATES = 5, FRONTEND_PATH_MAX = 4096 };

static const char *const FRONTEND_SCHEMA = "models.schema.json";

/* The directory part of path ("." when it has none); arena-owned. */
static const char *
frontend_dirname(struct arena *a, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return ".";
	if (slash == path)
		return "/";
	return arena_strndup(a, path, (size_t)(slash - path));
}

static size_t
frontend_candidates(struct arena *a, const char *catalog_path, const char **out)
{
	size_t n = 0;
	const char *env = getenv("MODELC_SCHEMA_DIR");
	if (env && *env) {
		out[n++] = env;
		return n;
	}
	if (catalog_path)
		out[n++] = arena_printf(a, "%s/schemas", frontend_dirname(a, catalog_path));
	char exe[FRONTEND_PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = '\0';
		const char *bindir = frontend_dirname(a, exe);
		const char *dirs[] = {
			arena_printf(a, "%s/../../schemas", bindir),      /* a build tree */
			arena_printf(a, "%s/../share/modelc", bindir),    /* an install moved as a whole */
		};
		for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
			/* Name it without the "bin/../.." detour in messages when it exists. */
			char *real = realpath(dirs[i], NULL);
			out[n++] = real ? arena_strdup(a, real) : dirs[i];
			free(real);
		}
	}
	out[n++] = MODELC_DATADIR;
	return n;
}

const char *
frontend_schema_dir(struct arena *a, const char *catalog_path)
{
	const char *dirs[FRONTEND_MAX_CANDIDATES];
	size_t n = frontend_candidates(a, catalog_path, dirs);
	for (size_t i = 0; i < n; i++) {
		const char *file = arena_printf(a, "%s/%s", dirs[i], FRONTEND_SCHEMA);
		if (access(file, R_OK) == 0)
			return dirs[i];
	}
	return NULL;
}

const char *
frontend_schema_search(struct arena *a, const char *catalog_path)
{
	const char *dirs[FRONTEND_MAX_CANDIDATES];
	size_t n = frontend_candidates(a, catalog_path, dirs);
	const char *out = "";
	for (size_t i = 0; i < n; i++)
		out = arena_printf(a, "%s%s%s", out, i ? ", " : "", dirs[i]);
	return out;
}

/* Read the whole file into the arena, NUL-terminated; refuse files over the parser's limit. */
static int
frontend_read(struct arena *a, struct diag_sink *diag, const char *path, char **text, size_t *len,
    struct srcfile *src)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		diag_error(diag, diag_file(path), "cannot open: %s", strerror(errno));
		return EXITCODE_SYSTEM;
	}
	if (src)
		srcfile_stat(src, fileno(f));
	size_t cap = 64 * 1024, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		if (n == cap) {
			if (cap > YAMLDOC_MAX_BYTES)
				break;
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	int failed = ferror(f);
	int saved = errno;
	fclose(f);
	if (!buf) {
		/* As arena.c does: nothing sensible can follow. */
		diag_print(stderr, "out of memory\n");
		abort();
	}
	if (failed) {
		free(buf);
		diag_error(diag, diag_file(path), "cannot read: %s", strerror(saved));
		return EXITCODE_SYSTEM;
	}
	if (n > YAMLDOC_MAX_BYTES) {
		free(buf);
		diag_error(diag, diag_file(path), "the file is larger than %d MiB",
		    (int)(YAMLDOC_MAX_BYTES / SIZE_MIB));
		return EXITCODE_REJECTED;
	}
	*text = arena_strndup(a, buf, n);
	*len = n;
	free(buf);
	if (src) {
		src->text = *text;
		src->len = n;
	}
	return EXITCODE_OK;
}

int
frontend_parse(struct arena *a, struct diag_sink *diag, const char *path,
    const char *schema_dir, const struct ynode **root, struct srcfile *src)
{
	char *text;
	size_t len;
	struct ynode *doc = NULL;

	*root = NULL;
	if (!schema_dir)
		schema_dir = frontend_schema_dir(a, path);
	if (!schema_dir) {
		diag_error(diag, diag_file(path), "cannot find %s (looked in %s); set MODELC_SCHEMA_DIR",
		    FRONTEND_SCHEMA, frontend_schema_search(a, path));
		return EXITCODE_SYSTEM;
	}
	int rc = frontend_read(a, diag, path, &text, &len, src);
	if (rc != EXITCODE_OK)
		return rc;
	diag_set_source(diag, path, text);
	int bad = yamldoc_parse(a, diag, path, text, len, &doc) != 0;
	*root = doc;
	/* YAML-level errors make the tree unreliable; the schema would only add noise. */
	if (bad)
		return EXITCODE_REJECTED;
	if (!doc || doc->kind == YNODE_NULL) {
		diag_error(diag, doc ? doc->pos : diag_file(path), "the catalog is empty: it needs the keys "
		    "storage, gpu and roles (docs/catalog.md; the shipped models.yaml is an example)");
		return EXITCODE_REJECTED;
	}
	const char *schema_path = arena_printf(a, "%s/%s", schema_dir, FRONTEND_SCHEMA);
	struct jschema *s = jschema_load(a, diag, schema_path);
	if (!s)
		return EXITCODE_SYSTEM;
	unsigned violations = jschema_validate(s, a, diag, doc);
	jschema_free(s);
	return violations ? EXITCODE_REJECTED : EXITCODE_OK;
}

int
frontend_load(struct arena *a, struct diag_sink *diag, const char *path,
    const char *schema_dir, struct catalog *out)
{
	const struct ynode *root;

	memset(out, 0, sizeof *out);
	if (!schema_dir)
		schema_dir = frontend_schema_dir(a, path);
	struct srcfile src = {0};
	int rc = frontend_parse(a, diag, path, schema_dir, &root, &src);
	if (rc != EXITCODE_OK)
		return rc;
	int bad = catalog_from_yaml(a, diag, schema_dir, root, path, out) != 0;
	out->source = src;
	return bad ? EXITCODE_REJECTED : EXITCODE_OK;
}
