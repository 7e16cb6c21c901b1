#define _GNU_SOURCE /* pipe2 */
#include "pxinst.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gpu.h"
#include "launch.h"
#include "pxconn.h"
#include "refit.h"
#include "size.h"
#include "swcmd.h"
#include "swtable.h"

static const char *const state_names[] = { "stopped", "starting", "ready", "draining", "sleeping", "asleep",
	"waking", "stopping", "failed" };

const char *
px_state_name(enum px_state s)
{
	return state_names[s];
}

static void
logf_inst(struct px_inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line of the proxy's own in the role's output ring. */
static void
logf_inst(struct px_inst *in, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int n = snprintf(line, sizeof line, "switch proxy: ");
	va_start(ap, fmt);
	int k = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	size_t len = (size_t)n + (size_t)k < sizeof line ? (size_t)n + (size_t)k : sizeof line - 1;
	px_log(in, line, len);
}

double
px_inst_start_timeout(const struct px_inst *in)
{
	uint64_t bytes = in->e.total_bytes ? in->e.total_bytes : in->e.params.weights_bytes;
	return px_opt.start_base_s + (double)bytes / px_opt.disk_bps;
}

/* ---- control requests to a server ---- */

static void
ctl_close(struct px_inst *in)
{
	if (in->ctl_fd >= 0)
		close(in->ctl_fd);
	in->ctl_fd = -1;
	in->ctl = PXC_NONE;
}

static void ctl_done(struct px_inst *in, int status, double now);

static void
ctl_begin(struct px_inst *in, enum px_ctl kind, const char *method, const char *path, double timeout_s, double now)
{
	struct sockaddr_in a;

	ctl_close(in);
	in->ctl = kind;
	in->ctl_len = in->ctl_sent = 0;
	in->ctl_deadline = now + timeout_s;
	int n = snprintf(in->ctl_buf, sizeof in->ctl_buf,
	    "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", method, path,
	    in->port);
	in->ctl_req_len = (size_t)n;
	in->ctl_fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (in->ctl_fd < 0) {
		ctl_done(in, -1, now);
		return;
	}
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)in->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(in->ctl_fd, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)
		ctl_done(in, -1, now);
}

static void
ctl_event(struct px_inst *in, short rev, double now)
{
	if (in->ctl_sent < in->ctl_req_len) {
		if (rev & (POLLERR | POLLHUP)) {
			ctl_done(in, -1, now);
			return;
		}
		ssize_t w = send(in->ctl_fd, in->ctl_buf + in->ctl_sent, in->ctl_req_len - in->ctl_sent, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				ctl_done(in, -1, now);
			return;
		}
		in->ctl_sent += (size_t)w;
		if (in->ctl_sent == in->ctl_req_len)
			in->ctl_len = 0; /* the buffer now holds the answer */
		return;
	}
	ssize_t r = recv(in->ctl_fd, in->ctl_buf + in->ctl_len, sizeof in->ctl_buf - 1 - in->ctl_len, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r > 0) {
		in->ctl_len += (size_t)r;
		if (in->ctl_len < sizeof in->ctl_buf - 1)
			return;
	}
	in->ctl_buf[in->ctl_len] = '\0';
	int st = -1;
	if (in->ctl_len >= 12 && strncmp(in->ctl_buf, "HTTP/1.", 7) == 0)
		st = atoi(in->ctl_buf + 9);
	ctl_done(in, st, now);
}

/* ---- the life cycle ---- */

static void
set_state(struct px_inst *in, enum px_state s, double now)
{
	in->st = s;
	in->since = now;
}

static void
kill_group(struct px_inst *in, int sig)
{
	if (in->pid > 0)
		kill(-in->pid, sig);
}

static void
stop_inst(struct px_inst *in, double now)
{
	ctl_close(in);
	if (in->pid <= 0) {
		set_state(in, PXS_STOPPED, now);
		return;
	}
	logf_inst(in, "stopping pid %ld\n", (long)in->pid);
	kill_group(in, SIGTERM);
	in->stops++;
	set_state(in, PXS_STOPPING, now);
	in->deadline = now + 10;
}

/* MemAvailable of /proc/meminfo in bytes, or 0 when unknown. */
static uint64_t
mem_available(void)
{
	char buf[4096];
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	char *p = strstr(buf, "MemAvailable:");
	return p ? (uint64_t)strtoull(p + 13, NULL, 10) * 1024 : 0;
}

/* Put in away: to sleep when sleep mode is on and host memory holds its weights, else stopped. */
static void
put_away(struct px_inst *in, double now)
{
	uint64_t w = in->e.total_bytes ? in->e.total_bytes : in->e.params.weights_bytes;
	if (px_opt.sleep_level > 0 && !in->stop_after_drain && !in->unload) {
		uint64_t avail = mem_available();
		if (px_opt.sleep_level == 2 || avail > w + SIZE_GIB) {
			char path[32];
			snprintf(path, sizeof path, "/sleep?level=%d", px_opt.sleep_level);
			logf_inst(in, "putting pid %ld to sleep (level %d)\n", (long)in->pid, px_opt.sleep_level);
			set_state(in, PXS_SLEEPING, now);
			ctl_begin(in, PXC_SLEEP, "POST", path, 120, now);
			return;
		}
		logf_inst(in, "host memory has %.1f GiB available, too little for %.1f GiB of weights asleep; "
		    "stopping instead\n", size_gib(avail), size_gib(w));
	}
	in->unload = 0;
	stop_inst(in, now);
}

static void
start_failed(struct px_inst *in, double now, int final)
{
	in->failures++;
	in->attempts++;
	if (final || in->attempts >= PX_MAX_ATTEMPTS) {
		swcmd_error("proxy: role '%s' failed to start %d time%s: %s\n", in->e.role, in->attempts,
		    in->attempts == 1 ? "" : "s", in->why);
		px_conn_fail_role((int)(in - px_inst), 502, in->why);
		in->attempts = 0;
		in->want = 0;
		in->retry_at = now;
	} else {
		double backoff = (double)(1 << in->attempts) / 2;
		swcmd_warning("proxy: role '%s' failed to start: %s; retrying in %.1f s\n", in->e.role, in->why, backoff);
		in->retry_at = now + backoff;
	}
	set_state(in, PXS_FAILED, now);
}

/* The served names: what launch_build gives, plus the role's name, repo id and local directory. */
static void
add_names(struct launch_cmd *cmd, const struct model_entry *e)
{
	const char *extra[4] = { e->role, e->repo, e->local_dir, e->model_id };
	size_t at = 0;
	for (size_t k = 0; k + 1 < cmd->argc; k++)
		if (strcmp(cmd->argv[k], "--served-model-name") == 0)
			at = k + 2;
	if (!at)
		return;
	for (size_t j = 0; j < 4; j++) {
		int dup = !extra[j];
		for (size_t k = at - 1; !dup && k < at; k++)
			dup = strcmp(cmd->argv[k], extra[j]) == 0;
		for (size_t k = 0; !dup && k < j; k++)
			dup = extra[k] && strcmp(extra[k], extra[j]) == 0;
		if (dup || strcmp(swtable_model_id(e), extra[j]) == 0 || cmd->argc + 2 >= LAUNCH_MAX_ARGS)
			continue;
		memmove(&cmd->argv[at + 1], &cmd->argv[at], (cmd->argc + 1 - at) * sizeof cmd->argv[0]);
		cmd->argv[at++] = (char *)extra[j];
		cmd->argc++;
	}
	if (px_opt.sleep_level > 0 && cmd->argc + 2 < LAUNCH_MAX_ARGS)
		cmd->argv[cmd->argc++] = "--enable-sleep-mode", cmd->argv[cmd->argc] = NULL;
}

/* The LRU instance in state s other than skip, or NULL. */
static struct px_inst *
lru_in(enum px_state s, const struct px_inst *skip)
{
	struct px_inst *best = NULL;
	for (size_t i = 0; i < px_ninst; i++)
		if (&px_inst[i] != skip && px_inst[i].st == s && (!best || px_inst[i].last_use < best->last_use))
			best = &px_inst[i];
	return best;
}

static void
start_inst(struct px_inst *in, double now)
{
	static struct nvsmi_state gst;
	static struct launch_cmd cmd;
	char msg[GPU_MSG_MAX];
	struct refit plan;

	enum gpu_status g = gpu_query(&gst, msg);
	const struct nvsmi_gpu *gpu = g == GPU_OK ? gpu_pick(&gst) : NULL;
	refit_plan(&in->e, gpu, 0, &plan);
	if (plan.outcome == REFIT_REFUSED) {
		struct px_inst *sleeper = lru_in(PXS_ASLEEP, in);
		if (sleeper) {
			logf_inst(sleeper, "stopped to make room for '%s'\n", in->e.role);
			stop_inst(sleeper, now);
			return;
		}
		snprintf(in->why, sizeof in->why, "'%s' does not fit GPU %d now: %.1f GiB of %.1f GiB are in use",
		    in->e.role, plan.gpu_index, size_gib(plan.gpu_used_bytes), size_gib(plan.gpu_total_bytes));
		start_failed(in, now, 1);
		return;
	}
	if (launch_build(&in->e, &plan, "127.0.0.1", in->port, stderr, &cmd) != 0) {
		snprintf(in->why, sizeof in->why, "its command line does not fit");
		start_failed(in, now, 1);
		return;
	}
	add_names(&cmd, &in->e);
	/* The server's stdout and stderr into one pipe: fds 1 and 2 point at it while it forks. */
	int p[2], s1, s2;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(in->why, sizeof in->why, "pipe: %s", strerror(errno));
		start_failed(in, now, 1);
		return;
	}
	fflush(NULL);
	s1 = fcntl(1, F_DUPFD_CLOEXEC, 3);
	s2 = fcntl(2, F_DUPFD_CLOEXEC, 3);
	dup2(p[1], 1);
	dup2(p[1], 2);
	pid_t pid = launch_start(&cmd, NULL);
	int saved = errno;
	dup2(s1, 1);
	dup2(s2, 2);
	close(s1);
	close(s2);
	close(p[1]);
	int fd = p[0];
	errno = saved;
	if (pid < 0) {
		close(fd);
		snprintf(in->why, sizeof in->why, "cannot start '%s': %s", cmd.argv[0], strerror(errno));
		start_failed(in, now, 1);
		return;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	in->pid = pid;
	in->logfd = fd;
	in->starts++;
	if (!in->swap_t0)
		in->swap_t0 = now;
	set_state(in, PXS_STARTING, now);
	in->deadline = now + px_inst_start_timeout(in);
	in->next_probe = now + 0.05;
	logf_inst(in, "started pid %ld on port %u (max_model_len %u, gpu_memory_utilization %.4g; start timeout %.0f s)\n",
	    (long)pid, in->port, (unsigned)plan.max_model_len, plan.utilization, px_inst_start_timeout(in));
}

static void
became_ready(struct px_inst *in, double now)
{
	double took = now - (in->swap_t0 ? in->swap_t0 : in->since);
	in->swap_sum_s += took;
	in->swap_count++;
	in->swap_t0 = 0;
	in->attempts = 0;
	in->want = 0;
	in->last_use = now;
	set_state(in, PXS_READY, now);
	logf_inst(in, "ready on port %u after %.2f s\n", in->port, took);
	px_conn_dispatch((int)(in - px_inst), now);
}

static void
ctl_done(struct px_inst *in, int status, double now)
{
	enum px_ctl kind = in->ctl;
	ctl_close(in);
	switch (kind) {
	case PXC_HEALTH:
		if (status == 200 && in->st == PXS_STARTING)
			became_ready(in, now);
		else
			in->next_probe = now + 0.1;
		break;
	case PXC_SLEEP:
		if (status == 200) {
			in->sleeps++;
			set_state(in, PXS_ASLEEP, now);
		} else {
			logf_inst(in, "POST /sleep answered %d; stopping it\n", status);
			stop_inst(in, now);
		}
		break;
	case PXC_WAKE:
		if (status == 200) {
			in->wakes++;
			became_ready(in, now);
		} else {
			logf_inst(in, "POST /wake_up answered %d; stopping it\n", status);
			stop_inst(in, now);
		}
		break;
	case PXC_NONE:
		break;
	}
}

/* In the GPU's way of role t: every other instance holding its GPU share (no co-residency groups). */
static int
in_the_way(const struct px_inst *o, const struct px_inst *t)
{
	return o != t && (o->st == PXS_STARTING || o->st == PXS_READY || o->st == PXS_DRAINING ||
	    o->st == PXS_WAKING || o->st == PXS_SLEEPING || o->st == PXS_STOPPING);
}

static void
timers(struct px_inst *in, double now)
{
	if (in->ctl != PXC_NONE && now > in->ctl_deadline)
		ctl_done(in, -1, now);
	switch (in->st) {
	case PXS_STARTING:
		if (now > in->deadline) {
			snprintf(in->why, sizeof in->why, "the server did not answer GET /health within %.0f s "
			    "(%.0f s + %.1f GiB of weights at %.0f MB/s; --start-base, --disk-speed)",
			    px_inst_start_timeout(in), px_opt.start_base_s,
			    size_gib(in->e.total_bytes ? in->e.total_bytes : in->e.params.weights_bytes), px_opt.disk_bps / 1e6);
			logf_inst(in, "%s\n", in->why);
			kill_group(in, SIGKILL);
			in->st = PXS_STOPPING;
			in->deadline = now + 10;
			start_failed(in, now, 1);
			in->st = PXS_STOPPING; /* until reaped */
		} else if (in->ctl == PXC_NONE && now >= in->next_probe) {
			ctl_begin(in, PXC_HEALTH, "GET", "/health", 1, now);
		}
		break;
	case PXS_READY:
		if (in->unload) {
			in->stop_after_drain = 1;
			set_state(in, PXS_DRAINING, now);
		} else if (px_opt.ttl_s > 0 && !in->inflight && !in->queued && now - in->last_use > px_opt.ttl_s) {
			logf_inst(in, "idle for %.0f s (ttl); putting it away\n", now - in->last_use);
			set_state(in, PXS_DRAINING, now);
		}
		break;
	case PXS_DRAINING:
		if (!in->inflight || now - in->since > px_opt.drain_s) {
			if (in->inflight)
				logf_inst(in, "%d request%s still in flight after the drain timeout of %.0f s\n", in->inflight,
				    in->inflight == 1 ? "" : "s", px_opt.drain_s);
			put_away(in, now);
			in->stop_after_drain = 0;
		}
		break;
	case PXS_STOPPING:
		if (now > in->deadline && in->pid > 0) {
			kill_group(in, SIGKILL);
			in->deadline = now + 10;
		}
		break;
	default:
		break;
	}
}

void
px_inst_tick(double now)
{
	struct px_inst *t = NULL;
	double oldest = 0;

	for (size_t i = 0; i < px_ninst; i++)
		timers(&px_inst[i], now);
	if (px_stopping)
		return;
	/* The role whose request has waited longest, among those not being served now. */
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *in = &px_inst[i];
		double w = px_conn_oldest((int)i);
		if (in->want && (w == 0 || in->want_t < w))
			w = in->want_t;
		if (w == 0 || in->st == PXS_READY)
			continue;
		if (in->st == PXS_FAILED && now < in->retry_at)
			continue;
		if (!t || w < oldest) {
			t = in;
			oldest = w;
		}
	}
	if (!t || t->st == PXS_STARTING || t->st == PXS_WAKING || t->st == PXS_SLEEPING || t->st == PXS_STOPPING)
		return;
	if (t->st == PXS_DRAINING) {
		/* Asked for again while it drains: keep it. */
		set_state(t, PXS_READY, now);
		px_conn_dispatch((int)(t - px_inst), now);
		return;
	}
	int blocked = 0;
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *o = &px_inst[i];
		if (!in_the_way(o, t))
			continue;
		blocked = 1;
		if (o->st == PXS_READY) {
			logf_inst(o, "making room for '%s'\n", t->e.role);
			set_state(o, PXS_DRAINING, now);
		}
	}
	if (blocked)
		return;
	if (!t->swap_t0)
		t->swap_t0 = now;
	if (t->st == PXS_ASLEEP) {
		logf_inst(t, "waking pid %ld\n", (long)t->pid);
		set_state(t, PXS_WAKING, now);
		ctl_begin(t, PXC_WAKE, "POST", "/wake_up", 120, now);
	} else {
		start_inst(t, now);
	}
}

size_t
px_inst_pollfds(struct pollfd *fds, size_t room)
{
	size_t n = 0;
	for (size_t i = 0; i < px_ninst && n + 2 <= room; i++) {
		struct px_inst *in = &px_inst[i];
		if (in->logfd >= 0)
			fds[n++] = (struct pollfd){ in->logfd, POLLIN, 0 };
		if (in->ctl_fd >= 0)
			fds[n++] = (struct pollfd){ in->ctl_fd, in->ctl_sent < in->ctl_req_len ? POLLOUT : POLLIN, 0 };
	}
	return n;
}

static void
read_log(struct px_inst *in)
{
	char buf[4096];
	for (;;) {
		ssize_t r = read(in->logfd, buf, sizeof buf);
		if (r > 0) {
			px_log(in, buf, (size_t)r);
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(in->logfd);
			in->logfd = -1;
		}
		return;
	}
}

void
px_inst_event(int fd, short rev, double now)
{
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *in = &px_inst[i];
		if (fd == in->logfd)
			read_log(in);
		else if (fd == in->ctl_fd && in->ctl != PXC_NONE)
			ctl_event(in, rev, now);
	}
}

void
px_inst_reap(double now)
{
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < px_ninst; i++) {
			struct px_inst *in = &px_inst[i];
			if (in->pid != pid)
				continue;
			if (in->logfd >= 0)
				read_log(in);
			ctl_close(in);
			in->pid = 0;
			int code = launch_exit_code(status);
			logf_inst(in, "pid %ld exited with status %d\n", (long)pid, code);
			if (in->st == PXS_STARTING) {
				snprintf(in->why, sizeof in->why, "the server exited during start-up with status %d "
				    "(GET /logs/%s shows its output)", code, in->e.role);
				start_failed(in, now, 0);
			} else if (in->st == PXS_STOPPING) {
				set_state(in, PXS_STOPPED, now);
			} else if (in->st != PXS_FAILED) {
				in->failures++;
				swcmd_warning("proxy: the server of role '%s' exited with status %d; the next request starts it "
				    "again\n", in->e.role, code);
				set_state(in, PXS_STOPPED, now);
			}
		}
	}
}

int
px_inst_timeout_ms(void)
{
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].st != PXS_STOPPED && px_inst[i].st != PXS_ASLEEP && px_inst[i].st != PXS_READY)
			return 20;
	return 250;
}

void
px_inst_unload(struct px_inst *in)
{
	in->want = 0;
	if (in->st == PXS_READY || in->st == PXS_DRAINING) {
		in->stop_after_drain = 1;
		set_state(in, PXS_DRAINING, px_now());
	} else if (in->st == PXS_ASLEEP || in->st == PXS_STARTING || in->st == PXS_WAKING || in->st == PXS_FAILED) {
		stop_inst(in, px_now());
	}
}

void
px_inst_stop_all(double grace_s)
{
	double t0 = px_now();
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].pid > 0)
			stop_inst(&px_inst[i], t0);
	for (;;) {
		int left = 0;
		px_inst_reap(px_now());
		for (size_t i = 0; i < px_ninst; i++)
			left += px_inst[i].pid > 0;
		if (!left)
			return;
		if (px_now() - t0 > grace_s)
			for (size_t i = 0; i < px_ninst; i++)
				kill_group(&px_inst[i], SIGKILL);
		usleep(20000);
	}
}
