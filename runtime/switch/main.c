/* switch: list and set the active model, and launch the inference server with its limits. */
#include <stdio.h>
#include <string.h>

#include "swcmd.h"

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
    "usage: switch list [--json] | set ROLE|PATH|REPO | current | serve [ROLE] [--dry-run] [--warm] | doctor\n"
    "       switch --list | --set ROLE|PATH|REPO | --current | --help | --version\n";

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("switch %s\n", MODELC_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) == 0 ||
		    (commands[i].alias && strcmp(argv[1], commands[i].alias) == 0)) {
			char *name = (char *)commands[i].name;
			argv[1] = name;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	swcmd_error("unknown command '%s'\n%s", argv[1], usage);
	return 2;
}
