#ifndef MODELC_DIGEST_H
#define MODELC_DIGEST_H

/*
 * SHA-256 of a file's bytes and, for git-tracked files, its git blob id (SHA-1 of
 * "blob <size>\0" + bytes), computed together in one pass with OpenSSL's libcrypto, which
 * uses the CPU's SHA extensions. Digests are compared in constant time (libsodium).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { DIGEST_SHA256_HEX = 64, DIGEST_SHA1_HEX = 40 };

struct digest {
	void *sha256;                   /* EVP_MD_CTX */
	void *sha1;                     /* EVP_MD_CTX, or NULL when git is off */
};

/* Start both digests; git adds the blob id of a file of size bytes. 0, or -1 on no memory. */
int digest_init(struct digest *d, bool git, uint64_t size);

/* Feed n bytes. */
void digest_update(struct digest *d, const void *p, size_t n);

/* Finish into lower-case hex (sha1_hex may be NULL); the digest is reset to empty. */
void digest_final(struct digest *d, char sha256_hex[DIGEST_SHA256_HEX + 1],
    char sha1_hex[DIGEST_SHA1_HEX + 1]);

/* Free the contexts; safe on a zeroed or finished digest. */
void digest_free(struct digest *d);

/* Whether two hex digests of length n are equal, in constant time. */
bool digest_equal(const char *a, const char *b, size_t n);

/*
 * Hash the file at path (size must match; -1 with a message otherwise). git as above.
 * 0 on success, -1 with err.
 */
int digest_file(const char *path, bool git, uint64_t size, char sha256_hex[DIGEST_SHA256_HEX + 1],
    char sha1_hex[DIGEST_SHA1_HEX + 1], char *err, size_t errlen);

/* Hash an open descriptor's first n bytes into d (for resuming a partial file). */
int digest_fd_prefix(struct digest *d, int fd, uint64_t n);

#endif
