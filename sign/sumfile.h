#ifndef MODELC_SUMFILE_H
#define MODELC_SUMFILE_H

/*
 * SHA256SUMS, the list of every generated file's SHA-256 that modelc sign signs: one line
 * per file, "HEX  PATH" as sha256sum(1) prints it (so `sha256sum -c SHA256SUMS` checks it
 * too), sorted by path. Hashing uses libsodium's SHA-256.
 */

#include <stdbool.h>
#include <stddef.h>

#include "size.h"

enum {
	SUMFILE_DIGEST = 32,
	SUMFILE_PATH_MAX = 1024,
	SUMFILE_MAX_FILES = 200000,
	SUMFILE_MAX_BYTES = 64 * SIZE_MIB,
};

struct sumfile_entry {
	char *path;                     /* relative, '/'-separated, no '.' or '..' parts */
	unsigned char sha256[SUMFILE_DIGEST];
};

/*
 * Parse the text of a SHA256SUMS file into *out (malloc'd, sorted by path as in the file;
 * free with sumfile_free). Lines must be sorted and unique. 0, or -1 with err naming the line.
 */
int sumfile_parse(const char *text, size_t len, struct sumfile_entry **out, size_t *n, char *err, size_t errlen);

/* Free what sumfile_parse returned. */
void sumfile_free(struct sumfile_entry *e, size_t n);

/* The text of a SHA256SUMS file for e (sorted by the caller) into *out (malloc'd); 0 or -1. */
int sumfile_format(const struct sumfile_entry *e, size_t n, char **out, size_t *len);

/* Whether path is one SHA256SUMS may list: relative, no empty, '.' or '..' part, no '\\' or control byte. */
bool sumfile_path_ok(const char *path);

/* SHA-256 of len bytes. */
void sumfile_sha256(const void *data, size_t len, unsigned char out[SUMFILE_DIGEST]);

/* SHA-256 of a file's contents; 0, or -1 with "PATH: strerror" in err. */
int sumfile_hash_file(const char *path, unsigned char out[SUMFILE_DIGEST], char *err, size_t errlen);

/* The lower-case hex of a digest into out (65 bytes). */
void sumfile_hex(const unsigned char d[SUMFILE_DIGEST], char out[2 * SUMFILE_DIGEST + 1]);

#endif
