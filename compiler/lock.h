#ifndef MODELC_LOCK_H
#define MODELC_LOCK_H

/*
 * models.lock: the resolved, pinned facts of each model the catalog names (docs/formats.md).
 * JSON, sorted, deterministic. Every fact may be unknown; unknown is never guessed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "budget.h"
#include "diag.h"
#include "size.h"
#include "srcfile.h"
#include "yamldoc.h"

enum { LOCK_VERSION = 1, LOCK_MAX_BYTES = 64 * SIZE_MIB };

/* A fact that may be unknown: known is false when the source did not say. */
struct lock_u64 {
	bool known;
	uint64_t value;
};

struct lock_file {
	const char *path;               /* repo-relative, validated: no "..", no leading '/' */
	struct lock_u64 size;
	int lfs;                        /* 1 LFS, 0 git, -1 unknown */
	const char *sha256;             /* 64 hex, or NULL when unknown */
	const char *blob_id;            /* git blob sha1, 40 hex, or NULL */
};

struct lock_dtype_bytes {
	const char *dtype;              /* safetensors dtype: BF16, F16, I32, ... */
	uint64_t bytes;
};

struct lock_model {
	const char *key;                /* "owner/name@revision" or "local:/abs/dir" */
	const char *repo;               /* NULL for local */
	const char *revision;
	const char *commit;             /* 40 hex or NULL */
	const char *gated;              /* "false", "auto", "manual", or NULL when unknown */
	/* config.json, as recorded (verbatim or the known part of it) */
	bool has_config;
	const char *config_json;        /* the object as compact text with sorted keys, or NULL */
	const char *config_from;        /* key of another entry whose config is assumed (unverified), or NULL */
	const char *architecture;
	const char *model_type;
	struct budget_arch arch;        /* 0 fields are unknown */
	const char *torch_dtype;
	const char *quantization_config;/* the JSON object as compact text, or NULL */
	/* weights */
	struct lock_u64 weights_bytes;  /* exact tensor bytes (index total_size or headers) */
	const char *weights_source;     /* "safetensors-index", "safetensors-headers", NULL */
	struct lock_dtype_bytes *dtypes;
	size_t ndtypes;
	struct lock_file *files;
	size_t nfiles;
	bool files_complete;            /* the list is the whole repo at commit, not a partial record */
	const char **sources;           /* where the facts came from, for people */
	size_t nsources;
	const char **unknown;           /* facts recorded as unknown, named */
	size_t nunknown;
};

struct lock {
	const char *path;
	struct srcfile source;          /* what lock_read read of path; text NULL when it read nothing */
	struct lock_model *models;
	size_t nmodels;
};

/*
 * Read path and check it against schema_dir/models.lock.schema.json (schema_dir NULL: found as
 * frontend_schema_dir finds the catalog's), then by the rules no schema can say; report every
 * problem with its place. 0 on success; 1 when problems were reported (*out then holds what
 * could be read, for the catalog's checks of the same run, never for writing); -1 when path
 * or the schema could not be read (errno is ENOENT only when path does not exist).
 */
int lock_read(struct arena *a, struct diag_sink *diag, const char *path, const char *schema_dir,
    struct lock *out);

/*
 * Only the JSON and the schema of path (modelc check --schema-only --lock): *root is the tree
 * whenever the file is JSON. 0 valid, 1 problems reported, -1 a file could not be read.
 */
int lock_check_schema(struct arena *a, struct diag_sink *diag, const char *path, const char *schema_dir,
    const struct ynode **root);

/* The entry for key, or NULL. */
const struct lock_model *lock_find(const struct lock *l, const char *key);

/* Write l to path atomically (temp file, fsync, rename), sorted; 0 on success, -1 with errno. */
int lock_write(const struct lock *l, const char *path);

/* The lock that goes with a catalog: models.lock in the catalog's folder (memory from the arena). */
const char *lock_path_next_to(struct arena *a, const char *catalog);

#endif
