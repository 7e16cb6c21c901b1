#ifndef MODELC_FSCAN_H
#define MODELC_FSCAN_H

/*
 * `fetch scan`: the cache as the catalog sees it, like `hf cache scan`: per role the bytes on
 * disk, complete / partial / missing, how many files a stamp vouches for, and what
 * `fetch prune` would free. Reads only; never creates the cache.
 */

#include <stdbool.h>

struct fscan_opts {
	const char *manifests;
	const char *cache;
	bool json;
};

/* Print the table (or one JSON object); 0, or 1 when a manifest or the cache root cannot be read. */
int fscan_run(const struct fscan_opts *o);

#endif
