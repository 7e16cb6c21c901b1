#ifndef MODELC_LEVERS_H
#define MODELC_LEVERS_H

/*
 * The levers of a role's context: what each catalog change buys on its own (the largest
 * max_model_len that then fits), and the smallest set of them that reaches a wanted context.
 * Every number comes from the same fit as the build's (planparams_role, budget_fit_context).
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "catalog.h"
#include "plan.h"

enum lever_kind {
	LEVER_KV_FP8,                   /* kv_cache_dtype: fp8 */
	LEVER_FEWER_SEQS,               /* max_num_seqs halved */
	LEVER_EAGER,                    /* enforce_eager: true (no CUDA graphs) */
	LEVER_BATCHED,                  /* max_num_batched_tokens 512 */
	LEVER_QUANT4,                   /* a 4-bit AWQ checkpoint of the model */
	LEVER_FREE_GPU,                 /* the memory in use freed (desktop, other processes) */
	LEVER_COUNT
};

struct lever {
	enum lever_kind kind;
	bool applies;                   /* false: already so, or nothing to change */
	const char *change;             /* "kv_cache_dtype: fp8", for people */
	const char *key;                /* "kv_cache_dtype", for --json */
	const char *value;              /* "fp8" */
	const char *why_not;            /* when !applies: why */
	uint32_t fit;                   /* the largest context that fits with this lever alone */
};

struct levers {
	uint32_t now;                   /* the largest context that fits as configured */
	uint32_t want;                  /* the context asked (--want or the configured length); 0 none */
	uint32_t cap;                   /* the model's max_position_embeddings, 0 unknown */
	struct lever one[LEVER_COUNT];
	bool reachable;                 /* some set of levers reaches want */
	unsigned set;                   /* that smallest set: bit (1 << kind) */
	uint32_t set_fit;               /* the context it fits */
	uint32_t all_fit;               /* the context every lever together fits */
};

/*
 * The levers of pr (a role of plan built from catalog c) towards want tokens (0: the role's
 * configured max_model_len; for auto none, only what each lever buys). false when the
 * role has no budget (architecture or weights unknown).
 */
bool levers_compute(struct arena *a, const struct catalog *c, const struct plan_role *pr, uint32_t want,
    struct levers *out);

/* The levers for people: one line each, then the set that reaches want (explain's text). */
void levers_print(FILE *out, const struct levers *l);

/* The same as a JSON object: now, want, levers[] and reach (null when no set reaches want). */
json_t *levers_json(const struct levers *l);

#endif
