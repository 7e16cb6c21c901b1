/* switch proxy: exec the sibling binary switch-proxy (runtime/proxy), which would not fit in switch. */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "swcmd.h"
#include "swpath.h"

extern char **environ;

enum { PROXY_MAX_ARGS = 256 };

int
swcmd_proxy(const char *self, const char *table, int argc, char **argv)
{
	static char path[SWPATH_MAX];
	static char *args[PROXY_MAX_ARGS + 4];
	size_t n = 0;

	args[n++] = "switch-proxy";
	if (table) {
		args[n++] = "--table";
		args[n++] = (char *)table;
	}
	for (int i = 1; i < argc && n < PROXY_MAX_ARGS; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	/* Beside this switch first (an installed pair, or build/bin), then on PATH. */
	size_t len = strlen(self);
	while (len > 0 && self[len - 1] != '/')
		len--;
	if (len > 0 && len < sizeof path - 16) {
		memcpy(path, self, len);
		memcpy(path + len, "switch-proxy", 13);
		execve(path, args, environ);
	}
	if (swpath_which("switch-proxy", path, sizeof path) == 0)
		execve(path, args, environ);
	swcmd_error("proxy: cannot run 'switch-proxy' (beside switch, or on PATH): %s\n", strerror(errno));
	return EXITCODE_SYSTEM;
}
