#ifndef MODELC_SIGNSET_H
#define MODELC_SIGNSET_H

/*
 * What `modelc sign` signs and `modelc verify` checks (docs/formats.md, "Signatures"):
 * models.lock (models.lock.minisig beside it), every manifest (manifests/ROLE.json.minisig)
 * and SHA256SUMS, the list of every other file of the output directory with its SHA-256
 * (SHA256SUMS.minisig). Each signature's trusted comment is a tcomment carrying the catalog's
 * and the lock's SHA-256 and the commits.
 */

#include <stdbool.h>
#include <stddef.h>

#include "lock.h"
#include "passphrase.h"
#include "tcomment.h"

#define SIGNSET_SUMS "SHA256SUMS"
#define SIGNSET_SUFFIX ".minisig"

/* The SHA-256 of no bytes: the lock digest of a catalog that has no models.lock. */
#define SIGNSET_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* "PATH.minisig", malloc'd; aborts when out of memory. */
char *signset_sig_path(const char *path);

/* "DIR/REL" (fileio_join), malloc'd; aborts when out of memory. */
char *signset_join(const char *dir, const char *rel);

/* The lower-case hex SHA-256 of a file into hex; 0, or -1 with "PATH: why" in err. */
int signset_file_sha256(const char *path, char hex[TCOMMENT_HEX + 1], char *err, size_t errlen);

/*
 * The list of the lock's commits as the trusted comment carries it: "KEY=COMMIT" for every
 * entry with a Hub repo (COMMIT "null" when unknown), in the lock's order, joined by ",".
 * malloc'd; *count the number of entries.
 */
char *signset_commit_list(const struct lock *l, unsigned long *count);

/*
 * Set c's commits field for lock l: the list itself when the whole comment then stays within
 * minisign's limit and the list is printable without tabs, else its SHA-256 with the count.
 * 0, or -1 when out of memory.
 */
int signset_set_commits(struct tcomment *c, const struct lock *l);

/* Whether c's commits field (either form) says what lock l holds. */
bool signset_commits_match(const struct tcomment *c, const struct lock *l);

/*
 * The commit field of a manifest, from its JSON text: "REPO@REVISION=COMMIT" (revision
 * default main, COMMIT "null" when not pinned), or "none" for a role with no repo. 0, or -1
 * with err when the text is not a manifest object.
 */
int signset_manifest_commit(const char *text, size_t len, char *out, size_t n, char *err, size_t errlen);

/*
 * Every regular file under dir that SHA256SUMS lists (all but SHA256SUMS and the
 * signatures), relative to dir, sorted; *paths malloc'd (free with signset_files_free). A
 * symbolic link or anything but files and folders is an error. 0, or -1 with err.
 */
int signset_files(const char *dir, char ***paths, size_t *n, char *err, size_t errlen);

/* Free what signset_files returned. */
void signset_files_free(char **paths, size_t n);

/* Whether rel (relative to the output directory) is one of modelc sign's own outputs. */
bool signset_is_own(const char *rel);

/* The default secret key: $MINISIGN_CONFIG_DIR/minisign.key, else ~/.minisign/minisign.key; malloc'd. */
char *signset_default_secret_key(void);

/* One option of keygen or sign beyond the shared ones: it sets *value to its argument, or *flag. */
struct signset_option {
	const char *short_name, *long_name;   /* either may be NULL */
	const char **value;                   /* takes an argument (not empty) */
	bool *flag;                           /* takes none */
};

/* A command line of keygen or sign: its own options, and its one operand if it takes one. */
struct signset_cmdline {
	const char *cmd, *usage_text;
	const struct signset_option *opts;
	size_t nopts;
	const char *operand_name;             /* "catalog"; NULL: an operand is an error */
	const char **operand;
};

/*
 * Parse argv by l: the options keygen and sign share (where the passphrase comes from,
 * -s/--secret-key FILE into *sec_path, --help, --version), then l's own. -1: parsed, go on;
 * else the exit status to return: 0 after --help or --version, 2 after a usage error reported
 * as "modelc: CMD: ..." with the usage text.
 */
int signset_parse(int argc, char **argv, const struct signset_cmdline *l, struct passphrase_opts *po,
    const char **sec_path);

#endif
