#define _GNU_SOURCE /* syscall */
#include "swfolder.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "swcmd.h"

int
swfolder_check(const char *dir, char *abs)
{
	static char buf[8192];
	struct stat st;
	int has = 0;
	long n;

	/* The absolute path, without opendir and realpath (they allocate in musl): the cwd before a relative one. */
	size_t len = dir[0] == '/' || syscall(SYS_getcwd, abs, SWTABLE_PATH_MAX - 1) <= 0 ? 0 : strlen(abs);
	if (len)
		abs[len++] = '/';
	snprintf(abs + len, SWTABLE_PATH_MAX - len, "%s", dir);
	for (len = strlen(abs); len > 1 && abs[len - 1] == '/';)
		abs[--len] = '\0';
	snprintf(buf, sizeof buf, "%s/config.json", abs);
	if (stat(buf, &st) == 0 && S_ISREG(st.st_mode))
		has = SWFOLDER_CONFIG;
	int fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, the name. */
	while (fd >= 0 && (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
		for (long off = 0; off < n;) {
			const char *name = buf + off + 19;
			unsigned short reclen;
			memcpy(&reclen, buf + off + 16, sizeof reclen);
			size_t l = strlen(name);
			if (l > 12 && strcmp(name + l - 12, ".safetensors") == 0)
				has |= SWFOLDER_WEIGHTS;
			off += reclen;
		}
	}
	if (fd >= 0)
		close(fd);
	return has;
}

void
swfolder_warn_unsized(const char *abs)
{
	swcmd_warning("'%s' is not in the catalog: nothing was fitted (no max_model_len, gpu_memory_utilization or "
	    "max_num_seqs: vLLM decides); to size it: modelc add %s --role NAME\n", abs, abs);
}
