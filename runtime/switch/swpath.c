#include "swpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
swpath_which(const char *name, char *buf, size_t cap)
{
	const char *p = getenv("PATH");

	if (strchr(name, '/')) {
		if (strlen(name) >= cap) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(buf, name, strlen(name) + 1);
		return 0;
	}
	if (!p)
		p = "/usr/local/bin:/bin:/usr/bin";
	while (*p) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		int n = snprintf(buf, cap, "%.*s/%s", (int)len, len ? p : ".", name);
		struct stat st;
		/* A folder of that name is not the command (tests/fixtures/nvidia-smi/ is one). */
		if (n > 0 && (size_t)n < cap && stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0)
			return 0;
		if (!end)
			break;
		p = end + 1;
	}
	errno = ENOENT;
	return -1;
}
