/* fuzz-covers: compiler/safetensors.c */
/* A safetensors header as an uploader chose it: parse, then check it against a file size. */
#include <stdint.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = {0};
	struct safetensors_header h;
	char err[256];
	uint64_t n;
	(void)safetensors_header_len(data, size, &n, err, sizeof err);
	if (safetensors_parse((const char *)data, size, &a, &h, err, sizeof err) == 0)
		(void)safetensors_check_file_size(&h, size, err, sizeof err);
	arena_free(&a);
	return 0;
}
