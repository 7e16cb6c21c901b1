#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "activefile.h"
#include "exitcode.h"
#include "gpu.h"
#include "launch.h"
#include "refit.h"
#include "size.h"
#include "swcmd.h"
#include "swfolder.h"
#include "swtable.h"

/*
 * The seed's troubleshooting table as checks. Each finding is one "problem:" line and one
 * "  do:" line with the action; passing checks print "ok:", checks that cannot run "skip:", and
 * what is worth knowing but needs no action "note:". Exit 1 when a problem was found, else 0.
 */

static const char doctor_usage[] = "switch doctor [--active-file FILE]";

static unsigned doctor_problems;

/* "problem: WHAT" and "  do: TODO". */
static void __attribute__((format(printf, 2, 3)))
problem(const char *todo, const char *fmt, ...)
{
	va_list ap;
	doctor_problems++;
	fputs("problem: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n  do: %s\n", todo);
}

/* statvfs of the nearest existing folder at or above path; returns that folder (static) or NULL. */
static const char *
volume_stats(const char *path, struct statvfs *vfs)
{
	static char buf[SWTABLE_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	for (;;) {
		if (statvfs(buf, vfs) == 0)
			return buf;
		char *slash = strrchr(buf, '/');
		if (!slash)
			return NULL;
		slash[slash == buf] = '\0';
	}
}

static void
note(const char *what)
{
	printf("note: %s\n", what);
}

/* The table: where it is, what it was built from, and whether models.yaml changed since. */
static void
check_table(void)
{
	static char what[10240];
	const struct model_table *t = swtable_table();
	char digest[2 * MODEL_TABLE_DIGEST_BYTES + 1];
	const char *stale = swtable_stale(), *gone = swtable_unchecked();

	model_table_digest_hex(t, digest);
	if (stale) {
		problem("run 'modelc build' (make config)", "'%s' (built %s) is older than '%s'", swtable_path(), t->built, stale);
		return;
	}
	snprintf(what, sizeof what, "table '%s' built %s from '%s' (sha256 %s)", swtable_path(), t->built,
	    t->catalog_path ? t->catalog_path : "a plan built in code", t->have_digest ? digest : "none");
	if (gone)
		printf("note: %s; not checked: no '%s' here\n", what, gone);
	else
		printf("ok: %s\n", what);
}

/* The active role into *e (the primary role when there is none); false when the table has neither. */
static bool
check_active(const char *path, struct model_entry *e)
{
	static struct activefile af;
	char todo[512];
	unsigned line;
	bool found = false;
	const char *primary = swtable_table()->primary_role;

	int rc = activefile_read(path, &af, &line);
	snprintf(todo, sizeof todo, "eval \"$(switch --set %s)\"", primary);
	if (rc == -1 && errno == ENOENT) {
		printf("note: no active model (no '%s'): serve uses '%s'; choose with eval \"$(switch --set ROLE)\"\n",
		    path, primary);
	} else if (rc == -1) {
		problem(todo, "cannot read '%s': %s", path, strerror(errno));
	} else if (rc == -2) {
		problem(todo, "'%s' line %u is not in switch's format", path, line);
	} else if (!(found = swtable_role(af.role, e))) {
		problem(todo, "'%s' names role '%s', which the catalog no longer has", path, af.role);
	} else {
		printf("ok: active model is '%s' (%s)\n", e->role, swtable_model_id(e));
	}
	if (!found && !swtable_role(primary, e))
		return false;
	const char *env = getenv("VLLM_MODEL_ID");
	static char dir[SWTABLE_PATH_MAX];
	struct model_entry o;
	if (env && strcmp(env, swtable_model_id(e)) != 0 && env[0] == '/' && !swtable_find(env, &o) &&
	    swfolder_check(env, dir) == SWFOLDER_MODEL) {
		printf("note: $VLLM_MODEL_ID is '%s', a model folder outside the catalog (switch --set PATH): serve serves "
		    "it unsized, vLLM decides its limits; to size it: modelc add %s --role NAME\n", dir, dir);
	} else if (env && strcmp(env, swtable_model_id(e)) != 0) {
		problem("eval \"$(switch env)\", then restart the server", "wrong model loaded: $VLLM_MODEL_ID is '%s' but '%s' is '%s'", env, e->role,
		    swtable_model_id(e));
	} else if (env) {
		printf("ok: $VLLM_MODEL_ID is that of '%s'\n", e->role);
	}
	return true;
}

/* The server command serve runs: on PATH here, or a problem. */
static void
check_server(void)
{
	const char *missing = launch_server_missing();
	if (missing)
		problem(LAUNCH_NOT_FOUND_DO, "the server command '%s' is not on PATH here; switch serve cannot start it",
		    missing);
	else
		printf("ok: the server command '%s' is on PATH\n", model_table_arg(swtable_table(), 0));
}

/* The files serving needs: the local directory when it exists, else the Hub cache that fetch fills. */
static void
check_files(const struct model_entry *e)
{
	struct swtable_files f;
	char todo[256];

	swtable_files(e, &f);
	const char *w = swtable_files_word(&f);
	bool local = f.dir && e->local_dir && strcmp(f.dir, e->local_dir) == 0;
	snprintf(todo, sizeof todo, local ? "restore them in '%s'" : "fetch %s", local ? f.dir : e->role);
	if (strcmp(w, "present") == 0) {
		printf("ok: files of '%s' are in '%s'\n", e->role, f.dir);
	} else if (strcmp(w, "unlisted") == 0) {
		printf("note: '%s' exists; the table lists no files to check\n", f.dir);
	} else if (!f.dir_exists && local) {
		problem(todo, "files of '%s' are missing: '%s' does not exist", e->role, f.dir);
	} else if (!f.dir_exists) {
		problem(todo, "files of '%s' are not downloaded: no '%s' in '%s'", e->role,
		    e->repo ? e->repo : e->model_id, swtable_hub_cache());
	} else {
		problem(todo, "%zu of %zu files of '%s' are missing or incomplete in '%s'",
		    f.total - f.present, f.total, e->role, f.dir);
	}
}

/* Processes on one GPU, one note; "" when none. */
static void
holders(const char *head, const struct nvsmi_state *st)
{
	static char what[10240];
	size_t len = (size_t)snprintf(what, sizeof what, "%s", head);
	for (size_t i = 0; i < st->napps && len < sizeof what; i++)
		len += (size_t)snprintf(what + len, sizeof what - len, st->apps[i].used_mib >= 0 ? "%s pid %ld (%s) %lld MiB" :
		    "%s pid %ld (%s)", i ? "," : "", st->apps[i].pid, st->apps[i].name, (long long)st->apps[i].used_mib);
	if (st->napps)
		note(what);
}

/*
 * Each placed GPU's memory and processes, and for tensor parallel the links between them in
 * `nvidia-smi topo -m`: over PCIe (PIX, PXB, PHB, NODE, SYS) NCCL needs peer-to-peer off.
 */
static void
check_placed(const struct model_entry *e, const struct model_placement *pl, const struct nvsmi_state *st)
{
	static struct nvsmi_state apps;
	char msg[GPU_MSG_MAX], head[96], link[GPU_LINK_MAX], todo[256];
	struct model_rank r, q;
	for (uint32_t k = 0; k < pl->nranks; k++) {
		model_table_rank(swtable_table(), pl, k, &r);
		for (size_t i = 0; i < st->ngpus; i++)
			if (st->gpus[i].index == (int)r.gpu)
				printf("ok: GPU %d (rank %u of '%s'): %lld MiB of %lld MiB in use\n", st->gpus[i].index,
				    (unsigned)k, e->role, (long long)st->gpus[i].used_mib,
				    (long long)(st->gpus[i].used_mib + st->gpus[i].free_mib));
		snprintf(head, sizeof head, "GPU %u holds:", (unsigned)r.gpu);
		if (gpu_query_apps((int)r.gpu, &apps, msg) == GPU_OK)
			holders(head, &apps);
	}
	if (pl->tp < 2)
		return;
	/* After the process queries: they reuse the buffer topo points into. */
	const char *topo = gpu_topo(msg);
	if (!topo)
		printf("skip: nvidia-smi topo -m failed (%s); the links between the GPUs of '%s' are not checked\n", msg,
		    e->role);
	for (uint32_t k = 1; topo && k < pl->nranks; k++) {
		model_table_rank(swtable_table(), pl, k - 1, &q);
		model_table_rank(swtable_table(), pl, k, &r);
		if (!gpu_topo_link(topo, (int)q.gpu, (int)r.gpu, link))
			continue;
		bool nv = link[0] == 'N' && link[1] == 'V';
		const char *p2p = getenv("NCCL_P2P_DISABLE");
		snprintf(todo, sizeof todo, "set interconnect: %s on host '%s' and run modelc build", nv ? "nvlink" :
		    "pcie", pl->host);
		if (nv == pl->p2p_disable)
			problem(todo, "GPUs %u and %u of '%s' are linked by %s (%s), but host '%s' says interconnect: %s, so "
			    "serve %s NCCL_P2P_DISABLE=1 %s --disable-custom-all-reduce (NCCL_P2P_DISABLE is %s%s%s here)",
			    (unsigned)q.gpu, (unsigned)r.gpu, e->role, link, nv ? "NVLink" : "PCIe, no NVLink", pl->host,
			    nv ? "pcie" : "nvlink", nv ? "sets" : "sets neither", nv ? "and" : "nor", p2p ? "'" : "",
			    p2p ? p2p : "unset", p2p ? "'" : "");
		else
			printf("ok: GPUs %u and %u of '%s' are linked by %s; serve %s\n", (unsigned)q.gpu,
			    (unsigned)r.gpu, e->role, link, nv ? "keeps peer-to-peer on" :
			    "sets NCCL_P2P_DISABLE=1 and --disable-custom-all-reduce");
		/* One pair tells: a host has one interconnect. */
		return;
	}
	if (topo)
		printf("skip: nvidia-smi topo -m does not show how the GPUs of '%s' are linked\n", e->role);
}

static void
check_gpu(const struct model_entry *e)
{
	static struct nvsmi_state st;
	static char what[10240];
	char msg[GPU_MSG_MAX], todo[512];
	struct refit plan;
	struct model_placement pl;

	switch (gpu_query(&st, msg)) {
	case GPU_ABSENT:
		printf("skip: nvidia-smi not found; GPU checks skipped\n");
		return;
	case GPU_FAILED:
		problem("check the NVIDIA driver (nvidia-smi must work before vLLM can)", "%s", msg);
		return;
	case GPU_OK:
		break;
	}
	bool placed = model_table_placement(swtable_table(), e->index, &pl);
	if (placed && pl.nodes > 1) {
		printf("skip: '%s' spans %u hosts; run switch doctor on each\n", e->role, (unsigned)pl.nodes);
		return;
	}
	if (placed) {
		check_placed(e, &pl, &st);
		refit_placed(e, &pl, &st, 0, &plan);
	} else {
		holders("processes holding GPU memory:", &st);
		refit_plan(e, gpu_pick(&st), 0, &plan);
	}
	int g = plan.gpu_index;
	double used = size_gib(plan.gpu_used_bytes), total = size_gib(plan.gpu_total_bytes);
	long long mib = (long long)(plan.gpu_used_bytes / SIZE_MIB);
	switch (plan.outcome) {
	case REFIT_UNCHECKED:
		printf("skip: '%s' has no computed budget (modelc lacked facts); free VRAM not checked (%.1f GiB of "
		    "%.1f GiB in use on GPU %d)\n", e->role, used, total, g);
		break;
	case REFIT_AS_PLANNED:
		printf("ok: '%s' fits GPU %d now with max_model_len %u (%.1f GiB of %.1f GiB in use)\n", e->role,
		    g, (unsigned)plan.max_model_len, used, total);
		break;
	case REFIT_LOWERED:
		/* Not a problem: serve lowers the limits itself; planning for the desktop avoids the surprise. */
		printf("note: '%s' fits GPU %d now only with max_model_len %u, utilization %.4g (%.1f of %.1f GiB in "
		    "use); serve lowers them itself, or set gpu.memory_in_use: %lld MiB and run modelc build\n", e->role,
		    g, (unsigned)plan.max_model_len, plan.utilization, used, total, mib);
		break;
	case REFIT_NO_GPU:
		snprintf(todo, sizeof todo, "run switch doctor on host '%s', or correct hosts: and run modelc build",
		    pl.host);
		problem(todo, "'%s' is placed on GPU %d (rank %u), which nvidia-smi does not list", e->role, plan.rank_gpu,
		    (unsigned)plan.rank);
		break;
	case REFIT_REFUSED: {
		snprintf(what, sizeof what, "'%s' does not fit GPU %d now (%.1f GiB of %.1f GiB in use)", e->role,
		    g, used, total);
		problem(refit_advice(e, placed ? NULL : gpu_pick(&st)), "%s", what);
		break;
	}
	}
}

/* The cached bytes against the disk budget; what the active role still has to download against the free space. */
static void
check_disk(const struct model_entry *active)
{
	struct statvfs vfs;
	uint64_t have = 0, need = 0, budget = swtable_table()->disk_budget_bytes;
	const char *cache = swtable_hub_cache();
	struct model_entry e;

	for (size_t i = 0; i < swtable_table()->count; i++) {
		struct swtable_files f;
		swtable_entry(i, &e);
		swtable_files(&e, &f);
		have += f.present_bytes;
		/* A local directory is the user's; only what fetch would write counts. */
		if (active && e.index == active->index && !(f.dir && f.dir == e.local_dir))
			need = f.total_bytes - f.present_bytes;
	}
	if (budget && have > budget) {
		problem("remove secondary or specialized models not in active use (fetch prune lists them)", "disk budget: cached models use %llu bytes, over the budget of %llu bytes",
		    (unsigned long long)have, (unsigned long long)budget);
		return;
	}
	struct stat st;
	const char *at = volume_stats(cache, &vfs);
	if (!at) {
		printf("skip: cannot read free space for '%s': %s\n", cache, strerror(errno));
		return;
	}
	if (stat(cache, &st) != 0)
		printf("note: '%s' does not exist yet (fetch creates it); measured '%s'\n", cache, at);
	double avail = size_gib((uint64_t)vfs.f_bavail * vfs.f_frsize);
	if ((uint64_t)vfs.f_bavail * vfs.f_frsize < need)
		problem("free space there, or move storage.hf_home and run modelc build", "'%s' needs %.1f GiB more in '%s', "
		    "%.1f GiB free", active->role, size_gib(need), cache, avail);
	else
		printf("ok: %.1f GiB free for '%s'\n", avail, cache);
}

int
swcmd_doctor(int argc, char **argv)
{
	const char *file = NULL;

	int rc = swcmd_parse_active(argc, argv, doctor_usage, &file, NULL);
	if (rc >= 0)
		return rc;
	doctor_problems = 0;
	struct model_entry e;
	check_table();
	check_server();
	bool have = check_active(activefile_path(file), &e);
	if (have) {
		check_files(&e);
		check_gpu(&e);
	}
	check_disk(have ? &e : NULL);
	printf("%u problem%s found\n", doctor_problems, doctor_problems == 1 ? "" : "s");
	return doctor_problems ? EXITCODE_REJECTED : EXITCODE_OK;
}
