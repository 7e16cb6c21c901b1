/* fuzz-covers: runtime/fetch/fmanifest.c:fmanifest_read runtime/fetch/fmanifest.c:fmanifest_free */
/*
 * generated/manifests/<role>.json as fetch reads it: the compiler writes it, but it sits in a
 * folder a user or a pull request may edit, and its file paths came from the Hub. Every path
 * fetch accepts must pass hub_path_check, so an accepted manifest never names a file outside
 * the snapshot.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../runtime/fetch/fmanifest.h"
#include "hub.h"

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
	if (!path[0])
		snprintf(path, sizeof path, "%s/fuzz-fmanifest-%ld.json", fuzz_tmp(), (long)getpid());
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	fwrite(data, 1, size, f);
	fclose(f);
	struct fmanifest m;
	char err[1024];
	if (fmanifest_read(path, &m, err, sizeof err) == 0) {
		char why[128];
		for (size_t i = 0; i < m.nfiles; i++)
			if (hub_path_check(m.files[i].path, strlen(m.files[i].path), why, sizeof why))
				abort();
		fmanifest_free(&m);
	}
	return 0;
}
