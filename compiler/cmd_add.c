/*
 * modelc add ORG/REPO[@REV]|DIR --role NAME: a model into the catalog in one step, as Ollama's
 * pull is. The Hub is asked first (nothing is written yet); then models.yaml gets the role with
 * yamledit (comments and layout kept), checked from its temp file before it replaces the
 * user's; then models.lock gets the resolved entry, generated/ is built and the role's fit is
 * shown. Without the Hub the role is added unlocked and the output says what to run later.
 */
#define _DEFAULT_SOURCE /* realpath */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "commands.h"
#include "compile.h"
#include "diag.h"
#include "emit_common.h"
#include "exitcode.h"
#include "fileio.h"
#include "frontend.h"
#include "hfconfig.h"
#include "hubresolve.h"
#include "lockmerge.h"
#include "outdir.h"
#include "repoid.h"
#include "yamledit.h"

static const char add_usage[] =
    "usage: modelc add ORG/REPO[@REV]|DIR --role NAME [--quantization Q] [--max-model-len N|auto]\n"
    "                  [FILE] [-o DIR]\n"
    "Adds the role NAME to FILE (default models.yaml), comments kept; resolves it on the Hub into\n"
    "models.lock, builds DIR (default generated) and shows the fit. Without the Hub the role is\n"
    "added unlocked. Q defaults to the checkpoint's own format, else none (16-bit weights).\n";

struct add_opts {
	const char *source;
	const char *repo, *revision, *dir;
	const char *role;
	const char *quant;
	const char *max_model_len;
	const char *catalog;
	const char *outdir;
};

static int
add_bad(const char *fmt, const char *arg)
{
	return cli_usage_error("add", add_usage, fmt, arg);
}

static int
parse(int argc, char **argv, struct arena *a, struct add_opts *o)
{
	memset(o, 0, sizeof *o);
	o->catalog = "models.yaml";
	o->outdir = "generated";
	bool catalog_set = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			fputs(add_usage, stdout);
			return -1;
		}
		const char **slot = !strcmp(arg, "--role") ? &o->role : !strcmp(arg, "--quantization") ? &o->quant
		    : !strcmp(arg, "--max-model-len") ? &o->max_model_len : !strcmp(arg, "-o") ? &o->outdir : NULL;
		if (slot) {
			if (!v)
				return add_bad("option '%s' needs a value", arg);
			*slot = v;
			i++;
		} else if (arg[0] == '-' && arg[1]) {
			return add_bad("unknown option '%s'", arg);
		} else if (!o->source) {
			o->source = arg;
		} else if (!catalog_set) {
			o->catalog = arg;
			catalog_set = true;
		} else {
			return add_bad("unexpected argument '%s'", arg);
		}
	}
	if (!o->source)
		return add_bad("%s", "expected ORG/REPO or a model directory");
	if (!o->role)
		return add_bad("%s", "missing --role NAME");
	if (o->quant && !budget_quant_named(o->quant))
		return add_bad("--quantization: '%s' is not one of awq, gptq, fp8, bitsandbytes, compressed-tensors, none",
		    o->quant);
	if (o->max_model_len && strcmp(o->max_model_len, "auto") != 0) {
		uint32_t n;
		if (cli_parse_u32(o->max_model_len, UINT32_MAX, &n) != 0)
			return add_bad("--max-model-len: '%s' is not a positive integer or 'auto'", o->max_model_len);
	}
	const char *s = o->source;
	if (s[0] == '/' || s[0] == '.') {
		char real[PATH_MAX];
		struct stat st;
		if (!realpath(s, real) || stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
			return add_bad("'%s' is not a model directory on this machine", s);
		o->dir = arena_strdup(a, real);
		return 0;
	}
	const char *at = strchr(s, '@');
	o->repo = at ? arena_printf(a, "%.*s", (int)(at - s), s) : s;
	o->revision = at ? at + 1 : NULL;
	char why[160];
	if (repoid_check(o->repo, why, sizeof why) || (o->revision && !*o->revision))
		return add_bad("'%s' is neither a model directory nor a Hugging Face repository id (ORG/REPO[@REV])", s);
	return 0;
}

/* The checkpoint's own weight format from its config.json, or NULL. */
static const char *
config_quant(struct arena *a, const char *config_json)
{
	json_t *cfg = config_json ? json_loads(config_json, 0, NULL) : NULL;
	struct hfconfig_info info;
	struct budget_arch arch;
	const char *q = NULL;
	if (cfg && hfconfig_from_json(cfg, &arch, &info) == 0 && info.quantized && budget_quant_named(info.quant_method))
		q = arena_strdup(a, info.quant_method);
	json_decref(cfg);
	return q;
}

static const char *
dir_config(struct arena *a, const char *dir)
{
	json_t *cfg = json_load_file(arena_printf(a, "%s/config.json", dir), 0, NULL);
	char *text = cfg ? json_dumps(cfg, JSON_COMPACT) : NULL;
	const char *out = text ? arena_strdup(a, text) : NULL;
	free(text);
	json_decref(cfg);
	return out;
}

/* Write text to the catalog's temp file and check that it loads with the new role; 0 ready to commit. */
static int
stage_catalog(struct arena *a, const struct add_opts *o, const char *text, size_t len, struct fileio_atomic *f)
{
	struct stat st;
	unsigned mode = stat(o->catalog, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0644;
	if (fileio_atomic_open(f, o->catalog, mode, FILEIO_EXACT_MODE) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", f->tmp, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	if (fileio_write_all(f->fd, text, len) != 0 || fileio_atomic_close(f) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", f->tmp, strerror(errno));
		fileio_atomic_abort(f);
		return EXITCODE_SYSTEM;
	}
	struct diag_sink d;
	diag_init(&d, stderr, "modelc");
	struct catalog check;
	if (frontend_load(a, &d, f->tmp, NULL, &check) != EXITCODE_OK || !catalog_role(&check, o->role)) {
		fileio_atomic_abort(f);
		diag_print(stderr, "modelc: add: the edited %s did not load back with roles.%s; nothing written\n",
		    o->catalog, o->role);
		return EXITCODE_REJECTED;
	}
	return 0;
}

/* Build generated/ from the edited catalog and show the role's fit in one line. */
static int
build_and_show(const struct add_opts *o)
{
	struct compile_args args;
	compile_args_init(&args);
	args.catalog = o->catalog;
	args.catalog_set = true;
	/* The other roles' findings are build's; add shows the new role's fit. */
	FILE *devnull = fopen("/dev/null", "w");
	args.plan_diag = devnull;
	struct compile_run run;
	int rc = compile_run(&run, &args, stderr);
	if (devnull)
		fclose(devnull);
	if (rc == 0 && run.plan_errors)
		rc = EXITCODE_REJECTED;
	if (rc == 0 && outdir_write(&run.plan, o->outdir, &run.diag) != 0)
		rc = EXITCODE_SYSTEM;
	for (size_t i = 0; rc == 0 && i < run.plan.nroles; i++) {
		const struct plan_role *pr = &run.plan.roles[i];
		if (strcmp(pr->role->name, o->role) != 0)
			continue;
		if (!pr->max_model_len)
			printf("modelc: add: built %s; roles.%s: max_model_len not computed (facts are missing; vLLM's "
			    "default applies), %s (modelc explain %s says which)\n", o->outdir, o->role, emit_verdict(pr),
			    o->role);
		else
			printf("modelc: add: built %s; roles.%s: max_model_len %u%s, %s (modelc explain %s shows the "
			    "budget)\n", o->outdir, o->role, pr->max_model_len,
			    pr->role->max_model_len_auto ? " (auto, the largest that fits)" : "", emit_verdict(pr), o->role);
	}
	if (rc == 1)
		diag_print(stderr, "modelc: add: the catalog has the role, but the build was refused; 'modelc build' "
		    "says why\n");
	compile_done(&run);
	return rc;
}

int
cmd_add(int argc, char **argv)
{
	struct arena a = {0};
	struct add_opts o;
	int rc = parse(argc, argv, &a, &o);
	if (rc) {
		arena_free(&a);
		return rc < 0 ? 0 : rc;
	}
	struct diag_sink diag;
	diag_init(&diag, stderr, "modelc");
	struct catalog cat;
	if ((rc = frontend_load(&a, &diag, o.catalog, NULL, &cat)) != EXITCODE_OK) {
		diag_print(stderr, "modelc: add: %s must load before a role is added; nothing written\n", o.catalog);
		goto out;
	}
	const struct catalog_role *have = catalog_role(&cat, o.role);
	if (have) {
		diag_error(&diag, have->node ? have->node->pos : diag_file(o.catalog),
		    "roles.%s already exists; pick another --role, or edit it in %s", o.role, o.catalog);
		rc = EXITCODE_REJECTED;
		goto out;
	}

	/* The Hub first: nothing is written until it has answered or failed. */
	struct lock_model m;
	bool locked = false;
	const char *hub_err = NULL, *config = NULL;
	if (o.repo) {
		char err[3 * HUB_URL_MAX];
		struct hub hub;
		if (hub_open(&hub, err, sizeof err) == 0) {
			int r = hub.offline ? -1 : hubresolve_model(&hub, &a, o.repo, o.revision ? o.revision : "main", &m,
			    NULL, err, sizeof err);
			hub_close(&hub);
			if (r == EXITCODE_REJECTED) {
				diag_print(stderr, "modelc: add: error: %s: %s; nothing written\n", o.source, err);
				rc = EXITCODE_REJECTED;
				goto out;
			}
			locked = r == 0;
			hub_err = r < 0 ? "HF_HUB_OFFLINE is set" : r ? arena_strdup(&a, err) : NULL;
			config = locked ? m.config_json : NULL;
		} else {
			hub_err = arena_strdup(&a, err);
		}
	} else {
		config = dir_config(&a, o.dir);
	}
	const char *quant = o.quant ? o.quant : config_quant(&a, config);
	if (!quant) {
		quant = "none";
		if (!config)
			diag_print(stderr, "modelc: add: warning: config.json could not be read, so quantization: none "
			    "(16-bit weights) is assumed; give --quantization Q for a quantized checkpoint\n");
	}

	/* models.yaml: the role after the last one, comments kept. */
	const char *pairs[12];
	size_t n = 0;
	if (o.repo) {
		pairs[n++] = "repo", pairs[n++] = o.repo;
		if (o.revision)
			pairs[n++] = "revision", pairs[n++] = o.revision;
	} else {
		pairs[n++] = "local", pairs[n++] = o.dir;
	}
	pairs[n++] = "quantization", pairs[n++] = quant;
	if (o.max_model_len)
		pairs[n++] = "max_model_len", pairs[n++] = o.max_model_len;
	pairs[n] = NULL;
	struct yamledit ed;
	yamledit_init(&ed, &a, &diag, o.catalog, cat.source.text, cat.source.len);
	ed.noun = "roles";
	const char *why;
	const char *const roles[] = {"roles", NULL};
	if (yamledit_add_map(&ed, roles, o.role, pairs, &why) != 0) {
		diag_print(stderr, "modelc: add: cannot add roles.%s to %s: %s; nothing written\n", o.role, o.catalog, why);
		rc = EXITCODE_REJECTED;
		goto out;
	}
	struct fileio_atomic f;
	if ((rc = stage_catalog(&a, &o, ed.text, ed.len, &f)) != 0)
		goto out;

	const char *slash = strrchr(o.catalog, '/');
	const char *lock_path = slash ? arena_printf(&a, "%.*s/models.lock", (int)(slash - o.catalog), o.catalog)
	    : "models.lock";
	if (locked) {
		struct lock old = {0};
		if (access(lock_path, F_OK) == 0 &&
		    lock_read(&a, &diag, lock_path, frontend_schema_dir(&a, o.catalog), &old) != 0) {
			fileio_atomic_abort(&f);
			diag_print(stderr, "modelc: add: %s does not load; fix it or run 'modelc lock'; nothing written\n",
			    lock_path);
			rc = EXITCODE_REJECTED;
			goto out;
		}
		struct lock merged = lockmerge_put(&a, &old, &m);
		if (lock_write(&merged, lock_path) != 0) {
			fileio_atomic_abort(&f);
			diag_print(stderr, "modelc: %s: %s\n", lock_path, strerror(errno));
			rc = EXITCODE_SYSTEM;
			goto out;
		}
	}
	if (fileio_atomic_commit(&f) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", o.catalog, strerror(errno));
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	printf("modelc: add: %s: roles.%s: %s, quantization %s\n", o.catalog, o.role, o.repo ? o.repo : o.dir, quant);
	if (o.repo && !locked) {
		printf("modelc: add: not locked (the Hub could not be asked: %s); run 'modelc lock %s' on a machine that "
		    "reaches the Hugging Face Hub, then 'modelc build'\n", hub_err ? hub_err : "?", o.role);
		goto out;
	}
	if (locked)
		printf("modelc: add: %s: %s -> %s\n", lock_path, m.key, m.commit ? m.commit : "?");
	rc = build_and_show(&o);
	if (rc == 0 && o.repo)
		printf("next: fetch %s (downloads it into the Hub cache), then switch --set %s\n", o.role, o.role);
out:
	arena_free(&a);
	return rc;
}
