#ifndef MODELC_ADOPT_H
#define MODELC_ADOPT_H

/*
 * Adopting a quantized checkpoint directory as a role: check that it is what the plan said
 * (quantization_config, every quantized linear layer's tensors, total size, complete shards),
 * then describe it as a models.lock entry and add `local: DIR` to the role in models.yaml
 * by editing the text in place, so the user's comments and layout survive.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "budget.h"
#include "diag.h"
#include "lock.h"
#include "yamldoc.h"

enum { ADOPT_MAX_CONFIG_BYTES = 4 * 1024 * 1024 };

/* What the directory must be. Zero or NULL fields are not checked. */
struct adopt_expect {
	const char *method;             /* "awq" or "gptq": what the plan asked for */
	uint32_t bits;
	uint32_t group_size;
	const struct budget_arch *arch; /* the role's locked architecture */
	const char *arch_source;        /* its name for messages: "meta-llama/X@main" */
	double tolerance;               /* allowed |actual - predicted| / predicted; 0: 0.05 */
};

enum adopt_format { ADOPT_AWQ_GEMM, ADOPT_GPTQ, ADOPT_COMPRESSED };

struct adopt_file {
	const char *name;               /* relative to the directory */
	uint64_t size;
	char sha256[65];                /* lower-case hex, "" when not hashed */
};

struct adopt_result {
	enum adopt_format format;
	const char *format_name;        /* "AWQ GEMM", "GPTQ", "compressed-tensors pack-quantized" */
	const char *method;             /* "awq" or "gptq" (the quantization name for the budget) */
	uint32_t bits;
	uint32_t group_size;
	bool zero_point;
	const char *architecture;
	const char *model_type;
	const char *torch_dtype;
	const char *quantization_config;/* compact JSON with sorted keys */
	const char *config_json;        /* all of config.json, compact with sorted keys (the lock's "config") */
	struct budget_arch arch;
	uint64_t tensor_bytes;          /* sum of all tensors' data */
	uint64_t predicted_bytes;       /* budget_weights_bytes for arch and the detected format */
	struct lock_dtype_bytes *dtypes;
	size_t ndtypes;
	struct adopt_file *files;       /* config.json, the index, shards: sorted by name */
	size_t nfiles;
	size_t quantized_linears;
};

/*
 * Check dir against want and fill out; each problem is reported to diag naming the file and
 * tensor. Returns 0 when no error was reported. Memory is the arena's.
 */
int adopt_check(struct arena *a, struct diag_sink *diag, const char *dir, const struct adopt_expect *want,
    struct adopt_result *out);

/* Compute the sha256 of every file in r (dir is where they are); -1 with errno, r->files[i] naming it. */
int adopt_hash_files(const char *dir, struct adopt_result *r, size_t *failed);

/* Fill m as the models.lock entry "local:DIR" for r; strings are the arena's. */
void adopt_lock_model(struct arena *a, const char *dir, const struct adopt_result *r, struct lock_model *m);

/*
 * Return a copy of l with m added or replacing the entry of the same key; the models stay
 * sorted by key. Memory is the arena's.
 */
struct lock adopt_lock_merge(struct arena *a, const struct lock *l, const struct lock_model *m);

/*
 * Edit the YAML text so that the role whose mapping is role (a block mapping in text) has
 * `key: value` (value a string, quoted when YAML needs it): replace the existing value, or
 * insert a line after the role's `repo:` line (before its first key otherwise) at the keys'
 * indentation. Everything else is kept byte for byte, comments included. Returns the new
 * text (arena), or NULL with *why set when the layout is not one it can edit safely (a flow
 * mapping, a multi-line value).
 */
char *adopt_yaml_set(struct arena *a, const char *text, size_t len, const struct ynode *role, const char *key,
    const char *value, size_t *out_len, const char **why);

#endif
