/* SHA256SUMS: sha256sum's format read and written, paths checked, every rejection's message. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sumfile.h"

void suite_sumfile(void);

#define E3 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static void
test_roundtrip(void)
{
	const char text[] = E3 "  .env\n" E3 " *manifests/chat.json\n" E3 "  model_table.c\n";
	struct sumfile_entry *e;
	size_t n, len;
	char err[512], *out, hex[65];
	CU_ASSERT_EQUAL_FATAL(sumfile_parse(text, sizeof text - 1, &e, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 3);
	CU_ASSERT_STRING_EQUAL(e[1].path, "manifests/chat.json");
	sumfile_hex(e[1].sha256, hex);
	CU_ASSERT_STRING_EQUAL(hex, E3);
	unsigned char d[SUMFILE_DIGEST];
	sumfile_sha256("", 0, d);
	CU_ASSERT_EQUAL(memcmp(d, e[0].sha256, sizeof d), 0);
	CU_ASSERT_EQUAL_FATAL(sumfile_format(e, n, &out, &len), 0);
	CU_ASSERT_STRING_EQUAL(out, E3 "  .env\n" E3 "  manifests/chat.json\n" E3 "  model_table.c\n");
	CU_ASSERT_EQUAL(len, strlen(out));
	free(out);
	sumfile_free(e, n);
	CU_ASSERT_EQUAL(sumfile_parse("", 0, &e, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL(n, 0);
	sumfile_free(e, n);
}

static void
expect_error(const char *text, const char *want)
{
	struct sumfile_entry *e;
	size_t n;
	char err[512] = "";
	CU_ASSERT_EQUAL(sumfile_parse(text, strlen(text), &e, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
}

static void
test_errors(void)
{
	expect_error(E3 " .env\n", "line 1: expected 64 lower-case hex digits, two spaces and a path");
	expect_error("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855  .env\n",
	    "line 1: expected 64 lower-case hex digits, two spaces and a path");
	expect_error(E3 "  a\n" E3 "\n", "line 2: expected 64 lower-case hex digits, two spaces and a path");
	expect_error(E3 "  ../x\n", "line 1: '../x' is not a relative path inside the directory");
	expect_error(E3 "  /etc/passwd\n", "line 1: '/etc/passwd' is not a relative path inside the directory");
	expect_error(E3 "  a//b\n", "line 1: 'a//b' is not a relative path inside the directory");
	expect_error(E3 "  a\\b\n", "line 1: 'a\\b' is not a relative path inside the directory");
	expect_error(E3 "  b\n" E3 "  a\n", "line 2: 'a' is out of order (the list is sorted by path)");
	expect_error(E3 "  a\n" E3 "  a\n", "line 2: 'a' is listed twice");
	expect_error(E3 "  a\r\rb\n", "line 1: expected 64 lower-case hex digits, two spaces and a path");
	CU_ASSERT_TRUE(sumfile_path_ok("manifests/chat.json"));
	CU_ASSERT_TRUE(sumfile_path_ok(".env"));
	CU_ASSERT_FALSE(sumfile_path_ok("a/./b"));
	CU_ASSERT_FALSE(sumfile_path_ok("a/"));
	CU_ASSERT_FALSE(sumfile_path_ok("tab\there"));
}

static void
test_hash_file(void)
{
	unsigned char d[SUMFILE_DIGEST];
	char err[512], hex[65];
	CU_ASSERT_EQUAL(sumfile_hash_file("tests/fixtures/sign/message.txt", d, err, sizeof err), 0);
	sumfile_hex(d, hex);
	/* sha256sum tests/fixtures/sign/message.txt */
	CU_ASSERT_STRING_EQUAL(hex, "ba940843b0568d5b143f7d061b8d7da7005c4e9238e4b3f389d15e97db9dd97c");
	CU_ASSERT_EQUAL(sumfile_hash_file("/nonexistent", d, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent: No such file or directory");
}

void
suite_sumfile(void)
{
	CU_pSuite s = CU_add_suite("sumfile", NULL, NULL);
	CU_add_test(s, "read and write sha256sum's format", test_roundtrip);
	CU_add_test(s, "every rejection", test_errors);
	CU_add_test(s, "hash a file", test_hash_file);
}
