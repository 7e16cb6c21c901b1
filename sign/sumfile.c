#include "sumfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errmsg.h"
#include "msfile.h"

enum { HASH_CHUNK = 65536 };

bool
sumfile_path_ok(const char *path)
{
	const char *part = path;
	if (!*path || *path == '/')
		return false;
	for (const char *p = path;; p++) {
		if (*p == '/' || *p == '\0') {
			size_t l = (size_t)(p - part);
			if (l == 0 || (l == 1 && part[0] == '.') || (l == 2 && part[0] == '.' && part[1] == '.'))
				return false;
			if (*p == '\0')
				return true;
			part = p + 1;
		} else if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return false;
	}
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

void
sumfile_free(struct sumfile_entry *e, size_t n)
{
	for (size_t i = 0; e && i < n; i++)
		free(e[i].path);
	free(e);
}

int
sumfile_parse(const char *text, size_t len, struct sumfile_entry **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	size_t pos = 0, cap = 0, l, lineno = 0;
	const char *line;
	struct sumfile_entry *v = NULL;
	int r;
	while ((r = msfile_line(text, len, &pos, &line, &l)) != 0) {
		lineno++;
		if (r < 0)
			goto bad;
		/* 64 hex digits, two spaces (or " *", sha256sum's binary mark), the path. */
		if (l < 2 * SUMFILE_DIGEST + 3 || line[2 * SUMFILE_DIGEST] != ' ' ||
		    (line[2 * SUMFILE_DIGEST + 1] != ' ' && line[2 * SUMFILE_DIGEST + 1] != '*'))
			goto bad;
		struct sumfile_entry e;
		for (size_t i = 0; i < SUMFILE_DIGEST; i++) {
			int hi = hexval(line[2 * i]), lo = hexval(line[2 * i + 1]);
			if (hi < 0 || lo < 0)
				goto bad;
			e.sha256[i] = (unsigned char)(hi << 4 | lo);
		}
		size_t pl = l - 2 * SUMFILE_DIGEST - 2;
		if (pl >= SUMFILE_PATH_MAX) {
			errmsg_fail(err, errlen, "line %zu: the path is longer than %d bytes", lineno, SUMFILE_PATH_MAX - 1);
			goto fail;
		}
		e.path = strndup(line + 2 * SUMFILE_DIGEST + 2, pl);
		if (!e.path) {
			errmsg_fail(err, errlen, "out of memory");
			goto fail;
		}
		if (!sumfile_path_ok(e.path)) {
			errmsg_fail(err, errlen, "line %zu: '%s' is not a relative path inside the directory", lineno, e.path);
			free(e.path);
			goto fail;
		}
		if (*n && strcmp(v[*n - 1].path, e.path) >= 0) {
			errmsg_fail(err, errlen, "line %zu: '%s' %s", lineno, e.path, strcmp(v[*n - 1].path, e.path) ?
			    "is out of order (the list is sorted by path)" : "is listed twice");
			free(e.path);
			goto fail;
		}
		if (*n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			struct sumfile_entry *nv = nc <= SUMFILE_MAX_FILES ? realloc(v, nc * sizeof *nv) : NULL;
			if (!nv) {
				errmsg_fail(err, errlen, "line %zu: more than %d files", lineno, SUMFILE_MAX_FILES);
				free(e.path);
				goto fail;
			}
			v = nv;
			cap = nc;
		}
		v[(*n)++] = e;
	}
	*out = v;
	return 0;
bad:
	errmsg_fail(err, errlen, "line %zu: expected 64 lower-case hex digits, two spaces and a path", lineno);
fail:
	sumfile_free(v, *n);
	*n = 0;
	return -1;
}

void
sumfile_hex(const unsigned char d[SUMFILE_DIGEST], char out[2 * SUMFILE_DIGEST + 1])
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < SUMFILE_DIGEST; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * SUMFILE_DIGEST] = '\0';
}

int
sumfile_format(const struct sumfile_entry *e, size_t n, char **out, size_t *len)
{
	size_t total = 1;
	for (size_t i = 0; i < n; i++)
		total += 2 * SUMFILE_DIGEST + 3 + strlen(e[i].path);
	char *buf = malloc(total);
	if (!buf)
		return -1;
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		sumfile_hex(e[i].sha256, buf + off);
		off += 2 * SUMFILE_DIGEST;
		off += (size_t)sprintf(buf + off, "  %s\n", e[i].path);
	}
	buf[off] = '\0';
	*out = buf;
	*len = off;
	return 0;
}

void
sumfile_sha256(const void *data, size_t len, unsigned char out[SUMFILE_DIGEST])
{
	crypto_hash_sha256(out, data, len);
}

int
sumfile_hash_file(const char *path, unsigned char out[SUMFILE_DIGEST], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	unsigned char *buf = malloc(HASH_CHUNK);
	if (!buf) {
		close(fd);
		return errmsg_fail(err, errlen, "%s: out of memory", path);
	}
	for (;;) {
		ssize_t r = read(fd, buf, HASH_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return errmsg_fail(err, errlen, "%s: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		crypto_hash_sha256_update(&st, buf, (unsigned long long)r);
	}
	free(buf);
	close(fd);
	crypto_hash_sha256_final(&st, out);
	return 0;
}
