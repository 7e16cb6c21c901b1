#define _DEFAULT_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/syscall.h>
#endif

#include "activefile.h"
#include "diag.h"
#include "exitcode.h"
#include "gpu.h"
#include "health.h"
#include "launch.h"
#include "refit.h"
#include "size.h"
#include "swcmd.h"
#include "swfolder.h"
#include "swjson.h"
#include "swtable.h"

static const char serve_usage[] =
    "switch serve [ROLE|PATH|REPO] [--dry-run] [--warm] [--timeout SECONDS] [--host HOST] [--port PORT] "
    "[--active-file FILE]";

enum { SERVE_TIMEOUT_DEFAULT = 600, SERVE_PROBE_MS = 250, SERVE_BODY_MAX = 8192 };

static double
now_s(void)
{
	struct timespec ts;
#ifdef __linux__
	/* The system call itself: libc's clock_gettime brings a vDSO lookup of 700 bytes, a
	 * thirtieth of what switch may weigh, to save a microsecond once per probe. */
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Parse a decimal number in [lo, hi]; -1 when it is not one. */
static long
number(const char *s, long lo, long hi)
{
	long v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > hi)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v < lo || v > hi ? -1 : v;
}

bool
swcmd_pick_entry(const char *target, const char *file, bool need, struct model_entry *e, int *rc,
    const char **recorded)
{
	static struct activefile af;
	unsigned line;
	const struct model_table *t = swtable_table();

	*rc = EXITCODE_REJECTED;
	if (target) {
		if (swtable_find(target, e))
			return true;
		swtable_report_unknown(stderr, target);
		return false;
	}
	const char *path = activefile_path(file);
	int r = activefile_read(path, &af, &line);
	if (r == -1 && errno == ENOENT && need) {
		swcmd_error("no active model: '%s' does not exist; run: eval \"$(switch --set %s)\"\n", path,
		    t->primary_role);
		return false;
	}
	if (r == -1 && errno == ENOENT) {
		swcmd_note("no active model in '%s'; using the primary role '%s'\n", path, t->primary_role);
		return swtable_role(t->primary_role, e);
	}
	if (r == -1) {
		swcmd_error("%s: %s\n", path, strerror(errno));
		*rc = EXITCODE_SYSTEM;
		return false;
	}
	if (r == -2) {
		swcmd_error("%s:%u: not a file switch wrote (expected role=... and model_id=...)\n",
		    path, line);
		return false;
	}
	if (recorded)
		*recorded = af.model_id;
	if (swtable_role(af.role, e))
		return true;
	swcmd_error("%s: role '%s' is not in this build's catalog '%s'\n", path, af.role, t->catalog_path);
	return false;
}

/* Print each process holding GPU memory once, its memory summed over the lines that name it. */
static void
print_holders(FILE *out, const struct nvsmi_state *st)
{
	for (size_t i = 0; i < st->napps; i++) {
		int seen = 0;
		int64_t sum = 0;
		for (size_t j = 0; j < st->napps; j++) {
			if (st->apps[j].pid != st->apps[i].pid)
				continue;
			if (j < i)
				seen = 1;
			if (st->apps[j].used_mib > 0)
				sum += st->apps[j].used_mib;
		}
		if (seen)
			continue;
		if (st->apps[i].used_mib < 0)
			diag_print(out, "switch: note: pid %ld (%s) holds an unknown amount\n", st->apps[i].pid, st->apps[i].name);
		else
			diag_print(out, "switch: note: pid %ld (%s) holds %lld MiB\n", st->apps[i].pid, st->apps[i].name,
			    (long long)sum);
	}
}

/*
 * Re-fit e against the GPU as nvidia-smi sees it now: every GPU of its placement when modelc
 * split it over GPUs (pl), else the one gpu_pick names. Returns 0 with plan set (printing what
 * changed), or 1 after explaining why it does not fit.
 */
static int
plan_now(const struct model_entry *e, const struct model_placement *pl, uint32_t len, struct refit *plan)
{
	static struct nvsmi_state st;
	char msg[GPU_MSG_MAX];

	if (pl && pl->nodes > 1) {
		swcmd_error("'%s' spans %u hosts from '%s'; switch serve starts one host's server: run each node's "
		    "command of plan.txt (beside the table) on its host\n", e->role, (unsigned)pl->nodes, pl->host);
		return 1;
	}
	enum gpu_status s = gpu_query(&st, msg);
	if (s != GPU_OK)
		swcmd_warning("%s; using the compiled limits unchecked\n", s == GPU_ABSENT ? "nvidia-smi not found" : msg);
	if (pl)
		refit_placed(e, pl, s == GPU_OK ? &st : NULL, len, plan);
	else
		refit_plan(e, s == GPU_OK ? gpu_pick(&st) : NULL, len, plan);
	if (s != GPU_OK)
		return 0;
	int g = plan->gpu_index;
	double used = size_gib(plan->gpu_used_bytes), total = size_gib(plan->gpu_total_bytes);
	const struct budget_result *r = &plan->result;
	uint32_t want = len ? len : e->max_model_len;
	switch (plan->outcome) {
	case REFIT_UNCHECKED:
		swcmd_warning("'%s' has no computed budget (modelc lacked facts); not checked "
		    "against GPU %d (%.1f GiB of %.1f GiB in use)\n", e->role, g, used, total);
		return 0;
	case REFIT_AS_PLANNED:
		return 0;
	case REFIT_LOWERED:
		if (plan->max_model_len != want)
			swcmd_note("GPU %d has %.1f GiB of %.1f GiB in use; max_model_len lowered "
			    "from %u to %u, the largest that fits now\n", g, used, total, (unsigned)want,
			    (unsigned)plan->max_model_len);
		if (plan->utilization < e->gpu_memory_utilization)
			swcmd_note("GPU %d has %.1f GiB of %.1f GiB in use; gpu_memory_utilization "
			    "lowered from %.4g to %.4g\n", g, used, total, e->gpu_memory_utilization,
			    plan->utilization);
		return 0;
	case REFIT_NO_GPU:
		swcmd_error("'%s' is placed on GPU %d of host '%s' (rank %u), which nvidia-smi does not list; run it "
		    "there, or correct hosts: in the catalog and run modelc build\n", e->role, plan->rank_gpu, pl->host,
		    (unsigned)plan->rank);
		return 1;
	case REFIT_REFUSED:
		break;
	}
	if (pl)
		swcmd_error("'%s' does not fit now: rank %u (GPU %d) needs %.2f GiB before its KV cache, its budget is "
		    "%.2f GiB at gpu_memory_utilization %.4g, what GPU %d allows with %.1f GiB of %.1f GiB in use\n", e->role,
		    (unsigned)plan->rank, plan->rank_gpu,
		    size_gib(r->weights_bytes + r->activation_bytes + r->non_torch_bytes + r->safety_margin_bytes),
		    size_gib(r->budget_bytes), r->utilization, g, used, total);
	else
		swcmd_error("'%s' does not fit GPU %d now: %.1f GiB of %.1f GiB are in use, "
		    "and not even max_model_len %d would fit\n", e->role, g, used, total, REFIT_MIN_CONTEXT);
	print_holders(stderr, &st);
	if (st.napps == 0)
		swcmd_note("nvidia-smi lists no process holding it\n");
	swcmd_note("do: %s\n", refit_advice(e, pl ? NULL : gpu_pick(&st)));
	return 1;
}

/* Copy the server's stderr through, one line at a time, noting out-of-memory messages. */
struct relay {
	int fd;
	char line[LAUNCH_LINE_MAX];
	size_t len;
	int oom;
};

static void
relay_flush(struct relay *r)
{
	if (r->len == 0)
		return;
	r->line[r->len] = '\0';
	if (launch_is_oom(r->line))
		r->oom = 1;
	fputs(r->line, stderr);
	r->len = 0;
}

/* Read what is there; returns 0 at end of file. */
static int
relay_read(struct relay *r)
{
	char buf[4096];
	ssize_t n = read(r->fd, buf, sizeof buf);
	if (n < 0 && errno == EINTR)
		return 1;
	if (n <= 0) {
		relay_flush(r);
		return 0;
	}
	for (ssize_t i = 0; i < n; i++) {
		r->line[r->len++] = buf[i];
		if (buf[i] == '\n' || r->len == sizeof r->line - 1)
			relay_flush(r);
	}
	fflush(stderr);
	return 1;
}

static void
warm_up(const struct model_entry *e, const char *host, unsigned port, double t0, double t_health)
{
	static char resp[HEALTH_RESPONSE_MAX];
	char model[SERVE_BODY_MAX / 2], body[SERVE_BODY_MAX];

	if (swjson_escape(model, sizeof model, swtable_model_id(e)) != 0)
		return;
	snprintf(body, sizeof body, "{\"model\": %s, \"prompt\": \"Hello\", \"max_tokens\": 1}", model);
	int st = health_request(host, port, "POST", "/v1/completions", body, 600000, resp, sizeof resp);
	double t_done = now_s();
	if (st != 200) {
		if (st < 0)
			swcmd_warning("the warm-up completion got no answer: %s\n", strerror(errno));
		else
			swcmd_warning("the warm-up completion failed with HTTP status %d\n", st);
	}
	diag_print(stderr, "switch: '%s' is ready: cold start %.2f s (GET /health answered after %.2f s, "
	    "first completion %.2f s)\n", e->role, t_done - t0, t_health - t0, t_done - t_health);
}

/* Stop a server that never became ready, politely first. */
static void
stop(pid_t pid)
{
	int status;
	kill(pid, SIGTERM);
	for (int i = 0; i < 100; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
}

/* A placed role's GPUs are its plan's, whatever the shell's CUDA_VISIBLE_DEVICES says. */
static void
note_visible(const struct model_entry *e, const struct launch_cmd *cmd)
{
	const char *vis = getenv("CUDA_VISIBLE_DEVICES");
	if (cmd->gpus && vis && strcmp(vis, cmd->gpus) != 0)
		swcmd_note("CUDA_VISIBLE_DEVICES is '%s' here; '%s' gets its plan's GPUs '%s'\n", vis, e->role, cmd->gpus);
}

/* Start, wait for /health, warm up, then stay until the server exits; one retry after an OOM. */
static int
serve_warm(const struct model_entry *e, struct refit *plan, const char *host, unsigned port, long timeout)
{
	static struct launch_cmd cmd;
	static struct relay r;

	for (int attempt = 0;; attempt++) {
		if (launch_build(e, plan, host, port, stderr, &cmd) != 0)
			return EXITCODE_SYSTEM;
		if (attempt == 0)
			note_visible(e, &cmd);
		double t0 = now_s(), last_probe = 0;
		int ready = 0, open = 1, status = 0;
		memset(&r, 0, sizeof r);
		pid_t pid = launch_start(&cmd, &r.fd);
		if (pid < 0) {
			swcmd_error("cannot start '%s': %s\n", cmd.argv[0], strerror(errno));
			return EXITCODE_SYSTEM;
		}
		launch_forward_signals(pid);
		for (;;) {
			if (open) {
				struct pollfd p = { r.fd, POLLIN, 0 };
				if (poll(&p, 1, ready ? 500 : 100) > 0)
					open = relay_read(&r);
			} else if (!ready) {
				usleep(100000);
			}
			pid_t w = waitpid(pid, &status, WNOHANG);
			if (w == pid) {
				/* Only what is already there: the server's own children may hold the pipe open. */
				struct pollfd p = { r.fd, POLLIN, 0 };
				while (open && poll(&p, 1, 0) > 0)
					open = relay_read(&r);
				relay_flush(&r);
				close(r.fd);
				launch_forward_signals(0);
				break;
			}
			if (!open && ready) {
				while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
					;
				close(r.fd);
				launch_forward_signals(0);
				break;
			}
			double t = now_s();
			if (!ready && t - last_probe >= SERVE_PROBE_MS / 1000.0) {
				static char resp[HEALTH_RESPONSE_MAX];
				last_probe = t;
				if (health_request(host, port, "GET", "/health", NULL, 1000, resp, sizeof resp) == 200) {
					ready = 1;
					warm_up(e, host, port, t0, now_s());
				}
			}
			if (!ready && now_s() - t0 > (double)timeout) {
				swcmd_error("the server did not answer GET /health within %ld s; stopping it\n",
				    timeout);
				stop(pid);
				close(r.fd);
				launch_forward_signals(0);
				return EXITCODE_SYSTEM;
			}
		}
		int code = launch_exit_code(status);
		if (ready || launch_signal_forwarded())
			return code;
		if (!r.oom) {
			swcmd_error("the server exited during start-up with status %d\n", code);
			return code ? code : EXITCODE_SYSTEM;
		}
		/* Half, down to whole KV blocks (vLLM allocates the cache in blocks of block_size tokens, 16
		 * on CUDA; the fit rounds the same way): a part block saves no memory, coarser steps lose context. */
		uint32_t block = e->params.block_size ? e->params.block_size : 16;
		uint32_t smaller = plan->max_model_len / 2 / block * block;
		if (attempt > 0 || smaller < REFIT_MIN_CONTEXT) {
			swcmd_error("the server ran out of memory during start-up with max_model_len %u; "
			    "lower max_model_len or gpu_memory_utilization in the catalog, or free the GPU\n",
			    (unsigned)plan->max_model_len);
			return code ? code : EXITCODE_SYSTEM;
		}
		swcmd_note("the server ran out of memory during start-up with max_model_len %u; "
		    "retrying once with max_model_len %u\n", (unsigned)plan->max_model_len, (unsigned)smaller);
		plan->max_model_len = smaller;
	}
}

/* Print cmd (dry), else run it and wait; warn when the server command is not on PATH. */
static int
run_server(const struct launch_cmd *cmd, int dry)
{
	const char *missing = launch_server_missing();
	if (dry && missing)
		swcmd_warning("'%s' is not on PATH here; %s\n", missing, LAUNCH_NOT_FOUND_DO);
	if (dry) {
		launch_print(stdout, cmd);
		return fflush(stdout) == 0 ? EXITCODE_OK : EXITCODE_SYSTEM;
	}
	pid_t pid = launch_start(cmd, NULL);
	if (pid < 0) {
		swcmd_error("cannot start '%s': %s\n", cmd->argv[0], strerror(errno));
		return EXITCODE_SYSTEM;
	}
	launch_forward_signals(pid);
	return launch_wait(pid);
}

/* A model folder outside the catalog, as it is: nothing was fitted, so nothing is passed but the folder. */
static int
serve_folder(const char *dir, bool from_env, int dry, int warm, const char *host, unsigned port)
{
	static struct launch_cmd cmd;
	if (warm) {
		swcmd_error("serve --warm: '%s' is not in the catalog, and the out-of-memory retry needs a fitted "
		    "context; serve it without --warm, or size it: modelc add %s --role NAME\n", dir, dir);
		return EXITCODE_REJECTED;
	}
	if (from_env)
		swcmd_note("serving $VLLM_MODEL_ID '%s' (set by switch --set PATH), not the active role\n", dir);
	swfolder_warn_unsized(dir);
	if (launch_folder(dir, host, port, stderr, &cmd) != 0)
		return EXITCODE_SYSTEM;
	return run_server(&cmd, dry);
}

int
swcmd_serve(int argc, char **argv)
{
	static struct launch_cmd cmd;
	const char *file = NULL, *target = NULL, *host = swtable_table()->host, *v;
	unsigned port = swtable_table()->port;
	long timeout = SERVE_TIMEOUT_DEFAULT;
	int dry = 0, warm = 0, rc = 0;
	struct refit plan;

	for (int i = 1; i < argc; i++) {
		int m;
		if ((m = swcmd_option(argc, argv, &i, "--active-file", &file)) != 0) {
			if (m < 0)
				return EXITCODE_USAGE;
		} else if ((m = swcmd_option(argc, argv, &i, "--host", &host)) != 0) {
			if (m < 0)
				return EXITCODE_USAGE;
		} else if ((m = swcmd_option(argc, argv, &i, "--port", &v)) != 0) {
			long p = m < 0 ? -1 : number(v, 1, 65535);
			if (p < 0) {
				if (m > 0)
					swcmd_error("serve: --port '%s' is not a port number (1-65535)\n", v);
				return EXITCODE_USAGE;
			}
			port = (unsigned)p;
		} else if ((m = swcmd_option(argc, argv, &i, "--timeout", &v)) != 0) {
			timeout = m < 0 ? -1 : number(v, 1, 86400);
			if (timeout < 0) {
				if (m > 0)
					swcmd_error("serve: --timeout '%s' is not a number of seconds (1-86400)\n", v);
				return EXITCODE_USAGE;
			}
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry = 1;
		} else if (strcmp(argv[i], "--warm") == 0) {
			warm = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			return swcmd_usage(stdout, serve_usage);
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return swcmd_unknown_option(argv[0], argv[i], serve_usage);
		} else if (target) {
			swcmd_error("serve: expected at most one ROLE, PATH or REPO, got '%s' and '%s'\n"
			    "usage: %s\n", target, argv[i], serve_usage);
			return EXITCODE_USAGE;
		} else {
			target = argv[i];
		}
	}
	if (dry && warm) {
		swcmd_error("serve: --dry-run and --warm cannot be combined\nusage: %s\n", serve_usage);
		return EXITCODE_USAGE;
	}
	struct model_entry entry, *e = &entry;
	struct model_placement pl;
	static char dir[SWTABLE_PATH_MAX];
	const char *env = getenv("VLLM_MODEL_ID");
	/* A folder named here, or the one switch --set PATH just exported (it leaves .active_model alone). */
	const char *folder = target ? target : env && env[0] == '/' ? env : NULL;
	if (folder && !swtable_find(folder, e) && swfolder_check(folder, dir) == SWFOLDER_MODEL)
		return serve_folder(dir, !target, dry, warm, host, port);
	if (!swcmd_pick_entry(target, file, false, e, &rc, NULL))
		return rc;
	bool placed = model_table_placement(swtable_table(), e->index, &pl);
	if (plan_now(e, placed ? &pl : NULL, 0, &plan) != 0)
		return EXITCODE_REJECTED;
	if (warm)
		return serve_warm(e, &plan, host, port, timeout);
	if (launch_build(e, &plan, host, port, stderr, &cmd) != 0)
		return EXITCODE_SYSTEM;
	note_visible(e, &cmd);
	/* The numbers of the re-fit, so that they can be compared with modelc explain's. */
	if (dry && plan.outcome != REFIT_UNCHECKED && placed)
		swcmd_note("'%s' on GPUs %s (tp %u, pp %u): max_model_len %u, gpu_memory_utilization %.6g (GPU %d has "
		    "the least free memory), KV cache %llu tokens (rank %u, GPU %d), budget %llu bytes\n", e->role, cmd.gpus,
		    (unsigned)pl.tp, (unsigned)pl.pp, (unsigned)plan.max_model_len, plan.utilization, plan.gpu_index,
		    (unsigned long long)plan.result.kv_tokens, (unsigned)plan.rank, plan.rank_gpu, (unsigned long long)plan.result.budget_bytes);
	else if (dry && plan.outcome != REFIT_UNCHECKED)
		swcmd_note("'%s' on GPU %d: max_model_len %u, gpu_memory_utilization %.6g, KV cache %llu tokens, "
		    "budget %llu bytes\n", e->role, plan.gpu_index, (unsigned)plan.max_model_len, plan.utilization,
		    (unsigned long long)plan.result.kv_tokens, (unsigned long long)plan.result.budget_bytes);
	return run_server(&cmd, dry);
}
