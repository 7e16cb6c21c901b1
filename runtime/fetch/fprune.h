#ifndef MODELC_FPRUNE_H
#define MODELC_FPRUNE_H

/*
 * `fetch prune`: what the cache holds that no role of the catalog uses (whole repos, other
 * commits' snapshots, unreferenced blobs, stale partial downloads), never the active model.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fprogress.h"

struct fprune_opts {
	bool yes;                       /* remove; otherwise only list */
	const char *manifests;
	const char *cache;
	const char *active_file;        /* .active_model, or NULL for switch's default */
	enum fprogress_mode mode;
	bool quiet;                     /* print nothing; only count (fetch scan's "pruning would free") */
	uint64_t freeable;              /* out: the bytes listed (or removed) */
};

/* List (and with yes remove) unused cache entries; returns the exit code. */
int fprune_run(struct fprune_opts *o);

#endif
