#ifndef MODELC_FILEIO_H
#define MODELC_FILEIO_H

/*
 * Files written whole: the atomic replacement every output goes through (a temp file
 * "PATH.tmp.<pid>" in the same directory, written, fsynced, renamed over PATH), a new file
 * written in place, a descriptor written to the end, a file read whole, and a path joined.
 * libc only. The atomic write never allocates, so switch can use it with no heap.
 */

#include <stddef.h>

#include "arena.h"

enum { FILEIO_PATH_MAX = 4096 };

enum {
	FILEIO_NOSYNC = 1 << 0,         /* no fsync: small state files under a lock (rename is enough) */
	FILEIO_SYNC_DIR = 1 << 1,       /* fileio_write_atomic: fsync the directory after the rename */
	FILEIO_EXACT_MODE = 1 << 2,     /* set mode as given (fchmod), not filtered by the umask */
	FILEIO_EXCL = 1 << 3,           /* fileio_write_file: refuse a path that exists */
	FILEIO_NOFOLLOW = 1 << 4,       /* fileio_write_file, fileio_read_all: refuse a symbolic link (ELOOP) */
};

/* An atomic replacement in progress: open, write to fd, then commit or abort. */
struct fileio_atomic {
	const char *path;               /* borrowed until commit or abort */
	char tmp[FILEIO_PATH_MAX + 32]; /* the temp file's name ("" once nothing is left to remove) */
	int fd;                         /* -1 once closed */
	unsigned flags;
};

/*
 * Create the temp file beside path (exclusively, never through a symbolic link) with mode,
 * which the umask filters unless FILEIO_EXACT_MODE. 0, or -1 with errno and f->tmp naming
 * the temp file that could not be created (then there is nothing to commit or abort).
 */
int fileio_atomic_open(struct fileio_atomic *f, const char *path, unsigned mode, unsigned flags);

/* fsync (unless FILEIO_NOSYNC) and close the temp file, keeping it for commit; 0 or -1 with errno. */
int fileio_atomic_close(struct fileio_atomic *f);

/*
 * Close the temp file if still open and rename it over path. 0, or -1 with errno and the temp
 * file removed; path is then as it was.
 */
int fileio_atomic_commit(struct fileio_atomic *f);

/* fsync the directory that holds path, so a rename into it survives a crash; best effort. */
void fileio_sync_dir(const char *path);

/* Close and remove the temp file; errno is kept. Harmless after commit or another abort. */
void fileio_atomic_abort(struct fileio_atomic *f);

/*
 * Replace path with the len bytes at data atomically, as the functions above do. 0, or -1
 * with errno and err (errlen bytes, may be 0) saying "TMP: strerror" when the temp file
 * cannot be created and "PATH: strerror" when a later step fails; path is then as it was.
 */
int fileio_write_atomic(const char *path, const void *data, size_t len, unsigned mode, unsigned flags,
    char *err, size_t errlen);

/* Write all len bytes to fd, retrying short writes and EINTR; 0 or -1 with errno. */
int fileio_write_all(int fd, const void *data, size_t len);

/*
 * Write len bytes to path in place (created with mode, else truncated; FILEIO_EXCL,
 * FILEIO_NOFOLLOW, FILEIO_NOSYNC, FILEIO_EXACT_MODE as above). 0; -1 when path cannot be
 * created or opened, -2 when writing, syncing or closing it fails; errno set either way.
 */
int fileio_write_file(const char *path, const void *data, size_t len, unsigned mode, unsigned flags);

/*
 * Read all of path into a NUL-terminated buffer (*len bytes, not counting the NUL) owned by
 * the arena a, or malloc'ed when a is NULL (the caller frees it). More than max bytes is
 * EFBIG; FILEIO_NOFOLLOW refuses a symbolic link. NULL with errno.
 */
char *fileio_read_all(struct arena *a, const char *path, size_t max, unsigned flags, size_t *len);

/* "dir/name", with no second '/' when dir ends in one; the arena's, or malloc'ed (NULL on no memory) when a is NULL. */
char *fileio_join(struct arena *a, const char *dir, const char *name);

#endif
