#ifndef MODELC_SRCFILE_H
#define MODELC_SRCFILE_H

/*
 * An input file as modelc read it: its bytes, and the size and modification time of the file
 * those bytes came from (fstat of the same descriptor). The runtime table records them so that
 * switch can tell when generated/ is older than models.yaml or models.lock, and digests the bytes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct srcfile {
	const char *text;               /* the bytes read, arena-owned; NULL when nothing was read */
	size_t len;
	bool stat_known;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/* Record the size and modification time of the open file fd in s (stat_known false on failure). */
void srcfile_stat(struct srcfile *s, int fd);

#endif
