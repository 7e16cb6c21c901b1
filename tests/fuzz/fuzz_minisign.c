/* fuzz-covers: sign/mssig.c:mssig_parse sign/mskey.c:mskey_public_parse sign/mskey.c:mskey_secret_parse sign/tcomment.c:tcomment_parse sign/sumfile.c:sumfile_parse */
/*
 * The files a signature check reads before it trusts anything: FILE.minisig, public and
 * secret key files, the trusted comment inside a signature, and SHA256SUMS. They sit in
 * folders a pull request or a shared disk may change. Each parser gets the same input; what
 * one accepts must survive a round trip: a signature or trusted comment formatted again reads
 * back equal, and a parsed SHA256SUMS lists only paths that stay inside the directory.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mskey.h"
#include "mssig.h"
#include "sumfile.h"
#include "tcomment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mskey_secret *sk;
	static struct mssig s, back;
	static struct tcomment c, cback;
	static char text[MSSIG_FILE_MAX], buf[MSSIG_TRUSTED_MAX];
	char err[1024];
	if (!sk && (mskey_init(err, sizeof err) || !(sk = mskey_secret_new())))
		abort();
	const char *in = (const char *)data;

	if (mssig_parse(in, size, &s, err, sizeof err) == 0) {
		int n = mssig_format(&s, text, sizeof text);
		if (n < 0 || mssig_parse(text, (size_t)n, &back, err, sizeof err) || memcmp(&s, &back, sizeof s))
			abort();
		if (tcomment_parse(s.trusted, &c, err, sizeof err) == 0) {
			if (tcomment_format(&c, buf, sizeof buf) < 0 || tcomment_parse(buf, &cback, err, sizeof err) ||
			    memcmp(&c, &cback, sizeof c) || strcmp(buf, s.trusted))
				abort();
		}
	}
	struct mskey_public pk;
	(void)mskey_public_parse(in, size, &pk, err, sizeof err);
	(void)mskey_secret_parse(in, size, sk, err, sizeof err);

	/* The trusted comment parser takes a NUL-terminated line, as mssig_parse leaves it. */
	char *line = malloc(size + 1);
	if (!line)
		abort();
	memcpy(line, data, size);
	line[size] = '\0';
	(void)tcomment_parse(line, &c, err, sizeof err);
	free(line);

	struct sumfile_entry *e;
	size_t n;
	if (sumfile_parse(in, size, &e, &n, err, sizeof err) == 0) {
		for (size_t i = 0; i < n; i++)
			if (!sumfile_path_ok(e[i].path) || (i && strcmp(e[i - 1].path, e[i].path) >= 0))
				abort();
		sumfile_free(e, n);
	}
	return 0;
}
