#include "srcfile.h"

#include <sys/stat.h>

void
srcfile_stat(struct srcfile *s, int fd)
{
	struct stat st;
	s->stat_known = fstat(fd, &st) == 0;
	if (!s->stat_known)
		return;
	s->size = (uint64_t)st.st_size;
	s->mtime_sec = (int64_t)st.st_mtim.tv_sec;
	s->mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
}
