#define _GNU_SOURCE /* pipe2 */
#include "pxstart.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gpu.h"
#include "launch.h"
#include "pxgroup.h"
#include "pxinst.h"
#include "refit.h"
#include "size.h"
#include "swtable.h"

/* launch_build gives every name of the role (servednames_list); a sleeping role needs the flag. */
static void
sleep_flag(struct launch_cmd *cmd, const struct px_inst *in)
{
	if (in->sleep_level > 0 && cmd->argc + 2 < LAUNCH_MAX_ARGS)
		cmd->argv[cmd->argc++] = "--enable-sleep-mode", cmd->argv[cmd->argc] = NULL;
}

/* A member planned with fixed KV bytes gets --kv-cache-memory-bytes in place of the share. */
static void
kv_bytes_flag(struct launch_cmd *cmd, uint64_t kv)
{
	static char num[24];
	snprintf(num, sizeof num, "%llu", (unsigned long long)kv);
	for (size_t k = 0; k + 1 < cmd->argc; k++)
		if (strcmp(cmd->argv[k], "--gpu-memory-utilization") == 0) {
			cmd->argv[k] = "--kv-cache-memory-bytes";
			cmd->argv[k + 1] = num;
		}
}

/* The least recently used asleep instance but skip, or NULL. */
static struct px_inst *
lru_asleep(const struct px_inst *skip)
{
	struct px_inst *best = NULL;
	for (size_t i = 0; i < px_ninst; i++)
		if (&px_inst[i] != skip && px_inst[i].st == PXS_ASLEEP && (!best || px_inst[i].last_use < best->last_use))
			best = &px_inst[i];
	return best;
}

/* Stop the LRU sleeper to make room for t: 1, or 0 when none sleeps. */
static int
stop_a_sleeper(struct px_inst *t, double now)
{
	struct px_inst *s = lru_asleep(t);
	if (!s)
		return 0;
	px_inst_logf(s, "stopped to make room for '%s' (asleep it still holds GPU memory)\n", t->e.role);
	px_inst_stop(s, now);
	return 1;
}

/* The GPU's free bytes now into *free (and the rest); 0, or -1 when nvidia-smi gave none. */
static int
gpu_now(struct nvsmi_state *st, const struct nvsmi_gpu **gpu, uint64_t *free)
{
	char msg[GPU_MSG_MAX];
	*gpu = gpu_query(st, msg) == GPU_OK ? gpu_pick(st) : NULL;
	if (!*gpu || (*gpu)->free_mib < 0)
		return -1;
	*free = (uint64_t)(*gpu)->free_mib * SIZE_MIB;
	return 0;
}

int
px_start_wake_room(struct px_inst *t, double now)
{
	static struct nvsmi_state st;
	const struct nvsmi_gpu *gpu;
	uint64_t need = px_group_need_bytes(t, t->grp, 1), free;
	if (!need || gpu_now(&st, &gpu, &free) != 0 || free >= need)
		return 1;
	if (stop_a_sleeper(t, now))
		return 0;
	px_inst_logf(t, "waking needs %.2f GiB free and GPU %d has %.2f GiB; stopping it to start it again\n",
	    size_gib(need), gpu->index, size_gib(free));
	px_inst_stop(t, now);
	return 0;
}

/* The limits of t in group g, after the free-memory check: 0, 1 when it must wait, -1 refused. */
static int
group_plan(struct px_inst *t, int g, const struct nvsmi_gpu *gpu, uint64_t free, struct refit *plan,
    uint64_t *kv, double now)
{
	struct model_group_member m;
	px_group_member(g, (size_t)(t - px_inst), &m);
	memset(plan, 0, sizeof *plan);
	plan->outcome = REFIT_AS_PLANNED;
	plan->max_model_len = m.max_model_len;
	plan->utilization = m.gpu_memory_utilization;
	plan->gpu_index = gpu ? gpu->index : -1;
	*kv = m.use_kv_cache_bytes ? m.kv_cache_bytes : 0;
	if (!gpu || free >= m.free_at_start)
		return 0;
	if (stop_a_sleeper(t, now))
		return 1;
	snprintf(t->why, sizeof t->why, "'%s' needs %.2f GiB free at its start in group '%s' (vLLM checks that its "
	    "share %.4g fits what is free); GPU %d has %.2f GiB free of %.2f GiB: other processes hold the rest",
	    t->e.role, size_gib(m.free_at_start), px_group_name(g), m.gpu_memory_utilization, gpu->index,
	    size_gib(free), size_gib((uint64_t)(gpu->used_mib + gpu->free_mib) * SIZE_MIB));
	return -1;
}

static int
fork_server(struct px_inst *in, struct launch_cmd *cmd)
{
	/* The server's stdout and stderr into one pipe: fds 1 and 2 point at it while it forks. */
	int p[2], s1, s2;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(in->why, sizeof in->why, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	s1 = fcntl(1, F_DUPFD_CLOEXEC, 3);
	s2 = fcntl(2, F_DUPFD_CLOEXEC, 3);
	dup2(p[1], 1);
	dup2(p[1], 2);
	pid_t pid = launch_start(cmd, NULL);
	int saved = errno;
	dup2(s1, 1);
	dup2(s2, 2);
	close(s1);
	close(s2);
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		snprintf(in->why, sizeof in->why, "cannot start '%s': %s", cmd->argv[0], strerror(saved));
		return -1;
	}
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	in->pid = pid;
	in->logfd = p[0];
	return 0;
}

void
px_start(struct px_inst *in, int g, double now)
{
	static struct nvsmi_state gst;
	static struct launch_cmd cmd;
	const struct nvsmi_gpu *gpu;
	struct refit plan;
	uint64_t free = 0, kv = 0;

	int known = gpu_now(&gst, &gpu, &free) == 0;
	if (g >= 0) {
		int r = group_plan(in, g, known ? gpu : NULL, free, &plan, &kv, now);
		if (r > 0)
			return;
		if (r < 0) {
			px_inst_start_failed(in, now, 1);
			return;
		}
	} else {
		/* A role modelc split over GPUs is re-fitted on every placed GPU, as switch serve does. */
		struct model_placement pl;
		if (model_table_placement(swtable_table(), in->e.index, &pl)) {
			if (pl.nodes > 1) {
				snprintf(in->why, sizeof in->why, "'%s' spans %u hosts; the proxy starts servers on this "
				    "host only (run each node's command of plan.txt on its host)", in->e.role, (unsigned)pl.nodes);
				px_inst_start_failed(in, now, 1);
				return;
			}
			refit_placed(&in->e, &pl, gpu ? &gst : NULL, 0, &plan);
		} else {
			refit_plan(&in->e, gpu, 0, &plan);
		}
		if (plan.outcome == REFIT_REFUSED) {
			if (stop_a_sleeper(in, now))
				return;
			snprintf(in->why, sizeof in->why, "'%s' does not fit GPU %d now: %.1f GiB of %.1f GiB are in use",
			    in->e.role, plan.gpu_index, size_gib(plan.gpu_used_bytes), size_gib(plan.gpu_total_bytes));
			px_inst_start_failed(in, now, 1);
			return;
		}
	}
	if (launch_build(&in->e, &plan, "127.0.0.1", in->port, stderr, &cmd) != 0) {
		snprintf(in->why, sizeof in->why, "its command line does not fit");
		px_inst_start_failed(in, now, 1);
		return;
	}
	sleep_flag(&cmd, in);
	if (kv)
		kv_bytes_flag(&cmd, kv);
	if (fork_server(in, &cmd) != 0) {
		px_inst_start_failed(in, now, 1);
		return;
	}
	in->grp = g;
	in->lim_len = plan.max_model_len;
	in->lim_util = kv ? 0 : plan.utilization;
	in->lim_kv = kv;
	in->starts++;
	if (!in->swap_t0)
		in->swap_t0 = now;
	px_inst_set_state(in, PXS_STARTING, now);
	in->deadline = now + px_inst_start_timeout(in);
	in->next_probe = now + 0.05;
	if (kv)
		px_inst_logf(in, "started pid %ld on port %u in group '%s' (max_model_len %u, kv_cache_memory_bytes %llu; "
		    "start timeout %.0f s)\n", (long)in->pid, in->port, px_group_name(g), (unsigned)plan.max_model_len,
		    (unsigned long long)kv, px_inst_start_timeout(in));
	else
		px_inst_logf(in, "started pid %ld on port %u %s%s%s(max_model_len %u, gpu_memory_utilization %.4g; start "
		    "timeout %.0f s)\n", (long)in->pid, in->port, g >= 0 ? "in group '" : "alone ", g >= 0 ? px_group_name(g) : "",
		    g >= 0 ? "' " : "", (unsigned)plan.max_model_len, plan.utilization, px_inst_start_timeout(in));
}
