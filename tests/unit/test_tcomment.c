/* modelc's trusted comment: both kinds round-trip; every rejection has its full message. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "tcomment.h"

void suite_tcomment(void);

#define H1 "8830d164fca3c86b96ddb3750841df54bf7c9d3f6b5ad8416c64cf18ede3aeed"
#define H2 "e872987974393688a517f9c5a5be8a172aa6d246f3606be85484ce1f6b2e7b45"
#define HEAD "modelc:1\tfile:manifests/chat.json\tcatalog-sha256:" H1 "\tlock-sha256:" H2

static void
test_roundtrip(void)
{
	struct tcomment c, back;
	char buf[MSSIG_TRUSTED_MAX], err[512];
	CU_ASSERT_EQUAL_FATAL(tcomment_parse(HEAD "\tcommit:org/m@main=a09a35458c702b33eeacc393d103063234e8bc28", &c,
	    err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.file, "manifests/chat.json");
	CU_ASSERT_STRING_EQUAL(c.catalog_sha256, H1);
	CU_ASSERT_STRING_EQUAL(c.lock_sha256, H2);
	CU_ASSERT_EQUAL(c.kind, TCOMMENT_COMMIT);
	CU_ASSERT_STRING_EQUAL(c.commits, "org/m@main=a09a35458c702b33eeacc393d103063234e8bc28");
	CU_ASSERT_TRUE(tcomment_format(&c, buf, sizeof buf) > 0);
	CU_ASSERT_STRING_EQUAL(buf, HEAD "\tcommit:org/m@main=a09a35458c702b33eeacc393d103063234e8bc28");
	CU_ASSERT_EQUAL(tcomment_parse(HEAD "\tcommits:a/b@main=null,c/d@v1=a09a35458c702b33eeacc393d103063234e8bc28",
	    &c, err, sizeof err), 0);
	CU_ASSERT_EQUAL(c.kind, TCOMMENT_COMMITS);
	CU_ASSERT_EQUAL(tcomment_parse(HEAD "\tcommits:", &c, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(c.commits, "");
	CU_ASSERT_EQUAL_FATAL(tcomment_parse(HEAD "\tcommits-sha256:12000:" H2, &c, err, sizeof err), 0);
	CU_ASSERT_EQUAL(c.kind, TCOMMENT_COMMITS_SHA256);
	CU_ASSERT_EQUAL(c.ncommits, 12000);
	CU_ASSERT_STRING_EQUAL(c.commits, H2);
	CU_ASSERT_TRUE(tcomment_format(&c, buf, sizeof buf) > 0);
	CU_ASSERT_EQUAL(tcomment_parse(buf, &back, err, sizeof err), 0);
	CU_ASSERT_EQUAL(memcmp(&c, &back, sizeof c), 0);
}

static void
expect_error(const char *text, const char *want)
{
	struct tcomment c;
	char err[512] = "";
	CU_ASSERT_EQUAL(tcomment_parse(text, &c, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
}

static void
test_errors(void)
{
	expect_error("timestamp:1796684491\tfile:msg.txt\thashed", "the trusted comment 'timestamp:1796684491 file:msg.txt "
	    "hashed' is not one modelc wrote (it does not start with 'modelc:1')");
	expect_error("modelc:2\tfile:x", "the trusted comment is version '2' of modelc's format; this modelc reads version 1");
	expect_error("modelc:1\tcatalog-sha256:" H1, "the trusted comment 'modelc:1 catalog-sha256:8830d164fca3c86b96ddb"
	    "3750841df54bf7c...' has no 'file:' field where modelc writes it (field 2)");
	expect_error("modelc:1\tfile:x\tcatalog-sha256:abc", "the trusted comment's 'catalog-sha256:' is 'abc', not 64 "
	    "lower-case hex digits");
	expect_error("modelc:1\tfile:", "the trusted comment's 'file:' is '', not a file name");
	expect_error("modelc:1\tfile:x\tcatalog-sha256:" H1, "the trusted comment 'modelc:1 file:x catalog-sha256:8830d16"
	    "4fca3c86b96ddb3750841d...' has no 'lock-sha256:' field where modelc writes it (field 4)");
	expect_error(HEAD, "the trusted comment 'modelc:1 file:manifests/chat.json catalog-sha256:8830d164fca...' ends "
	    "before its commits");
	expect_error(HEAD "\tcommitz:x", "the trusted comment's field 5 is 'commitz', not 'commit:', 'commits:' or "
	    "'commits-sha256:'");
	expect_error(HEAD "\tcommits-sha256:x:" H2, "the trusted comment's 'commits-sha256:' is 'x:e872987974393688a517f9c5"
	    "a5be8a172aa6d246f3606be85484ce1f6b', not N:64 hex digits");
	expect_error(HEAD "\tcommits-sha256:3:abc", "the trusted comment's 'commits-sha256:' is '3:abc', not N:64 hex digits");
	expect_error(HEAD "\tcommit:none\textra:1", "the trusted comment has a field after its commits: 'extra:1'");
}

void
suite_tcomment(void)
{
	CU_pSuite s = CU_add_suite("tcomment", NULL, NULL);
	CU_add_test(s, "both kinds round-trip", test_roundtrip);
	CU_add_test(s, "every rejection", test_errors);
}
