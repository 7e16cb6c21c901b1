/*
 * modelc sign: sign models.lock, every manifest of the build and SHA256SUMS (the SHA-256 of
 * every generated file) with a minisign secret key, each signature's trusted comment naming
 * the catalog's and the lock's SHA-256 and the commits. The output directory must be exactly
 * what the catalog and the lock build now: sign renders the build again and compares, so a
 * signature never vouches for a stale or hand-edited file. Nothing is signed on any error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "compile.h"
#include "diag.h"
#include "exitcode.h"
#include "fileio.h"
#include "model_table.h"
#include "msfile.h"
#include "mskey.h"
#include "mssig.h"
#include "outdir.h"
#include "passphrase.h"
#include "signset.h"
#include "size.h"
#include "sumfile.h"
#include "yamldoc.h"

static const char usage_text[] =
    "usage: modelc sign [FILE] [-o DIR] [--lock FILE] [-s SECKEY]\n"
    "                   [--passphrase-file FILE | --passphrase-fd N]\n"
    "  FILE                    the catalog (default models.yaml)\n"
    "  -o DIR                  the outputs of 'modelc build' to sign (default ./generated)\n"
    "  --lock FILE             the resolved facts (default models.lock next to FILE)\n"
    "  -s, --secret-key FILE   the minisign secret key (default ~/.minisign/minisign.key,\n"
    "                          or $MINISIGN_CONFIG_DIR/minisign.key)\n"
    "  --passphrase-file FILE  read the key's passphrase from FILE's first line (mode 0600)\n"
    "  --passphrase-fd N       read it from inherited descriptor N\n"
    "Writes LOCK.minisig, DIR/manifests/ROLE.json.minisig, DIR/SHA256SUMS and DIR/SHA256SUMS.minisig.\n";

enum { SIGN_READ_MAX = 64 * SIZE_MIB };

/*
 * Where and when the table says a source of the same size was read, into s: the digest, not
 * the path or the time, says whether the bytes are the same.
 */
static void
keep_provenance(struct plan_source *s, const struct model_table_source *t)
{
	if (s->path && t->path && s->size == t->size) {
		s->path = t->path;
		s->mtime_sec = t->mtime_sec;
		s->mtime_nsec = t->mtime_nsec;
	}
}

/* Report each way dir differs from the rendered build; the number of differences. */
static unsigned
compare_outputs(const char *dir, const struct outdir_file *files, size_t nfiles)
{
	unsigned bad = 0;
	char err[1024];
	for (size_t i = 0; i < nfiles; i++) {
		char *path = signset_join(dir, files[i].path), *text;
		size_t len;
		if (msfile_read(path, SIGN_READ_MAX, false, &text, &len, err, sizeof err)) {
			diag_print(stderr, "modelc: sign: %s\n", err);
			bad++;
		} else {
			if (len != files[i].len || memcmp(text, files[i].data, len)) {
				diag_print(stderr, "modelc: sign: %s differs from what the catalog and the lock build\n",
				    path);
				bad++;
			}
			free(text);
		}
		free(path);
	}
	char **have;
	size_t nhave;
	if (signset_files(dir, &have, &nhave, err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s\n", err);
		return bad + 1;
	}
	for (size_t i = 0; i < nhave; i++) {
		bool known = !strcmp(have[i], "README.md");
		for (size_t k = 0; k < nfiles && !known; k++)
			known = !strcmp(have[i], files[k].path);
		if (!known) {
			diag_print(stderr, "modelc: sign: %s/%s is not a file modelc build writes\n", dir, have[i]);
			bad++;
		}
	}
	signset_files_free(have, nhave);
	return bad;
}

/* Sign len bytes at data with the comment c into sig_path; 0, or -1 after reporting. */
static int
sign_one(const struct mskey_secret *sk, const char *untrusted, const char *data, size_t len,
    const struct tcomment *c, const char *sig_path)
{
	char trusted[MSSIG_TRUSTED_MAX], err[1024] = "the signature does not fit its file", text[MSSIG_FILE_MAX];
	struct mssig s;
	int tl = tcomment_format(c, trusted, sizeof trusted), sl;
	if (tl < 0 || (size_t)tl > MSSIG_TRUSTED_TEXT_MAX) {
		diag_print(stderr, "modelc: sign: %s: the trusted comment is longer than minisign allows\n", sig_path);
		return -1;
	}
	if (mssig_create(sk, data, len, untrusted, trusted, false, &s, err, sizeof err) ||
	    (sl = mssig_format(&s, text, sizeof text)) < 0) {
		diag_print(stderr, "modelc: sign: %s: %s\n", sig_path, err);
		return -1;
	}
	if (fileio_write_atomic(sig_path, text, (size_t)sl, 0644, FILEIO_EXACT_MODE, err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s\n", err);
		return -1;
	}
	return 0;
}

/* Read a whole file for signing; NULL (reported) on failure. */
static char *
slurp(const char *path, size_t *len)
{
	char *text, err[1024];
	if (msfile_read(path, SIGN_READ_MAX, false, &text, len, err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s\n", err);
		return NULL;
	}
	return text;
}

/* Load and decrypt the secret key; NULL (reported) on failure. */
static struct mskey_secret *
load_key(const char *path, const struct passphrase_opts *po)
{
	char err[1024];
	struct mskey_secret *sk;
	if (mskey_secret_load(path, &sk, err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s; nothing signed\n", err);
		return NULL;
	}
	if (!mskey_secret_encrypted(sk))
		return sk;
	char prompt[1200], *pass;
	size_t passlen;
	snprintf(prompt, sizeof prompt, "Passphrase for %s: ", path);
	if (passphrase_read(po, prompt, false, &pass, &passlen, err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s; nothing signed\n", err);
		mskey_secret_free(sk);
		return NULL;
	}
	int rc = mskey_secret_decrypt(sk, pass, passlen, err, sizeof err);
	passphrase_free(pass);
	if (rc) {
		diag_print(stderr, "modelc: sign: %s: %s; nothing signed\n", path, err);
		mskey_secret_free(sk);
		return NULL;
	}
	return sk;
}

/* Whether pk is in the catalog's trust list; reports when it is not, or when there is none. */
static bool
key_trusted(const struct catalog *cat, const struct mskey_public *pk, const char *sec_path)
{
	char id[MSKEY_ID_HEX_LEN + 1], b64[MSKEY_PUBLIC_B64_LEN + 1];
	mskey_id_hex(pk->id, id);
	mskey_public_b64(pk, b64);
	if (cat->ntrust == 0) {
		diag_print(stderr, "modelc: sign: note: %s has no trust: list, so fetch checks these signatures only "
		    "with --require-signature; to make it always check them, add:\ntrust:\n  - %s\n", cat->path, b64);
		return true;
	}
	for (size_t i = 0; i < cat->ntrust; i++) {
		struct mskey_public t;
		if (!mskey_public_decode(cat->trust[i], strlen(cat->trust[i]), &t, NULL, 0) && mskey_public_equal(&t, pk))
			return true;
	}
	diag_print(stderr, "modelc: sign: key %s (%s) is not in the trust: list of %s, so fetch and 'modelc verify' "
	    "would refuse its signatures; add '%s' under trust:, or sign with a listed key; nothing signed\n", id,
	    sec_path, cat->path, b64);
	return false;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* SHA256SUMS of dir's files, malloc'd into *out; 0, or -1 after reporting. */
static int
make_sums(const char *dir, char **out, size_t *len, size_t *count)
{
	char **paths, err[1024];
	size_t n;
	if (signset_files(dir, &paths, &n, err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s\n", err);
		return -1;
	}
	struct sumfile_entry *e = calloc(n + 1, sizeof *e);
	int rc = e ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *path = signset_join(dir, paths[i]);
		e[i].path = paths[i];
		if (sumfile_hash_file(path, e[i].sha256, err, sizeof err)) {
			diag_print(stderr, "modelc: sign: %s\n", err);
			rc = -1;
		}
		free(path);
	}
	if (rc == 0 && sumfile_format(e, n, out, len))
		rc = -1;
	*count = n;
	free(e);
	signset_files_free(paths, n);
	return rc;
}

int
cmd_sign(int argc, char **argv)
{
	struct compile_args args;
	const char *outdir = "generated", *catalog = NULL, *sec_arg = NULL;
	char *sec_path = NULL, err[1024];
	struct passphrase_opts po = {.source = PASSPHRASE_TTY};

	compile_args_init(&args);
	const struct signset_option opts[] = {{"-o", NULL, &outdir, NULL}, {NULL, "--lock", &args.lock, NULL}};
	const struct signset_cmdline line = {"sign", usage_text, opts, sizeof opts / sizeof opts[0],
	    "catalog", &catalog};
	int parsed = signset_parse(argc, argv, &line, &po, &sec_arg);
	if (parsed >= 0)
		return parsed;
	if (catalog) {
		args.catalog = catalog;
		args.catalog_set = true;
	}
	sec_path = sec_arg ? strdup(sec_arg) : signset_default_secret_key();
	if (!sec_path)
		abort();

	struct compile_run run;
	int rc = compile_run(&run, &args, stderr);
	struct outdir_file *files = NULL;
	size_t nfiles = 0;
	struct mskey_secret *sk = NULL;
	char *catalog_text = NULL, *lock_text = NULL, *sums = NULL;
	if (rc) {
		if (rc == 1)
			diag_print(stderr, "modelc: sign: %u error%s; nothing signed\n", run.diag.errors,
			    run.diag.errors == 1 ? "" : "s");
		goto out;
	}
	/*
	 * The runtime table records when modelc build ran and where and when it read the catalog
	 * and the lock, which their bytes do not decide: render with the table's own, so that the
	 * comparison is of everything else (the digest of those bytes included).
	 */
	char why[MODEL_TABLE_WHY_MAX], *table_path = signset_join(outdir, "switch.table");
	struct model_table table;
	if (model_table_open(table_path, &table, why) == 0) {
		run.plan.origin.build_time = table.build_time;
		keep_provenance(&run.plan.origin.catalog, &table.catalog);
		keep_provenance(&run.plan.origin.lock, &table.lock);
	}
	free(table_path);
	if (outdir_render(&run.plan, &files, &nfiles, &run.diag)) {
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	unsigned stale = compare_outputs(outdir, files, nfiles);
	if (stale) {
		diag_print(stderr, "modelc: sign: %s is not what %s and %s build (%u difference%s); run "
		    "'modelc build', then sign; nothing signed\n", outdir, args.catalog, run.lock_path, stale,
		    stale == 1 ? "" : "s");
		rc = EXITCODE_REJECTED;
		goto out;
	}
	if (mskey_init(err, sizeof err)) {
		diag_print(stderr, "modelc: sign: %s\n", err);
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	rc = EXITCODE_REJECTED;
	if (!(sk = load_key(sec_path, &po)))
		goto out;
	struct mskey_public pk;
	mskey_secret_public(sk, &pk);
	if (!key_trusted(&run.catalog, &pk, sec_path))
		goto out;

	struct tcomment c = {0};
	size_t len;
	if (!(catalog_text = slurp(args.catalog, &len)))
		goto out;
	unsigned char d[SUMFILE_DIGEST];
	sumfile_sha256(catalog_text, len, d);
	sumfile_hex(d, c.catalog_sha256);
	struct stat st;
	bool have_lock = stat(run.lock_path, &st) == 0;
	size_t lock_len = 0;
	snprintf(c.lock_sha256, sizeof c.lock_sha256, "%s", SIGNSET_EMPTY_SHA256);
	if (have_lock) {
		if (!(lock_text = slurp(run.lock_path, &lock_len)))
			goto out;
		sumfile_sha256(lock_text, lock_len, d);
		sumfile_hex(d, c.lock_sha256);
	}
	char id[MSKEY_ID_HEX_LEN + 1], untrusted[64];
	mskey_id_hex(pk.id, id);
	snprintf(untrusted, sizeof untrusted, "signature from modelc sign, key %s", id);

	/* The manifests first, then the lock, then the list of everything, signed last. */
	unsigned nmanifests = 0;
	for (size_t i = 0; i < nfiles; i++) {
		if (strncmp(files[i].path, "manifests/", 10))
			continue;
		struct tcomment m = c;
		m.kind = TCOMMENT_COMMIT;
		snprintf(m.file, sizeof m.file, "%s", files[i].path);
		if (signset_manifest_commit(files[i].data, files[i].len, m.commits, sizeof m.commits, err, sizeof err)) {
			diag_print(stderr, "modelc: sign: %s/%s: %s\n", outdir, files[i].path, err);
			goto out;
		}
		char *path = signset_join(outdir, files[i].path), *sig = signset_sig_path(path);
		int r = sign_one(sk, untrusted, files[i].data, files[i].len, &m, sig);
		free(path);
		free(sig);
		if (r)
			goto out;
		nmanifests++;
	}
	signset_set_commits(&c, &run.lock);
	if (have_lock) {
		struct tcomment l = c;
		snprintf(l.file, sizeof l.file, "%s", base_name(run.lock_path));
		char *sig = signset_sig_path(run.lock_path);
		int r = sign_one(sk, untrusted, lock_text, lock_len, &l, sig);
		free(sig);
		if (r)
			goto out;
	}
	size_t sums_len, nsummed;
	if (make_sums(outdir, &sums, &sums_len, &nsummed))
		goto out;
	char *sums_path = signset_join(outdir, SIGNSET_SUMS), *sums_sig = signset_sig_path(sums_path);
	snprintf(c.file, sizeof c.file, "%s", SIGNSET_SUMS);
	int r = fileio_write_atomic(sums_path, sums, sums_len, 0644, FILEIO_EXACT_MODE, err, sizeof err);
	if (r)
		diag_print(stderr, "modelc: sign: %s\n", err);
	else
		r = sign_one(sk, untrusted, sums, sums_len, &c, sums_sig);
	free(sums_path);
	free(sums_sig);
	if (r)
		goto out;
	printf("modelc: sign: %s%s%u manifest%s and %s/%s (%zu files) signed with key %s\n",
	    have_lock ? run.lock_path : "", have_lock ? ", " : "", nmanifests, nmanifests == 1 ? "" : "s", outdir,
	    SIGNSET_SUMS, nsummed, id);
	printf("modelc: sign: catalog %s sha256 %s, lock sha256 %s\n", args.catalog, c.catalog_sha256,
	    c.lock_sha256);
	rc = EXITCODE_OK;
out:
	mskey_secret_free(sk);
	outdir_free(files, nfiles);
	free(catalog_text);
	free(lock_text);
	free(sums);
	free(sec_path);
	compile_done(&run);
	return rc;
}
