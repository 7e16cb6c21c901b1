/* fuzz-covers: runtime/fetch/ftrust.c */
/*
 * The catalog's trust: list as fetch reads it with its own small YAML reader: models.yaml
 * arrives in pull requests, and fetch reads it on the GPU host before it trusts any key. Every
 * key it accepts must be one that decodes as a minisign public key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/fetch/ftrust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mskey_public *keys;
	size_t n;
	char err[1024], b64[MSKEY_PUBLIC_B64_LEN + 1];
	if (ftrust_parse("models.yaml", (const char *)data, size, &keys, &n, err, sizeof err) == 0) {
		for (size_t i = 0; i < n; i++) {
			struct mskey_public back;
			mskey_public_b64(&keys[i], b64);
			if (mskey_public_decode(b64, strlen(b64), &back, err, sizeof err) || !mskey_public_equal(&keys[i], &back))
				abort();
		}
		free(keys);
	}
	return 0;
}
