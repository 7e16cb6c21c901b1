/* fuzz-covers: hub/hub_headers.c:hub_header_cb */
/*
 * Response headers from the Hub, a CDN or anything in between, fed line by line to the
 * header callback exactly as libcurl delivers them (no NUL terminator).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hub_hdrs *hd = malloc(sizeof *hd);
	if (!hd)
		return 0;
	hub_hdrs_reset(hd);
	size_t start = 0;
	for (size_t i = 0; i <= size; i++) {
		if (i == size || data[i] == '\n') {
			size_t len = i - start + (i < size);
			if (len) {
				/* A private copy, so reading one byte past the line is caught. */
				char *line = malloc(len);
				memcpy(line, data + start, len);
				if (hub_header_cb(line, 1, len, hd) != len)
					abort();
				free(line);
			}
			start = i + 1;
		}
	}
	free(hd);
	return 0;
}
