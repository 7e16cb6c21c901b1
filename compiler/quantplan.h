#ifndef MODELC_QUANTPLAN_H
#define MODELC_QUANTPLAN_H

/*
 * The plan for quantizing one role to 4 (or 8) bits with llm-compressor, before anything is
 * run: what the result will weigh and what context it will then fit, and what the
 * quantization itself needs in disk, host memory and GPU memory. Pure arithmetic over the
 * architecture; the size comes from budget_weights_bytes, the fit from budget_fit.
 * docs/quantization.md explains every term.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "budget.h"

enum {
	QUANTPLAN_DEFAULT_BITS = 4,
	QUANTPLAN_DEFAULT_GROUP = 128,
	QUANTPLAN_DEFAULT_SAMPLES = 256,
	QUANTPLAN_DEFAULT_SEQ_LEN = 512,
	QUANTPLAN_MAX_SAMPLES = 65536,
	QUANTPLAN_MAX_SEQ_LEN = 1048576,
};

/* What the user asked for; zero fields take the defaults above. */
struct quantplan_opts {
	const char *method;             /* "awq" or "gptq" */
	uint32_t bits;
	uint32_t group_size;
	const char *dataset;            /* calibration set on the Hub; default ultrachat_200k */
	const char *dataset_split;
	uint32_t samples;               /* calibration samples */
	uint32_t seq_len;               /* tokens per sample */
};

/* The computed plan. Sizes in bytes. */
struct quantplan {
	struct quantplan_opts opts;     /* with defaults filled in */
	struct budget_quant quant;      /* the format handed to budget_weights_bytes */
	const char *scheme;             /* llm-compressor preset: "W4A16_ASYM", "W4A16", ... or NULL */
	/* the result, served */
	uint64_t source_bytes;          /* the 16-bit checkpoint: the lock's exact bytes, else the formula */
	bool source_exact;
	uint64_t predicted_bytes;       /* the quantized checkpoint, budget_weights_bytes */
	struct budget_params serve;     /* as fitted, weights_bytes = predicted_bytes */
	struct budget_result fit;
	/* the quantization job */
	uint64_t disk_bytes;            /* source + output, both on the GPU host at the end */
	uint64_t host_ram_bytes;        /* the 16-bit weights stay in CPU memory (sequential onloading) */
	uint64_t layer_bytes;           /* the largest decoder layer in 16 bits, onloaded at a time */
	uint64_t embed_bytes;           /* embed_tokens (or lm_head) in 16 bits, onloaded for its subgraph */
	uint64_t activation_bytes;      /* one calibration sample through one layer, or its logits */
	uint64_t method_bytes;          /* GPTQ Hessians / AWQ cached inputs on the GPU */
	uint64_t awq_cache_bytes;       /* AWQ's cached parent inputs for all samples (0 for GPTQ) */
	bool awq_offload;               /* AWQ's cache goes to CPU memory (offload_device="cpu") */
	uint64_t gpu_need_bytes;        /* peak: max(layer, embed) + activation + method */
	uint64_t gpu_free_bytes;        /* the catalog GPU's total minus what others use */
	bool gpu_ok;
};

/*
 * Check opts against the architecture (method, bits, group size that divides every linear
 * layer's input); NULL when valid, else a message for the user (static storage).
 */
const char *quantplan_check(const struct budget_arch *arch, const struct quantplan_opts *opts);

/*
 * Compute the plan for arch quantized as opts, served with serve (weights_bytes is replaced by
 * the prediction) on a GPU with gpu_free_bytes free. source_bytes is the exact size of the
 * 16-bit checkpoint or 0 when unknown. opts must have passed quantplan_check.
 */
void quantplan_compute(const struct budget_arch *arch, const struct quantplan_opts *opts,
    const struct budget_params *serve, uint64_t source_bytes, uint64_t gpu_free_bytes,
    struct quantplan *out);

/* budget_quant_named(method) at these bits and group size (also adopt's size check). */
struct budget_quant quantplan_quant(const char *method, uint32_t bits, uint32_t group_size);

/* What the quantization script needs to know besides the plan. */
struct quantplan_target {
	const char *role;
	const char *catalog_path;       /* for the "generated from" line */
	const char *repo;
	const char *revision;           /* a commit when the lock pinned one */
	const char *output_dir;         /* under the catalog's models_dir */
	const char *hf_home;            /* may be NULL */
};

/* Write the llm-compressor script for plan and t to out; -1 when out fails. */
int quantplan_write_script(FILE *out, const struct quantplan *plan, const struct quantplan_target *t);

/* The output directory name for repo quantized as plan: "<name>-<method>-w<bits>g<group>", lower case. */
char *quantplan_dir_name(const char *repo, const struct quantplan *plan, char *buf, size_t len);

#endif
