#include "fsign.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "errmsg.h"
#include "ftrust.h"
#include "msfile.h"
#include "mssig.h"
#include "sumfile.h"

#define FSIGN_DEFAULT_CATALOG "models.yaml"

int
fsign_open(struct fsign *fs, const char *const *key_args, size_t nargs, const char *catalog, char *err,
    size_t errlen)
{
	memset(fs, 0, sizeof *fs);
	char why[1024];
	if (mskey_init(err, errlen))
		return -1;
	struct stat st;
	if (!catalog && stat(FSIGN_DEFAULT_CATALOG, &st) == 0)
		catalog = FSIGN_DEFAULT_CATALOG;
	struct mskey_public *listed = NULL;
	size_t nlisted = 0;
	if (catalog) {
		char *text;
		size_t len;
		if (msfile_read(catalog, FTRUST_MAX_BYTES, false, &text, &len, why, sizeof why))
			return errmsg_fail(err, errlen, "the catalog's trust: list: %s", why);
		int rc = ftrust_parse(catalog, text, len, &listed, &nlisted, why, sizeof why);
		unsigned char d[SUMFILE_DIGEST];
		sumfile_sha256(text, len, d);
		free(text);
		if (rc)
			return errmsg_fail(err, errlen, "the catalog's trust: list: %s", why);
		sumfile_hex(d, fs->catalog_sha256);
		fs->catalog = catalog;
		fs->have_catalog = true;
		snprintf(fs->reference, sizeof fs->reference, "%s has sha256 %s", catalog, fs->catalog_sha256);
		fs->have_reference = true;
	}
	fs->keys = calloc(nargs + nlisted + 1, sizeof *fs->keys);
	if (!fs->keys) {
		free(listed);
		return errmsg_fail(err, errlen, "out of memory");
	}
	for (size_t i = 0; i < nargs; i++)
		if (mskey_public_arg(key_args[i], &fs->keys[fs->nkeys++], why, sizeof why)) {
			free(listed);
			return errmsg_fail(err, errlen, "--require-signature %s", why);
		}
	if (nlisted)
		memcpy(fs->keys + fs->nkeys, listed, nlisted * sizeof *listed);
	fs->nkeys += nlisted;
	free(listed);
	fs->required = fs->nkeys > 0;
	return 0;
}

int
fsign_check(struct fsign *fs, const char *role, const char *path, const char *text, size_t len,
    struct tcomment *c, char id[MSKEY_ID_HEX_LEN + 1], char *err, size_t errlen)
{
	char sig_path[FSIGN_REF_MAX], why[1024], want[TCOMMENT_FILE_MAX];
	struct mssig s;
	size_t used;
	if (snprintf(sig_path, sizeof sig_path, "%s.minisig", path) >= (int)sizeof sig_path)
		return errmsg_fail(err, errlen, "%s: the path is too long", path);
	struct stat st;
	if (stat(sig_path, &st) != 0 && errno == ENOENT)
		return errmsg_fail(err, errlen, "%s is missing: this manifest is not signed (run 'modelc sign' where it "
		    "was built); refusing it", sig_path);
	if (mssig_load(sig_path, &s, why, sizeof why))
		return errmsg_fail(err, errlen, "%s; refusing the manifest", why);
	if (mssig_check(&s, fs->keys, fs->nkeys, text, len, &used, why, sizeof why) ||
	    tcomment_parse(s.trusted, c, why, sizeof why))
		return errmsg_fail(err, errlen, "%s: %s; refusing the manifest", sig_path, why);
	snprintf(want, sizeof want, "manifests/%s.json", role);
	if (strcmp(c->file, want))
		return errmsg_fail(err, errlen, "%s: signed as '%s', not '%s': the signature belongs to another manifest; "
		    "refusing it", sig_path, c->file, want);
	if (fs->have_reference && strcmp(c->catalog_sha256, fs->catalog_sha256)) {
		if (fs->have_catalog)
			return errmsg_fail(err, errlen, "%s: made for another catalog: signed for catalog sha256 %s, but %s; "
			    "refusing the manifest (build and sign it from this catalog)", sig_path, c->catalog_sha256,
			    fs->reference);
		return errmsg_fail(err, errlen, "%s: made for another catalog: signed for catalog sha256 %s, but %s; "
		    "refusing the manifest (give fetch the catalog with --catalog FILE)", sig_path, c->catalog_sha256,
		    fs->reference);
	}
	if (!fs->have_reference) {
		/* No catalog here: every manifest of this run must come from one build of one catalog. */
		memcpy(fs->catalog_sha256, c->catalog_sha256, sizeof fs->catalog_sha256);
		snprintf(fs->reference, sizeof fs->reference, "%s was signed for sha256 %s", want, c->catalog_sha256);
		fs->have_reference = true;
	}
	mskey_id_hex(fs->keys[used].id, id);
	return 0;
}

int
fsign_check_commit(const struct tcomment *c, const struct fmanifest *m, char *err, size_t errlen)
{
	char pinned[TCOMMENT_FILE_MAX + 2048];
	if (m->repo)
		snprintf(pinned, sizeof pinned, "%s@%s=%s", m->repo, m->revision ? m->revision : "main",
		    m->commit ? m->commit : "null");
	else
		snprintf(pinned, sizeof pinned, "none");
	if (c->kind != TCOMMENT_COMMIT || strcmp(c->commits, pinned))
		return errmsg_fail(err, errlen, "%s.minisig: the trusted comment names commit '%.200s', the manifest pins "
		    "'%.200s'; refusing it", m->path, c->kind == TCOMMENT_COMMIT ? c->commits : "(none)", pinned);
	return 0;
}

void
fsign_close(struct fsign *fs)
{
	free(fs->keys);
	memset(fs, 0, sizeof *fs);
}
