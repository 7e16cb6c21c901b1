#ifndef MODELC_FMANIFEST_H
#define MODELC_FMANIFEST_H

/*
 * fetch's reading of generated/manifests/<role>.json (written by compiler/emit_manifest.c;
 * docs/formats.md): which repo at which commit, and each file with its pinned hashes.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "size.h"

enum { FMANIFEST_MAX_BYTES = 16 * SIZE_MIB, FMANIFEST_MAX_FILES = 100000 };

struct fmanifest_file {
	char *path;
	uint64_t size;
	bool size_known;
	int lfs;                /* 1, 0, -1 unknown */
	char *sha256;           /* 64 hex or NULL */
	char *blob_id;          /* 40 hex or NULL */
	char *blob;             /* cache blob name (etag) or NULL when unpinned */
	bool trusted;           /* hashes taken from the Hub by --trust-hub in this run */
};

struct fmanifest {
	char *path;             /* the manifest file */
	char *role;
	char *repo;             /* NULL: local-only role, nothing to fetch */
	char *revision;
	char *commit;           /* 40 hex or NULL */
	char *repo_folder;
	bool download;
	struct fmanifest_file *files;
	size_t nfiles;
	uint64_t total_bytes;
	bool complete;
	bool unpinned;          /* fmanifest_read failed only because no commit is pinned (not locked) */
};

/*
 * Read and check one manifest: repo id, 40-hex commit, safe paths, hex hashes of the right
 * length. 0 on success; -1 with "path: message" in err. Free with fmanifest_free.
 */
int fmanifest_read(const char *path, struct fmanifest *m, char *err, size_t errlen);

/* fmanifest_read on text (len bytes) already read from path: what fetch checked the signature of. */
int fmanifest_parse(const char *path, const char *text, size_t len, struct fmanifest *m, char *err, size_t errlen);

/* Free what fmanifest_read allocated. */
void fmanifest_free(struct fmanifest *m);

/* The role names of the .json files in dir, sorted, malloc'd (free each and the array); -1 with err. */
int fmanifest_list(const char *dir, char ***roles, size_t *n, char *err, size_t errlen);

/*
 * Record hashes learnt from the Hub (--trust-hub) for file index i and rewrite the manifest
 * atomically, keeping every other key. 0 on success; -1 with err.
 */
int fmanifest_pin(struct fmanifest *m, size_t i, const char *sha256, const char *blob_id,
    uint64_t size, char *err, size_t errlen);

#endif
