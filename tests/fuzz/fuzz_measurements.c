/* fuzz-covers: compiler/measurements.c */
/*
 * measurements/<role>.csv as bench wrote it, or as anyone with write access to the catalog's
 * folder left it: the compiler reads it back for the budget report. The answer, when there is
 * one, is a number that is never negative.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "measurements.h"

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
	static char dir[4096], path[4200];
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/fuzz-measurements-%ld", fuzz_tmp(), (long)getpid());
		mkdir(dir, 0700);
		snprintf(path, sizeof path, "%s/r.csv", dir);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	static const uint32_t lens[] = {1, 4096, 131072};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		double t;
		if (measurements_ttft_at(dir, "r", lens[i], &t) == 0 && t < 0)
			abort();
	}
	return 0;
}
