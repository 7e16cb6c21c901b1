/*
 * modelc verify: check what modelc sign wrote against the catalog's trust: keys (and -p):
 * the lock's signature, every manifest's, and SHA256SUMS's, each made by a trusted key for
 * this catalog and this lock (the digests in the trusted comment), then every file SHA256SUMS
 * lists, and that it lists every file. Every problem is reported; nothing is written.
 */
#include <dirent.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "arena.h"
#include "cli.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "frontend.h"
#include "lock.h"
#include "msfile.h"
#include "mskey.h"
#include "mssig.h"
#include "signset.h"
#include "size.h"
#include "sumfile.h"

static const char usage_text[] =
    "usage: modelc verify [FILE] [-o DIR] [--lock FILE] [-p PUBKEY]...\n"
    "  FILE                   the catalog (default models.yaml)\n"
    "  -o DIR                 the signed outputs (default ./generated)\n"
    "  --lock FILE            the resolved facts (default models.lock next to FILE)\n"
    "  -p, --public-key KEY   trust this key too: a .pub file or its base64 line (repeatable)\n"
    "Checks LOCK.minisig, DIR/manifests/ROLE.json.minisig and DIR/SHA256SUMS.minisig against the\n"
    "keys of the catalog's trust: list and -p, then every file SHA256SUMS lists.\n";

enum { VERIFY_READ_MAX = 64 * SIZE_MIB };

struct verify {
	const char *catalog;
	const char *lock_path;
	const struct lock *lock;
	char catalog_sha256[TCOMMENT_HEX + 1];
	char lock_sha256[TCOMMENT_HEX + 1];
	struct mskey_public *keys;
	size_t nkeys;
	unsigned problems;
	unsigned verified;
};

static int
verify_usage(const char *fmt, const char *arg)
{
	return cli_usage_error("verify", usage_text, fmt, arg);
}

/* One problem: "PATH: why", or why alone when it names its file already (path NULL). */
static void
problem(struct verify *v, const char *path, const char *why)
{
	diag_print(stderr, "modelc: verify: %s%s%s\n", path ? path : "", path ? ": " : "", why);
	v->problems++;
}

/*
 * Check the signature of path (whose bytes are data) for the file name want in its trusted
 * comment; commit is the manifest's commit field, or NULL for the lock's commits. 0 or -1.
 */
static int
verify_one(struct verify *v, const char *path, const char *data, size_t len, const char *want, const char *commit)
{
	char *sig_path = signset_sig_path(path), err[1024], why[1200];
	struct mssig s;
	struct tcomment c;
	size_t used;
	int rc = -1;
	struct stat st;
	if (stat(sig_path, &st) != 0 && errno == ENOENT) {
		snprintf(why, sizeof why, "not signed: %s is missing (run 'modelc sign')", sig_path);
		problem(v, path, why);
		goto out;
	}
	if (mssig_load(sig_path, &s, err, sizeof err)) {
		problem(v, NULL, err);
		goto out;
	}
	if (mssig_check(&s, v->keys, v->nkeys, data, len, &used, err, sizeof err) ||
	    tcomment_parse(s.trusted, &c, err, sizeof err)) {
		problem(v, sig_path, err);
		goto out;
	}
	if (strcmp(c.file, want)) {
		snprintf(why, sizeof why, "signed as '%s', not '%s': the signature belongs to another file", c.file, want);
		problem(v, sig_path, why);
		goto out;
	}
	if (strcmp(c.catalog_sha256, v->catalog_sha256)) {
		snprintf(why, sizeof why, "made for another catalog: signed for catalog sha256 %s, but %s has sha256 %s",
		    c.catalog_sha256, v->catalog, v->catalog_sha256);
		problem(v, sig_path, why);
		goto out;
	}
	if (strcmp(c.lock_sha256, v->lock_sha256)) {
		snprintf(why, sizeof why, "made for another lock: signed for lock sha256 %s, but %s has sha256 %s",
		    c.lock_sha256, v->lock_path, v->lock_sha256);
		problem(v, sig_path, why);
		goto out;
	}
	if (commit ? c.kind != TCOMMENT_COMMIT || strcmp(c.commits, commit) :
	    c.kind == TCOMMENT_COMMIT || !signset_commits_match(&c, v->lock)) {
		if (commit)
			snprintf(why, sizeof why, "the trusted comment names commit '%.200s', the manifest pins '%.200s'",
			    c.kind == TCOMMENT_COMMIT ? c.commits : "(none)", commit);
		else
			snprintf(why, sizeof why, "the trusted comment's commits are not those of %s", v->lock_path);
		problem(v, sig_path, why);
		goto out;
	}
	char id[MSKEY_ID_HEX_LEN + 1];
	mskey_id_hex(v->keys[used].id, id);
	printf("modelc: verify: %s: signed by key %s\n", path, id);
	v->verified++;
	rc = 0;
out:
	free(sig_path);
	return rc;
}

static char *
slurp(struct verify *v, const char *path, size_t *len)
{
	char *text, err[1024];
	if (msfile_read(path, VERIFY_READ_MAX, false, &text, len, err, sizeof err)) {
		diag_print(stderr, "modelc: verify: %s\n", err);
		v->problems++;
		return NULL;
	}
	return text;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
verify_manifests(struct verify *v, const char *dir)
{
	char *mdir = signset_join(dir, "manifests");
	DIR *d = opendir(mdir);
	if (!d) {
		char why[512];
		snprintf(why, sizeof why, "%s (run 'modelc build' and 'modelc sign', or pass -o DIR)", strerror(errno));
		problem(v, mdir, why);
		free(mdir);
		return;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l <= 5 || strcmp(e->d_name + l - 5, ".json") || e->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **nn = realloc(names, cap * sizeof *nn);
			if (!nn)
				break;
			names = nn;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *path = signset_join(mdir, names[i]), *rel = signset_join("manifests", names[i]);
		size_t len;
		char *text = slurp(v, path, &len), commit[2048], err[1024];
		if (text && signset_manifest_commit(text, len, commit, sizeof commit, err, sizeof err))
			problem(v, path, err);
		else if (text)
			verify_one(v, path, text, len, rel, commit);
		free(text);
		free(path);
		free(rel);
		free(names[i]);
	}
	free(names);
	free(mdir);
}

/* SHA256SUMS: its signature, then each listed file, then that nothing is left out. */
static void
verify_sums(struct verify *v, const char *dir)
{
	char *path = signset_join(dir, SIGNSET_SUMS), err[1024], why[1200];
	size_t len;
	struct stat st;
	if (stat(path, &st) != 0 && errno == ENOENT) {
		snprintf(why, sizeof why, "missing: the build's file list is not signed (run 'modelc sign')");
		problem(v, path, why);
		free(path);
		return;
	}
	char *text = slurp(v, path, &len);
	struct sumfile_entry *e = NULL;
	size_t n = 0;
	if (!text || verify_one(v, path, text, len, SIGNSET_SUMS, NULL))
		goto out;
	if (sumfile_parse(text, len, &e, &n, err, sizeof err)) {
		problem(v, path, err);
		goto out;
	}
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++) {
		char *f = signset_join(dir, e[i].path);
		unsigned char d[SUMFILE_DIGEST];
		if (sumfile_hash_file(f, d, err, sizeof err)) {
			diag_print(stderr, "modelc: verify: %s\n", err);
			v->problems++;
			bad++;
		} else if (sodium_memcmp(d, e[i].sha256, SUMFILE_DIGEST)) {
			char want[2 * SUMFILE_DIGEST + 1], got[2 * SUMFILE_DIGEST + 1];
			sumfile_hex(e[i].sha256, want);
			sumfile_hex(d, got);
			snprintf(why, sizeof why, "sha256 %s, but %s lists %s: the file changed after signing", got, SIGNSET_SUMS,
			    want);
			problem(v, f, why);
			bad++;
		}
		free(f);
	}
	char **have;
	size_t nhave;
	if (signset_files(dir, &have, &nhave, err, sizeof err)) {
		diag_print(stderr, "modelc: verify: %s\n", err);
		v->problems++;
		goto out;
	}
	for (size_t i = 0; i < nhave; i++) {
		bool listed = false;
		for (size_t k = 0; k < n && !listed; k++)
			listed = !strcmp(have[i], e[k].path);
		if (!listed) {
			char *f = signset_join(dir, have[i]);
			snprintf(why, sizeof why, "not in %s: the file was added after signing", SIGNSET_SUMS);
			problem(v, f, why);
			free(f);
			bad++;
		}
	}
	signset_files_free(have, nhave);
	if (!bad)
		printf("modelc: verify: %s: the %zu files it lists match\n", path, n);
out:
	sumfile_free(e, n);
	free(text);
	free(path);
}

int
cmd_verify(int argc, char **argv)
{
	const char *catalog = "models.yaml", *outdir = "generated", *lock_path = NULL;
	bool catalog_set = false;
	const char **pubs = calloc((size_t)argc + 1, sizeof *pubs);
	size_t npubs = 0;
	if (!pubs)
		return EXITCODE_SYSTEM;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(usage_text, stdout);
			free(pubs);
			return EXITCODE_OK;
		} else if (!strcmp(a, "--version")) {
			printf("modelc %s\n", MODELC_VERSION);
			free(pubs);
			return EXITCODE_OK;
		} else if (!strcmp(a, "-o") || !strcmp(a, "--lock") || !strcmp(a, "-p") || !strcmp(a, "--public-key")) {
			if (i + 1 >= argc || !argv[i + 1][0]) {
				free(pubs);
				return verify_usage("%s needs an argument", a);
			}
			const char *v = argv[++i];
			if (!strcmp(a, "-o"))
				outdir = v;
			else if (!strcmp(a, "--lock"))
				lock_path = v;
			else
				pubs[npubs++] = v;
		} else if (a[0] == '-' && a[1]) {
			free(pubs);
			return verify_usage("unknown option '%s'", a);
		} else if (catalog_set) {
			diag_print(stderr, "modelc: verify: more than one catalog ('%s' and '%s')\n%s", catalog, a,
			    usage_text);
			free(pubs);
			return EXITCODE_USAGE;
		} else {
			catalog = a;
			catalog_set = true;
		}
	}

	struct arena a = {0};
	struct diag_sink diag;
	diag_init(&diag, stderr, "modelc");
	struct catalog cat;
	struct lock lock = {0};
	struct verify v = {.catalog = catalog, .lock = &lock};
	char err[1024];
	int rc = frontend_load(&a, &diag, catalog, NULL, &cat);
	if (rc != EXITCODE_OK) {
		diag_print(stderr, "modelc: verify: %s has errors; nothing verified\n", catalog);
		goto out;
	}
	rc = EXITCODE_REJECTED;
	if (mskey_init(err, sizeof err)) {
		diag_print(stderr, "modelc: verify: %s\n", err);
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	v.keys = arena_alloc(&a, (npubs + cat.ntrust + 1) * sizeof *v.keys);
	for (size_t i = 0; i < npubs; i++)
		if (mskey_public_arg(pubs[i], &v.keys[v.nkeys++], err, sizeof err)) {
			diag_print(stderr, "modelc: verify: -p %s\n", err);
			goto out;
		}
	for (size_t i = 0; i < cat.ntrust; i++)
		if (!mskey_public_decode(cat.trust[i], strlen(cat.trust[i]), &v.keys[v.nkeys], NULL, 0))
			v.nkeys++;
	if (v.nkeys == 0) {
		diag_print(stderr, "modelc: verify: no key to trust: list the signers' public keys under trust: in "
		    "%s, or pass -p PUBKEY\n", catalog);
		goto out;
	}
	v.lock_path = lock_path ? lock_path : lock_path_next_to(&a, catalog);
	if (signset_file_sha256(catalog, v.catalog_sha256, err, sizeof err)) {
		diag_print(stderr, "modelc: verify: %s\n", err);
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	struct stat st;
	snprintf(v.lock_sha256, sizeof v.lock_sha256, "%s", SIGNSET_EMPTY_SHA256);
	if (stat(v.lock_path, &st) == 0) {
		if (lock_read(&a, &diag, v.lock_path, frontend_schema_dir(&a, catalog), &lock)) {
			diag_print(stderr, "modelc: verify: %s has errors; nothing verified\n", v.lock_path);
			goto out;
		}
		size_t len;
		char *text = slurp(&v, v.lock_path, &len);
		if (!text)
			goto out;
		unsigned char d[SUMFILE_DIGEST];
		sumfile_sha256(text, len, d);
		sumfile_hex(d, v.lock_sha256);
		verify_one(&v, v.lock_path, text, len, strrchr(v.lock_path, '/') ? strrchr(v.lock_path, '/') + 1 :
		    v.lock_path, NULL);
		free(text);
	}
	verify_manifests(&v, outdir);
	verify_sums(&v, outdir);
	if (v.problems) {
		diag_print(stderr, "modelc: verify: %u problem%s; do not use these files until they are signed again\n",
		    v.problems, v.problems == 1 ? "" : "s");
		goto out;
	}
	printf("modelc: verify: %u signatures good; catalog %s sha256 %s\n", v.verified, catalog, v.catalog_sha256);
	rc = EXITCODE_OK;
out:
	arena_free(&a);
	free(pubs);
	return rc;
}
