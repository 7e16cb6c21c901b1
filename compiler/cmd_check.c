/* modelc check: validate a catalog and report every problem; writes nothing. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "cliopt.h"
#include "commands.h"
#include "compile.h"
#include "diag.h"
#include "exitcode.h"
#include "frontend.h"
#include "lock.h"

#define CHECK_USAGE_LINE "usage: modelc check [FILE] [--lock FILE] [--schema-only] [--json]\n"

static const char check_usage[] =
    CHECK_USAGE_LINE
    "\n"
    "Validate FILE (default models.yaml) against schemas/models.schema.json, the lock\n"
    "and the budget rules, report every problem as FILE:LINE:COL, and write nothing.\n"
    "\n"
    "  --lock FILE    the resolved facts (default models.lock next to FILE)\n"
    "  --schema-only  check the YAML and the schema only (no GPU profile, lock or rules);\n"
    "                 with --lock FILE instead of a catalog: only the lock's JSON and\n"
    "                 schemas/models.lock.schema.json\n"
    "  --json         print one JSON object on stdout: file, valid, errors, warnings,\n"
    "                 diagnostics (one string each) and document (the file as modelc read\n"
    "                 it: YAML under the YAML 1.2 core schema, .inf and .nan as strings)\n"
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

/* What one check found, whichever path produced it. */
struct check_result {
	int rc;
	unsigned errors;
	unsigned warnings;
	const struct ynode *root;
	size_t nroles;
};

static void
check_report(const char *path, bool schema_only, bool as_json, const struct check_result *res,
    char *captured)
{
	if (as_json) {
		json_t *o = json_object();
		json_object_set_new(o, "file", json_string(path));
		json_object_set_new(o, "valid", json_boolean(res->rc == EXITCODE_OK));
		json_object_set_new(o, "errors", json_integer(res->errors));
		json_object_set_new(o, "warnings", json_integer(res->warnings));
		json_object_set_new(o, "diagnostics", check_lines(captured, "modelc"));
		json_object_set_new(o, "document", res->root ? check_to_json(res->root) : json_null());
		char *s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_ENSURE_ASCII);
		if (s)
			printf("%s\n", s);
		free(s);
		json_decref(o);
	} else if (res->rc == EXITCODE_OK) {
		if (schema_only)
			printf("%s: ok (schema)\n", path);
		else
			printf("%s: ok, %zu role%s\n", path, res->nroles, res->nroles == 1 ? "" : "s");
	} else if (res->errors) {
		if (res->warnings)
			diag_print(stderr, "modelc: %u error%s, %u warning%s\n", res->errors,
			    res->errors == 1 ? "" : "s", res->warnings, res->warnings == 1 ? "" : "s");
		else
			diag_print(stderr, "modelc: %u error%s\n", res->errors, res->errors == 1 ? "" : "s");
	}
}

int
cmd_check(int argc, char **argv)
{
	const char *path = NULL, *lock = NULL;
	bool schema_only = false, as_json = false;

	static const struct option longopts[] = {{"help", 0, NULL, 'h'}, {"version", 0, NULL, 'V'},
		{"schema-only", 0, NULL, 's'}, {"json", 0, NULL, 'j'}, {"lock", 1, NULL, 'l'}, {NULL, 0, NULL, 0}};
	const char *arg;
	for (int c; (c = cliopt_next(argc, argv, "+:h", longopts, &arg)) != -1;) {
		switch (c) {
		case 'h': fputs(check_usage, stdout); return EXITCODE_OK;
		case 'V': printf("modelc %s\n", MODELC_VERSION); return EXITCODE_OK;
		case 's': schema_only = true; continue;
		case 'j': as_json = true; continue;
		case 'l': lock = optarg; continue;
		case 1:
			if (!path) {
				path = optarg;
				continue;
			}
			diag_print(stderr, "modelc: check: more than one FILE ('%s' and '%s')\n", path, arg);
			break;
		case ':': diag_print(stderr, "modelc: check: --lock needs an argument\n"); break;
		default: diag_print(stderr, "modelc: check: unknown option '%s'\n", arg); break;
		}
		fputs(CHECK_USAGE_LINE, stderr);
		return EXITCODE_USAGE;
	}
	if (schema_only && lock && path) {
		diag_print(stderr, "modelc: check: --schema-only --lock checks the lock alone; drop '%s'\n%s", path,
		    CHECK_USAGE_LINE);
		return EXITCODE_USAGE;
	}
	if (!path)
		path = "models.yaml";

	char *captured = NULL;
	size_t captured_len = 0;
	FILE *out = stderr;
	if (as_json) {
		out = open_memstream(&captured, &captured_len);
		if (!out) {
			diag_print(stderr, "modelc: check: cannot capture diagnostics: %s\n", strerror(errno));
			return EXITCODE_SYSTEM;
		}
	}

	struct check_result res = {0};
	if (schema_only) {
		/* The document and its schema only (JSON for a lock, YAML for the catalog): what the
		 * ajv agreement tests compare. */
		struct arena arena = {0};
		struct diag_sink diag;
		diag_init(&diag, out, "modelc");
		if (lock) {
			int lrc = lock_check_schema(&arena, &diag, lock, NULL, &res.root);
			res.rc = lrc < 0 ? EXITCODE_SYSTEM : lrc ? EXITCODE_REJECTED : EXITCODE_OK;
		} else {
			res.rc = frontend_parse(&arena, &diag, path, NULL, &res.root, NULL);
		}
		res.errors = diag.errors;
		res.warnings = diag.warnings;
		if (as_json)
			fclose(out);
		check_report(lock ? lock : path, true, as_json, &res, captured);
		arena_free(&arena);
	} else {
		/* The whole front half of `modelc build`: catalog, lock and the budget rules. */
		struct compile_args args;
		struct compile_run run;
		compile_args_init(&args);
		args.catalog = path;
		args.catalog_set = true;
		args.lock = lock;
		res.rc = compile_run(&run, &args, out);
		res.errors = run.diag.errors;
		res.warnings = run.diag.warnings;
		res.root = run.catalog.root;
		res.nroles = run.catalog.nroles;
		if (res.rc == EXITCODE_OK && res.errors)
			res.rc = EXITCODE_REJECTED;
		if (as_json)
			fclose(out);
		check_report(path, false, as_json, &res, captured);
		compile_done(&run);
	}
	free(captured);
	return res.rc;
}
