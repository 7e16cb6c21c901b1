#ifndef MODELC_MSSIG_H
#define MODELC_MSSIG_H

/*
 * minisign's signature files (FILE.minisig), byte for byte: "untrusted comment: " line, the
 * base64 of the algorithm ("ED" prehashed with BLAKE2b-512, or legacy "Ed"), the key id and
 * the Ed25519 signature, a "trusted comment: " line, and the base64 of the global signature
 * over the signature and the trusted comment's text. Parsing allocates nothing.
 */

#include <stdbool.h>
#include <stddef.h>

#include "mskey.h"

enum {
	MSSIG_SIG_BYTES = 64,
	MSSIG_BLOB_BYTES = 2 + MSKEY_ID_BYTES + MSSIG_SIG_BYTES,   /* 74 */
	MSSIG_UNTRUSTED_MAX = 1024,     /* minisign's COMMENTMAXBYTES: the line and its newline */
	MSSIG_TRUSTED_MAX = 8192,       /* minisign's TRUSTEDCOMMENTMAXBYTES: the line and its newline */
	MSSIG_FILE_MAX = 16384,
};

/* The longest trusted comment minisign reads back (its line buffer less the prefix and newline). */
enum { MSSIG_TRUSTED_TEXT_MAX = MSSIG_TRUSTED_MAX - 17 - 2 };

struct mssig {
	bool hashed;                    /* "ED": the message signed is BLAKE2b-512 of the file */
	unsigned char id[MSKEY_ID_BYTES];
	unsigned char sig[MSSIG_SIG_BYTES];
	unsigned char global[MSSIG_SIG_BYTES];
	char untrusted[MSSIG_UNTRUSTED_MAX];    /* without the prefix */
	char trusted[MSSIG_TRUSTED_MAX];        /* without the prefix */
};

/* How a signature fails to verify. */
enum mssig_verdict {
	MSSIG_OK = 0,
	MSSIG_WRONG_KEY,                /* made by another key id */
	MSSIG_BAD_SIGNATURE,            /* the file is not what was signed */
	MSSIG_BAD_COMMENT,              /* the trusted comment is not what was signed */
};

/* Parse the text of a signature file (len bytes); 0, or -1 with err naming the line. */
int mssig_parse(const char *text, size_t len, struct mssig *out, char *err, size_t errlen);

/* Read and parse path (at most MSSIG_FILE_MAX bytes); 0, or -1 with "PATH: why". */
int mssig_load(const char *path, struct mssig *out, char *err, size_t errlen);

/* Check s against msg (len bytes) with pk: key id, signature, then the global signature. */
enum mssig_verdict mssig_verify(const struct mssig *s, const struct mskey_public *pk, const void *msg, size_t len);

/*
 * Verify s over msg (len bytes) with whichever of the nkeys trusted keys has its key id;
 * *used is that key's index. 0, or -1 with err saying why in words: made by a key that is
 * not trusted (named by key id, with the trusted ones), the file changed after signing, or
 * the trusted comment changed.
 */
int mssig_check(const struct mssig *s, const struct mskey_public *keys, size_t nkeys, const void *msg, size_t len,
    size_t *used, char *err, size_t errlen);

/*
 * Sign msg (len bytes) with a decrypted secret key: prehashed ("ED", minisign's default)
 * unless legacy, with the given comments (one line each, the trusted one printable UTF-8
 * within MSSIG_TRUSTED_TEXT_MAX). 0, or -1 with err.
 */
int mssig_create(const struct mskey_secret *sk, const void *msg, size_t len, const char *untrusted,
    const char *trusted, bool legacy, struct mssig *out, char *err, size_t errlen);

/* The text of a signature file into buf (n bytes); its length, or -1 when it does not fit. */
int mssig_format(const struct mssig *s, char *buf, size_t n);

/*
 * Whether text is what minisign accepts in a trusted comment: valid UTF-8 without control
 * characters (tab excepted).
 */
bool mssig_printable(const char *text);

#endif
