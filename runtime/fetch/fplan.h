#ifndef MODELC_FPLAN_H
#define MODELC_FPLAN_H

/*
 * What `fetch [all|ROLE...]` does: read the roles' manifests (checking their signatures when
 * they are required: fsign), skip what the cache already holds verified, check the free
 * space, download the rest in parallel, write refs/, report.
 */

#include <stdbool.h>
#include <stddef.h>

#include "fprogress.h"

struct fplan_opts {
	unsigned jobs;
	bool verify;                    /* rehash everything instead of trusting stamps */
	bool trust_hub;                 /* take the Hub's hash for files the manifest does not pin */
	const char *manifests;          /* directory of <role>.json */
	const char *cache;              /* cache root override, or NULL */
	enum fprogress_mode mode;
	const char *const *require_keys; /* --require-signature: public key files or base64 lines */
	size_t nrequire;
	const char *catalog;            /* --catalog: whose trust: list and digest count; NULL: ./models.yaml if any */
};

/* Fetch roles (NULL/0: every manifest); returns the exit code (0, 1 or 3). */
int fplan_fetch(const struct fplan_opts *o, char **roles, size_t nroles);

#endif
