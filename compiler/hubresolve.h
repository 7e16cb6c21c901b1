#ifndef MODELC_HUBRESOLVE_H
#define MODELC_HUBRESOLVE_H

/*
 * What `modelc lock` learns about one Hub model: the commit a revision names, every file
 * with its size, git blob id and LFS sha256 (tree API, recursive, paginated), the sha256 of
 * the small files it downloads (config, tokenizer, index), config.json itself, and the exact
 * weight bytes per dtype from each safetensors header read with an HTTP Range request.
 */

#include <stdio.h>

#include "arena.h"
#include "hub.h"
#include "lock.h"
#include "size.h"

enum {
	HUBRESOLVE_MAX_PAGES = 1000,
	HUBRESOLVE_MAX_JSON = 64 * SIZE_MIB,
	HUBRESOLVE_SMALL_MAX = 64 * SIZE_MIB,    /* the most a "small" file may weigh */
	HUBRESOLVE_HEADER_PROBE = 64 * 1024,        /* first Range read of a safetensors file */
};

/*
 * Resolve repo@revision into *out (key, repo, revision, commit, gated, config, weights,
 * files, sources, unknown; memory from the arena). progress (may be NULL) gets one line per
 * step. Returns EXITCODE_OK, EXITCODE_REJECTED (the Hub said no, or its data is inconsistent) or
 * EXITCODE_SYSTEM, with a message in err.
 */
int hubresolve_model(const struct hub *h, struct arena *a, const char *repo, const char *revision,
    struct lock_model *out, FILE *progress, char *err, size_t errlen);

/* Whether lock records the sha256 of a non-LFS file at path (config, tokenizer, index...). */
int hubresolve_small_file(const char *path);

#endif
