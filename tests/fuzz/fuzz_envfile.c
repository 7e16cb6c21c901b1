/* fuzz-covers: common/envfile.c */
/*
 * Property: every value envfile_check_value accepts is written so that a .env reader that
 * follows the rule (single quotes verbatim, or double quotes verbatim when the value has a
 * single quote and none of " \ $ `) reads back exactly the same bytes.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *value = malloc(size + 1);
	if (!value)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';
	(void)envfile_check_key(value);
	if (envfile_check_value("K", value, size) == NULL) {
		char *buf = NULL;
		size_t len = 0;
		FILE *out = open_memstream(&buf, &len);
		envfile_write(out, NULL, "K", value);
		fclose(out);
		/* K=<q>value<q>\n: the quote must not occur inside, and the payload is verbatim. */
		char q = buf[2];
		if (len != size + 5 || buf[0] != 'K' || buf[1] != '=' || (q != '\'' && q != '"') ||
		    buf[len - 2] != q || buf[len - 1] != '\n' || memchr(buf + 3, q, size) ||
		    memcmp(buf + 3, value, size) != 0)
			abort();
		if (q == '"' && strpbrk(value, "\"\\$`"))
			abort();
		free(buf);
	}
	free(value);
	return 0;
}
