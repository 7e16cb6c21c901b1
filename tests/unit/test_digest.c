#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"

void suite_digest(void);

static void
test_known(void)
{
	struct digest d;
	char s256[65], s1[41];
	const char *msg = "Hello, World!";
	CU_ASSERT_EQUAL_FATAL(digest_init(&d, true, strlen(msg)), 0);
	digest_update(&d, msg, 5);
	digest_update(&d, msg + 5, strlen(msg) - 5);
	digest_final(&d, s256, s1);
	digest_free(&d);
	/* huggingface_hub's own example: git_hash(b"Hello, World!") */
	CU_ASSERT_STRING_EQUAL(s1, "b45ef6fec89518d314f546fd6c3025367b721684");
	CU_ASSERT_STRING_EQUAL(s256, "dffd6021bb2bd5b0af676290809ec3a53191dd81c7f70a4b28688a362182986f");
	CU_ASSERT_EQUAL_FATAL(digest_init(&d, false, 0), 0);
	digest_final(&d, s256, s1);
	digest_free(&d);
	CU_ASSERT_STRING_EQUAL(s256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CU_ASSERT_STRING_EQUAL(s1, "");
	CU_ASSERT_TRUE(digest_equal("abc", "abc", 3));
	CU_ASSERT_FALSE(digest_equal("abc", "abd", 3));
	CU_ASSERT_FALSE(digest_equal("abc", "ab", 3));
	CU_ASSERT_FALSE(digest_equal(NULL, "abc", 3));
}

static void
test_file(void)
{
	char path[] = "/tmp/digest-test-XXXXXX", err[256], s256[65], s1[41];
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "Hello, World!", 13), 13);
	close(fd);
	CU_ASSERT_EQUAL(digest_file(path, true, 13, s256, s1, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(s1, "b45ef6fec89518d314f546fd6c3025367b721684");
	CU_ASSERT_EQUAL(digest_file(path, true, 14, s256, s1, err, sizeof err), -1);
	char want[512];
	snprintf(want, sizeof want, "%s: has 13 bytes, expected 14", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	unlink(path);
	CU_ASSERT_EQUAL(digest_file(path, false, 13, s256, s1, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	CU_ASSERT_STRING_EQUAL(err, want);
}

void
suite_digest(void)
{
	CU_pSuite s = CU_add_suite("digest", NULL, NULL);
	CU_add_test(s, "sha256 and git blob ids", test_known);
	CU_add_test(s, "files", test_file);
}
