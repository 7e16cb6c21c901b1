/*
 * Load -> lock -> plan, shared by build and explain so both see the same facts and rules.
 * A broken catalog still gets its lock read, so one run reports every problem it can.
 */
#define _DEFAULT_SOURCE /* realpath */
#include "compile.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frontend.h"

void
compile_args_init(struct compile_args *args)
{
	memset(args, 0, sizeof *args);
	args->catalog = "models.yaml";
}

/* src as the runtime table records it: the absolute path (as given if it cannot be resolved). */
static void
origin_source(struct arena *a, const char *path, const struct srcfile *src, struct plan_source *out)
{
	char abs[PATH_MAX];
	memset(out, 0, sizeof *out);
	if (!src->text || !src->stat_known)
		return;
	out->path = arena_strdup(a, realpath(path, abs) ? abs : path);
	out->size = src->size;
	out->mtime_sec = src->mtime_sec;
	out->mtime_nsec = src->mtime_nsec;
}

/*
 * SOURCE_DATE_EPOCH when it is a number (reproducible builds), else the newest modification
 * time of the inputs (the same inputs give the same table, so that modelc sign, which renders
 * the build again, finds it unchanged), else the time now.
 */
static uint64_t
build_time(const struct srcfile *cat, const struct srcfile *lock)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	char *end;
	if (e && *e >= '0' && *e <= '9') {
		errno = 0;
		unsigned long long v = strtoull(e, &end, 10);
		if (!errno && !*end)
			return v;
	}
	int64_t newest = 0;
	if (cat->stat_known)
		newest = cat->mtime_sec;
	if (lock->stat_known && lock->mtime_sec > newest)
		newest = lock->mtime_sec;
	if (newest > 0)
		return (uint64_t)newest;
	time_t now = time(NULL);
	return now > 0 ? (uint64_t)now : 0;
}

/*
 * The plan's origin for the runtime table: the digest of the bytes read (models.yaml, then
 * models.lock when there was one), what the files were then, and the build time.
 */
static void
fill_origin(struct compile_run *run)
{
	struct plan_origin *o = &run->plan.origin;
	const struct srcfile *cat = &run->catalog.source, *lock = &run->lock.source;
	crypto_hash_sha256_state h;

	memset(o, 0, sizeof *o);
	o->build_time = build_time(cat, lock);
	if (!cat->text)
		return;
	crypto_hash_sha256_init(&h);
	crypto_hash_sha256_update(&h, (const unsigned char *)cat->text, cat->len);
	if (lock->text)
		crypto_hash_sha256_update(&h, (const unsigned char *)lock->text, lock->len);
	crypto_hash_sha256_final(&h, o->digest);
	origin_source(&run->arena, run->catalog.path, cat, &o->catalog);
	origin_source(&run->arena, run->lock_path, lock, &o->lock);
	o->known = o->catalog.path != NULL;
}

int
compile_run(struct compile_run *run, const struct compile_args *args, FILE *err)
{
	memset(run, 0, sizeof *run);
	diag_init(&run->diag, err, "modelc");
	int frc = frontend_load(&run->arena, &run->diag, args->catalog, args->schema_dir, &run->catalog);
	if (frc == EXITCODE_SYSTEM)
		return EXITCODE_SYSTEM;
	run->lock_path = args->lock ? args->lock : lock_path_next_to(&run->arena, args->catalog);
	/* The lock's schema lives beside the catalog's. */
	const char *schema_dir = args->schema_dir ? args->schema_dir
	    : frontend_schema_dir(&run->arena, args->catalog);
	int lrc = lock_read(&run->arena, &run->diag, run->lock_path, schema_dir, &run->lock);
	if (lrc < 0 && errno != ENOENT)
		return EXITCODE_SYSTEM;
	run->lock.path = run->lock_path;
	if (frc != 0)
		return EXITCODE_REJECTED;

	struct diag_sink quiet;
	struct diag_sink *pd = &run->diag;
	if (args->plan_diag) {
		diag_init(&quiet, args->plan_diag, "modelc");
		pd = &quiet;
	}
	plan_build(&run->arena, pd, &run->catalog, &run->lock, &run->plan);
	run->plan_errors = pd->errors;
	fill_origin(run);
	run->have_plan = true;
	return run->diag.errors ? EXITCODE_REJECTED : EXITCODE_OK;
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
