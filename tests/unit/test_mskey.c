/*
 * minisign key files: the fixtures in tests/fixtures/sign/ were made by Debian's minisign 0.11
 * (minisign.key with -G -W, encrypted.key with -G and the passphrase "pw"); every parse
 * error's full message; unencrypted keys generated, formatted and read back. Encrypted keys are
 * only parsed here: decrypting runs scrypt at minisign's 1 GiB, once, in test_sign_encrypted.sh.
 */
#include <CUnit/CUnit.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msfile.h"
#include "mskey.h"

void suite_mskey(void);

#define FIX "tests/fixtures/sign/"
#define FIX_PUB "RWS8nJA/1Gyglv7zc/expZLnPvrdYabJljJiHvc2In9Wo13qeEygFmet"

static char dir[] = "/tmp/mskey-test-XXXXXX";

static char *
slurp(const char *path, size_t *len)
{
	char *text, err[512];
	CU_ASSERT_EQUAL_FATAL(msfile_read(path, 65536, false, &text, len, err, sizeof err), 0);
	return text;
}

static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void
test_public(void)
{
	struct mskey_public pk, pk2;
	char err[512], id[MSKEY_ID_HEX_LEN + 1], b64[MSKEY_PUBLIC_B64_LEN + 1], text[256];
	CU_ASSERT_EQUAL_FATAL(mskey_public_arg(FIX "minisign.pub", &pk, err, sizeof err), 0);
	mskey_id_hex(pk.id, id);
	CU_ASSERT_STRING_EQUAL(id, "96A06CD43F909CBC");
	mskey_public_b64(&pk, b64);
	CU_ASSERT_STRING_EQUAL(b64, FIX_PUB);
	/* The base64 line itself is a key argument too, as minisign -P takes it. */
	CU_ASSERT_EQUAL(mskey_public_arg(FIX_PUB, &pk2, err, sizeof err), 0);
	CU_ASSERT_TRUE(mskey_public_equal(&pk, &pk2));
	/* Formatting gives minisign's file back byte for byte. */
	size_t len;
	char *file = slurp(FIX "minisign.pub", &len);
	CU_ASSERT_EQUAL(mskey_public_format(&pk, text, sizeof text), (int)len);
	CU_ASSERT_STRING_EQUAL(text, file);
	free(file);
	/* A line end of "\r\n" is read as minisign reads it. */
	CU_ASSERT_EQUAL(mskey_public_parse("untrusted comment: x\r\n" FIX_PUB "\r\n", 22 + 56 + 2, &pk2, err,
	    sizeof err), 0);
}

static void
expect_public_error(const char *text, const char *want)
{
	struct mskey_public pk;
	char err[512] = "";
	CU_ASSERT_EQUAL(mskey_public_parse(text, strlen(text), &pk, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
}

static void
test_public_errors(void)
{
	expect_public_error("", "empty: not a minisign public key file");
	expect_public_error("minisign public key\n" FIX_PUB "\n",
	    "line 1: expected 'untrusted comment: ...' (a line of at most 1022 bytes): not a minisign public key file");
	expect_public_error("untrusted comment: x\n", "truncated: the file ends after line 1 (a minisign public key has 2 lines)");
	expect_public_error("untrusted comment: x\nRWS8nJA/1Gyglv7zc/expZLnPvrdYabJljJiHvc2In9Wo13qeEygFme\n",
	    "line 2: not the base64 of a minisign public key (56 characters)");
	expect_public_error("untrusted comment: x\nRWS8nJA/1Gyglv7zc/expZLnPvrdYabJljJiHvc2In9Wo13qeEygFme!\n",
	    "line 2: not the base64 of a minisign public key (56 characters)");
	/* "Ed" is the only algorithm of a public key: this is the base64 of "Ex" and 40 zero bytes. */
	expect_public_error("untrusted comment: x\nRXgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
	    "line 2: key algorithm 'Ex' is not minisign's 'Ed'");
	expect_public_error("untrusted comment: x\n" FIX_PUB "\nmore\n", "line 3: text after the public key");
	expect_public_error("untrusted comment: x\r\r\n" FIX_PUB "\n",
	    "line 1: expected 'untrusted comment: ...' (a line of at most 1022 bytes): not a minisign public key file");
	char *longline = malloc(2100);
	snprintf(longline, 2100, "untrusted comment: %01010d\n%s\n", 0, FIX_PUB);
	expect_public_error(longline,
	    "line 1: expected 'untrusted comment: ...' (a line of at most 1022 bytes): not a minisign public key file");
	free(longline);
	struct mskey_public pk;
	char err[512];
	CU_ASSERT_EQUAL(mskey_public_arg("/nonexistent/key.pub", &pk, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/key.pub: No such file or directory");
	const char *p = write_file("bad.pub", "untrusted comment: x\n", 0644);
	CU_ASSERT_EQUAL(mskey_public_arg(p, &pk, err, sizeof err), -1);
	char want[512];
	snprintf(want, sizeof want, "%s: truncated: the file ends after line 1 (a minisign public key has 2 lines)", p);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(mskey_public_arg("RWS8nJA/1Gyglv7zc/expZLnPvrdYabJljJiHvc2In9Wo13qeEygFme!", &pk, err,
	    sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "'RWS8nJA/1Gyglv7zc/expZLnPvrdYabJljJiHvc2In9Wo13qeEygFme!': not the base64 of a "
	    "minisign public key (56 characters)");
}

static void
test_secret_fixtures(void)
{
	char err[512];
	struct mskey_secret *sk;
	struct mskey_public pk, want;
	/* minisign -G -W: unencrypted, checksum left zero. Copied to a 0600 file: git keeps no modes. */
	size_t len;
	char *text = slurp(FIX "minisign.key", &len);
	const char *p = write_file("minisign.key", text, 0600);
	free(text);
	CU_ASSERT_EQUAL_FATAL(mskey_secret_load(p, &sk, err, sizeof err), 0);
	CU_ASSERT_FALSE(mskey_secret_encrypted(sk));
	mskey_secret_public(sk, &pk);
	CU_ASSERT_EQUAL(mskey_public_arg(FIX "minisign.pub", &want, err, sizeof err), 0);
	CU_ASSERT_TRUE(mskey_public_equal(&pk, &want));
	mskey_secret_free(sk);
	/* minisign -G: encrypted; parsed, its limits read, not decrypted here. */
	text = slurp(FIX "encrypted.key", &len);
	p = write_file("encrypted.key", text, 0600);
	free(text);
	CU_ASSERT_EQUAL_FATAL(mskey_secret_load(p, &sk, err, sizeof err), 0);
	CU_ASSERT_TRUE(mskey_secret_encrypted(sk));
	CU_ASSERT_EQUAL(sk->kdf_opslimit_le[3], 2);        /* 2^25 = 33554432, little-endian */
	CU_ASSERT_EQUAL(sk->kdf_memlimit_le[3], 0x40);     /* 2^30 = 1 GiB */
	mskey_secret_free(sk);
}

static void
test_secret_mode(void)
{
	char err[512], want[600];
	struct mskey_secret *sk;
	size_t len;
	char *text = slurp(FIX "minisign.key", &len);
	const char *p = write_file("open.key", text, 0644);
	free(text);
	CU_ASSERT_EQUAL(mskey_secret_load(p, &sk, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: mode 0644 lets other users at this secret; run 'chmod 600 %s'", p, p);
	CU_ASSERT_STRING_EQUAL(err, want);
	chmod(p, 0640);
	CU_ASSERT_EQUAL(mskey_secret_load(p, &sk, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: mode 0640 lets other users at this secret; run 'chmod 600 %s'", p, p);
	CU_ASSERT_STRING_EQUAL(err, want);
	chmod(p, 0400);
	CU_ASSERT_EQUAL(mskey_secret_load(p, &sk, err, sizeof err), 0);
	mskey_secret_free(sk);
	CU_ASSERT_EQUAL(mskey_secret_load(dir, &sk, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: not a regular file", dir);
	CU_ASSERT_STRING_EQUAL(err, want);
}

static void
expect_secret_error(const char *text, const char *want)
{
	struct mskey_secret *sk = mskey_secret_new();
	char err[512] = "";
	CU_ASSERT_EQUAL(mskey_secret_parse(text, strlen(text), sk, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
	mskey_secret_free(sk);
}

/* A secret key file for raw (158 bytes), with one byte changed at off (XOR x). */
static char *
secret_text(const struct mskey_secret *raw, size_t off, unsigned char x)
{
	unsigned char b[MSKEY_SECRET_BYTES];
	memcpy(b, raw, sizeof b);
	b[off] ^= x;
	static char text[512];
	int n = snprintf(text, sizeof text, "untrusted comment: x\n");
	sodium_bin2base64(text + n, sizeof text - (size_t)n, b, sizeof b, sodium_base64_VARIANT_ORIGINAL);
	strcat(text, "\n");
	return text;
}

static void
test_secret_errors(void)
{
	struct mskey_secret *sk = mskey_secret_new();
	struct mskey_public pk;
	mskey_secret_generate(sk, &pk);
	expect_secret_error("", "empty: not a minisign secret key file");
	expect_secret_error("untrusted comment: x\n", "truncated: the file ends after line 1 (a minisign secret key has 2 lines)");
	expect_secret_error("untrusted comment: x\nRWQAAEIy\n", "line 2: not the base64 of a minisign secret key (158 bytes)");
	expect_secret_error(secret_text(sk, 1, 0x20), "line 2: signature algorithm is not minisign's 'Ed'");
	expect_secret_error(secret_text(sk, 4, 0x01), "line 2: checksum function is not minisign's 'B2' (BLAKE2b)");
	expect_secret_error(secret_text(sk, 2, 'X'), "line 2: key derivation is neither minisign's 'Sc' (scrypt) nor none");
	/* A flipped bit of the secret key (offset 70) or of its checksum (offset 150). */
	expect_secret_error(secret_text(sk, 70, 0x01), "the key's checksum does not match: the file is damaged");
	expect_secret_error(secret_text(sk, 150, 0x01), "the key's checksum does not match: the file is damaged");
	/* Without a checksum (minisign -G -W), a damaged public half is still found. */
	memset(sk->chk, 0, sizeof sk->chk);
	expect_secret_error(secret_text(sk, 6 + 32 + 16 + 8 + 40, 0x01),
	    "the key's public half does not match its secret half: the file is damaged");
	/* Scrypt limits above minisign's are refused before any derivation. */
	memcpy(sk->kdf_alg, "Sc", 2);
	sk->kdf_memlimit_le[4] = 1;
	expect_secret_error(secret_text(sk, 0, 0), "line 2: scrypt limits (opslimit 0, memlimit 4294967296) are above "
	    "minisign's (33554432, 1073741824)");
	mskey_secret_free(sk);
}

static void
test_generate_roundtrip(void)
{
	struct mskey_secret *sk = mskey_secret_new(), *back = mskey_secret_new();
	struct mskey_public pk, pk2;
	char err[512], *text;
	size_t len;
	mskey_secret_generate(sk, &pk);
	CU_ASSERT_FALSE(mskey_secret_encrypted(sk));
	CU_ASSERT_EQUAL_FATAL(mskey_secret_format(sk, "a comment", &text, &len), 0);
	CU_ASSERT_EQUAL(strncmp(text, "untrusted comment: a comment\nRWQAAEIy", 37), 0);
	CU_ASSERT_EQUAL(mskey_secret_parse(text, len, back, err, sizeof err), 0);
	CU_ASSERT_EQUAL(memcmp(sk, back, sizeof *sk), 0);
	mskey_secret_public(back, &pk2);
	CU_ASSERT_TRUE(mskey_public_equal(&pk, &pk2));
	sodium_free(text);
	CU_ASSERT_EQUAL(mskey_secret_format(sk, "two\nlines", &text, &len), -1);
	mskey_secret_free(sk);
	mskey_secret_free(back);
}

static int
setup(void)
{
	char e[64];
	return mskey_init(e, sizeof e) || !mkdtemp(dir);
}

static int
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

void
suite_mskey(void)
{
	CU_pSuite s = CU_add_suite("mskey", setup, teardown);
	CU_add_test(s, "public keys: minisign's file, base64 argument, format", test_public);
	CU_add_test(s, "public key errors", test_public_errors);
	CU_add_test(s, "secret keys made by minisign", test_secret_fixtures);
	CU_add_test(s, "secret key file mode", test_secret_mode);
	CU_add_test(s, "secret key errors", test_secret_errors);
	CU_add_test(s, "generate, format, parse", test_generate_roundtrip);
}
