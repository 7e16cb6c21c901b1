#include "swexec.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "exitcode.h"
#include "swcmd.h"

extern char **environ;

int
swcmd_exec_sibling(const char *name, char **argv)
{
	static char path[PATH_MAX];
	size_t n = strlen(name);
	ssize_t got = readlink("/proc/self/exe", path, sizeof path - 1);
	int err = got < 0 ? errno : (size_t)got + n >= sizeof path ? ENAMETOOLONG : 0;
	/* One message for every failure: without switch's folder, it names the sibling alone. */
	size_t len = err ? 0 : (size_t)got;

	while (len > 0 && path[len - 1] != '/')
		len--;
	memcpy(path + len, name, n + 1);
	if (!err) {
		execve(path, argv, environ);
		err = errno;
	}
	swcmd_error("cannot run %s: %s (%s is installed beside switch: run 'make install', or build both "
		    "with 'make config')\n",
	    path, strerror(err), name);
	return EXITCODE_SYSTEM;
}
