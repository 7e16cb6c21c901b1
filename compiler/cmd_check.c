/* modelc check: validate a catalog and report every problem; writes nothing. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "commands.h"
#include "diag.h"
#include "frontend.h"

static const char check_usage[] =
    "usage: modelc check [FILE] [--schema-only] [--json]\n"
    "\n"
    "Validate FILE (default models.yaml) against schemas/models.schema.json and the\n"
    "catalog rules, report every problem as FILE:LINE:COL, and write nothing.\n"
    "\n"
    "  --schema-only  check the YAML and the schema only (no GPU profile lookup, no rules)\n"
    "  --json         print one JSON object on stdout: file, valid, errors, warnings,\n"
    "                 diagnostics (one string each) and document (the YAML as modelc read\n"
    "                 it under the YAML 1.2 core schema; .inf and .nan as strings)\n"
    "  --help         show this help\n"
    "\n"
    "Exit status: 0 valid (warnings allowed), 1 rejected, 2 usage, 3 a file could not be read.\n";

/* The tree as JSON, so scripts (and the ajv agreement test) see what modelc read. */
static json_t *
check_to_json(const struct ynode *n)
{
	json_t *v;
	switch (n->kind) {
	case YNODE_NULL:
		return json_null();
	case YNODE_BOOL:
		return json_boolean(n->boolean);
	case YNODE_INT:
		return json_integer(n->integer);
	case YNODE_FLOAT:
		if (isnan(n->number))
			return json_string(".nan");
		if (isinf(n->number))
			return json_string(n->number > 0 ? ".inf" : "-.inf");
		return json_real(n->number);
	case YNODE_STRING:
		return json_stringn(n->text, n->text_len);
	case YNODE_SEQ:
		v = json_array();
		for (size_t i = 0; i < n->count; i++)
			json_array_append_new(v, check_to_json(n->items[i]));
		return v;
	case YNODE_MAP:
		v = json_object();
		for (size_t i = 0; i < n->count; i++)
			json_object_set_new(v, n->keys[i], check_to_json(n->items[i]));
		return v;
	}
	return json_null();
}

/* Split captured diagnostics into lines without the "modelc: " prefix. */
static json_t *
check_lines(const char *buf, const char *prog)
{
	json_t *list = json_array();
	size_t plen = strlen(prog);
	while (buf && *buf) {
		size_t len = strcspn(buf, "\n");
		const char *line = buf;
		if (len > plen + 1 && strncmp(line, prog, plen) == 0 && line[plen] == ':' && line[plen + 1] == ' ') {
			line += plen + 2;
			len -= plen + 2;
		}
		json_array_append_new(list, json_stringn(line, len));
		buf = line + len;
		if (*buf == '\n')
			buf++;
	}
	return list;
}

int
cmd_check(int argc, char **argv)
{
	const char *path = NULL;
	bool schema_only = false, as_json = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(check_usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("modelc %s\n", MODELC_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--schema-only") == 0) {
			schema_only = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			as_json = true;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "modelc: check: unknown option '%s'\n%s", argv[i], check_usage);
			return 2;
		} else if (path) {
			fprintf(stderr, "modelc: check: more than one FILE ('%s' and '%s')\n%s", path,
			    argv[i], check_usage);
			return 2;
		} else {
			path = argv[i];
		}
	}
	if (!path)
		path = "models.yaml";

	struct arena arena = {0};
	struct diag_sink diag;
	char *captured = NULL;
	size_t captured_len = 0;
	FILE *out = stderr;
	if (as_json) {
		out = open_memstream(&captured, &captured_len);
		if (!out) {
			perror("modelc: check: open_memstream");
			return 3;
		}
	}
	diag_init(&diag, out, "modelc");
	if (as_json || getenv("NO_COLOR"))
		diag.show_source = 0;

	const struct ynode *root = NULL;
	struct catalog catalog;
	int rc;
	if (schema_only) {
		rc = frontend_parse(&arena, &diag, path, NULL, &root);
	} else {
		rc = frontend_load(&arena, &diag, path, NULL, &catalog);
		root = rc == FRONTEND_OK ? catalog.root : NULL;
		/*
		 * RULES STEP (owner of compiler/plan.c): when plan.c lands, read the lock and run
		 * the rules here, e.g.
		 *     struct lock lock; struct plan plan;
		 *     if (rc == FRONTEND_OK && lock_read(&arena, &diag, lock_path, &lock) == 0 &&
		 *         plan_build(&arena, &diag, &catalog, &lock, &plan) != 0)
		 *             rc = FRONTEND_REJECTED;
		 * Until then check stops after the catalog: schema, data tables, GPU profile.
		 */
	}
	if (rc == FRONTEND_OK && diag.errors)
		rc = FRONTEND_REJECTED;

	if (as_json) {
		fclose(out);
		json_t *o = json_object();
		json_object_set_new(o, "file", json_string(path));
		json_object_set_new(o, "valid", json_boolean(rc == FRONTEND_OK));
		json_object_set_new(o, "errors", json_integer(diag.errors));
		json_object_set_new(o, "warnings", json_integer(diag.warnings));
		json_object_set_new(o, "diagnostics", check_lines(captured, "modelc"));
		json_object_set_new(o, "document", root ? check_to_json(root) : json_null());
		char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_ENSURE_ASCII);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
		free(captured);
	} else if (rc == FRONTEND_OK) {
		if (schema_only)
			printf("%s: ok (schema)\n", path);
		else
			printf("%s: ok, %zu role%s\n", path, catalog.nroles, catalog.nroles == 1 ? "" : "s");
	} else if (diag.errors) {
		if (diag.warnings)
			fprintf(stderr, "modelc: %u error%s, %u warning%s\n", diag.errors,
			    diag.errors == 1 ? "" : "s", diag.warnings, diag.warnings == 1 ? "" : "s");
		else
			fprintf(stderr, "modelc: %u error%s\n", diag.errors, diag.errors == 1 ? "" : "s");
	}
	arena_free(&arena);
	return rc;
}
