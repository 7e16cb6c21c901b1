#ifndef MODELC_CKPTDIR_H
#define MODELC_CKPTDIR_H

/*
 * A checkpoint directory as vLLM serves it: the regular files at its top, config.json, and the
 * safetensors shards named by model.safetensors.index.json (or the single model.safetensors),
 * read header by header into one table of tensors. Whoever produced the directory chose every
 * byte: each problem is reported to diag naming the file, and nothing is trusted unchecked.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "size.h"
#include "lock.h"
#include "safetensors.h"

enum { CKPTDIR_MAX_JSON_BYTES = 4 * SIZE_MIB, CKPTDIR_MAX_DTYPES = 32 };

struct ckptdir_file {
	const char *name;               /* relative to the directory */
	uint64_t size;
	char sha256[65];                /* lower-case hex, "" when not hashed */
};

/* A tensor and the shard that holds it. */
struct ckptdir_tensor {
	const char *name;
	const struct safetensors_tensor *t;
	const char *file;               /* path for messages: DIR/shard */
};

struct ckptdir {
	const char *dir;
	struct ckptdir_file *files;     /* no dot files; sorted by name */
	size_t nfiles;
	const char *index_path;         /* DIR/model.safetensors.index.json or DIR/model.safetensors */
	struct ckptdir_tensor *tensors; /* sorted by name */
	size_t ntensors;
	struct lock_dtype_bytes *dtypes;/* bytes per dtype over all shards */
	size_t ndtypes;
	uint64_t tensor_bytes;          /* sum of all tensors' data */
};

/* List the regular files at the top of dir into d (zeroed first). false after reporting. */
bool ckptdir_list(struct arena *a, struct diag_sink *diag, const char *dir, struct ckptdir *d);

/* Whether the listing holds a file of that name. */
bool ckptdir_has(const struct ckptdir *d, const char *name);

/*
 * Read the JSON object in path (at most CKPTDIR_MAX_JSON_BYTES); NULL after reporting. The
 * caller json_decref()s it.
 */
json_t *ckptdir_json(struct arena *a, struct diag_sink *diag, const char *path);

/*
 * Read every shard's header into d's tensor table, checked against the index (every shard it
 * names exists, every tensor is where it says, none is in two shards). false after reporting.
 */
bool ckptdir_read_shards(struct arena *a, struct diag_sink *diag, struct ckptdir *d);

/* The tensor of that name, or NULL. */
const struct ckptdir_tensor *ckptdir_tensor(const struct ckptdir *d, const char *name);

/*
 * The sha256 of each of the n files (relative to dir), through the digest module. 0, or -1
 * with err naming the file.
 */
int ckptdir_hash(const char *dir, struct ckptdir_file *files, size_t n, char *err, size_t errlen);

#endif
