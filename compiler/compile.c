/*
 * Load -> lock -> plan, shared by build and explain so both see the same facts and rules.
 * A broken catalog still gets its lock read, so one run reports every problem it can.
 */
#include "compile.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

void
compile_args_init(struct compile_args *args)
{
	memset(args, 0, sizeof *args);
	args->catalog = "models.yaml";
}

static const char *
lock_next_to(struct arena *a, const char *catalog)
{
	const char *slash = strrchr(catalog, '/');
	if (!slash)
		return "models.lock";
	return arena_printf(a, "%.*s/models.lock", (int)(slash - catalog), catalog);
}

int
compile_run(struct compile_run *run, const struct compile_args *args, FILE *err)
{
	memset(run, 0, sizeof *run);
	diag_init(&run->diag, err, "modelc");
	int frc = frontend_load(&run->arena, &run->diag, args->catalog, args->schema_dir, &run->catalog);
	if (frc == FRONTEND_SYSTEM)
		return 3;
	run->lock_path = args->lock ? args->lock : lock_next_to(&run->arena, args->catalog);
	/* The lock's schema lives beside the catalog's. */
	const char *schema_dir = args->schema_dir ? args->schema_dir
	    : frontend_schema_dir(&run->arena, args->catalog);
	int lrc = lock_read(&run->arena, &run->diag, run->lock_path, schema_dir, &run->lock);
	if (lrc < 0 && errno != ENOENT)
		return 3;
	run->lock.path = run->lock_path;
	if (frc != 0)
		return 1;

	struct diag_sink quiet;
	struct diag_sink *pd = &run->diag;
	if (args->plan_diag) {
		diag_init(&quiet, args->plan_diag, "modelc");
		pd = &quiet;
	}
	plan_build(&run->arena, pd, &run->catalog, &run->lock, &run->plan);
	run->have_plan = true;
	return run->diag.errors ? 1 : 0;
}

void
compile_print_json(const struct compile_run *run, FILE *out, bool written)
{
	json_t *o = json_object();
	json_object_set_new(o, "catalog", json_string(run->catalog.path ? run->catalog.path : ""));
	json_object_set_new(o, "lock", json_string(run->lock_path ? run->lock_path : ""));
	json_object_set_new(o, "errors", json_integer(run->diag.errors));
	json_object_set_new(o, "warnings", json_integer(run->diag.warnings));
	json_object_set_new(o, "written", json_boolean(written));
	json_t *roles = json_array();
	for (size_t i = 0; run->have_plan && i < run->plan.nroles; i++) {
		const struct plan_role *pr = &run->plan.roles[i];
		const struct budget_result *r = &pr->result;
		json_t *j = json_object();
		json_object_set_new(j, "name", json_string(pr->role->name));
		json_object_set_new(j, "model_id", pr->model_id ? json_string(pr->model_id) : json_null());
		json_object_set_new(j, "lock_key", pr->lock_key ? json_string(pr->lock_key) : json_null());
		json_object_set_new(j, "max_model_len", json_integer(pr->max_model_len));
		json_object_set_new(j, "max_model_len_fit", json_integer(r->max_model_len_fit));
		json_object_set_new(j, "fits", json_boolean(r->fits));
		json_object_set_new(j, "verified", json_boolean(pr->verified));
		json_t *u = json_array();
		for (size_t k = 0; k < pr->nunverified; k++)
			json_array_append_new(u, json_string(pr->unverified[k]));
		json_object_set_new(j, "unverified", u);
		json_object_set_new(j, "weights_bytes", json_integer((json_int_t)r->weights_bytes));
		json_object_set_new(j, "kv_bytes_per_token", json_integer((json_int_t)r->kv_bytes_per_token));
		json_object_set_new(j, "kv_tokens", json_integer((json_int_t)r->kv_tokens));
		json_object_set_new(j, "budget_bytes", json_integer((json_int_t)r->budget_bytes));
		json_object_set_new(j, "utilization", json_real(r->utilization));
		json_object_set_new(j, "download_bytes", json_integer((json_int_t)pr->download_bytes));
		json_array_append_new(roles, j);
	}
	json_object_set_new(o, "roles", roles);
	json_object_set_new(o, "download_bytes",
	    json_integer(run->have_plan ? (json_int_t)run->plan.download_bytes : 0));
	json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	fputc('\n', out);
	json_decref(o);
}

void
compile_done(struct compile_run *run)
{
	arena_free(&run->arena);
}
