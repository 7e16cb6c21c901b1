#include "msfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"

int
msfile_read(const char *path, size_t max, bool secret, char **out, size_t *len, char *err, size_t errlen)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return errmsg_fail(err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return errmsg_fail(err, errlen, "%s: not a regular file", path);
	}
	if (secret && (st.st_mode & 077)) {
		close(fd);
		return errmsg_fail(err, errlen, "%s: mode %04o lets other users at this secret; run 'chmod 600 %s'",
		    path, (unsigned)(st.st_mode & 07777), path);
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return errmsg_fail(err, errlen, "%s: %lld bytes, more than such a file may have (%zu)", path,
		    (long long)st.st_size, max);
	}
	char *buf = secret ? sodium_malloc(max + 1) : malloc(max + 1);
	if (!buf) {
		close(fd);
		return errmsg_fail(err, errlen, "%s: cannot allocate %s memory", path, secret ? "locked" : "enough");
	}
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			secret ? sodium_free(buf) : free(buf);
			return errmsg_fail(err, errlen, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			close(fd);
			secret ? sodium_free(buf) : free(buf);
			return errmsg_fail(err, errlen, "%s: more than such a file may have (%zu bytes)", path, max);
		}
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

int
msfile_line(const char *text, size_t len, size_t *pos, const char **line, size_t *linelen)
{
	if (*pos >= len)
		return 0;
	const char *s = text + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t l = nl ? (size_t)(nl - s) : len - *pos;
	*pos += l + (nl != NULL);
	if (l && s[l - 1] == '\r')
		l--;
	if (memchr(s, '\r', l) || memchr(s, '\0', l))
		return -1;
	*line = s;
	*linelen = l;
	return 1;
}

bool
msfile_rest_blank(const char *text, size_t len, size_t pos)
{
	for (; pos < len; pos++)
		if (text[pos] != '\n' && text[pos] != '\r')
			return false;
	return true;
}

int
msfile_b64_exact(const char *b64, size_t len, unsigned char *bin, size_t n)
{
	size_t got = 0;
	const char *end = NULL;
	if (sodium_base642bin(bin, n, b64, len, NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return got == n && end == b64 + len ? 0 : -1;
}
