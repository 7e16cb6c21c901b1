#define _DEFAULT_SOURCE
#include "mskey.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "errmsg.h"
#include "msfile.h"

_Static_assert(sizeof(struct mskey_secret) == MSKEY_SECRET_BYTES, "minisign's secret key layout");
_Static_assert(MSKEY_PK_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(MSKEY_SK_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(MSKEY_CHK_BYTES == crypto_generichash_BYTES, "BLAKE2b-256 checksum");
_Static_assert(MSKEY_SALT_BYTES == crypto_pwhash_scryptsalsa208sha256_SALTBYTES, "scrypt salt size");

static const char comment_prefix[] = "untrusted comment: ";
enum { COMMENT_PREFIX_LEN = sizeof comment_prefix - 1 };

/* The encrypted part of a secret key: key id, secret key, checksum. */
enum { SECRET_TAIL = MSKEY_ID_BYTES + MSKEY_SK_BYTES + MSKEY_CHK_BYTES };

int
mskey_init(char *err, size_t errlen)
{
	if (sodium_init() < 0)
		return errmsg_fail(err, errlen, "libsodium failed to initialise");
	return 0;
}

static uint64_t
le64_load(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
le64_store(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

void
mskey_id_hex(const unsigned char id[MSKEY_ID_BYTES], char out[MSKEY_ID_HEX_LEN + 1])
{
	snprintf(out, MSKEY_ID_HEX_LEN + 1, "%016llX", (unsigned long long)le64_load(id));
}

int
mskey_public_decode(const char *b64, size_t len, struct mskey_public *out, char *err, size_t errlen)
{
	unsigned char raw[MSKEY_PUBLIC_BYTES];
	if (len != MSKEY_PUBLIC_B64_LEN || msfile_b64_exact(b64, len, raw, sizeof raw))
		return errmsg_fail(err, errlen, "not the base64 of a minisign public key (%d characters)",
		    MSKEY_PUBLIC_B64_LEN);
	if (memcmp(raw, "Ed", 2))
		return errmsg_fail(err, errlen, "key algorithm '%c%c' is not minisign's 'Ed'",
		    raw[0] >= 0x20 && raw[0] < 0x7f ? raw[0] : '?', raw[1] >= 0x20 && raw[1] < 0x7f ? raw[1] : '?');
	memcpy(out->id, raw + 2, MSKEY_ID_BYTES);
	memcpy(out->pk, raw + 2 + MSKEY_ID_BYTES, MSKEY_PK_BYTES);
	return 0;
}

/* The comment line and the base64 line of a key file; 0, or -1 with err naming the line. */
static int
key_lines(const char *text, size_t len, const char *what, const char **b64, size_t *b64len, char *err,
    size_t errlen)
{
	size_t pos = 0, l;
	const char *line;
	int r = msfile_line(text, len, &pos, &line, &l);
	if (r == 0)
		return errmsg_fail(err, errlen, "empty: not a minisign %s file", what);
	/* minisign reads the line into a buffer of MSKEY_COMMENT_MAX bytes, line end included. */
	if (r < 0 || pos > MSKEY_COMMENT_MAX - 1 || l < COMMENT_PREFIX_LEN ||
	    memcmp(line, comment_prefix, COMMENT_PREFIX_LEN))
		return errmsg_fail(err, errlen, "line 1: expected '%s...' (a line of at most %d bytes): not a minisign %s file",
		    comment_prefix, MSKEY_COMMENT_MAX - 2, what);
	r = msfile_line(text, len, &pos, b64, b64len);
	if (r == 0)
		return errmsg_fail(err, errlen, "truncated: the file ends after line 1 (a minisign %s has 2 lines)", what);
	if (r < 0)
		return errmsg_fail(err, errlen, "line 2: a carriage return or NUL byte inside the line");
	if (!msfile_rest_blank(text, len, pos))
		return errmsg_fail(err, errlen, "line 3: text after the %s", what);
	return 0;
}

int
mskey_public_parse(const char *text, size_t len, struct mskey_public *out, char *err, size_t errlen)
{
	const char *b64;
	size_t bl;
	char why[128];
	if (key_lines(text, len, "public key", &b64, &bl, err, errlen))
		return -1;
	if (mskey_public_decode(b64, bl, out, why, sizeof why))
		return errmsg_fail(err, errlen, "line 2: %s", why);
	return 0;
}

int
mskey_public_arg(const char *arg, struct mskey_public *out, char *err, size_t errlen)
{
	char why[256];
	struct stat st;
	/* The base64 line itself, unless a file of that name exists. */
	if (strlen(arg) == MSKEY_PUBLIC_B64_LEN && stat(arg, &st) != 0) {
		if (mskey_public_decode(arg, MSKEY_PUBLIC_B64_LEN, out, why, sizeof why))
			return errmsg_fail(err, errlen, "'%s': %s", arg, why);
		return 0;
	}
	char *text;
	size_t len;
	if (msfile_read(arg, MSKEY_FILE_MAX, false, &text, &len, err, errlen))
		return -1;
	int rc = mskey_public_parse(text, len, out, why, sizeof why);
	free(text);
	if (rc)
		return errmsg_fail(err, errlen, "%s: %s", arg, why);
	return 0;
}

void
mskey_public_b64(const struct mskey_public *pk, char out[MSKEY_PUBLIC_B64_LEN + 1])
{
	unsigned char raw[MSKEY_PUBLIC_BYTES];
	memcpy(raw, "Ed", 2);
	memcpy(raw + 2, pk->id, MSKEY_ID_BYTES);
	memcpy(raw + 2 + MSKEY_ID_BYTES, pk->pk, MSKEY_PK_BYTES);
	sodium_bin2base64(out, MSKEY_PUBLIC_B64_LEN + 1, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
}

bool
mskey_public_equal(const struct mskey_public *a, const struct mskey_public *b)
{
	return !memcmp(a->id, b->id, MSKEY_ID_BYTES) && !memcmp(a->pk, b->pk, MSKEY_PK_BYTES);
}

int
mskey_public_format(const struct mskey_public *pk, char *buf, size_t n)
{
	char id[MSKEY_ID_HEX_LEN + 1], b64[MSKEY_PUBLIC_B64_LEN + 1];
	mskey_id_hex(pk->id, id);
	mskey_public_b64(pk, b64);
	int w = snprintf(buf, n, "%sminisign public key %s\n%s\n", comment_prefix, id, b64);
	return w < 0 || (size_t)w >= n ? -1 : w;
}

struct mskey_secret *
mskey_secret_new(void)
{
	struct mskey_secret *sk = sodium_malloc(sizeof *sk);
	if (sk)
		memset(sk, 0, sizeof *sk);
	return sk;
}

void
mskey_secret_free(struct mskey_secret *sk)
{
	if (sk)
		sodium_free(sk);  /* wipes before unmapping */
}

bool
mskey_secret_encrypted(const struct mskey_secret *sk)
{
	return !memcmp(sk->kdf_alg, "Sc", 2);
}

/* minisign's checksum: BLAKE2b-256 over the algorithm, the key id and the secret key. */
static void
secret_checksum(const struct mskey_secret *sk, unsigned char out[MSKEY_CHK_BYTES])
{
	crypto_generichash_state hs;
	crypto_generichash_init(&hs, NULL, 0, MSKEY_CHK_BYTES);
	crypto_generichash_update(&hs, sk->sig_alg, sizeof sk->sig_alg);
	crypto_generichash_update(&hs, sk->id, sizeof sk->id);
	crypto_generichash_update(&hs, sk->sk, sizeof sk->sk);
	crypto_generichash_final(&hs, out, MSKEY_CHK_BYTES);
	sodium_memzero(&hs, sizeof hs);
}

/*
 * A decrypted key is whole when its checksum matches (minisign -G -W leaves it zero) and its
 * stored public half is the one its seed gives.
 */
static int
secret_check(const struct mskey_secret *sk, char *err, size_t errlen)
{
	unsigned char chk[MSKEY_CHK_BYTES], pk[MSKEY_PK_BYTES];
	unsigned char *full = sodium_malloc(MSKEY_SK_BYTES);
	if (!full)
		return errmsg_fail(err, errlen, "cannot allocate locked memory");
	int bad_chk = 0;
	if (!sodium_is_zero(sk->chk, sizeof sk->chk) || mskey_secret_encrypted(sk)) {
		secret_checksum(sk, chk);
		bad_chk = sodium_memcmp(chk, sk->chk, sizeof chk) != 0;
		sodium_memzero(chk, sizeof chk);
	}
	crypto_sign_seed_keypair(pk, full, sk->sk);
	int bad_pk = memcmp(pk, sk->sk + 32, MSKEY_PK_BYTES) != 0;
	sodium_free(full);
	if (bad_chk)
		return errmsg_fail(err, errlen, "%s", mskey_secret_encrypted(sk) ? "wrong passphrase for this key" :
		    "the key's checksum does not match: the file is damaged");
	if (bad_pk)
		return errmsg_fail(err, errlen, "the key's public half does not match its secret half: the file is damaged");
	return 0;
}

int
mskey_secret_parse(const char *text, size_t len, struct mskey_secret *sk, char *err, size_t errlen)
{
	const char *b64;
	size_t bl;
	char why[128];
	if (key_lines(text, len, "secret key", &b64, &bl, err, errlen))
		return -1;
	if (msfile_b64_exact(b64, bl, (unsigned char *)sk, sizeof *sk)) {
		sodium_memzero(sk, sizeof *sk);
		return errmsg_fail(err, errlen, "line 2: not the base64 of a minisign secret key (%d bytes)",
		    MSKEY_SECRET_BYTES);
	}
	if (memcmp(sk->sig_alg, "Ed", 2))
		return errmsg_fail(err, errlen, "line 2: signature algorithm is not minisign's 'Ed'");
	if (memcmp(sk->chk_alg, "B2", 2))
		return errmsg_fail(err, errlen, "line 2: checksum function is not minisign's 'B2' (BLAKE2b)");
	if (mskey_secret_encrypted(sk)) {
		uint64_t ops = le64_load(sk->kdf_opslimit_le), mem = le64_load(sk->kdf_memlimit_le);
		/* A key minisign made never asks for more; a hostile file must not make us allocate it. */
		if (ops > MSKEY_SCRYPT_OPSLIMIT || mem > MSKEY_SCRYPT_MEMLIMIT)
			return errmsg_fail(err, errlen, "line 2: scrypt limits (opslimit %llu, memlimit %llu) are above "
			    "minisign's (%llu, %llu)", (unsigned long long)ops, (unsigned long long)mem,
			    MSKEY_SCRYPT_OPSLIMIT, MSKEY_SCRYPT_MEMLIMIT);
		return 0;
	}
	if (memcmp(sk->kdf_alg, "\0\0", 2))
		return errmsg_fail(err, errlen, "line 2: key derivation is neither minisign's 'Sc' (scrypt) nor none");
	if (secret_check(sk, why, sizeof why))
		return errmsg_fail(err, errlen, "%s", why);
	return 0;
}

void
mskey_protect_process(void)
{
	struct rlimit no_core = {0, 0};
	(void)setrlimit(RLIMIT_CORE, &no_core);
#ifdef __linux__
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
}

int
mskey_secret_load(const char *path, struct mskey_secret **out, char *err, size_t errlen)
{
	*out = NULL;
	mskey_protect_process();
	char *text;
	size_t len;
	if (msfile_read(path, MSKEY_FILE_MAX, true, &text, &len, err, errlen))
		return -1;
	struct mskey_secret *sk = mskey_secret_new();
	char why[256];
	int rc = sk ? mskey_secret_parse(text, len, sk, why, sizeof why) : errmsg_fail(why, sizeof why,
	    "cannot allocate locked memory");
	sodium_free(text);
	if (rc) {
		mskey_secret_free(sk);
		return errmsg_fail(err, errlen, "%s: %s", path, why);
	}
	*out = sk;
	return 0;
}

/* XOR the encrypted tail of sk with the scrypt stream of the passphrase; 0 or -1 (memory). */
static int
secret_xor(struct mskey_secret *sk, const char *pass, size_t len, uint64_t ops, uint64_t mem)
{
	unsigned char *stream = sodium_malloc(SECRET_TAIL);
	if (!stream)
		return -1;
	if (crypto_pwhash_scryptsalsa208sha256(stream, SECRET_TAIL, pass, len, sk->kdf_salt, ops, (size_t)mem)) {
		sodium_free(stream);
		return -1;
	}
	unsigned char *tail = (unsigned char *)sk + offsetof(struct mskey_secret, id);
	for (size_t i = 0; i < SECRET_TAIL; i++)
		tail[i] ^= stream[i];
	sodium_free(stream);
	return 0;
}

int
mskey_secret_decrypt(struct mskey_secret *sk, const char *pass, size_t len, char *err, size_t errlen)
{
	if (!mskey_secret_encrypted(sk))
		return 0;
	uint64_t ops = le64_load(sk->kdf_opslimit_le), mem = le64_load(sk->kdf_memlimit_le);
	if (secret_xor(sk, pass, len, ops, mem))
		return errmsg_fail(err, errlen, "scrypt could not derive the key (opslimit %llu, memlimit %llu bytes): "
		    "not enough memory", (unsigned long long)ops, (unsigned long long)mem);
	if (secret_check(sk, err, errlen))
		return -1;
	memcpy(sk->kdf_alg, "\0\0", 2);  /* what it holds now is the plain key */
	return 0;
}

void
mskey_secret_generate(struct mskey_secret *sk, struct mskey_public *pk)
{
	unsigned char pub[MSKEY_PK_BYTES];
	memset(sk, 0, sizeof *sk);
	memcpy(sk->sig_alg, "Ed", 2);
	memcpy(sk->chk_alg, "B2", 2);
	randombytes_buf(sk->id, sizeof sk->id);
	crypto_sign_keypair(pub, sk->sk);
	secret_checksum(sk, sk->chk);
	mskey_secret_public(sk, pk);
}

int
mskey_secret_encrypt(struct mskey_secret *sk, const char *pass, size_t len, bool *lowered, char *err,
    size_t errlen)
{
	uint64_t ops = MSKEY_SCRYPT_OPSLIMIT, mem = MSKEY_SCRYPT_MEMLIMIT;
	*lowered = false;
	randombytes_buf(sk->kdf_salt, sizeof sk->kdf_salt);
	secret_checksum(sk, sk->chk);
	/* As minisign: where 1 GiB cannot be had, halve both limits down to libsodium's minimum. */
	while (secret_xor(sk, pass, len, ops, mem)) {
		ops /= 2;
		mem /= 2;
		*lowered = true;
		if (ops < crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN ||
		    mem < crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN)
			return errmsg_fail(err, errlen, "scrypt could not derive a key even at its minimum limits: "
			    "more memory is needed");
	}
	memcpy(sk->kdf_alg, "Sc", 2);
	le64_store(sk->kdf_opslimit_le, ops);
	le64_store(sk->kdf_memlimit_le, mem);
	return 0;
}

void
mskey_secret_public(const struct mskey_secret *sk, struct mskey_public *pk)
{
	memcpy(pk->id, sk->id, MSKEY_ID_BYTES);
	memcpy(pk->pk, sk->sk + 32, MSKEY_PK_BYTES);  /* libsodium's secret key is seed || public key */
}

int
mskey_secret_format(const struct mskey_secret *sk, const char *comment, char **out, size_t *len)
{
	size_t b64len = sodium_base64_ENCODED_LEN(sizeof *sk, sodium_base64_VARIANT_ORIGINAL);
	size_t cl = strlen(comment);
	if (strpbrk(comment, "\r\n") || COMMENT_PREFIX_LEN + cl + 1 > MSKEY_COMMENT_MAX)
		return -1;
	size_t n = COMMENT_PREFIX_LEN + cl + 1 + b64len + 1;
	char *buf = sodium_malloc(n);
	if (!buf)
		return -1;
	memcpy(buf, comment_prefix, COMMENT_PREFIX_LEN);
	memcpy(buf + COMMENT_PREFIX_LEN, comment, cl);
	buf[COMMENT_PREFIX_LEN + cl] = '\n';
	char *b = buf + COMMENT_PREFIX_LEN + cl + 1;
	sodium_bin2base64(b, b64len, (const unsigned char *)sk, sizeof *sk, sodium_base64_VARIANT_ORIGINAL);
	size_t bl = strlen(b);
	b[bl] = '\n';
	b[bl + 1] = '\0';
	*out = buf;
	*len = (size_t)(b - buf) + bl + 1;
	return 0;
}
