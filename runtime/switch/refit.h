#ifndef MODELC_REFIT_H
#define MODELC_REFIT_H

/*
 * The launch plan for one role: the compiled limits, re-fitted with budget_fit_context (the
 * same code modelc uses, with the inputs modelc stored in the table) against the memory
 * nvidia-smi says is in use right now, when it could be read. A role modelc split over GPUs is
 * re-fitted on every placed GPU as planpar fitted it (refit_placed).
 */

#include <stdint.h>

#include "budget.h"
#include "model_table.h"
#include "nvsmi.h"

/* Contexts smaller than this are not worth starting a server for: refuse instead. */
enum { REFIT_MIN_CONTEXT = 256 };

enum refit_outcome {
	REFIT_UNCHECKED,   /* no GPU state, or no budget (modelc lacked facts): the compiled plan as it is */
	REFIT_AS_PLANNED,  /* fits the GPU as it is now with the compiled context and utilization (or more) */
	REFIT_LOWERED,     /* fits only with a smaller context or utilization than compiled */
	REFIT_REFUSED,     /* does not fit even at REFIT_MIN_CONTEXT */
	REFIT_NO_GPU       /* a placed GPU (gpu_index, of rank) is not in nvidia-smi's list */
};

struct refit {
	enum refit_outcome outcome;
	uint32_t max_model_len;          /* to pass to the server */
	double utilization;              /* to pass to the server */
	uint64_t gpu_total_bytes;        /* CUDA's total used for the fit */
	uint64_t gpu_used_bytes;         /* held by other processes */
	int gpu_index;                   /* -1 when unchecked; placed: the GPU whose start-up check sets the utilization */
	struct budget_result result;     /* placed: the rank with the fewest KV tokens, or the first that does not fit */
	uint32_t rank;                   /* placed: whose result that is (no GPU: the rank whose GPU is missing) */
	int rank_gpu;                    /* placed: that rank's GPU */
	uint64_t kv_cache_memory_bytes;  /* placed: --kv-cache-memory-bytes to pass; 0: none */
};

/* Plan e against gpu (NULL: no GPU state) with max_model_len (0: the entry's). */
void refit_plan(const struct model_entry *e, const struct nvsmi_gpu *gpu, uint32_t max_model_len,
    struct refit *out);

/*
 * Plan e, placed by modelc as pl (one host), against every placed GPU in st (NULL: no GPU
 * state): the start-up check on each GPU, the least free one setting the one utilization, then
 * every rank fitted with its stage's layers and weights, the context lowered to what the
 * tightest rank allows.
 */
void refit_placed(const struct model_entry *e, const struct model_placement *pl, const struct nvsmi_state *st,
    uint32_t max_model_len, struct refit *out);

/*
 * What to do when e does not fit gpu now (doctor's "do:" line, serve's note): serve the first other
 * role that fits it, else free memory. gpu NULL (placed roles): free memory.
 */
const char *refit_advice(const struct model_entry *e, const struct nvsmi_gpu *gpu);

#endif
