#define _DEFAULT_SOURCE
#include "digest.h"
#include "size.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { DIGEST_READ_CHUNK = SIZE_MIB };

int
digest_init(struct digest *d, bool git, uint64_t size)
{
	d->sha256 = EVP_MD_CTX_new();
	d->sha1 = git ? EVP_MD_CTX_new() : NULL;
	if (!d->sha256 || (git && !d->sha1) || !EVP_DigestInit_ex(d->sha256, EVP_sha256(), NULL) ||
	    (git && !EVP_DigestInit_ex(d->sha1, EVP_sha1(), NULL))) {
		digest_free(d);
		return -1;
	}
	if (git) {
		char hdr[32];
		int n = snprintf(hdr, sizeof hdr, "blob %llu", (unsigned long long)size);
		EVP_DigestUpdate(d->sha1, hdr, (size_t)n + 1);  /* with the NUL */
	}
	return 0;
}

void
digest_update(struct digest *d, const void *p, size_t n)
{
	EVP_DigestUpdate(d->sha256, p, n);
	if (d->sha1)
		EVP_DigestUpdate(d->sha1, p, n);
}

static void
hex(const unsigned char *b, unsigned n, char *out)
{
	static const char x[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; i++) {
		out[2 * i] = x[b[i] >> 4];
		out[2 * i + 1] = x[b[i] & 15];
	}
	out[2 * n] = '\0';
}

void
digest_final(struct digest *d, char sha256_hex[DIGEST_SHA256_HEX + 1], char sha1_hex[DIGEST_SHA1_HEX + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	EVP_DigestFinal_ex(d->sha256, md, &n);
	hex(md, n, sha256_hex);
	if (d->sha1) {
		EVP_DigestFinal_ex(d->sha1, md, &n);
		if (sha1_hex)
			hex(md, n, sha1_hex);
	} else if (sha1_hex)
		sha1_hex[0] = '\0';
}

void
digest_free(struct digest *d)
{
	EVP_MD_CTX_free(d->sha256);
	EVP_MD_CTX_free(d->sha1);
	d->sha256 = d->sha1 = NULL;
}

bool
digest_equal(const char *a, const char *b, size_t n)
{
	if (!a || !b || strlen(a) != n || strlen(b) != n)
		return false;
	return sodium_memcmp(a, b, n) == 0;
}

int
digest_fd_prefix(struct digest *d, int fd, uint64_t n)
{
	char *buf = malloc(DIGEST_READ_CHUNK);
	if (!buf)
		return -1;
	uint64_t off = 0;
	while (off < n) {
		size_t want = n - off < DIGEST_READ_CHUNK ? (size_t)(n - off) : DIGEST_READ_CHUNK;
		ssize_t r = pread(fd, buf, want, (off_t)off);
		if (r <= 0) {
			if (r < 0 && errno == EINTR)
				continue;
			free(buf);
			if (r == 0)
				errno = EIO;
			return -1;
		}
		digest_update(d, buf, (size_t)r);
		off += (uint64_t)r;
	}
	free(buf);
	return 0;
}

int
digest_file(const char *path, bool git, uint64_t size, char sha256_hex[DIGEST_SHA256_HEX + 1],
    char sha1_hex[DIGEST_SHA1_HEX + 1], char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) || (uint64_t)st.st_size != size) {
		snprintf(err, errlen, "%s: has %lld bytes, expected %llu", path, (long long)st.st_size,
		    (unsigned long long)size);
		close(fd);
		return -1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct digest d;
	if (digest_init(&d, git, size)) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int rc = digest_fd_prefix(&d, fd, size);
	if (rc)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	else
		digest_final(&d, sha256_hex, sha1_hex);
	digest_free(&d);
	close(fd);
	return rc;
}
