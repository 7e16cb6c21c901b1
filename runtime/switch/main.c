/* switch: list and set the active model, and launch the inference server with its limits. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "exitcode.h"
#include "swcmd.h"
#include "swtable.h"

static const struct {
	const char *name;
	const char *alias;
	int (*run)(int, char **);
} commands[] = {
	{ "list", "--list", swcmd_list },
	{ "set", "--set", swcmd_set },
	{ "current", "--current", swcmd_current },
	{ "serve", NULL, swcmd_serve },
	{ "doctor", NULL, swcmd_doctor },
};

static const char usage[] =
    "usage: switch [--table FILE] list [--json] | set ROLE|PATH|REPO | current | serve [ROLE] [--dry-run] [--warm]\n"
    "              | doctor | --list | --set ROLE|PATH|REPO | --current | --help | --version\n";

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
		return swcmd_proxy(all);
	if (strcmp(argv[1], "--version") == 0) {
		printf("switch %s\n", MODELC_VERSION);
		return EXITCODE_OK;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) == 0 ||
		    (commands[i].alias && strcmp(argv[1], commands[i].alias) == 0)) {
			char *name = (char *)commands[i].name;
			bool help = false;
			for (int k = 2; k < argc; k++)
				help |= strcmp(argv[k], "--help") == 0;
			/* --help needs no table; doctor reports a stale one itself. */
			int rc = help ? EXITCODE_OK : swtable_load(table, commands[i].run == swcmd_doctor);
			if (rc != EXITCODE_OK)
				return rc;
			argv[1] = name;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	swcmd_error("unknown command '%s'\n%s", argv[1], usage);
	return EXITCODE_USAGE;
}
