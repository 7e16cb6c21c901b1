#ifndef MODELC_PXCONN_H
#define MODELC_PXCONN_H

/*
 * The client connections and the loop. One request per connection (the proxy answers with
 * Connection: close); the body is read whole (up to --max-body) so that its "model" can route
 * it, then sent upstream unchanged; the answer comes back as it arrives: the status line and
 * headers with Connection: close and the CORS headers, the body byte for byte, each read
 * written at once (server-sent events are never held back). Bounded buffers: PX_BUF each way.
 */

#include <stddef.h>

#include "px.h"

/* Listen on host:port (numeric IPv4, or "localhost"); the descriptor or -1 after an error. */
int px_conn_listen(const char *host, unsigned port);

/* Run until SIGTERM or SIGINT (sigfd becomes readable and px_stopping is set); the exit code. */
int px_conn_run(int lfd, int sigfd);

/* Forward c's request to role with target path (its own, or /upstream/ROLE's rest). */
void px_conn_forward(struct px_conn *c, int role, const char *path, size_t path_len);

/* Answer c from the proxy itself; body is copied. extra: more header lines ("Name: v\r\n"), or "". */
void px_conn_respond(struct px_conn *c, int status, const char *extra, const char *ctype, const char *body,
    size_t len);

/* An OpenAI-style error body {"error": {"message", "type", "param", "code"}} with status. */
void px_conn_error(struct px_conn *c, int status, const char *type, const char *param, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Send every request waiting for role upstream (it is ready). */
void px_conn_dispatch(int role, double now);

/* Answer every request waiting for role with status and message. */
void px_conn_fail_role(int role, int status, const char *message);

/* When the oldest request waiting for role came (0: none waits). */
double px_conn_oldest(int role);

/* For the loop (pxloop.c): a connection's events, and closing it. */
void px_conn_client_read(struct px_conn *c);
void px_conn_client_write(struct px_conn *c);
void px_conn_upstream_event(struct px_conn *c, short rev);
void px_conn_close(struct px_conn *c);

/* Requests waiting, all roles; connections open. */
unsigned px_conn_queued(void);
unsigned px_conn_open(void);

#endif
