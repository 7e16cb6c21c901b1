/*
 * switch: list and set the active model, and launch the inference server with its limits.
 * Built twice (Makefile): switch runs what the shell runs on every model change and the
 * diagnosis (list, set, current, env, gpu, doctor) and execs its sibling switch-host, with the
 * same arguments, to launch a server (serve); switch-host (SWITCH_HOST) runs that and execs
 * switch for the others. Each binary links only its own commands, so both stay under 64 KiB:
 * serve's launcher, its re-fit over several GPUs and the HTTP probe fill switch-host.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "exitcode.h"
#include "swcmd.h"
#include "swexec.h"
#include "suggest.h"
#include "swtable.h"

/* A command's run is NULL in the binary that does not hold it: that one execs the other. */
#ifdef SWITCH_HOST
#define HERE_SWITCH(f) NULL
#define HERE_HOST(f)   f
#define OTHER          "switch"
#else
#define HERE_SWITCH(f) f
#define HERE_HOST(f)   NULL
#define OTHER          "switch-host"
#endif

/* --help and gpu need no table; doctor reports a stale one itself. */
enum { NO_TABLE = 1, STALE_OK = 2 };

static const struct {
	const char *name;
	const char *alias;
	int (*run)(int, char **);
	int flags;
} commands[] = {
	{ "list", "--list", HERE_SWITCH(swcmd_list), 0 },
	{ "set", "--set", HERE_SWITCH(swcmd_set), 0 },
	{ "current", "--current", HERE_SWITCH(swcmd_current), 0 },
	{ "serve", NULL, HERE_HOST(swcmd_serve), 0 },
	{ "doctor", NULL, HERE_SWITCH(swcmd_doctor), STALE_OK },
	{ "env", NULL, HERE_SWITCH(swcmd_env), 0 },
	{ "gpu", NULL, HERE_SWITCH(swcmd_gpu), NO_TABLE },
};

static const char usage[] =
    "usage: switch [--table FILE] list [--json] | set ROLE|PATH|REPO | current | serve [ROLE] [--dry-run] [--warm]\n"
    "              | env | doctor | gpu [--index N] | --list | --set ROLE|PATH|REPO | --current | --help | --version\n";

int
main(int argc, char **argv)
{
	const char *table = NULL;
	char **all = argv;

	/* The table comes before the command: switch --table FILE list. */
	while (argc > 1 && strncmp(argv[1], "--table", 7) == 0 && (!argv[1][7] || argv[1][7] == '=')) {
		int eq = argv[1][7] == '=';
		if (!eq && argc < 3) {
			swcmd_error("option '--table' needs a value\n");
			return EXITCODE_USAGE;
		}
		table = eq ? argv[1] + 8 : argv[2];
		argv += 2 - eq;
		argc -= 2 - eq;
	}
	if (argc < 2) {
		fputs(usage, stderr);
		return EXITCODE_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return EXITCODE_OK;
	}
	if (strcmp(argv[1], "proxy") == 0)
		return swcmd_exec_sibling("switch-proxy", all);
	if (strcmp(argv[1], "--version") == 0) {
		printf("switch %s\n", MODELC_VERSION);
		return EXITCODE_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) == 0 ||
		    (commands[i].alias && strcmp(argv[1], commands[i].alias) == 0)) {
			char *name = (char *)commands[i].name;
			bool help = false;
			if (!commands[i].run)
				return swcmd_exec_sibling(OTHER, all);
			for (int k = 2; k < argc; k++)
				help |= strcmp(argv[k], "--help") == 0;
			int flags = commands[i].flags;
			int rc = help || (flags & NO_TABLE) ? EXITCODE_OK : swtable_load(table, (flags & STALE_OK) != 0);
			if (rc != EXITCODE_OK)
				return rc;
			argv[1] = name;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	/* "--sett": the nearest option of the usage; "sett": the nearest command. */
	const char *near = argv[1][0] == '-' ? swcmd_nearest(argv[1], usage) : NULL;
	size_t best = strlen(argv[1]) / 3 + 2;
	for (size_t i = 0; !near && i < sizeof commands / sizeof commands[0]; i++)
		if (suggest_distance(argv[1], commands[i].name) < best)
			near = commands[i].name;
	swcmd_error("unknown command '%s'%s%s%s\n%s", argv[1], near ? " (did you mean '" : "", near ? near : "",
	    near ? "'?)" : "", usage);
	return EXITCODE_USAGE;
}
