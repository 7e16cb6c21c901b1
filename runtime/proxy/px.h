#ifndef MODELC_PX_H
#define MODELC_PX_H

/*
 * switch proxy's state: the options, the role instances (one vLLM server each, on its own
 * loopback port) and the client connections, all in fixed static arrays. One thread runs one
 * poll(2) loop over non-blocking sockets (pxloop.c) with the connections' reading and forwarding
 * (pxconn.c); the instances' life cycle and the swap policy are pxinst.c, their ports and names
 * pxroles.c; the proxy's own routes are pxapi.c; request parsing pxhttp.c.
 */

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "model_table.h"
#include "pxhttp.h"

enum {
	PX_MAX_ROLES = 64,
	PX_MAX_CONN = 512,
	PX_BUF = 16384,            /* each direction's buffer per connection */
	PX_LOG_MAX = 32768,        /* the last bytes of each server's output, for GET /logs */
	PX_CTL_MAX = 2048,
	PX_MAX_ATTEMPTS = 3        /* starts of a role in a row that may fail before requests get the error */
};

/* Options, with their defaults in main.c. */
struct px_opts {
	char host[64];
	unsigned port;
	unsigned port_base;        /* role i listens on port_base + i */
	unsigned queue_max;        /* requests waiting for a swap, all roles together */
	uint64_t max_body;
	double drain_s;            /* how long a put-away waits for requests in flight */
	double ttl_s;              /* idle time before an instance is put away; 0: never */
	int sleep_level;           /* 0: stop instances; 1 or 2: vLLM sleep mode at that level */
	double start_base_s;       /* start timeout = start_base_s + weights / disk_bps */
	double disk_bps;
	const char *api_key;       /* NULL: none (loopback only) */
	size_t api_key_len;
};

enum px_state { PXS_STOPPED, PXS_STARTING, PXS_READY, PXS_DRAINING, PXS_SLEEPING, PXS_ASLEEP, PXS_WAKING,
	PXS_STOPPING, PXS_FAILED };

enum px_ctl { PXC_NONE, PXC_HEALTH, PXC_SLEEP, PXC_WAKE };

struct px_inst {
	struct model_entry e;
	unsigned port;
	pid_t pid;
	int logfd;                 /* the server's stdout and stderr, or -1 */
	enum px_state st;
	int inflight;
	int queued;
	int want;                  /* POST /load or --preload asked for it */
	int unload;                /* POST /unload asked: stop when drained */
	int stop_after_drain;      /* put away by stopping, not sleeping */
	double last_use, since, deadline, retry_at, swap_t0, want_t;
	int attempts;
	char why[512];             /* why the last start failed */
	/* one control request to the server at a time: health probe, sleep, wake_up */
	enum px_ctl ctl;
	int ctl_fd;
	char ctl_buf[PX_CTL_MAX];
	size_t ctl_len, ctl_sent, ctl_req_len;
	double ctl_deadline, next_probe;
	/* output ring */
	char log[PX_LOG_MAX];
	size_t log_pos;
	int log_full;
	/* metrics */
	unsigned long requests, starts, wakes, sleeps, stops, failures;
	double swap_sum_s;
	unsigned long swap_count;
};

enum px_cstate { PXK_FREE, PXK_READ, PXK_QUEUED, PXK_CONNECT, PXK_FORWARD, PXK_LOCAL };

struct px_conn {
	enum px_cstate st;
	int fd, up;
	char *in;                  /* the request: head and body (malloc, grows to the limit) */
	size_t in_len, in_cap;
	struct pxhttp_req req;
	int role;
	double t0, queued_t;
	char *upreq;               /* the request as sent upstream */
	size_t upreq_len, upreq_sent;
	size_t down_len, down_off;
	int head_done;             /* the upstream's response head was passed on */
	int chunked, sse, body_done, status;
	int64_t clen;              /* -1: none */
	struct pxhttp_chunks ck;
	int counted;
	int resent;                /* sent again once after its server died before answering */
	int close_after;           /* the local response is complete in down: close when written */
	char path[1024];           /* the target sent upstream */
	char down[PX_BUF];         /* to the client; last: accept clears what comes before it */
};

struct px_metrics {
	unsigned long accepted, rejected_full, rejected_conn, bad_requests, unknown_model, upstream_errors,
	    client_gone, forbidden, unauthorized;
};

extern struct px_opts px_opt;
extern struct px_inst px_inst[PX_MAX_ROLES];
extern size_t px_ninst;
extern struct px_conn px_conn[PX_MAX_CONN];
extern struct px_metrics px_m;
extern volatile int px_stopping;

double px_now(void);

/* Record s in role i's output ring (and nothing else). */
void px_log(struct px_inst *in, const char *s, size_t n);

/* Nonzero when the request authorises: no key configured, or "Bearer KEY" (constant time). */
int px_authorized(const struct pxhttp_req *r);

#endif
