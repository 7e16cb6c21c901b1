#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/fetch/fmanifest.h"
#include "../../runtime/fetch/fprogress.h"

void suite_fmanifest(void);

static char dir[] = "/tmp/fmanifest-test-XXXXXX";

static const char *
write_manifest(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s.json", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

#define C40 "a09a35458c702b33eeacc393d103063234e8bc28"
#define S64 "a1333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7"

static void
test_read(void)
{
	struct fmanifest m;
	char err[1024];
	const char *p = write_manifest("chat", "{\"role\":\"chat\",\"repo\":\"Qwen/Qwen2.5-7B-Instruct\",\"revision\":\"main\","
	    "\"commit\":\"" C40 "\",\"download\":true,\"complete\":true,\"total_bytes\":10,\"files\":["
	    "{\"path\":\"config.json\",\"size\":663,\"lfs\":false,\"sha256\":null,\"blob_id\":\"0178295f88afc3c7f279ed284f961f8c1be00654\"},"
	    "{\"path\":\"m.safetensors\",\"size\":5,\"lfs\":true,\"sha256\":\"" S64 "\",\"blob_id\":null,\"blob\":\"" S64 "\"},"
	    "{\"path\":\"x.bin\",\"size\":null,\"lfs\":null,\"sha256\":null,\"blob_id\":null}]}");
	CU_ASSERT_EQUAL_FATAL(fmanifest_read(p, &m, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(m.repo_folder, "models--Qwen--Qwen2.5-7B-Instruct");
	CU_ASSERT_EQUAL(m.nfiles, 3);
	CU_ASSERT_STRING_EQUAL(m.files[0].blob, "0178295f88afc3c7f279ed284f961f8c1be00654");
	CU_ASSERT_STRING_EQUAL(m.files[1].blob, S64);
	CU_ASSERT_PTR_NULL(m.files[2].blob);
	CU_ASSERT_FALSE(m.files[2].size_known);
	CU_ASSERT_EQUAL(m.files[2].lfs, -1);
	fmanifest_free(&m);
	p = write_manifest("local", "{\"role\":\"local\",\"repo\":null,\"download\":false,\"files\":[]}");
	CU_ASSERT_EQUAL(fmanifest_read(p, &m, err, sizeof err), 0);
	CU_ASSERT_PTR_NULL(m.repo);
	fmanifest_free(&m);
	char **roles;
	size_t n;
	CU_ASSERT_EQUAL(fmanifest_list(dir, &roles, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 2);
	CU_ASSERT_STRING_EQUAL(roles[0], "chat");
	CU_ASSERT_STRING_EQUAL(roles[1], "local");
	for (size_t i = 0; i < n; i++)
		free(roles[i]);
	free(roles);
}

static void
expect_err(const char *text, const char *want_suffix)
{
	struct fmanifest m;
	char err[1024];
	const char *p = write_manifest("bad", text);
	CU_ASSERT_EQUAL(fmanifest_read(p, &m, err, sizeof err), -1);
	char want[1200];
	snprintf(want, sizeof want, "%s: %s", p, want_suffix);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got: %s\n want: %s\n", err, want);
	unlink(p);
}

static void
test_errors(void)
{
	expect_err("[]", "not a JSON object");
	expect_err("{}", "'role' is missing");
	expect_err("{\"role\":\"r\",\"repo\":\"a--b/c\",\"commit\":\"" C40 "\",\"files\":[]}", "repo 'a--b/c' is not a Hub repo id: contains '--'");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":null,\"files\":[]}",
	    "role 'r' has no pinned commit; run 'modelc lock' then 'modelc build'");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"revision\":\"../x\",\"commit\":\"" C40 "\",\"files\":[]}",
	    "revision '../x' contains '..'");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":\"" C40 "\"}", "'files' is missing or not an array");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":\"" C40 "\",\"files\":[{\"size\":1}]}",
	    "files[0]: 'path' is missing");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":\"" C40 "\",\"files\":[{\"path\":\"/etc/passwd\"}]}",
	    "files[0]: path '/etc/passwd' is absolute; refusing to write it");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":\"" C40 "\",\"files\":[{\"path\":\"a\",\"sha256\":\"ABC\"}]}",
	    "files[0]: sha256 of 'a' is not 64 lower-case hex digits");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":\"" C40 "\",\"files\":[{\"path\":\"a\",\"blob_id\":\"12\"}]}",
	    "files[0]: blob_id of 'a' is not 40 lower-case hex digits");
	expect_err("{\"role\":\"r\",\"repo\":\"a/b\",\"commit\":\"" C40 "\",\"files\":[{\"path\":\"a\",\"lfs\":true,"
	    "\"sha256\":\"" S64 "\",\"blob\":\"" C40 "\"}]}",
	    "files[0]: blob '" C40 "' of 'a' is not its sha256");
}

static void
test_sizes(void)
{
	char b[32];
	CU_ASSERT_STRING_EQUAL(fprogress_size(0, b, sizeof b), "0 B");
	CU_ASSERT_STRING_EQUAL(fprogress_size(1023, b, sizeof b), "1023 B");
	CU_ASSERT_STRING_EQUAL(fprogress_size(1536, b, sizeof b), "1.5 KiB");
	CU_ASSERT_STRING_EQUAL(fprogress_size(3945441440ULL, b, sizeof b), "3.7 GiB");
}

static int
setup(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

void
suite_fmanifest(void)
{
	CU_pSuite s = CU_add_suite("fmanifest", setup, teardown);
	CU_add_test(s, "read a manifest and list roles", test_read);
	CU_add_test(s, "every rejection", test_errors);
	CU_add_test(s, "sizes for people", test_sizes);
}
