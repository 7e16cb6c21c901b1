#ifndef MODELC_MSKEY_H
#define MODELC_MSKEY_H

/*
 * minisign's key files, byte for byte (docs/formats.md, "Signatures"): a public key is an
 * untrusted comment line and the base64 of "Ed", an 8-byte key id and the 32-byte Ed25519
 * key; a secret key is a comment line and the base64 of "Ed", the KDF ("Sc" scrypt or two
 * zero bytes for none), the checksum function "B2", the scrypt salt and limits, then the key
 * id, the 64-byte secret key and a BLAKE2b-256 checksum, those 104 bytes XORed with the scrypt
 * stream of the passphrase. Secret keys live in sodium_malloc memory (locked, guarded, wiped
 * on free) and are never printed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MSKEY_ID_BYTES = 8,
	MSKEY_PK_BYTES = 32,
	MSKEY_SK_BYTES = 64,
	MSKEY_CHK_BYTES = 32,
	MSKEY_SALT_BYTES = 32,
	MSKEY_PUBLIC_BYTES = 2 + MSKEY_ID_BYTES + MSKEY_PK_BYTES,           /* 42 */
	MSKEY_SECRET_BYTES = 6 + MSKEY_SALT_BYTES + 16 + MSKEY_ID_BYTES + MSKEY_SK_BYTES +
	    MSKEY_CHK_BYTES,                                                /* 158 */
	MSKEY_PUBLIC_B64_LEN = 56,      /* base64 of the 42 bytes, no padding */
	MSKEY_ID_HEX_LEN = 16,          /* as minisign prints it: %016llX of the little-endian id */
	MSKEY_COMMENT_MAX = 1024,       /* minisign's COMMENTMAXBYTES: a comment line and its newline */
	MSKEY_FILE_MAX = 4096,          /* a key file is two short lines; anything longer is refused */
	MSKEY_PASSPHRASE_MAX = 1024,    /* minisign's PASSWORDMAXBYTES, with the NUL */
};

/* minisign's scrypt limits (crypto_pwhash_scryptsalsa208sha256_*_SENSITIVE): 2^25 ops, 1 GiB. */
#define MSKEY_SCRYPT_OPSLIMIT 33554432ULL
#define MSKEY_SCRYPT_MEMLIMIT 1073741824ULL

struct mskey_public {
	unsigned char id[MSKEY_ID_BYTES];
	unsigned char pk[MSKEY_PK_BYTES];
};

/* The decoded secret key file, in minisign's layout; only ever in sodium_malloc memory. */
struct mskey_secret {
	unsigned char sig_alg[2];       /* "Ed" */
	unsigned char kdf_alg[2];       /* "Sc" or "\0\0" */
	unsigned char chk_alg[2];       /* "B2" */
	unsigned char kdf_salt[MSKEY_SALT_BYTES];
	unsigned char kdf_opslimit_le[8];
	unsigned char kdf_memlimit_le[8];
	unsigned char id[MSKEY_ID_BYTES];       /* from here on encrypted in the file when kdf is "Sc" */
	unsigned char sk[MSKEY_SK_BYTES];
	unsigned char chk[MSKEY_CHK_BYTES];
};

/* Initialise libsodium; 0, or -1 with err. Every other function expects it done. */
int mskey_init(char *err, size_t errlen);

/* The key id as minisign prints it (16 upper-case hex digits) into out (17 bytes). */
void mskey_id_hex(const unsigned char id[MSKEY_ID_BYTES], char out[MSKEY_ID_HEX_LEN + 1]);

/* Decode the base64 line of a public key (len bytes at b64); 0, or -1 with err. */
int mskey_public_decode(const char *b64, size_t len, struct mskey_public *out, char *err, size_t errlen);

/*
 * Parse the text of a public key file (an "untrusted comment: " line, then the base64 line);
 * 0, or -1 with err naming the line.
 */
int mskey_public_parse(const char *text, size_t len, struct mskey_public *out, char *err, size_t errlen);

/*
 * A public key given on a command line: a file name, or the base64 line itself (as
 * minisign -P takes it). 0, or -1 with err ("PATH: why").
 */
int mskey_public_arg(const char *arg, struct mskey_public *out, char *err, size_t errlen);

/* The base64 line of pk into out (57 bytes). */
void mskey_public_b64(const struct mskey_public *pk, char out[MSKEY_PUBLIC_B64_LEN + 1]);

/* Whether a and b are the same key (id and key bytes). */
bool mskey_public_equal(const struct mskey_public *a, const struct mskey_public *b);

/* A zeroed secret key in sodium_malloc memory, or NULL. Free with mskey_secret_free. */
struct mskey_secret *mskey_secret_new(void);

/* Wipe and free a secret key; NULL is ignored. */
void mskey_secret_free(struct mskey_secret *sk);

/* Whether sk's key id, secret key and checksum are still encrypted with a passphrase. */
bool mskey_secret_encrypted(const struct mskey_secret *sk);

/*
 * Parse the text of a secret key file into sk (from mskey_secret_new) without decrypting
 * it: the comment line, the base64 of 158 bytes, the algorithms, scrypt limits no larger than
 * minisign's. An unencrypted key is checked (checksum when it has one, and that its public
 * half matches the private one). 0, or -1 with err.
 */
int mskey_secret_parse(const char *text, size_t len, struct mskey_secret *sk, char *err, size_t errlen);

/*
 * Read a secret key file: refused when group or others may read it (err then holds the
 * chmod command), or when it is not a regular file; read into locked memory, parsed. *out is
 * the key (still encrypted when mskey_secret_encrypted says so). 0, or -1 with "PATH: why".
 */
int mskey_secret_load(const char *path, struct mskey_secret **out, char *err, size_t errlen);

/*
 * Decrypt an encrypted key with the passphrase (len bytes): scrypt with the key's salt and
 * limits, XOR, then the checksum decides. 0, or -1 with err ("wrong passphrase" or memory).
 */
int mskey_secret_decrypt(struct mskey_secret *sk, const char *pass, size_t len, char *err, size_t errlen);

/* A fresh key pair: random key id, Ed25519 keys, the checksum; unencrypted. */
void mskey_secret_generate(struct mskey_secret *sk, struct mskey_public *pk);

/*
 * Encrypt sk with the passphrase as minisign -G does: a random salt, scrypt at minisign's
 * limits, halved while the memory cannot be had (down to libsodium's minimum). *lowered is
 * set when the limits had to be halved. 0, or -1 with err.
 */
int mskey_secret_encrypt(struct mskey_secret *sk, const char *pass, size_t len, bool *lowered,
    char *err, size_t errlen);

/* The public half of a decrypted secret key. */
void mskey_secret_public(const struct mskey_secret *sk, struct mskey_public *pk);

/*
 * The text of a secret key file with the given untrusted comment (one line) into *out,
 * sodium_malloc'd and NUL-terminated (free with sodium_free); *len its length. 0, or -1.
 */
int mskey_secret_format(const struct mskey_secret *sk, const char *comment, char **out, size_t *len);

/* The text of a public key file ("minisign public key ID" comment) into buf; its length, or -1. */
int mskey_public_format(const struct mskey_public *pk, char *buf, size_t n);

/*
 * While a secret is held: no core file, and no other process of the user may read this one's
 * memory (PR_SET_DUMPABLE 0). Called by mskey_secret_load and passphrase reading.
 */
void mskey_protect_process(void);

#endif
