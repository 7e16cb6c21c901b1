#ifndef MODELC_ADOPT_H
#define MODELC_ADOPT_H

/*
 * Adopting a quantized checkpoint directory as a role: check that it is what the plan said
 * (quantization_config, every quantized linear layer's tensors, total size, complete shards),
 * then describe it as a models.lock entry. `modelc adopt` (cmd_adopt.c) hashes its files
 * (ckptdir_hash), merges the entry into the lock (lockmerge) and adds `local: DIR` to the role
 * in models.yaml with yamledit, so the user's comments and layout survive.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "budget.h"
#include "ckptdir.h"
#include "diag.h"
#include "lock.h"
#include "tensorcheck.h"

/* What the directory must be. Zero or NULL fields are not checked. */
struct adopt_expect {
	const char *method;             /* "awq" or "gptq": what the plan asked for */
	uint32_t bits;
	uint32_t group_size;
	const struct budget_arch *arch; /* the role's locked architecture */
	const char *arch_source;        /* its name for messages: "meta-llama/X@main" */
	double tolerance;               /* allowed |actual - predicted| / predicted; 0: 0.05 */
};

struct adopt_result {
	enum tensorcheck_format format;
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
	struct ckptdir_file *files;     /* config.json, the index, shards: sorted by name */
	size_t nfiles;
	size_t quantized_linears;
};

/*
 * Check dir against want and fill out; each problem is reported to diag naming the file and
 * tensor. Returns 0 when no error was reported. Memory is the arena's.
 */
int adopt_check(struct arena *a, struct diag_sink *diag, const char *dir, const struct adopt_expect *want,
    struct adopt_result *out);

/* Fill m as the models.lock entry "local:DIR" for r; strings are the arena's. */
void adopt_lock_model(struct arena *a, const char *dir, const struct adopt_result *r, struct lock_model *m);

#endif
