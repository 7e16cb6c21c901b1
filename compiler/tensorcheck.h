#ifndef MODELC_TENSORCHECK_H
#define MODELC_TENSORCHECK_H

/*
 * The tensors a quantized checkpoint must hold: for every linear layer of the architecture
 * (llama, mistral, qwen2, qwen3, phi3, starcoder2), the packed weights, scales and zero points
 * of its format with the shapes and dtypes vLLM's kernels load, unless the config exempts the
 * layer. Each problem is reported naming the tensor and its shard; past
 * TENSORCHECK_MAX_ERRORS they are counted, not printed, so one bad setting stays readable.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "budget.h"
#include "ckptdir.h"
#include "diag.h"

enum { TENSORCHECK_MAX_ERRORS = 20 };

/* The checkpoint formats whose tensors are known. */
enum tensorcheck_format { TENSORCHECK_AWQ_GEMM, TENSORCHECK_GPTQ, TENSORCHECK_COMPRESSED };

/* What to check against: the format as config.json's quantization_config says. */
struct tensorcheck {
	enum tensorcheck_format format;
	const char *format_name;        /* for messages: "AWQ GEMM" */
	uint32_t bits;
	uint32_t group_size;            /* 0: one group per input row */
	bool symmetric;                 /* compressed-tensors: no zero points */
	json_t *ignore;                 /* modules_to_not_convert / ignore (may be NULL), borrowed */
	const char *model_type;         /* config.json's; picks the layout of linear layers */
	const struct budget_arch *arch;
};

/*
 * Check every linear layer's tensors in d against c, reporting to diag. Returns how many
 * layers are quantized; diag->errors says whether any problem was found.
 */
size_t tensorcheck_run(struct arena *a, struct diag_sink *diag, const struct ckptdir *d, const struct tensorcheck *c);

#endif
