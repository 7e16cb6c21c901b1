#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "activefile.h"
#include "exitcode.h"
#include "gpu.h"
#include "refit.h"
#include "size.h"
#include "swcmd.h"
#include "swtable.h"

/*
 * The seed's troubleshooting table as checks. Each finding is one "problem:" line and one
 * "  do:" line with the action; passing checks print "ok:", checks that cannot run "skip:".
 */

static const char doctor_usage[] = "switch doctor [--active-file FILE]";

static unsigned doctor_problems;

static void
problem(const char *what, const char *todo)
{
	doctor_problems++;
	printf("problem: %s\n  do: %s\n", what, todo);
}

/* The nearest existing folder at or above path, for statvfs. */
static int
volume_stats(const char *path, struct statvfs *vfs)
{
	char buf[SWTABLE_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (;;) {
		if (statvfs(buf, vfs) == 0)
			return 0;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return -1;
		if (slash == buf) {
			buf[1] = '\0';
			return statvfs(buf, vfs);
		}
		*slash = '\0';
	}
}

/* The table: where it is, what it was built from, and whether models.yaml changed since. */
static void
check_table(void)
{
	static char what[10240];
	const struct model_table *t = swtable_table();
	char digest[2 * MODEL_TABLE_DIGEST_BYTES + 1];
	const char *stale = swtable_stale();

	model_table_digest_hex(t, digest);
	if (stale) {
		snprintf(what, sizeof what, "'%s' (built %s) is older than '%s'", swtable_path(), t->built, stale);
		problem(what, "run 'modelc build' (make config)");
	} else {
		printf("ok: table '%s' built %s from '%s' (sha256 %s)\n", swtable_path(), t->built,
		    t->catalog_path ? t->catalog_path : "a plan built in code", t->have_digest ? digest : "none");
	}
}

/* The active role into *e (the primary role when there is none); false when the table has neither. */
static bool
check_active(const char *path, struct model_entry *e)
{
	static struct activefile af;
	static char what[10240];
	char todo[512];
	unsigned line;
	bool found = false;
	const char *primary = swtable_table()->primary_role;

	int rc = activefile_read(path, &af, &line);
	snprintf(todo, sizeof todo, "eval \"$(switch --set %s)\"", primary);
	if (rc == -1) {
		snprintf(what, sizeof what, "no active model: cannot read '%s': %s", path, strerror(errno));
		problem(what, todo);
	} else if (rc == -2) {
		snprintf(what, sizeof what, "'%s' line %u is not in switch's format", path, line);
		problem(what, todo);
	} else if (!(found = swtable_role(af.role, e))) {
		snprintf(what, sizeof what, "'%s' names role '%s', which the catalog no longer has", path, af.role);
		problem(what, todo);
	} else {
		printf("ok: active model is '%s' (%s)\n", e->role, swtable_model_id(e));
	}
	const char *env = getenv("VLLM_MODEL_ID");
	if (found && env && strcmp(env, swtable_model_id(e)) != 0) {
		snprintf(what, sizeof what, "wrong model loaded: $VLLM_MODEL_ID is '%s' but '%s' says '%s'", env, path,
		    swtable_model_id(e));
		snprintf(todo, sizeof todo, "eval \"$(switch --set %s)\" in this shell, then restart the server", e->role);
		problem(what, todo);
	} else if (found && env) {
		printf("ok: $VLLM_MODEL_ID matches '%s'\n", path);
	}
	return found || swtable_role(primary, e);
}

static void
check_files(const struct model_entry *e)
{
	struct swtable_files f;
	static char what[10240];
	char todo[256];

	swtable_files(e, &f);
	const char *w = swtable_files_word(&f);
	snprintf(todo, sizeof todo, "download them again (fetch %s) before serving", e->role);
	if (strcmp(w, "present") == 0 || strcmp(w, "unlisted") == 0) {
		printf("ok: files of '%s' are in '%s'\n", e->role, f.dir);
	} else if (!f.dir) {
		snprintf(what, sizeof what, "files of '%s' are missing: no snapshot of '%s' in '%s'", e->role,
		    e->repo ? e->repo : e->model_id, swtable_hub_cache());
		problem(what, todo);
	} else if (!f.dir_exists) {
		snprintf(what, sizeof what, "files of '%s' are missing: '%s' does not exist", e->role, f.dir);
		problem(what, todo);
	} else {
		snprintf(what, sizeof what, "%zu of %zu files of '%s' are missing or partial in '%s'",
		    f.total - f.present, f.total, e->role, f.dir);
		problem(what, todo);
	}
}

static void
check_gpu(const struct model_entry *e)
{
	static struct nvsmi_state st;
	static char what[10240];
	char msg[GPU_MSG_MAX], todo[512];
	struct refit plan;

	switch (gpu_query(&st, msg)) {
	case GPU_ABSENT:
		printf("skip: nvidia-smi not found; GPU checks skipped\n");
		return;
	case GPU_FAILED:
		problem(msg, "check the NVIDIA driver (nvidia-smi must work before vLLM can)");
		return;
	case GPU_OK:
		break;
	}
	if (st.napps == 0) {
		printf("ok: no other process holds GPU memory\n");
	} else {
		size_t len = (size_t)snprintf(what, sizeof what, "other GPU processes hold memory:");
		for (size_t i = 0; i < st.napps && len < sizeof what; i++) {
			if (st.apps[i].used_mib >= 0)
				len += (size_t)snprintf(what + len, sizeof what - len, "%s pid %ld (%s) %lld MiB", i ? "," : "",
				    st.apps[i].pid, st.apps[i].name, (long long)st.apps[i].used_mib);
			else
				len += (size_t)snprintf(what + len, sizeof what - len, "%s pid %ld (%s)", i ? "," : "",
				    st.apps[i].pid, st.apps[i].name);
		}
		problem(what, "stop them before serving: they cause OOM during the first request");
	}
	const struct nvsmi_gpu *g = gpu_pick(&st);
	refit_plan(e, g, 0, &plan);
	double used = size_gib(plan.gpu_used_bytes), total = size_gib(plan.gpu_total_bytes);
	switch (plan.outcome) {
	case REFIT_UNCHECKED:
		printf("skip: '%s' has no computed budget (modelc lacked facts); free VRAM not checked (%.1f GiB of "
		    "%.1f GiB in use on GPU %d)\n", e->role, used, total, g->index);
		break;
	case REFIT_AS_PLANNED:
		printf("ok: '%s' fits GPU %d now with max_model_len %u (%.1f GiB of %.1f GiB in use)\n", e->role,
		    g->index, (unsigned)plan.max_model_len, used, total);
		break;
	case REFIT_LOWERED:
		snprintf(what, sizeof what, "free VRAM: '%s' fits GPU %d now only with max_model_len %u and "
		    "gpu_memory_utilization %.4g (%.1f GiB of %.1f GiB in use)", e->role, g->index,
		    (unsigned)plan.max_model_len, plan.utilization, used, total);
		problem(what, "free the GPU for the full context; switch serve lowers the limits by itself otherwise");
		break;
	case REFIT_REFUSED:
		snprintf(what, sizeof what, "free VRAM: '%s' does not fit GPU %d now (%.1f GiB of %.1f GiB in use)",
		    e->role, g->index, used, total);
		snprintf(todo, sizeof todo, "stop the processes holding GPU memory, or choose a smaller model "
		    "(switch --set %s)", e->role);
		problem(what, todo);
		break;
	}
}

static void
check_disk(void)
{
	static char what[10240];
	struct statvfs vfs;
	uint64_t have = 0, budget = swtable_table()->disk_budget_bytes;
	const char *cache = swtable_hub_cache();
	struct model_entry e;

	for (size_t i = 0; i < swtable_table()->count; i++) {
		struct swtable_files f;
		swtable_entry(i, &e);
		swtable_files(&e, &f);
		have += f.present_bytes;
	}
	if (budget && have > budget) {
		snprintf(what, sizeof what, "disk budget: cached models use %llu bytes, over the budget of %llu bytes",
		    (unsigned long long)have, (unsigned long long)budget);
		problem(what, "remove secondary or specialized models not in active use (fetch prune lists them)");
		return;
	}
	if (volume_stats(cache, &vfs) != 0) {
		printf("skip: cannot read free space for '%s': %s\n", cache, strerror(errno));
		return;
	}
	uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (!budget) {
		printf("ok: %.1f GiB free on the volume of '%s'; the catalog sets no disk budget\n", size_gib(avail),
		    cache);
		return;
	}
	uint64_t rest = budget - have;
	if (avail < rest) {
		snprintf(what, sizeof what, "disk pressure: %.1f GiB free on the volume of '%s', but the disk budget "
		    "leaves %.1f GiB to download", size_gib(avail), cache, size_gib(rest));
		problem(what, "remove secondary or specialized models not in active use (fetch prune lists them), "
		    "or lower the disk budget");
	} else {
		printf("ok: %.1f GiB free on the volume of '%s' covers the rest of the disk budget (%.1f GiB)\n",
		    size_gib(avail), cache, size_gib(rest));
	}
}

int
swcmd_doctor(int argc, char **argv)
{
	const char *file = NULL;

	int rc = swcmd_active_file_only(argc, argv, doctor_usage, &file);
	if (rc >= 0)
		return rc;
	doctor_problems = 0;
	struct model_entry e;
	check_table();
	if (check_active(activefile_path(file), &e)) {
		check_files(&e);
		check_gpu(&e);
	}
	check_disk();
	printf("%u problem%s found\n", doctor_problems, doctor_problems == 1 ? "" : "s");
	return doctor_problems ? EXITCODE_REJECTED : EXITCODE_OK;
}
