/* Placeholder until its owner lands the real command; replace this whole file. */
#include <stdio.h>

#include "commands.h"

int
cmd_adopt(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fputs("modelc: adopt: not built yet\n", stderr);
	return 3;
}
