/*
 * minisign signature files: signatures made by Debian's minisign 0.11 (prehashed "ED" and
 * legacy "Ed", tests/fixtures/sign/) verify; ours round-trip; every parse error and every way
 * verification fails has its full message.
 */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msfile.h"
#include "mskey.h"
#include "mssig.h"

void suite_mssig(void);

#define FIX "tests/fixtures/sign/"

static char *
slurp(const char *path, size_t *len)
{
	char *text, err[512];
	CU_ASSERT_EQUAL_FATAL(msfile_read(path, 65536, false, &text, len, err, sizeof err), 0);
	return text;
}

static void
test_minisign_made(void)
{
	struct mskey_public pk;
	struct mssig s;
	char err[512];
	size_t len;
	char *msg = slurp(FIX "message.txt", &len);
	CU_ASSERT_EQUAL_FATAL(mskey_public_arg(FIX "minisign.pub", &pk, err, sizeof err), 0);
	CU_ASSERT_EQUAL_FATAL(mssig_load(FIX "message.txt.minisig", &s, err, sizeof err), 0);
	CU_ASSERT_TRUE(s.hashed);
	CU_ASSERT_STRING_EQUAL(s.trusted, "modelc test fixture");
	CU_ASSERT_STRING_EQUAL(s.untrusted, "signature from minisign secret key");
	CU_ASSERT_EQUAL(mssig_verify(&s, &pk, msg, len), MSSIG_OK);
	CU_ASSERT_EQUAL(mssig_verify(&s, &pk, msg, len - 1), MSSIG_BAD_SIGNATURE);
	/* Formatting gives minisign's file back byte for byte. */
	char text[MSSIG_FILE_MAX];
	size_t flen;
	char *file = slurp(FIX "message.txt.minisig", &flen);
	CU_ASSERT_EQUAL(mssig_format(&s, text, sizeof text), (int)flen);
	CU_ASSERT_STRING_EQUAL(text, file);
	free(file);
	CU_ASSERT_EQUAL_FATAL(mssig_load(FIX "message.txt.legacy.minisig", &s, err, sizeof err), 0);
	CU_ASSERT_FALSE(s.hashed);
	CU_ASSERT_EQUAL(mssig_verify(&s, &pk, msg, len), MSSIG_OK);
	/* The trusted comment is covered by the global signature. */
	s.trusted[0] ^= 1;
	CU_ASSERT_EQUAL(mssig_verify(&s, &pk, msg, len), MSSIG_BAD_COMMENT);
	s.trusted[0] ^= 1;
	s.id[0] ^= 1;
	CU_ASSERT_EQUAL(mssig_verify(&s, &pk, msg, len), MSSIG_WRONG_KEY);
	free(msg);
}

static void
test_create_check(void)
{
	struct mskey_secret *sk = mskey_secret_new(), *other = mskey_secret_new();
	struct mskey_public pk, opk, keys[2];
	struct mssig s, back;
	char err[512], text[MSSIG_FILE_MAX], id[MSKEY_ID_HEX_LEN + 1], oid[MSKEY_ID_HEX_LEN + 1], want[512];
	size_t used = 99;
	mskey_secret_generate(sk, &pk);
	mskey_secret_generate(other, &opk);
	mskey_id_hex(pk.id, id);
	mskey_id_hex(opk.id, oid);
	const char msg[] = "the bytes";
	CU_ASSERT_EQUAL_FATAL(mssig_create(sk, msg, sizeof msg, "u", "t\tab", false, &s, err, sizeof err), 0);
	int n = mssig_format(&s, text, sizeof text);
	CU_ASSERT_TRUE_FATAL(n > 0);
	CU_ASSERT_EQUAL_FATAL(mssig_parse(text, (size_t)n, &back, err, sizeof err), 0);
	CU_ASSERT_EQUAL(memcmp(&s, &back, sizeof s), 0);
	keys[0] = opk;
	keys[1] = pk;
	CU_ASSERT_EQUAL(mssig_check(&back, keys, 2, msg, sizeof msg, &used, err, sizeof err), 0);
	CU_ASSERT_EQUAL(used, 1);
	CU_ASSERT_EQUAL(mssig_check(&back, keys, 1, msg, sizeof msg, &used, err, sizeof err), -1);
	snprintf(want, sizeof want, "signed by key %s, which is not trusted (trusted: %s)", id, oid);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(mssig_check(&back, keys, 0, msg, sizeof msg, &used, err, sizeof err), -1);
	snprintf(want, sizeof want, "signed by key %s, which is not trusted (trusted: none)", id);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(mssig_check(&back, keys, 2, "other", 5, &used, err, sizeof err), -1);
	snprintf(want, sizeof want, "the signature by key %s does not match the file: the file changed after it was "
	    "signed", id);
	CU_ASSERT_STRING_EQUAL(err, want);
	back.trusted[0] = 'T';
	CU_ASSERT_EQUAL(mssig_check(&back, keys, 2, msg, sizeof msg, &used, err, sizeof err), -1);
	snprintf(want, sizeof want, "the trusted comment does not match the signature by key %s: the comment changed "
	    "after signing", id);
	CU_ASSERT_STRING_EQUAL(err, want);
	/* Legacy signatures are made on request; both verify. */
	CU_ASSERT_EQUAL(mssig_create(sk, msg, sizeof msg, "u", "t", true, &s, err, sizeof err), 0);
	CU_ASSERT_FALSE(s.hashed);
	CU_ASSERT_EQUAL(mssig_verify(&s, &pk, msg, sizeof msg), MSSIG_OK);
	/* Comments that minisign could not read back are refused. */
	CU_ASSERT_EQUAL(mssig_create(sk, msg, sizeof msg, "two\nlines", "t", false, &s, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the untrusted comment must be one line of at most 1003 bytes");
	CU_ASSERT_EQUAL(mssig_create(sk, msg, sizeof msg, "u", "bell\a", false, &s, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "the trusted comment must be printable UTF-8 of at most 8173 bytes");
	mskey_secret_free(sk);
	mskey_secret_free(other);
}

static void
expect_error(const char *text, const char *want)
{
	struct mssig s;
	char err[512] = "";
	CU_ASSERT_EQUAL(mssig_parse(text, strlen(text), &s, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
}

#define L1 "untrusted comment: signature from minisign secret key\n"
#define L2 "RUS8nJA/1Gyglskuwxg4b+xuzZ5qNM82oyG59uW2tiYJi3Rw/VervHqsrtQLpNUVO7KOux/Fivrkn4ZXH8l3JVp/3gEDtYO4kAs=\n"
#define L3 "trusted comment: modelc test fixture\n"
#define L4 "Kg8XNXgW1Tu6tl/UtYktSDlAFw0TkI4uY8CD6jr5o8Tmue0uT9hvVxacypbOkvq7BkXwS6++hcGB0rmcn0uEAw==\n"

static void
test_parse_errors(void)
{
	struct mssig s;
	char err[512];
	CU_ASSERT_EQUAL(mssig_parse(L1 L2 L3 L4, strlen(L1 L2 L3 L4), &s, err, sizeof err), 0);
	CU_ASSERT_EQUAL(mssig_parse(L1 L2 L3 L4 "\n\n", strlen(L1 L2 L3 L4) + 2, &s, err, sizeof err), 0);
	expect_error("", "empty: not a minisign signature file");
	expect_error("a signature\n" L2 L3 L4, "line 1: expected 'untrusted comment: ...': not a minisign signature file");
	expect_error(L1, "truncated: the file ends after line 1 (a minisign signature has 4 lines)");
	expect_error(L1 L2, "truncated: the file ends after line 2 (a minisign signature has 4 lines)");
	expect_error(L1 L2 L3, "truncated: the file ends after line 3 (a minisign signature has 4 lines)");
	/* Cut inside the base64 of line 2 (what a truncated download leaves). */
	expect_error(L1 "RUS8nJA/1Gyglskuwxg4b+xuzZ5qNM82oyG59uW2", "line 2: not the base64 of a minisign signature (74 bytes)");
	expect_error(L1 "RUS8nJA/1Gyglskuwxg4b+xuzZ5qNM82oyG59uW2tiYJi3Rw/VervHqsrtQLpNUVO7KOux/Fivrkn4ZXH8l3JVp/3gEDtYO4k*s=\n"
	    L3 L4, "line 2: not the base64 of a minisign signature (74 bytes)");
	/* "EX": the base64 of line 2 with its algorithm bytes changed. */
	expect_error(L1 "RVi8nJA/1Gyglskuwxg4b+xuzZ5qNM82oyG59uW2tiYJi3Rw/VervHqsrtQLpNUVO7KOux/Fivrkn4ZXH8l3JVp/3gEDtYO4kAs=\n"
	    L3 L4, "line 2: signature algorithm 'EX' is neither 'ED' (prehashed) nor 'Ed' (legacy)");
	expect_error(L1 L2 "a comment\n" L4, "line 3: expected 'trusted comment: ...'");
	expect_error(L1 L2 "trusted comment: a\033[2Jb\n" L4,
	    "line 3: the trusted comment holds a control character or invalid UTF-8");
	expect_error(L1 L2 "trusted comment: \xc3\x28\n" L4,
	    "line 3: the trusted comment holds a control character or invalid UTF-8");
	expect_error(L1 L2 L3 "Kg8XNXgW1Tu6tl/UtYktSDlAFw0TkI4uY8CD6jr5o8Tmue0uT9hvVxacypbOkvq7BkXwS6++hcGB0rmc\n",
	    "line 4: not the base64 of a global signature (64 bytes)");
	expect_error(L1 L2 L3 L4 "more\n", "line 5: text after the signature");
	char *big = malloc(20000);
	size_t n = (size_t)snprintf(big, 20000, "%s%s%s", L1, L2, "trusted comment: ");
	memset(big + n, 'x', 8174);
	snprintf(big + n + 8174, 20000 - n - 8174, "\n%s", L4);
	expect_error(big, "line 3: the trusted comment is longer than minisign reads (8173 bytes)");
	n = (size_t)snprintf(big, 20000, "untrusted comment: ");
	memset(big + n, 'x', 1010);
	snprintf(big + n + 1010, 20000 - n - 1010, "\n%s%s%s", L2, L3, L4);
	expect_error(big, "line 1: the untrusted comment is longer than minisign reads (1022 bytes)");
	free(big);
	CU_ASSERT_EQUAL(mssig_load("/nonexistent.minisig", &s, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent.minisig: No such file or directory");
}

static int
setup(void)
{
	char e[64];
	return mskey_init(e, sizeof e);
}

void
suite_mssig(void)
{
	CU_pSuite s = CU_add_suite("mssig", setup, NULL);
	CU_add_test(s, "signatures minisign made", test_minisign_made);
	CU_add_test(s, "create, format, parse, check", test_create_check);
	CU_add_test(s, "parse errors", test_parse_errors);
}
