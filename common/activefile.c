#define _DEFAULT_SOURCE
#include "activefile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "fileio.h"

enum { ACTIVEFILE_TEXT_MAX = 2 * ACTIVEFILE_VALUE_MAX + 128 };

static const char activefile_header[] = "# written by switch --set; do not edit\n";

const char *
activefile_path(const char *option)
{
	const char *env = getenv("MODELC_ACTIVE_FILE");
	if (option)
		return option;
	return env && *env ? env : ".active_model";
}

/* Nonzero when the file at path holds exactly the len bytes of text. */
static int
same_content(const char *path, const char *text, size_t len)
{
	static char cur[ACTIVEFILE_TEXT_MAX];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;
	ssize_t r;

	if (fd < 0)
		return 0;
	while (got < sizeof cur && (r = read(fd, cur + got, sizeof cur - got)) > 0)
		got += (size_t)r;
	close(fd);
	return got == len && memcmp(cur, text, len) == 0;
}

int
activefile_write(const char *path, const struct model_entry *e, const char *model_id, const char **what)
{
	static char text[ACTIVEFILE_TEXT_MAX];
	char lock[ACTIVEFILE_PATH_MAX + 8];
	struct fileio_atomic f;
	int n, lfd, saved;

	n = snprintf(text, sizeof text, "%srole=%s\nmodel_id=%s\n", activefile_header, e->role, model_id);
	if (n < 0 || (size_t)n >= sizeof text || strlen(path) >= ACTIVEFILE_PATH_MAX) {
		*what = "format";
		errno = ENAMETOOLONG;
		return -1;
	}
	snprintf(lock, sizeof lock, "%s.lock", path);
	*what = "open lock file";
	lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (lfd < 0)
		return -1;
	*what = "lock";
	while (flock(lfd, LOCK_EX) != 0) {
		if (errno != EINTR)
			goto fail_lock;
	}
	/* Setting the role that is already set changes nothing: skip the new inode and the rename. */
	if (same_content(path, text, (size_t)n)) {
		close(lfd);
		return 0;
	}
	/* No fsync: a lost update after a crash only loses the last choice (STYLE.md allows it). */
	*what = "create temporary file";
	if (fileio_atomic_open(&f, path, 0644, FILEIO_NOSYNC) != 0)
		goto fail_lock;
	*what = "write";
	if (fileio_write_all(f.fd, text, (size_t)n) != 0)
		goto fail_tmp;
	*what = "close";
	if (fileio_atomic_close(&f) != 0)
		goto fail_tmp;
	*what = "rename";
	if (fileio_atomic_commit(&f) != 0)
		goto fail_lock;
	close(lfd);
	return 0;
fail_tmp:
	fileio_atomic_abort(&f);
fail_lock:
	saved = errno;
	close(lfd);
	errno = saved;
	return -1;
}

/* Copy the value after "key=" at line into dst; 0 when the line has that key. */
static int
take(const char *line, size_t len, const char *key, char *dst)
{
	size_t kl = strlen(key);
	if (len <= kl || memcmp(line, key, kl) != 0 || line[kl] != '=')
		return -1;
	if (len - kl - 1 >= ACTIVEFILE_VALUE_MAX)
		return -1;
	memcpy(dst, line + kl + 1, len - kl - 1);
	dst[len - kl - 1] = '\0';
	return 0;
}

int
activefile_read(const char *path, struct activefile *af, unsigned *line)
{
	static char text[ACTIVEFILE_TEXT_MAX];
	size_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned lineno = 0;
	int have_role = 0, have_id = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, text + len, sizeof text - 1 - len)) > 0)
		len += (size_t)n;
	if (n < 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	text[len] = '\0';
	*line = 1;
	if (len == sizeof text - 1 || strlen(text) != len)
		return -2;
	for (const char *p = text; *p;) {
		const char *end = strchr(p, '\n');
		size_t l = end ? (size_t)(end - p) : strlen(p);
		lineno++;
		*line = lineno;
		if (!end)
			return -2;  /* a file without its final newline was cut short */
		if (l > 0 && p[0] != '#') {
			if (!have_role && take(p, l, "role", af->role) == 0)
				have_role = 1;
			else if (!have_id && take(p, l, "model_id", af->model_id) == 0)
				have_id = 1;
			else
				return -2;
		}
		p = end + 1;
	}
	*line = lineno + 1;
	if (!have_role || !have_id)
		return -2;
	return 0;
}
