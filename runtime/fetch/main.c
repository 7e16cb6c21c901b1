/* fetch: download what generated/manifests list into the Hugging Face cache, verified. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "diag.h"
#include "fplan.h"
#include "fprune.h"
#include "fscan.h"

enum { FETCH_MAX_JOBS = 64, FETCH_DEFAULT_JOBS = 4 };

static const char usage_fetch[] =
    "usage: fetch [all|ROLE...] [--jobs N] [--verify] [--trust-hub] [--json] [--manifests DIR] [--cache DIR]\n"
    "             [--require-signature PUBKEY]... [--catalog FILE]\n"
    "       fetch prune [--yes] [--json] [--manifests DIR] [--cache DIR] [--active FILE]\n"
    "       fetch scan [--json] [--manifests DIR] [--cache DIR]\n";

static const char help_text[] =
    "Download each role's files, pinned in generated/manifests/<role>.json, into the Hugging Face\n"
    "cache (HF_HUB_CACHE, else HF_HOME/hub), verifying size and hash before any file becomes visible.\n"
    "\n"
    "  all | ROLE...      roles to fetch (default: all)\n"
    "  --jobs N           parallel transfers (default 4, at most 64)\n"
    "  --verify           rehash every file already present instead of trusting its stamp\n"
    "  --trust-hub        accept the Hub's hash for files the manifest does not pin, and record it\n"
    "                     in the manifest ('modelc lock ROLE' pins it in models.lock)\n"
    "  --json             one JSON object per event on stdout\n"
    "  --manifests DIR    where the manifests are (default generated/manifests)\n"
    "  --cache DIR        the hub cache root (default as huggingface_hub: HF_HUB_CACHE, HF_HOME/hub)\n"
    "  --require-signature PUBKEY\n"
    "                     refuse, before downloading anything, a manifest that this minisign key (a\n"
    "                     .pub file or its base64 line; repeatable) or a key of the catalog's trust:\n"
    "                     list did not sign for this catalog ('modelc sign'); a trust: list alone\n"
    "                     requires signatures too\n"
    "  --catalog FILE     the catalog whose trust: list and SHA-256 the signatures must match\n"
    "                     (default models.yaml, when the current folder has one)\n"
    "  prune [--yes]      list, then with --yes remove, what no role uses (never the active model)\n"
    "  scan               per role: bytes on disk, complete/partial/missing, verified, what pruning frees\n"
    "\n"
    "Exit status: 0 done, 1 rejected (a role not in the catalog or not pinned, a hash mismatch, a\n"
    "signature refused, gated, not found, no space),\n"
    "2 usage, 3 failure.\n"
    "See fetch(1).\n";

static int
usage(void)
{
	fputs(usage_fetch, stderr);
	return EXITCODE_USAGE;
}

/* Options shared by both commands; returns the index consumed up to, or -1 on a usage error. */
static int
common_opt(int argc, char **argv, int i, const char **manifests, const char **cache, int *json)
{
	if (!strcmp(argv[i], "--json")) {
		*json = 1;
		return i;
	}
	if (!strcmp(argv[i], "--manifests") || !strcmp(argv[i], "--cache")) {
		if (i + 1 >= argc || !argv[i + 1][0]) {
			diag_print(stderr, "fetch: %s needs a directory\n", argv[i]);
			return -1;
		}
		*(!strcmp(argv[i], "--cache") ? cache : manifests) = argv[i + 1];
		return i + 1;
	}
	return -2;
}

static enum fprogress_mode
mode_for(int json)
{
	if (json)
		return FPROGRESS_JSON;
	return isatty(STDERR_FILENO) && !getenv("NO_PROGRESS") ? FPROGRESS_TTY : FPROGRESS_LINES;
}

/* What prune and scan take; scan has no --yes and no --active. */
struct sub_opts {
	const char *manifests, *cache, *active;
	int json;
	bool yes;
};

/* One loop for both subcommands; -1 to go on, else the exit status to return. */
static int
sub_options(int argc, char **argv, const char *name, bool prune, struct sub_opts *o)
{
	for (int i = 1; i < argc; i++) {
		int r = common_opt(argc, argv, i, &o->manifests, &o->cache, &o->json);
		if (r >= 0) {
			i = r;
			continue;
		}
		if (r == -1)
			return usage();
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_fetch, stdout);
			return EXITCODE_OK;
		}
		if (prune && !strcmp(argv[i], "--yes"))
			o->yes = true;
		else if (prune && !strcmp(argv[i], "--active") && i + 1 < argc)
			o->active = argv[++i];
		else {
			diag_print(stderr, "fetch: %s: unknown option '%s'\n", name, argv[i]);
			return usage();
		}
	}
	return -1;
}

static int
cmd_prune(int argc, char **argv)
{
	struct sub_opts s = {.manifests = "generated/manifests"};
	int rc = sub_options(argc, argv, "prune", true, &s);
	if (rc >= 0)
		return rc;
	struct fprune_opts o = {.manifests = s.manifests, .cache = s.cache, .active_file = s.active,
	    .yes = s.yes, .mode = mode_for(s.json)};
	return fprune_run(&o);
}

static int
cmd_scan(int argc, char **argv)
{
	struct sub_opts s = {.manifests = "generated/manifests"};
	int rc = sub_options(argc, argv, "scan", false, &s);
	if (rc >= 0)
		return rc;
	struct fscan_opts o = {.manifests = s.manifests, .cache = s.cache, .json = s.json};
	return fscan_run(&o);
}

static int
cmd_fetch(int argc, char **argv)
{
	struct fplan_opts o = {.jobs = FETCH_DEFAULT_JOBS, .manifests = "generated/manifests"};
	int json = 0, all = 0;
	char **roles = calloc((size_t)argc + 1, sizeof *roles), **keys = calloc((size_t)argc + 1, sizeof *keys);
	size_t n = 0, nkeys = 0;
	if (!roles || !keys) {
		free(roles);
		free(keys);
		return EXITCODE_SYSTEM;
	}
	for (int i = 1; i < argc; i++) {
		int r = common_opt(argc, argv, i, &o.manifests, &o.cache, &json);
		if (r >= 0) {
			i = r;
			continue;
		}
		if (r == -1)
			goto bad;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage_fetch, stdout);
			fputs("\n", stdout);
			fputs(help_text, stdout);
			free(roles);
			free(keys);
			return EXITCODE_OK;
		}
		if (!strcmp(argv[i], "--verify"))
			o.verify = 1;
		else if (!strcmp(argv[i], "--trust-hub"))
			o.trust_hub = 1;
		else if (!strcmp(argv[i], "--require-signature") || !strcmp(argv[i], "--catalog")) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				diag_print(stderr, "fetch: %s needs %s\n", argv[i],
				    argv[i][2] == 'r' ? "a public key" : "a file");
				goto bad;
			}
			if (argv[i][2] == 'r')
				keys[nkeys++] = argv[++i];
			else
				o.catalog = argv[++i];
		}
		else if (!strcmp(argv[i], "--jobs") || !strncmp(argv[i], "--jobs=", 7)) {
			const char *v = argv[i][6] == '=' ? argv[i] + 7 : (i + 1 < argc ? argv[++i] : "");
			char *end;
			long j = strtol(v, &end, 10);
			if (!*v || *end || j < 1 || j > FETCH_MAX_JOBS) {
				diag_print(stderr, "fetch: --jobs '%s' is not a number from 1 to %d\n", v, FETCH_MAX_JOBS);
				goto bad;
			}
			o.jobs = (unsigned)j;
		} else if (argv[i][0] == '-') {
			diag_print(stderr, "fetch: unknown option '%s'\n", argv[i]);
			goto bad;
		} else if (!strcmp(argv[i], "all"))
			all = 1;
		else
			roles[n++] = argv[i];
	}
	if (all && n) {
		diag_print(stderr, "fetch: 'all' and role names exclude each other\n");
		goto bad;
	}
	if (nkeys && o.trust_hub) {
		diag_print(stderr, "fetch: --trust-hub takes hashes nobody signed; it cannot be combined with "
		    "--require-signature\n");
		goto bad;
	}
	o.mode = mode_for(json);
	o.require_keys = (const char *const *)keys;
	o.nrequire = nkeys;
	int rc = fplan_fetch(&o, n ? roles : NULL, n);
	free(roles);
	free(keys);
	return rc;
bad:
	free(roles);
	free(keys);
	return usage();
}

int
main(int argc, char **argv)
{
	diag_use_colour();
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(usage_fetch, stdout);
		fputs("\n", stdout);
		fputs(help_text, stdout);
		return EXITCODE_OK;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("fetch %s\n", MODELC_VERSION);
		return EXITCODE_OK;
	}
	static const struct {
		const char *name;
		int (*run)(int, char **);
	} commands[] = {{"prune", cmd_prune}, {"scan", cmd_scan}};
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (argc > 1 && !strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return cmd_fetch(argc, argv);
}
