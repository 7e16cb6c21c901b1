#ifndef MODELC_FSIGN_H
#define MODELC_FSIGN_H

/*
 * fetch's signature rule (docs/fetch.md, "Signed manifests"): when --require-signature
 * names a key or the catalog has a trust: list, every manifest must carry a signature
 * (ROLE.json.minisig beside it) that a trusted key made over exactly its bytes, for this
 * manifest's file name and for this catalog, before anything is downloaded.
 */

#include <stdbool.h>
#include <stddef.h>

#include "fmanifest.h"
#include "mskey.h"
#include "tcomment.h"

enum { FSIGN_REF_MAX = 4200 };

struct fsign {
	bool required;                  /* any key to trust: signatures are checked */
	struct mskey_public *keys;
	size_t nkeys;
	const char *catalog;            /* the catalog read, or NULL */
	bool have_catalog;
	char catalog_sha256[TCOMMENT_HEX + 1];  /* the digest every signature must name */
	char reference[FSIGN_REF_MAX];    /* where that digest came from, for messages */
	bool have_reference;
};

/*
 * Decide the rule: trust the keys named on the command line (files or base64 lines) and the
 * trust: list of the catalog, which is catalog when given, else models.yaml when the current
 * folder has one. 0, or -1 with err (a key or the catalog could not be read).
 */
int fsign_open(struct fsign *fs, const char *const *key_args, size_t nargs, const char *catalog, char *err,
    size_t errlen);

/*
 * Check the signature of the manifest of role at path, whose bytes are text: present,
 * parseable, made by a trusted key over these bytes, a modelc comment for
 * "manifests/ROLE.json" and for the catalog (or, with no catalog, for the same one as every
 * manifest checked before). *c is the trusted comment, id the key id that signed. 0, or -1
 * with err saying why.
 */
int fsign_check(struct fsign *fs, const char *role, const char *path, const char *text, size_t len,
    struct tcomment *c, char id[MSKEY_ID_HEX_LEN + 1], char *err, size_t errlen);

/* Whether the comment's commit is the one the parsed manifest pins; 0, or -1 with err. */
int fsign_check_commit(const struct tcomment *c, const struct fmanifest *m, char *err, size_t errlen);

/* Free what fsign_open allocated. */
void fsign_close(struct fsign *fs);

#endif
