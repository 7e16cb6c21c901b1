#define _GNU_SOURCE /* usleep */
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

#include "launch.h"
#include "pxconn.h"
#include "pxgroup.h"
#include "pxstart.h"
#include "size.h"
#include "swcmd.h"

static const char *const state_names[] = { "stopped", "starting", "ready", "draining", "sleeping", "asleep",
	"waking", "stopping", "failed" };

const char *
px_state_name(enum px_state s)
{
	return state_names[s];
}

/* A line of the proxy's own in the role's output ring. */
void
px_inst_logf(struct px_inst *in, const char *fmt, ...)
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
	if (in->sv.load_timeout_seconds && !px_opt.start_set)
		return (double)in->sv.load_timeout_seconds;
	return px_opt.start_base_s + (double)px_weights_bytes(in) / px_opt.disk_bps;
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

void
px_inst_set_state(struct px_inst *in, enum px_state s, double now)
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

void
px_inst_stop(struct px_inst *in, double now)
{
	ctl_close(in);
	if (in->pid <= 0) {
		px_inst_set_state(in, PXS_STOPPED, now);
		return;
	}
	px_inst_logf(in, "stopping pid %ld\n", (long)in->pid);
	kill_group(in, SIGTERM);
	in->stops++;
	px_inst_set_state(in, PXS_STOPPING, now);
	in->deadline = now + 10;
}

/* MemAvailable of /proc/meminfo in bytes, or 0 when unknown. */
static uint64_t
mem_available(void)
{
	char buf[4096];
	if (px_read_small("/proc/meminfo", buf, sizeof buf) < 0)
		return 0;
	char *p = strstr(buf, "MemAvailable:");
	return p ? (uint64_t)strtoull(p + 13, NULL, 10) * 1024 : 0;
}

/*
 * Put in away: to sleep when its sleep level says so and, at level 1, host memory holds its
 * weights beside those of every instance going to sleep now (plus 1 GiB); else stopped.
 */
static void
put_away(struct px_inst *in, double now)
{
	if (in->sleep_level > 0 && !in->stop_after_drain && !in->unload) {
		uint64_t avail = mem_available(), need = px_sleep_host_bytes(in) + SIZE_GIB;
		for (size_t i = 0; i < px_ninst; i++)
			if (px_inst[i].st == PXS_SLEEPING && px_inst[i].sleep_level == 1)
				need += px_sleep_host_bytes(&px_inst[i]);
		if (in->sleep_level == 2 || avail > need) {
			char path[32];
			snprintf(path, sizeof path, "/sleep?level=%d", in->sleep_level);
			px_inst_logf(in, "putting pid %ld to sleep (level %d)\n", (long)in->pid, in->sleep_level);
			px_inst_set_state(in, PXS_SLEEPING, now);
			ctl_begin(in, PXC_SLEEP, "POST", path, 120, now);
			return;
		}
		px_inst_logf(in, "host memory has %.1f GiB available, too little for %.1f GiB of weights asleep (with "
		    "those going to sleep now and 1 GiB to spare); stopping instead\n", size_gib(avail),
		    size_gib(need - SIZE_GIB));
	}
	in->unload = 0;
	px_inst_stop(in, now);
}

void
px_inst_start_failed(struct px_inst *in, double now, int final)
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
	px_inst_set_state(in, PXS_FAILED, now);
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
	px_inst_set_state(in, PXS_READY, now);
	px_inst_logf(in, "ready on port %u after %.2f s\n", in->port, took);
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
			px_inst_set_state(in, PXS_ASLEEP, now);
		} else {
			px_inst_logf(in, "POST /sleep answered %d; stopping it\n", status);
			px_inst_stop(in, now);
		}
		break;
	case PXC_WAKE:
		if (status == 200) {
			in->wakes++;
			became_ready(in, now);
		} else {
			px_inst_logf(in, "POST /wake_up answered %d; stopping it\n", status);
			px_inst_stop(in, now);
		}
		break;
	case PXC_NONE:
		break;
	}
}

static void
timers(struct px_inst *in, double now)
{
	if (in->ctl != PXC_NONE && now > in->ctl_deadline)
		ctl_done(in, -1, now);
	switch (in->st) {
	case PXS_STARTING:
		if (now > in->deadline) {
			if (in->sv.load_timeout_seconds && !px_opt.start_set)
				snprintf(in->why, sizeof in->why, "the server did not answer GET /health within %.0f s (the "
				    "catalog's load timeout: the weights over server.disk_read_rate plus 60 s)",
				    px_inst_start_timeout(in));
			else
				snprintf(in->why, sizeof in->why, "the server did not answer GET /health within %.0f s "
				    "(%.0f s + %.1f GiB of weights at %.0f MB/s; --start-base, --disk-speed)",
				    px_inst_start_timeout(in), px_opt.start_base_s, size_gib(px_weights_bytes(in)),
				    px_opt.disk_bps / 1e6);
			px_inst_logf(in, "%s\n", in->why);
			kill_group(in, SIGKILL);
			in->st = PXS_STOPPING;
			in->deadline = now + 10;
			px_inst_start_failed(in, now, 1);
			in->st = PXS_STOPPING; /* until reaped */
		} else if (in->ctl == PXC_NONE && now >= in->next_probe) {
			ctl_begin(in, PXC_HEALTH, "GET", "/health", 1, now);
		}
		break;
	case PXS_READY:
		if (in->unload) {
			in->stop_after_drain = 1;
			px_inst_set_state(in, PXS_DRAINING, now);
		} else if (in->ttl_s > 0 && !in->inflight && !in->queued && now - in->last_use > in->ttl_s) {
			px_inst_logf(in, "idle for %.0f s (its ttl is %.0f s); putting it away\n", now - in->last_use, in->ttl_s);
			px_inst_set_state(in, PXS_DRAINING, now);
		}
		break;
	case PXS_DRAINING:
		if (!in->inflight || now - in->since > px_opt.drain_s) {
			if (in->inflight)
				px_inst_logf(in, "%d request%s still in flight after the drain timeout of %.0f s\n", in->inflight,
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

/* When role i's oldest request (or POST /load, --preload) came; 0: nothing waits for it. */
static double
waiting_since(size_t i, double now)
{
	struct px_inst *in = &px_inst[i];
	double w = px_conn_oldest((int)i);
	if (in->want && (w == 0 || in->want_t < w))
		w = in->want_t;
	if (in->st == PXS_READY || (in->st == PXS_FAILED && now < in->retry_at))
		w = 0;
	if (w == 0)
		in->join = -2;
	return w;
}

/* Another member of g that waits too and starts before t in the group's start order, or t. */
static struct px_inst *
first_in_order(struct px_inst *t, int g, double now)
{
	struct model_group_member m;
	uint32_t order;
	if (g < 0 || t->pid > 0 || px_group_member(g, (size_t)(t - px_inst), &m) != 0)
		return t;
	order = m.start_order;
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *u = &px_inst[i];
		if (u != t && u->pid <= 0 && waiting_since(i, now) > 0 && px_group_member(g, i, &m) == 0 &&
		    m.start_order < order) {
			t = u;
			order = m.start_order;
		}
	}
	return t;
}

/* Drain the ready instances in t's way, least recently used first; whether any is in the way. */
static int
make_room(struct px_inst *t, int g, double now)
{
	struct px_inst *go[PX_MAX_ROLES];
	size_t n = 0;
	int blocked = 0;
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *o = &px_inst[i];
		/* one start or wake at a time: each measures the free memory the ones before it left */
		if (o != t && (o->st == PXS_STARTING || o->st == PXS_WAKING))
			blocked = 1;
		if (!px_group_in_the_way(o, t, g))
			continue;
		blocked = 1;
		if (o->st != PXS_READY)
			continue;
		size_t k = n++;
		for (; k > 0 && go[k - 1]->last_use > o->last_use; k--)
			go[k] = go[k - 1];
		go[k] = o;
	}
	for (size_t k = 0; k < n; k++) {
		px_inst_logf(go[k], "making room for '%s'%s%s%s (put away %zu of %zu, least recently used first)\n",
		    t->e.role, g >= 0 ? " in group '" : "", g >= 0 ? px_group_name(g) : "", g >= 0 ? "'" : "", k + 1, n);
		px_inst_set_state(go[k], PXS_DRAINING, now);
	}
	return blocked;
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
		double w = waiting_since(i, now);
		if (w > 0 && (!t || w < oldest)) {
			t = &px_inst[i];
			oldest = w;
		}
	}
	if (!t || t->st == PXS_STARTING || t->st == PXS_WAKING || t->st == PXS_SLEEPING || t->st == PXS_STOPPING)
		return;
	if (t->st == PXS_DRAINING) {
		/* Asked for again while it drains: keep it. */
		px_inst_set_state(t, PXS_READY, now);
		px_conn_dispatch((int)(t - px_inst), now);
		return;
	}
	/* Chosen once while its way is cleared: the members that made the choice may be going away. */
	int g = t->join != -2 ? t->join : px_group_choose(t);
	if (t->st == PXS_ASLEEP) {
		/* Asleep with other limits than the group its awake partners are in: waking it would put
		 * them away, so it starts again in their group. */
		if (g >= 0 && g != t->grp) {
			px_inst_logf(t, "asleep with the limits %s%s%s; stopping it to start it again in group '%s' beside "
			    "its members\n", t->grp >= 0 ? "of group '" : "it has alone", t->grp >= 0 ? px_group_name(t->grp) : "",
			    t->grp >= 0 ? "'" : "", px_group_name(g));
			px_inst_stop(t, now);
			t->join = g;
			return;
		}
		g = t->grp;
	}
	t = first_in_order(t, g, now);
	if (make_room(t, g, now)) {
		t->join = g;
		return;
	}
	t->join = -2;
	if (!t->swap_t0)
		t->swap_t0 = now;
	if (t->st == PXS_ASLEEP) {
		if (!px_start_wake_room(t, now))
			return;
		px_inst_logf(t, "waking pid %ld\n", (long)t->pid);
		px_inst_set_state(t, PXS_WAKING, now);
		ctl_begin(t, PXC_WAKE, "POST", "/wake_up", 120, now);
	} else {
		px_start(t, g, now);
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
			in->grp = -1;
			int code = launch_exit_code(status);
			px_inst_logf(in, "pid %ld exited with status %d\n", (long)pid, code);
			if (in->st == PXS_STARTING) {
				snprintf(in->why, sizeof in->why, "the server exited during start-up with status %d "
				    "(GET /logs/%s shows its output)", code, in->e.role);
				px_inst_start_failed(in, now, 0);
			} else if (in->st == PXS_STOPPING) {
				px_inst_set_state(in, PXS_STOPPED, now);
			} else if (in->st != PXS_FAILED) {
				in->failures++;
				swcmd_warning("proxy: the server of role '%s' exited with status %d; the next request starts it "
				    "again\n", in->e.role, code);
				px_inst_set_state(in, PXS_STOPPED, now);
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
		px_inst_set_state(in, PXS_DRAINING, px_now());
	} else if (in->st == PXS_ASLEEP || in->st == PXS_STARTING || in->st == PXS_WAKING || in->st == PXS_FAILED) {
		px_inst_stop(in, px_now());
	}
}

void
px_inst_stop_all(double grace_s)
{
	double t0 = px_now();
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].pid > 0)
			px_inst_stop(&px_inst[i], t0);
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
