#ifndef MODELC_XFER_H
#define MODELC_XFER_H

/*
 * Parallel downloads into the cache with curl multi. Each job streams one file into
 * blobs/{etag}.incomplete under the blob's flock, hashing as the bytes arrive; it resumes a
 * partial file with Range (and starts over when the server ignores Range), retries 429/5xx
 * and broken connections with backoff, and only after size and hash match does it fsync,
 * rename to blobs/{etag} and link the snapshot. A mismatch deletes the temp file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fprogress.h"
#include "hfcache.h"
#include "hub.h"

enum { XFER_MAX_JOBS = 64, XFER_BUFFER = 512 * 1024 };

struct xfer_job {
	/* what to fetch, set by the caller */
	const char *role;
	const char *repo;
	const char *revision;           /* for messages */
	const char *commit;
	const char *folder;             /* models--org--name */
	const char *path;               /* repo-relative */
	const char *etag;               /* blob name: sha256 (LFS) or git blob id */
	const char *sha256;             /* expected, or NULL */
	const char *blob_id;            /* expected git blob id, or NULL (LFS) */
	uint64_t size;
	/* outcome */
	int result;                     /* 0 ok, 1 rejected (mismatch, refused), 3 failed */
	bool downloaded;                /* false: the blob appeared meanwhile and was only linked */
	uint64_t received;              /* bytes received in this run */
	double seconds;
	struct xfer_state *st;          /* private */
};

struct xfer {
	const struct hub *hub;
	const struct hfcache *cache;
	struct fprogress *prog;
	unsigned max_jobs;
};

/* Run every job to completion or failure; returns the worst result (0, 1 or 3). */
int xfer_run(struct xfer *x, struct xfer_job *jobs, size_t n);

/*
 * Verify an existing file (blob or copied snapshot file) against the job's hashes.
 * 0 when it matches; 1 on mismatch with both hashes in err; 3 when it cannot be read.
 */
int xfer_verify_file(const struct xfer_job *j, const char *file, char *err, size_t errlen);

#endif
