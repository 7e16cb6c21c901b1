#include "cliopt.h"

#include <string.h>

int
cliopt_next(int argc, char **argv, const char *shortopts, const struct option *longopts, const char **arg)
{
	int at = optind ? optind : 1;
	if (at >= argc)
		return -1;
	opterr = 0;
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);
	*arg = argv[at];
	if (c != -1)
		return c;
	/* "+" stops at an argument that is no option: hand it out and go on past it. */
	optind = at + 1;
	optarg = argv[at];
	return strcmp(argv[at], "--") == 0 ? '?' : 1;
}
