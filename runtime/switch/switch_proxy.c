/* switch proxy: exec the sibling binary switch-proxy (runtime/proxy), which would not fit in switch. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "swcmd.h"
#include "swpath.h"

extern char **environ;

int
swcmd_proxy(char **argv)
{
	static char name[SWPATH_MAX], path[SWPATH_MAX];
	/* argv[0] and "-proxy": build/bin/switch-proxy beside build/bin/switch, or switch-proxy on PATH
	 * when switch was found there. switch's own words go as they are ("--table FILE proxy ..."):
	 * switch-proxy skips the word proxy, so nothing is copied here. */
	snprintf(name, sizeof name, "%s-proxy", argv[0]);
	if (swpath_which(name, path, sizeof path) == 0)
		execve(path, argv, environ);
	swcmd_error("cannot start '%s': %s\n", name, strerror(errno)); /* switch serve's words */
	return EXITCODE_SYSTEM;
}
