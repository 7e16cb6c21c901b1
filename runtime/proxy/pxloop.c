/* switch-proxy's loop: one poll(2) over the listener, the signal pipe, the servers' output and
 * control sockets, and each connection's client and upstream sockets. */
#define _GNU_SOURCE /* accept4, POLLRDHUP */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pxconn.h"
#include "pxinst.h"
#include "swcmd.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif

static void
accept_all(int lfd, double now)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct px_conn *c = NULL;
		for (size_t i = 0; i < PX_MAX_CONN && !c; i++)
			if (px_conn[i].st == PXK_FREE)
				c = &px_conn[i];
		if (!c) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n"
			    "Connection: close\r\n\r\n";
			px_m.rejected_conn++;
			(void)!send(fd, busy, sizeof busy - 1, MSG_NOSIGNAL);
			close(fd);
			continue;
		}
		memset(c, 0, offsetof(struct px_conn, down));
		c->fd = fd;
		c->up = -1;
		c->role = -1;
		c->st = PXK_READ;
		c->t0 = now;
		px_m.accepted++;
	}
}

enum { TAG_LISTEN = -1, TAG_SIG = -2, TAG_INST = -3 };

int
px_conn_run(int lfd, int sigfd)
{
	static struct pollfd fds[2 * PX_MAX_CONN + 2 * PX_MAX_ROLES + 2];
	static int tag[sizeof fds / sizeof fds[0]];
	double stop_t = 0;

	for (size_t i = 0; i < PX_MAX_CONN; i++)
		px_conn[i].fd = px_conn[i].up = -1;
	for (;;) {
		double now = px_now();
		px_inst_tick(now);
		size_t n = 0;
		if (px_stopping) {
			if (!stop_t) {
				stop_t = now;
				close(lfd);
				lfd = -1;
				for (size_t i = 0; i < PX_MAX_CONN; i++)
					if (px_conn[i].st == PXK_QUEUED || px_conn[i].st == PXK_READ)
						px_conn_error(&px_conn[i], 503, "ServiceUnavailable", NULL, "the proxy is shutting down");
			}
			int busy = 0;
			for (size_t i = 0; i < PX_MAX_CONN; i++)
				busy += px_conn[i].st != PXK_FREE;
			if (!busy || now - stop_t > px_opt.drain_s)
				break;
		}
		if (lfd >= 0) {
			tag[n] = TAG_LISTEN;
			fds[n++] = (struct pollfd){ lfd, POLLIN, 0 };
		}
		tag[n] = TAG_SIG;
		fds[n++] = (struct pollfd){ sigfd, POLLIN, 0 };
		size_t k = px_inst_pollfds(fds + n, sizeof fds / sizeof fds[0] - n - 2 * PX_MAX_CONN);
		for (size_t j = 0; j < k; j++)
			tag[n + j] = TAG_INST;
		n += k;
		for (size_t i = 0; i < PX_MAX_CONN; i++) {
			struct px_conn *c = &px_conn[i];
			short ev = POLLRDHUP;
			switch (c->st) {
			case PXK_FREE: continue;
			case PXK_READ: case PXK_QUEUED: ev |= POLLIN; break;
			case PXK_CONNECT: ev |= POLLIN; break;
			case PXK_FORWARD: ev |= POLLIN; if (c->head_done && c->down_off < c->down_len) ev |= POLLOUT; break;
			case PXK_LOCAL: ev |= POLLOUT; break;
			}
			tag[n] = (int)i * 2;
			fds[n++] = (struct pollfd){ c->fd, ev, 0 };
			if (c->up >= 0 && (c->st == PXK_CONNECT || c->st == PXK_FORWARD)) {
				short uev = 0;
				if (c->st == PXK_CONNECT || c->upreq_sent < c->upreq_len)
					uev |= POLLOUT;
				if (c->st == PXK_FORWARD && c->down_len < PX_BUF - (c->head_done ? 0 : 1024))
					uev |= POLLIN;
				tag[n] = (int)i * 2 + 1;
				fds[n++] = (struct pollfd){ c->up, uev, 0 };
			}
		}
		int r = poll(fds, (nfds_t)n, px_inst_timeout_ms());
		if (r < 0 && errno != EINTR) {
			swcmd_error("proxy: poll: %s\n", strerror(errno));
			return 3;
		}
		now = px_now();
		for (size_t j = 0; r > 0 && j < n; j++) {
			short rev = fds[j].revents;
			if (!rev)
				continue;
			if (tag[j] == TAG_LISTEN) {
				accept_all(lfd, now);
			} else if (tag[j] == TAG_SIG) {
				char b[64];
				while (read(sigfd, b, sizeof b) > 0)
					;
				px_inst_reap(now);
			} else if (tag[j] == TAG_INST) {
				px_inst_event(fds[j].fd, rev, now);
			} else {
				struct px_conn *c = &px_conn[tag[j] / 2];
				if (c->st == PXK_FREE)
					continue;
				if (tag[j] % 2) {
					if (c->up == fds[j].fd && (c->st == PXK_CONNECT || c->st == PXK_FORWARD))
						px_conn_upstream_event(c, rev);
				} else if (c->fd == fds[j].fd) {
					if (rev & (POLLIN | POLLRDHUP | POLLHUP | POLLERR))
						px_conn_client_read(c);
					if (c->st != PXK_FREE && (rev & POLLOUT))
						px_conn_client_write(c);
					else if (c->st != PXK_FREE && c->close_after && c->down_off == c->down_len)
						px_conn_close(c);
				}
			}
		}
		/* What arrived this turn goes out this turn: no wait for the next poll to say writable. */
		for (size_t i = 0; i < PX_MAX_CONN; i++) {
			struct px_conn *c = &px_conn[i];
			if ((c->st == PXK_FORWARD && c->down_off < c->down_len && c->head_done) || c->st == PXK_LOCAL ||
			    (c->st == PXK_FORWARD && c->close_after))
				px_conn_client_write(c);
		}
	}
	return 0;
}
