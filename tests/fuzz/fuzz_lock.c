/* fuzz-covers: compiler/lock.c */
/* models.lock as a pull request or a corrupted disk may leave it: read and validate it. */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Scratch files go to $FUZZ_TMP (run.sh puts it on tmpfs where it can), else /tmp. */
static const char *
fuzz_tmp(void)
{
	const char *t = getenv("FUZZ_TMP");
	return t && *t ? t : "/tmp";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096];
	static FILE *devnull;
	if (!path[0]) {
		snprintf(path, sizeof path, "%s/fuzz-lock-%ld.lock", fuzz_tmp(), (long)getpid());
		devnull = fopen("/dev/null", "w");
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	struct arena a = {0};
	struct diag_sink diag;
	struct lock l;
	diag_init(&diag, devnull, "fuzz");
	(void)lock_read(&a, &diag, path, &l);
	arena_free(&a);
	return 0;
}
