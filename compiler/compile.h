#ifndef MODELC_COMPILE_H
#define MODELC_COMPILE_H

/*
 * The front half every compiling subcommand shares: find the schemas, load models.yaml,
 * read models.lock next to it, and build the plan, reporting everything to one sink.
 */

#include <stdbool.h>
#include <stdio.h>

#include "arena.h"
#include "catalog.h"
#include "diag.h"
#include "lock.h"
#include "plan.h"

struct compile_args {
	const char *catalog;            /* default "models.yaml" */
	bool catalog_set;
	const char *lock;               /* NULL: models.lock next to the catalog */
	const char *schema_dir;         /* NULL: frontend_schema_dir's search */
	FILE *plan_diag;                /* NULL: the run's sink; else where plan_build reports */
};

struct compile_run {
	struct arena arena;
	struct diag_sink diag;
	struct catalog catalog;
	struct lock lock;
	struct plan plan;
	bool have_plan;
	unsigned plan_errors;           /* the plan's errors, also when plan_diag took its messages */
	const char *lock_path;
};

/* Defaults for args. */
void compile_args_init(struct compile_args *args);

/*
 * Load, lock and plan, reporting to a sink on err. Returns the exit code so far: 0 when the
 * plan is ready, 1 when the input was rejected (errors counted in run->diag), 3 on a system
 * failure. Call compile_done afterwards in every case.
 */
int compile_run(struct compile_run *run, const struct compile_args *args, FILE *err);

/* One JSON object summing up the plan, for --json; written says whether outputs were replaced. */
void compile_print_json(const struct compile_run *run, FILE *out, bool written);

/* Free the run's memory. */
void compile_done(struct compile_run *run);

#endif
