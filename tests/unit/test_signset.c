/*
 * The signed set of a build: the lock's commits as the trusted comment carries them (listed,
 * or as a digest once minisign's limit is near), a manifest's commit field, which files
 * SHA256SUMS lists.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "signset.h"
#include "sumfile.h"

void suite_signset(void);

#define C40 "a09a35458c702b33eeacc393d103063234e8bc28"

static char dir[] = "/tmp/signset-test-XXXXXX";

static void
test_commits(void)
{
	struct lock_model m[3] = {
		{.key = "z/model@main", .repo = "z/model", .commit = C40},
		{.key = "local:/srv/m", .repo = NULL},
		{.key = "a/model@v1", .repo = "a/model", .commit = NULL},
	};
	struct lock l = {.models = m, .nmodels = 3};
	unsigned long n;
	char *list = signset_commit_list(&l, &n);
	CU_ASSERT_STRING_EQUAL(list, "a/model@v1=null,z/model@main=" C40);
	CU_ASSERT_EQUAL(n, 2);
	free(list);
	struct tcomment c = {.kind = TCOMMENT_COMMITS};
	snprintf(c.file, sizeof c.file, "models.lock");
	memset(c.catalog_sha256, 'a', TCOMMENT_HEX);
	memset(c.lock_sha256, 'b', TCOMMENT_HEX);
	CU_ASSERT_EQUAL(signset_set_commits(&c, &l), 0);
	CU_ASSERT_EQUAL(c.kind, TCOMMENT_COMMITS);
	CU_ASSERT_STRING_EQUAL(c.commits, "a/model@v1=null,z/model@main=" C40);
	CU_ASSERT_TRUE(signset_commits_match(&c, &l));
	m[2].commit = C40;
	CU_ASSERT_FALSE(signset_commits_match(&c, &l));
	m[2].commit = NULL;
	/* 200 entries do not fit minisign's 8173 bytes: the comment carries their digest and count. */
	struct lock_model *big = calloc(200, sizeof *big);
	char (*keys)[32] = calloc(200, sizeof *keys);
	for (int i = 0; i < 200; i++) {
		snprintf(keys[i], sizeof keys[i], "org/model-%03d@main", i);
		big[i] = (struct lock_model){.key = keys[i], .repo = "org/x", .commit = C40};
	}
	struct lock bl = {.models = big, .nmodels = 200};
	CU_ASSERT_EQUAL(signset_set_commits(&c, &bl), 0);
	CU_ASSERT_EQUAL(c.kind, TCOMMENT_COMMITS_SHA256);
	CU_ASSERT_EQUAL(c.ncommits, 200);
	CU_ASSERT_TRUE(tcomment_is_hex64(c.commits));
	CU_ASSERT_TRUE(signset_commits_match(&c, &bl));
	CU_ASSERT_FALSE(signset_commits_match(&c, &l));
	bl.nmodels = 199;
	CU_ASSERT_FALSE(signset_commits_match(&c, &bl));
	free(big);
	free(keys);
}

static void
test_manifest_commit(void)
{
	char out[256], err[256];
	const char *m1 = "{\"repo\": \"org/m\", \"revision\": \"v2\", \"commit\": \"" C40 "\"}";
	CU_ASSERT_EQUAL(signset_manifest_commit(m1, strlen(m1), out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "org/m@v2=" C40);
	const char *m2 = "{\"repo\": \"org/m\", \"commit\": null}";
	CU_ASSERT_EQUAL(signset_manifest_commit(m2, strlen(m2), out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "org/m@main=null");
	const char *m3 = "{\"repo\": null, \"role\": \"local\"}";
	CU_ASSERT_EQUAL(signset_manifest_commit(m3, strlen(m3), out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "none");
	CU_ASSERT_EQUAL(signset_manifest_commit("[1]", 3, out, sizeof out, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "not a manifest (a JSON object): not an object");
}

static void
touch(const char *rel)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, rel);
	FILE *f = fopen(path, "w");
	fputs("x", f);
	fclose(f);
}

static void
test_files(void)
{
	char path[512], err[1024], **v;
	size_t n;
	snprintf(path, sizeof path, "%s/manifests", dir);
	mkdir(path, 0755);
	touch(".env");
	touch("README.md");
	touch("SHA256SUMS");
	touch("SHA256SUMS.minisig");
	touch("manifests/b.json");
	touch("manifests/a.json");
	touch("manifests/a.json.minisig");
	CU_ASSERT_EQUAL_FATAL(signset_files(dir, &v, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(v[0], ".env");
	CU_ASSERT_STRING_EQUAL(v[1], "README.md");
	CU_ASSERT_STRING_EQUAL(v[2], "manifests/a.json");
	CU_ASSERT_STRING_EQUAL(v[3], "manifests/b.json");
	signset_files_free(v, n);
	snprintf(path, sizeof path, "%s/link", dir);
	CU_ASSERT_EQUAL(symlink("/etc/passwd", path), 0);
	CU_ASSERT_EQUAL(signset_files(dir, &v, &n, err, sizeof err), -1);
	char want[600];
	snprintf(want, sizeof want, "%s/link: a symbolic link; modelc build writes only regular files", dir);
	CU_ASSERT_STRING_EQUAL(err, want);
	unlink(path);
	CU_ASSERT_TRUE(signset_is_own("manifests/x.json.minisig"));
	CU_ASSERT_FALSE(signset_is_own("manifests/sub/x.minisig"));
	CU_ASSERT_FALSE(signset_is_own("x.minisig"));
	CU_ASSERT_FALSE(signset_is_own("manifests/.minisig"));
}

static int
setup(void)
{
	return !mkdtemp(dir);
}

static int
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

void
suite_signset(void)
{
	CU_pSuite s = CU_add_suite("signset", setup, teardown);
	CU_add_test(s, "the lock's commits in the trusted comment", test_commits);
	CU_add_test(s, "a manifest's commit field", test_manifest_commit);
	CU_add_test(s, "the files SHA256SUMS lists", test_files);
}
