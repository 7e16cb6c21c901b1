#ifndef MODELC_TCOMMENT_H
#define MODELC_TCOMMENT_H

/*
 * The trusted comment modelc writes into each signature it makes (docs/formats.md,
 * "The trusted comment"): tab-separated NAME:VALUE fields in a fixed order,
 *
 *   modelc:1 <TAB> file:F <TAB> catalog-sha256:HEX <TAB> lock-sha256:HEX <TAB> C
 *
 * where F is what was signed (models.lock, manifests/ROLE.json, SHA256SUMS) and C is
 * "commit:KEY=COMMIT" (or "commit:none") for a manifest, and "commits:LIST" or
 * "commits-sha256:N:HEX" for the lock and SHA256SUMS. minisign prints it as it is.
 */

#include <stdbool.h>
#include <stddef.h>

#include "mssig.h"

enum { TCOMMENT_VERSION = 1, TCOMMENT_FILE_MAX = 256, TCOMMENT_HEX = 64 };

enum tcomment_kind {
	TCOMMENT_COMMIT,                /* a manifest: its role's KEY=COMMIT, or "none" */
	TCOMMENT_COMMITS,               /* the lock's commits, listed */
	TCOMMENT_COMMITS_SHA256,        /* the lock's commits, as the SHA-256 of the list */
};

struct tcomment {
	char file[TCOMMENT_FILE_MAX];
	char catalog_sha256[TCOMMENT_HEX + 1];
	char lock_sha256[TCOMMENT_HEX + 1];
	enum tcomment_kind kind;
	char commits[MSSIG_TRUSTED_MAX];        /* the value of commit: or commits:, or the hex digest */
	unsigned long ncommits;                 /* commits-sha256's N */
};

/* Parse a trusted comment's text; 0, or -1 with err saying what is wrong (and quoting it). */
int tcomment_parse(const char *text, struct tcomment *out, char *err, size_t errlen);

/* Write c as a trusted comment into buf (n bytes); its length, or -1 when it does not fit. */
int tcomment_format(const struct tcomment *c, char *buf, size_t n);

/* Whether s is 64 lower-case hex digits. */
bool tcomment_is_hex64(const char *s);

#endif
