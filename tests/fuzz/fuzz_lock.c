/* fuzz-covers: compiler/lock.c compiler/jsondoc.c */
/*
 * models.lock as a pull request or a corrupted disk may leave it: read and validate it. A lock
 * that is accepted is written back in canonical form, which must read back and write out
 * byte for byte the same (lock_write's output is lock_read's input on the next run).
 */
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

static int
same_file(const char *x, const char *y)
{
	FILE *f = fopen(x, "rb"), *g = fopen(y, "rb");
	int same = f && g;
	while (same) {
		int c = getc(f), d = getc(g);
		same = c == d;
		if (c == EOF)
			break;
	}
	if (f)
		fclose(f);
	if (g)
		fclose(g);
	return same;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[4096], path2[4200], path3[4200];
	static FILE *devnull;
	if (!path[0]) {
		snprintf(path, sizeof path, "%s/fuzz-lock-%ld.lock", fuzz_tmp(), (long)getpid());
		snprintf(path2, sizeof path2, "%s.2", path);
		snprintf(path3, sizeof path3, "%s.3", path);
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
	if (lock_read(&a, &diag, path, "schemas", &l) == 0) {
		struct lock l2;
		if (lock_write(&l, path2) || lock_read(&a, &diag, path2, "schemas", &l2) || l2.nmodels != l.nmodels ||
		    lock_write(&l2, path3) || !same_file(path2, path3))
			abort();
	}
	arena_free(&a);
	return 0;
}
