#ifndef MODELC_EMIT_COMMON_H
#define MODELC_EMIT_COMMON_H

/*
 * Small helpers the emitters share: number formatting that every output prints the same way,
 * text sanitising for comments, and facts derived from the plan (the primary role, the KV
 * cache a role needs at its configured context). Pure functions; nothing touches files.
 */

#include <stdint.h>
#include <stdio.h>

#include "plan.h"

enum { EMIT_NUM_MAX = 48, EMIT_NAME_MAX = 128 };

/* A formatted number; returned by value so it can be used inside one printf call. */
struct emit_num {
	char s[EMIT_NUM_MAX];
};

/* A short name, sanitised and truncated to fit. */
struct emit_name {
	char s[EMIT_NAME_MAX];
};

/* bytes in GiB (2^30) with two decimals: "7.45 GiB". */
struct emit_num emit_gib(uint64_t bytes);

/* bytes with a unit chosen by size: "512 B", "128.0 KiB", "63.5 MiB", "7.45 GiB". */
struct emit_num emit_size(uint64_t bytes);

/* A utilization as vLLM is given it: rounded down to 4 decimals, no trailing zeros ("0.9"). */
struct emit_num emit_util(double u);

/* "v0" or "v1". */
const char *emit_engine_name(enum budget_engine e);

/* "exact", "formula", "calibrated" or "uncalibrated". */
const char *emit_source_name(enum budget_source s);

/*
 * Whether budget.c computed this role's budget: false when the facts it needs (the
 * architecture) are missing, and the plan let the role through as unverified.
 */
int emit_budget_known(const struct plan_role *r);

/* The utilization the role is launched with: the fitted one, else what the catalog asks. */
double emit_role_utilization(const struct plan *p, const struct plan_role *r);

/* "unverified", "fits" or "does not fit". */
const char *emit_verdict(const struct plan_role *r);

/* The role named "primary", else the first role; NULL when there are none. */
const struct plan_role *emit_primary(const struct plan *p);

/* KV cache one sequence of the role's configured max_model_len needs (saturating). */
uint64_t emit_kv_at_len(const struct plan_role *r);

/* KV cache bytes left for sequences after our safety margin (saturating at 0). */
uint64_t emit_kv_after_margin(const struct plan_role *r);

/*
 * Whether the budget's KV cache is what remains after subtracting CUDA graph memory too
 * (budget.c decides; the reports word the arithmetic to match whichever it does).
 */
int emit_graphs_inside_budget(const struct plan_role *r);

/*
 * Write s as text that stays on one line and is valid UTF-8: control characters and the
 * Unicode line separators (U+0085, U+2028, U+2029) become spaces, invalid bytes become '?'.
 */
void emit_line_text(FILE *out, const char *s);

/*
 * The catalog's file name for "generated from NAME" lines: its last path component with
 * anything outside [A-Za-z0-9._+-] replaced by '_', so it is safe in every comment syntax.
 */
struct emit_name emit_catalog_name(const struct plan *p);

/* HF_HUB_CACHE as resolved: the catalog's hub_cache, else hf_home/hub; malloc'ed, NULL if neither. */
char *emit_hub_cache(const struct catalog *c);

/* Sort an array of plan_file pointers by path (byte order); for deterministic listings. */
void emit_sort_files(const struct plan_file **files, size_t n);

#endif
