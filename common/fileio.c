#define _DEFAULT_SOURCE
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"

/*
 * Temp names tried beside one path: "PATH.tmp.<pid>", then "PATH.tmp.<pid>.N" while one is
 * taken (left by a killed process that had our pid, or another thread writing the same path).
 */
enum { FILEIO_TMP_TRIES = 100, FILEIO_READ_CHUNK = 8192 };

int
fileio_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
fileio_atomic_open(struct fileio_atomic *f, const char *path, unsigned mode, unsigned flags)
{
	f->path = path;
	f->flags = flags;
	f->fd = -1;
	/* Room is kept for the ".N" of a retry. */
	int n = snprintf(f->tmp, sizeof f->tmp - 16, "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof f->tmp - 16) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (unsigned i = 1;; i++) {
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
		if (f->fd >= 0 || errno != EEXIST || i == FILEIO_TMP_TRIES)
			break;
		snprintf(f->tmp + n, 16, ".%u", i);
	}
	if (f->fd < 0)
		return -1;
	if ((flags & FILEIO_EXACT_MODE) && fchmod(f->fd, (mode_t)mode) != 0) {
		fileio_atomic_abort(f);
		return -1;
	}
	return 0;
}

int
fileio_atomic_close(struct fileio_atomic *f)
{
	if (f->fd < 0)
		return 0;
	int rc = !(f->flags & FILEIO_NOSYNC) && fsync(f->fd) != 0 ? -1 : 0;
	int e = errno;
	if (close(f->fd) != 0)
		rc = -1;
	else
		errno = e;
	f->fd = -1;
	return rc;
}

void
fileio_atomic_abort(struct fileio_atomic *f)
{
	int e = errno;
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	if (f->tmp[0])
		unlink(f->tmp);
	f->tmp[0] = '\0';
	errno = e;
}

int
fileio_atomic_commit(struct fileio_atomic *f)
{
	if (fileio_atomic_close(f) != 0 || rename(f->tmp, f->path) != 0) {
		fileio_atomic_abort(f);
		return -1;
	}
	f->tmp[0] = '\0';
	return 0;
}

void
fileio_sync_dir(const char *path)
{
	char dir[FILEIO_PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n = !slash ? 1 : slash == path ? 1 : (size_t)(slash - path);
	if (n >= sizeof dir)
		return;
	memcpy(dir, slash ? path : ".", n);
	dir[n] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int
fileio_write_atomic(const char *path, const void *data, size_t len, unsigned mode, unsigned flags,
    char *err, size_t errlen)
{
	struct fileio_atomic f;
	if (fileio_atomic_open(&f, path, mode, flags) != 0) {
		int e = errno;
		errmsg_fail(err, errlen, "%s: %s", f.tmp, strerror(e));
		errno = e;
		return -1;
	}
	if (fileio_write_all(f.fd, data, len) != 0 || fileio_atomic_commit(&f) != 0) {
		fileio_atomic_abort(&f);
		int e = errno;
		errmsg_fail(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	if (flags & FILEIO_SYNC_DIR)
		fileio_sync_dir(path);
	return 0;
}

int
fileio_write_file(const char *path, const void *data, size_t len, unsigned mode, unsigned flags)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (flags & FILEIO_EXCL ? O_EXCL : O_TRUNC) |
	    (flags & FILEIO_NOFOLLOW ? O_NOFOLLOW : 0), (mode_t)mode);
	if (fd < 0)
		return -1;
	int rc = 0;
	if (((flags & FILEIO_EXACT_MODE) && fchmod(fd, (mode_t)mode) != 0) || fileio_write_all(fd, data, len) != 0 ||
	    (!(flags & FILEIO_NOSYNC) && fsync(fd) != 0))
		rc = -2;
	int e = errno;
	if (close(fd) != 0 && rc == 0)
		rc = -2;
	else
		errno = e;
	return rc;
}

char *
fileio_read_all(struct arena *a, const char *path, size_t max, unsigned flags, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (flags & FILEIO_NOFOLLOW ? O_NOFOLLOW : 0));
	if (fd < 0)
		return NULL;
	struct stat st;
	char *buf = NULL;
	size_t n = 0, cap = FILEIO_READ_CHUNK;
	int e = 0;
	if (fstat(fd, &st) != 0) {
		e = errno;
		goto out;
	}
	/* A regular file's size is known up front: refuse a big one unread, and read it in one go. */
	if (S_ISREG(st.st_mode)) {
		if ((unsigned long long)st.st_size > max) {
			e = EFBIG;
			goto out;
		}
		cap = (size_t)st.st_size + 1;
	}
	for (;;) {
		if (!buf || n == cap) {
			char *nb = buf ? realloc(buf, cap *= 2) : malloc(cap);
			if (!nb) {
				e = ENOMEM;
				goto out;
			}
			buf = nb;
		}
		ssize_t k = read(fd, buf + n, cap - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			e = errno;
			goto out;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max) {
			e = EFBIG;
			goto out;
		}
	}
	buf[n] = '\0';  /* the loop grows buf before a read that could fill it, so n < cap */
	*len = n;
	if (a) {
		char *copy = arena_strndup(a, buf, n);
		free(buf);
		buf = copy;
	}
out:
	close(fd);
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	return buf;
}

char *
fileio_join(struct arena *a, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	const char *sep = dl && dir[dl - 1] == '/' ? "" : "/";
	if (a)
		return arena_printf(a, "%s%s%s", dir, sep, name);
	size_t n = dl + 1 + strlen(name) + 1;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s%s%s", dir, sep, name);
	return s;
}
