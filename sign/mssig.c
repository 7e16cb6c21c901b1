#include "mssig.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"
#include "msfile.h"
#include "utf8.h"

static const char untrusted_prefix[] = "untrusted comment: ";
static const char trusted_prefix[] = "trusted comment: ";
enum {
	UNTRUSTED_PREFIX_LEN = sizeof untrusted_prefix - 1,
	TRUSTED_PREFIX_LEN = sizeof trusted_prefix - 1,
	SIG_B64_LEN = 100,              /* base64 of 74 bytes */
	GLOBAL_B64_LEN = 88,            /* base64 of 64 bytes */
};

bool
mssig_printable(const char *text)
{
	size_t n = strlen(text);
	for (size_t i = 0; i < n;) {
		unsigned cp;
		size_t l = utf8_decode(text + i, n - i, &cp);
		if (l == 0 || (cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
			return false;
		i += l;
	}
	return true;
}

/*
 * The next line, which minisign reads with a buffer of max bytes (so the line with its line
 * end has at most max - 1); 1, 0 at the end, -1 for a stray "\r" or NUL, -2 when too long.
 */
static int
next_line(const char *text, size_t len, size_t *pos, size_t max, const char **line, size_t *l)
{
	size_t before = *pos;
	int r = msfile_line(text, len, pos, line, l);
	if (r == 1 && *pos - before > max - 1)
		return -2;
	return r;
}

static int
truncated(char *err, size_t errlen, int after)
{
	return errmsg_fail(err, errlen, "truncated: the file ends after line %d (a minisign signature has 4 lines)",
	    after);
}

int
mssig_parse(const char *text, size_t len, struct mssig *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	size_t pos = 0, l;
	const char *line;
	unsigned char blob[MSSIG_BLOB_BYTES];

	int r = next_line(text, len, &pos, MSSIG_UNTRUSTED_MAX, &line, &l);
	if (r == 0)
		return errmsg_fail(err, errlen, "empty: not a minisign signature file");
	if (r == -2)
		return errmsg_fail(err, errlen, "line 1: the untrusted comment is longer than minisign reads (%d bytes)",
		    MSSIG_UNTRUSTED_MAX - 2);
	if (r < 0 || l < UNTRUSTED_PREFIX_LEN || memcmp(line, untrusted_prefix, UNTRUSTED_PREFIX_LEN))
		return errmsg_fail(err, errlen, "line 1: expected '%s...': not a minisign signature file", untrusted_prefix);
	memcpy(out->untrusted, line + UNTRUSTED_PREFIX_LEN, l - UNTRUSTED_PREFIX_LEN);

	r = next_line(text, len, &pos, SIG_B64_LEN + 3, &line, &l);
	if (r == 0)
		return truncated(err, errlen, 1);
	if (r < 0 || msfile_b64_exact(line, l, blob, sizeof blob))
		return errmsg_fail(err, errlen, "line 2: not the base64 of a minisign signature (%d bytes)", MSSIG_BLOB_BYTES);
	if (!memcmp(blob, "ED", 2))
		out->hashed = true;
	else if (memcmp(blob, "Ed", 2))
		return errmsg_fail(err, errlen, "line 2: signature algorithm '%c%c' is neither 'ED' (prehashed) nor "
		    "'Ed' (legacy)", blob[0] >= 0x20 && blob[0] < 0x7f ? blob[0] : '?',
		    blob[1] >= 0x20 && blob[1] < 0x7f ? blob[1] : '?');
	memcpy(out->id, blob + 2, MSKEY_ID_BYTES);
	memcpy(out->sig, blob + 2 + MSKEY_ID_BYTES, MSSIG_SIG_BYTES);

	r = next_line(text, len, &pos, MSSIG_TRUSTED_MAX, &line, &l);
	if (r == 0)
		return truncated(err, errlen, 2);
	if (r == -2)
		return errmsg_fail(err, errlen, "line 3: the trusted comment is longer than minisign reads (%d bytes)",
		    MSSIG_TRUSTED_TEXT_MAX);
	if (r < 0 || l < TRUSTED_PREFIX_LEN || memcmp(line, trusted_prefix, TRUSTED_PREFIX_LEN))
		return errmsg_fail(err, errlen, "line 3: expected '%s...'", trusted_prefix);
	memcpy(out->trusted, line + TRUSTED_PREFIX_LEN, l - TRUSTED_PREFIX_LEN);
	if (strlen(out->trusted) != l - TRUSTED_PREFIX_LEN || !mssig_printable(out->trusted))
		return errmsg_fail(err, errlen, "line 3: the trusted comment holds a control character or invalid UTF-8");

	r = next_line(text, len, &pos, GLOBAL_B64_LEN + 3, &line, &l);
	if (r == 0)
		return truncated(err, errlen, 3);
	if (r < 0 || msfile_b64_exact(line, l, out->global, sizeof out->global))
		return errmsg_fail(err, errlen, "line 4: not the base64 of a global signature (%d bytes)", MSSIG_SIG_BYTES);
	if (!msfile_rest_blank(text, len, pos))
		return errmsg_fail(err, errlen, "line 5: text after the signature");
	return 0;
}

int
mssig_load(const char *path, struct mssig *out, char *err, size_t errlen)
{
	char *text, why[256];
	size_t len;
	if (msfile_read(path, MSSIG_FILE_MAX, false, &text, &len, err, errlen))
		return -1;
	int rc = mssig_parse(text, len, out, why, sizeof why);
	free(text);
	if (rc)
		return errmsg_fail(err, errlen, "%s: %s", path, why);
	return 0;
}

/* What the Ed25519 signature covers: the file, or its BLAKE2b-512 for "ED". */
static void
prehash(const void *msg, size_t len, unsigned char out[crypto_generichash_BYTES_MAX])
{
	crypto_generichash(out, crypto_generichash_BYTES_MAX, msg, len, NULL, 0);
}

/* The signature and the trusted comment's text, which the global signature covers. */
static unsigned char *
global_message(const unsigned char sig[MSSIG_SIG_BYTES], const char *trusted, size_t *len)
{
	size_t tl = strlen(trusted);
	unsigned char *m = malloc(MSSIG_SIG_BYTES + tl + 1);
	if (!m)
		return NULL;
	memcpy(m, sig, MSSIG_SIG_BYTES);
	memcpy(m + MSSIG_SIG_BYTES, trusted, tl);
	*len = MSSIG_SIG_BYTES + tl;
	return m;
}

enum mssig_verdict
mssig_verify(const struct mssig *s, const struct mskey_public *pk, const void *msg, size_t len)
{
	if (memcmp(s->id, pk->id, MSKEY_ID_BYTES))
		return MSSIG_WRONG_KEY;
	unsigned char h[crypto_generichash_BYTES_MAX];
	int bad;
	if (s->hashed) {
		prehash(msg, len, h);
		bad = crypto_sign_verify_detached(s->sig, h, sizeof h, pk->pk);
	} else
		bad = crypto_sign_verify_detached(s->sig, msg, len, pk->pk);
	if (bad)
		return MSSIG_BAD_SIGNATURE;
	size_t gl;
	unsigned char *g = global_message(s->sig, s->trusted, &gl);
	bad = !g || crypto_sign_verify_detached(s->global, g, gl, pk->pk);
	free(g);
	return bad ? MSSIG_BAD_COMMENT : MSSIG_OK;
}

int
mssig_check(const struct mssig *s, const struct mskey_public *keys, size_t nkeys, const void *msg, size_t len,
    size_t *used, char *err, size_t errlen)
{
	char id[MSKEY_ID_HEX_LEN + 1];
	mskey_id_hex(s->id, id);
	enum mssig_verdict v = MSSIG_WRONG_KEY;
	for (size_t i = 0; i < nkeys && v != MSSIG_OK; i++) {
		enum mssig_verdict vi = mssig_verify(s, &keys[i], msg, len);
		if (vi == MSSIG_WRONG_KEY)
			continue;
		v = vi;
		*used = i;
	}
	if (v == MSSIG_OK)
		return 0;
	if (v == MSSIG_BAD_SIGNATURE)
		return errmsg_fail(err, errlen, "the signature by key %s does not match the file: the file changed after "
		    "it was signed", id);
	if (v == MSSIG_BAD_COMMENT)
		return errmsg_fail(err, errlen, "the trusted comment does not match the signature by key %s: the comment "
		    "changed after signing", id);
	char list[8 * (MSKEY_ID_HEX_LEN + 2) + 8] = "";
	size_t off = 0;
	for (size_t i = 0; i < nkeys && i < 8; i++) {
		char k[MSKEY_ID_HEX_LEN + 1];
		mskey_id_hex(keys[i].id, k);
		off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "", k);
	}
	if (nkeys > 8)
		snprintf(list + off, sizeof list - off, ", ...");
	return errmsg_fail(err, errlen, "signed by key %s, which is not trusted (trusted: %s)", id,
	    nkeys ? list : "none");
}

int
mssig_create(const struct mskey_secret *sk, const void *msg, size_t len, const char *untrusted,
    const char *trusted, bool legacy, struct mssig *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (mskey_secret_encrypted(sk))
		return errmsg_fail(err, errlen, "the secret key is still encrypted");
	if (strpbrk(untrusted, "\r\n") || UNTRUSTED_PREFIX_LEN + strlen(untrusted) + 2 > MSSIG_UNTRUSTED_MAX)
		return errmsg_fail(err, errlen, "the untrusted comment must be one line of at most %d bytes",
		    MSSIG_UNTRUSTED_MAX - 2 - UNTRUSTED_PREFIX_LEN);
	if (strlen(trusted) > MSSIG_TRUSTED_TEXT_MAX || !mssig_printable(trusted))
		return errmsg_fail(err, errlen, "the trusted comment must be printable UTF-8 of at most %d bytes",
		    MSSIG_TRUSTED_TEXT_MAX);
	out->hashed = !legacy;
	memcpy(out->id, sk->id, MSKEY_ID_BYTES);
	snprintf(out->untrusted, sizeof out->untrusted, "%s", untrusted);
	snprintf(out->trusted, sizeof out->trusted, "%s", trusted);
	unsigned char h[crypto_generichash_BYTES_MAX];
	if (out->hashed) {
		prehash(msg, len, h);
		crypto_sign_detached(out->sig, NULL, h, sizeof h, sk->sk);
	} else
		crypto_sign_detached(out->sig, NULL, msg, len, sk->sk);
	size_t gl;
	unsigned char *g = global_message(out->sig, out->trusted, &gl);
	if (!g)
		return errmsg_fail(err, errlen, "out of memory");
	crypto_sign_detached(out->global, NULL, g, gl, sk->sk);
	free(g);
	return 0;
}

int
mssig_format(const struct mssig *s, char *buf, size_t n)
{
	unsigned char blob[MSSIG_BLOB_BYTES];
	char b64[SIG_B64_LEN + 1], g64[GLOBAL_B64_LEN + 1];
	memcpy(blob, s->hashed ? "ED" : "Ed", 2);
	memcpy(blob + 2, s->id, MSKEY_ID_BYTES);
	memcpy(blob + 2 + MSKEY_ID_BYTES, s->sig, MSSIG_SIG_BYTES);
	sodium_bin2base64(b64, sizeof b64, blob, sizeof blob, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(g64, sizeof g64, s->global, sizeof s->global, sodium_base64_VARIANT_ORIGINAL);
	int w = snprintf(buf, n, "%s%s\n%s\n%s%s\n%s\n", untrusted_prefix, s->untrusted, b64, trusted_prefix,
	    s->trusted, g64);
	return w < 0 || (size_t)w >= n ? -1 : w;
}
