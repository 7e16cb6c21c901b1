#ifndef MODELC_PLANPARAMS_H
#define MODELC_PLANPARAMS_H

/*
 * A role's budget inputs from the catalog: the one place that says which of a role's settings
 * override the catalog's, and what max_model_len: auto asks for. modelc build, explain and
 * quantize fit with these; switch re-fits with what build put in the runtime table.
 */

#include <stdbool.h>
#include <stdint.h>

#include "budget.h"
#include "catalog.h"
#include "diag.h"

/* auto with no max_position_embeddings known: as large as memory allows. */
enum { PLANPARAMS_UNCAPPED = UINT32_MAX / 2 };

/* The role's gpu_memory_utilization, else the catalog's gpu.utilization (before any lowering). */
double planparams_utilization(const struct catalog *c, const struct catalog_role *r);

/*
 * The budget inputs of role r into *p: the catalog's GPU (total and memory in use), engine,
 * enforce_eager and safety margin, one GPU, with the role's utilization, max_num_seqs and
 * max_num_batched_tokens over the catalog's and its kv_cache_dtype's bytes. max_model_len,
 * weights_bytes and weights_source are the caller's (0); budget_defaults is not applied. false,
 * after an error on diag at the value, when kv_cache_dtype is not a name budget_kv_dtype_bytes
 * knows (the schema's enum is that list; a catalog built in code may still hold another).
 */
bool planparams_role(const struct catalog *c, const struct catalog_role *r, struct budget_params *p,
    struct diag_sink *diag);

/*
 * The context to fit first: the configured max_model_len, or for auto the model's
 * max_position_embeddings (PLANPARAMS_UNCAPPED when unknown); budget_fit_context with min_len
 * 1 then lowers auto to the largest that fits.
 */
uint32_t planparams_len(const struct catalog_role *r, const struct budget_arch *a);

/* The min_len for budget_fit_context: 1 for auto (lower to what fits), else none (the caller reports). */
uint32_t planparams_min_len(const struct catalog_role *r);

/*
 * The largest context memory allows with p (its max_model_len ignored), past the model's own
 * max_position_embeddings: with auto, which of the two bounds decides. 0 when none fits.
 */
uint32_t planparams_memory_len(const struct budget_arch *a, const struct budget_params *p);

#endif
