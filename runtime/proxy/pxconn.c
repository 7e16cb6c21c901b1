#define _GNU_SOURCE /* accept4, POLLRDHUP */
#include "pxconn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pxapi.h"
#include "pxinst.h"
#include "swcmd.h"
#include "swjson.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif

static const char cors[] = "Access-Control-Allow-Origin: *\r\n"
    "Access-Control-Allow-Headers: Authorization, Content-Type\r\n"
    "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n";

int
px_conn_listen(const char *host, unsigned port)
{
	struct sockaddr_in a;
	int one = 1;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	const char *h = strcmp(host, "localhost") == 0 ? "127.0.0.1" : host;
	unsigned b[4];
	char tail;
	if (sscanf(h, "%u.%u.%u.%u%c", &b[0], &b[1], &b[2], &b[3], &tail) != 4 || b[0] > 255 || b[1] > 255 ||
	    b[2] > 255 || b[3] > 255) {
		swcmd_error("proxy: --listen '%s' is not a numeric IPv4 address (expected ADDRESS:PORT, e.g. "
		    "127.0.0.1:8080)\n", host);
		return -1;
	}
	a.sin_addr.s_addr = htonl(b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3]);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 1024) != 0) {
		swcmd_error("proxy: cannot listen on %s:%u: %s\n", host, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

void
px_conn_close(struct px_conn *c)
{
	double now = px_now();
	if (c->st == PXK_QUEUED && c->role >= 0)
		px_inst[c->role].queued--;
	if ((c->st == PXK_CONNECT || c->st == PXK_FORWARD) && c->role >= 0) {
		px_inst[c->role].inflight--;
		px_inst[c->role].last_use = now;
	}
	if (c->up >= 0)
		close(c->up);
	if (c->fd >= 0 && c->st == PXK_LOCAL) {
		/* What the client sent past an error is read first: closing over unread bytes resets the
		 * connection, and the client could lose the answer. */
		char sink[4096];
		shutdown(c->fd, SHUT_WR);
		for (int k = 0; k < 64 && recv(c->fd, sink, sizeof sink, 0) > 0; k++)
			;
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c->in);
	free(c->upreq);
	c->in = c->upreq = NULL;
	c->fd = c->up = -1;
	c->st = PXK_FREE;
}

void
px_conn_respond(struct px_conn *c, int status, const char *extra, const char *ctype, const char *body, size_t len)
{
	static const struct { int code; const char *text; } reasons[] = {
		{ 200, "OK" }, { 202, "Accepted" }, { 204, "No Content" }, { 400, "Bad Request" },
		{ 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 413, "Content Too Large" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 502, "Bad Gateway" },
		{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	};
	const char *reason = "Unknown";
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].code == status)
			reason = reasons[i].text;
	if (c->role >= 0 && (c->st == PXK_QUEUED))
		px_inst[c->role].queued--;
	free(c->upreq);
	size_t cap = 512 + strlen(extra) + len;
	c->upreq = malloc(cap);
	if (!c->upreq) {
		px_conn_close(c);
		return;
	}
	int n = snprintf(c->upreq, cap, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n%s%s\r\n", status, reason, ctype, len, cors, extra);
	memcpy(c->upreq + n, body, len);
	c->upreq_len = (size_t)n + len;
	c->upreq_sent = 0;
	c->status = status;
	c->st = PXK_LOCAL;
}

void
px_conn_error(struct px_conn *c, int status, const char *type, const char *param, const char *fmt, ...)
{
	char msg[2048], esc[4200], body[4600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (swjson_escape(esc, sizeof esc, msg) != 0)
		snprintf(esc, sizeof esc, "\"error\"");
	int n = snprintf(body, sizeof body, "{\"error\": {\"message\": %s, \"type\": \"%s\", \"param\": %s%s%s, "
	    "\"code\": %d}}\n", esc, type, param ? "\"" : "", param ? param : "null", param ? "\"" : "", status);
	const char *extra = status == 503 ? "Retry-After: 5\r\n" : status == 401 ? "WWW-Authenticate: Bearer\r\n" : "";
	px_conn_respond(c, status, extra, "application/json", body, (size_t)n);
}

/* The request head as sent upstream: target path, Host, Connection: close; hop-by-hop headers dropped. */
static int
build_upstream(struct px_conn *c, const struct px_inst *in, const char *path, size_t plen)
{
	const char *h = c->in, *end = c->in + c->req.head_len;
	const char *p = (const char *)memchr(h, '\n', c->req.head_len) + 1;
	size_t body = (size_t)c->req.content_length;
	size_t cap = c->req.head_len + plen + 128 + body;
	c->upreq = malloc(cap);
	if (!c->upreq)
		return -1;
	int n = snprintf(c->upreq, cap, "%s %.*s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n", c->req.method,
	    (int)plen, path, in->port);
	size_t len = (size_t)n;
	while (p < end - 2) {
		const char *le = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		size_t nl = (size_t)(colon - p);
		int drop = pxhttp_name_is(p, nl, "host") || pxhttp_name_is(p, nl, "connection") ||
		    pxhttp_name_is(p, nl, "keep-alive") || pxhttp_name_is(p, nl, "expect") ||
		    pxhttp_name_is(p, nl, "upgrade") || pxhttp_name_is(p, nl, "te") ||
		    pxhttp_name_is(p, nl, "proxy-connection") ||
		    (px_opt.api_key && pxhttp_name_is(p, nl, "authorization"));
		if (!drop) {
			memcpy(c->upreq + len, p, (size_t)(le - p));
			len += (size_t)(le - p);
		}
		p = le;
	}
	memcpy(c->upreq + len, "\r\n", 2);
	len += 2;
	memcpy(c->upreq + len, end, body);
	c->upreq_len = len + body;
	c->upreq_sent = 0;
	return 0;
}

static void
begin_upstream(struct px_conn *c, double now)
{
	struct px_inst *in = &px_inst[c->role];
	struct sockaddr_in a;
	int one = 1;

	in->inflight++;
	in->requests++;
	in->last_use = now;
	c->st = PXK_CONNECT;
	c->up = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->up >= 0)
		setsockopt(c->up, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)in->port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (c->up < 0 || (connect(c->up, (struct sockaddr *)&a, sizeof a) != 0 && errno != EINPROGRESS)) {
		in->inflight--;
		px_m.upstream_errors++;
		px_conn_error(c, 502, "BadGateway", NULL, "cannot connect to the server of role '%s' on port %u: %s",
		    in->e.role, in->port, strerror(errno));
	}
}

void
px_conn_forward(struct px_conn *c, int role, const char *path, size_t plen)
{
	struct px_inst *in = &px_inst[role];
	c->role = role;
	if (plen >= sizeof c->path)
		plen = sizeof c->path - 1;
	memcpy(c->path, path, plen);
	c->path[plen] = '\0';
	if (build_upstream(c, in, c->path, plen) != 0) {
		px_conn_error(c, 500, "InternalServerError", NULL, "out of memory");
		return;
	}
	if (in->st == PXS_READY) {
		begin_upstream(c, px_now());
		return;
	}
	if (px_conn_queued() >= px_opt.queue_max) {
		px_m.rejected_full++;
		px_conn_error(c, 503, "ServiceUnavailable", NULL, "the proxy's queue is full (%u requests wait for a "
		    "model swap); retry later", px_opt.queue_max);
		return;
	}
	c->st = PXK_QUEUED;
	c->queued_t = px_now();
	in->queued++;
}

void
px_conn_dispatch(int role, double now)
{
	for (size_t i = 0; i < PX_MAX_CONN; i++)
		if (px_conn[i].st == PXK_QUEUED && px_conn[i].role == role && px_inst[role].st == PXS_READY) {
			px_inst[role].queued--;
			begin_upstream(&px_conn[i], now);
		}
}

void
px_conn_fail_role(int role, int status, const char *message)
{
	for (size_t i = 0; i < PX_MAX_CONN; i++)
		if (px_conn[i].st == PXK_QUEUED && px_conn[i].role == role)
			px_conn_error(&px_conn[i], status, "BadGateway", NULL, "role '%s' is not available: %s",
			    px_inst[role].e.role, message);
}

double
px_conn_oldest(int role)
{
	double t = 0;
	for (size_t i = 0; i < PX_MAX_CONN; i++)
		if (px_conn[i].st == PXK_QUEUED && px_conn[i].role == role && (t == 0 || px_conn[i].queued_t < t))
			t = px_conn[i].queued_t;
	return t;
}

unsigned
px_conn_queued(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < px_ninst; i++)
		n += (unsigned)px_inst[i].queued;
	return n;
}

unsigned
px_conn_open(void)
{
	unsigned n = 0;
	for (size_t i = 0; i < PX_MAX_CONN; i++)
		n += px_conn[i].st != PXK_FREE;
	return n;
}

/* ---- reading a request ---- */

static void
on_request_bytes(struct px_conn *c)
{
	const char *why = "";
	if (!c->req.head_len) {
		int r = pxhttp_parse(c->in, c->in_len, px_opt.max_body, &c->req, &why);
		if (r == 0)
			return;
		if (r > 1) {
			px_m.bad_requests++;
			px_conn_error(c, r, "BadRequestError", NULL, "%s", why);
			return;
		}
		if (c->req.expect_continue && c->in_len < c->req.head_len + c->req.content_length)
			(void)!send(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
	}
	if (c->in_len < c->req.head_len + c->req.content_length)
		return;
	px_api_route(c);
}

void
px_conn_client_read(struct px_conn *c)
{
	for (;;) {
		if (c->st == PXK_READ && c->in_len == c->in_cap) {
			size_t limit = PXHTTP_HEAD_MAX + px_opt.max_body + 1;
			size_t cap = c->in_cap ? c->in_cap * 2 : 4096;
			if (c->req.head_len)
				cap = c->req.head_len + (size_t)c->req.content_length + 1;
			if (cap > limit)
				cap = limit;
			char *p = cap > c->in_cap ? realloc(c->in, cap) : NULL;
			if (!p) {
				px_conn_error(c, 413, "BadRequestError", NULL, "the request is larger than the proxy's limit");
				return;
			}
			c->in = p;
			c->in_cap = cap;
		}
		char sink[512];
		int reading = c->st == PXK_READ;
		ssize_t r = reading ? recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0) :
		    recv(c->fd, sink, sizeof sink, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			/* The client went away: cancel what it asked for (closing the upstream aborts it in vLLM). */
			if (c->st != PXK_READ)
				px_m.client_gone++;
			px_conn_close(c);
			return;
		}
		if (!reading)
			continue; /* one request per connection: what follows it is not read */
		c->in_len += (size_t)r;
		on_request_bytes(c);
		if (c->st != PXK_READ)
			return;
	}
}

/* ---- the answer ---- */

static const char *
find_head_end(const char *b, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n')
			return b + i + 4;
	return NULL;
}

/* Rewrite the upstream's head in down: Connection: close and CORS; note how the body ends. */
static int
rewrite_head(struct px_conn *c)
{
	const char *end = find_head_end(c->down, c->down_len);
	if (!end)
		return c->down_len >= PX_BUF - 1024 ? -1 : 0;
	char head[PX_BUF];
	size_t hl = 0, old = (size_t)(end - c->down);
	const char *p = (const char *)memchr(c->down, '\n', old) + 1;
	if (c->down_len < 12 || strncmp(c->down, "HTTP/1.", 7) != 0)
		return -1;
	c->status = atoi(c->down + 9);
	memcpy(head, c->down, (size_t)(p - c->down));
	hl = (size_t)(p - c->down);
	c->clen = -1;
	while (p < end - 2) {
		const char *le = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (!colon)
			return -1;
		size_t nl = (size_t)(colon - p);
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		if (pxhttp_name_is(p, nl, "transfer-encoding"))
			c->chunked = strncmp(v, "chunked", 7) == 0;
		else if (pxhttp_name_is(p, nl, "content-length"))
			c->clen = atoll(v);
		else if (pxhttp_name_is(p, nl, "content-type"))
			c->sse = strncmp(v, "text/event-stream", 17) == 0;
		if (!pxhttp_name_is(p, nl, "connection") && !pxhttp_name_is(p, nl, "keep-alive") &&
		    !pxhttp_name_is(p, nl, "access-control-allow-origin")) {
			memcpy(head + hl, p, (size_t)(le - p));
			hl += (size_t)(le - p);
		}
		p = le;
	}
	hl += (size_t)snprintf(head + hl, sizeof head - hl, "Connection: close\r\n%s\r\n", cors);
	size_t body = c->down_len - old;
	if (hl + body > PX_BUF)
		return -1;
	memmove(c->down + hl, end, body);
	memcpy(c->down, head, hl);
	c->down_len = hl + body;
	c->head_done = 1;
	if (c->status == 204 || c->status == 304 || (!c->chunked && c->clen == 0))
		c->body_done = 1;
	return (int)hl;
}

static void
track_body(struct px_conn *c, const char *p, size_t n)
{
	if (c->body_done || !n)
		return;
	if (c->chunked) {
		if (pxhttp_chunks_feed(&c->ck, p, n) != 0)
			c->body_done = 1;
	} else if (c->clen >= 0) {
		c->clen -= (int64_t)n;
		if (c->clen <= 0)
			c->body_done = 1;
	}
}

/*
 * The upstream failed before any byte of an answer. When its server has died (reaped now), the
 * request was never served: it waits again, once, for the restart the next turn makes. 1 when
 * it was put back in the queue.
 */
static int
requeue_if_dead(struct px_conn *c)
{
	struct px_inst *in = &px_inst[c->role];
	if (c->resent)
		return 0;
	/* A server killed closes its sockets before it can be reaped: give its exit up to 100 ms
	 * (this path only, after a failure) to tell a dead server from one that closed on purpose. */
	for (int k = 0; k < 20; k++) {
		px_inst_reap(px_now());
		if (in->st != PXS_READY && in->st != PXS_DRAINING)
			break;
		usleep(5000);
	}
	if (in->st == PXS_READY || in->st == PXS_DRAINING)
		return 0;
	if (c->up >= 0)
		close(c->up);
	c->up = -1;
	in->inflight--;
	c->resent = 1;
	c->upreq_sent = 0;
	c->down_len = c->down_off = 0;
	c->st = PXK_QUEUED;
	c->queued_t = px_now();
	in->queued++;
	return 1;
}

/* The upstream closed: finish, or tell the client cleanly that it did not. */
static void
upstream_closed(struct px_conn *c)
{
	struct px_inst *in = &px_inst[c->role];
	if (!c->head_done && c->down_len == 0 && requeue_if_dead(c))
		return;
	close(c->up);
	c->up = -1;
	if (!c->head_done) {
		px_m.upstream_errors++;
		in->inflight--;
		c->st = PXK_READ; /* no longer in flight for conn_close's counting */
		px_conn_error(c, 502, "BadGateway", NULL, "the server of role '%s' closed the connection without "
		    "answering (it may have exited; GET /logs/%s shows its output)", in->e.role, in->e.role);
		return;
	}
	if (!c->body_done && (c->chunked || c->clen >= 0)) {
		px_m.upstream_errors++;
		if (c->chunked && c->sse && pxhttp_chunks_at_boundary(&c->ck)) {
			char ev[768], esc[512], msg[400];
			snprintf(msg, sizeof msg, "the server of role '%s' ended the stream before it was complete "
			    "(it may have exited; the next request starts it again)", in->e.role);
			swjson_escape(esc, sizeof esc, msg);
			int k = snprintf(ev, sizeof ev, "data: {\"error\": {\"message\": %s, \"type\": \"BadGateway\", "
			    "\"param\": null, \"code\": 502}}\n\n", esc);
			char tail[1024];
			int t = snprintf(tail, sizeof tail, "%x\r\n%s\r\ne\r\ndata: [DONE]\n\n\r\n0\r\n\r\n", k, ev);
			if (c->down_len + (size_t)t <= PX_BUF) {
				memcpy(c->down + c->down_len, tail, (size_t)t);
				c->down_len += (size_t)t;
			}
		}
	}
	c->body_done = 1;
	c->close_after = 1;
}

void
px_conn_upstream_event(struct px_conn *c, short rev)
{
	if (c->st == PXK_CONNECT) {
		int err = 0;
		socklen_t el = sizeof err;
		getsockopt(c->up, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err && requeue_if_dead(c))
			return;
		if (err) {
			struct px_inst *in = &px_inst[c->role];
			in->inflight--;
			px_m.upstream_errors++;
			c->st = PXK_READ;
			px_conn_error(c, 502, "BadGateway", NULL, "cannot connect to the server of role '%s' on port %u: %s",
			    in->e.role, in->port, strerror(err));
			return;
		}
		c->st = PXK_FORWARD;
	}
	if (c->upreq_sent < c->upreq_len && (rev & POLLOUT)) {
		ssize_t w = send(c->up, c->upreq + c->upreq_sent, c->upreq_len - c->upreq_sent, MSG_NOSIGNAL);
		if (w > 0)
			c->upreq_sent += (size_t)w;
	}
	if (!(rev & (POLLIN | POLLHUP | POLLERR)))
		return;
	if (c->down_off == c->down_len) {
		c->down_off = c->down_len = 0;
	} else if (c->head_done && c->down_off > PX_BUF / 2) {
		memmove(c->down, c->down + c->down_off, c->down_len - c->down_off);
		c->down_len -= c->down_off;
		c->down_off = 0;
	}
	size_t room = PX_BUF - (c->head_done ? 0 : 1024) - c->down_len;
	if (room == 0)
		return;
	ssize_t r = recv(c->up, c->down + c->down_len, room, 0);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		upstream_closed(c);
		return;
	}
	size_t at = c->down_len;
	c->down_len += (size_t)r;
	if (!c->head_done) {
		int hl = rewrite_head(c);
		if (hl < 0) {
			px_inst[c->role].inflight--;
			c->st = PXK_READ;
			px_m.upstream_errors++;
			px_conn_error(c, 502, "BadGateway", NULL, "the server of role '%s' sent a malformed response head",
			    px_inst[c->role].e.role);
			return;
		}
		if (hl > 0)
			track_body(c, c->down + hl, c->down_len - (size_t)hl);
	} else {
		track_body(c, c->down + at, (size_t)r);
	}
	if (c->body_done) {
		close(c->up);
		c->up = -1;
		c->close_after = 1;
	}
}

void
px_conn_client_write(struct px_conn *c)
{
	const char *buf = c->st == PXK_LOCAL ? c->upreq : c->down;
	size_t *off = c->st == PXK_LOCAL ? &c->upreq_sent : &c->down_off;
	size_t len = c->st == PXK_LOCAL ? c->upreq_len : c->down_len;
	while (*off < len) {
		ssize_t w = send(c->fd, buf + *off, len - *off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			px_m.client_gone++;
			px_conn_close(c);
			return;
		}
		*off += (size_t)w;
	}
	if (c->st == PXK_LOCAL || c->close_after) {
		px_conn_close(c);
		return;
	}
	c->down_off = c->down_len = 0; /* all out: the upstream may fill the whole buffer again */
}
