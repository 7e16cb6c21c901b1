#ifndef MODELC_PX_H
#define MODELC_PX_H

/*
 * switch proxy's state: the options, the role instances (one vLLM server each, on its own
 * loopback port) and the client connections, all in fixed static arrays. One thread runs one
 * poll(2) loop over non-blocking sockets (pxloop.c) with the connections' reading and forwarding
 * (pxconn.c); the instances' life cycle and the swap policy are pxinst.c, which roles may stay
 * resident together and with what limits pxgroup.c, their ports, names and serving settings
 * pxroles.c; the proxy's own routes are pxapi.c, --dry-run pxdry.c; request parsing pxhttp.c.
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
	PX_MAX_ALIASES = 32,       /* a role's aliases (the catalog allows 32) */
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
	double ttl_s;              /* --ttl S: for roles whose catalog sets no ttl; 0: never */
	int sleep_level;           /* --sleep-level N: for roles whose catalog sets none; 0: stop them */
	double start_base_s;       /* start timeout = start_base_s + weights / disk_bps, for roles the */
	double disk_bps;           /* table gives no load timeout, or every role when given (start_set) */
	int start_set;
	struct px_override {       /* --ttl ROLE=S, --sleep-level ROLE=N: win over the catalog */
		const char *role;
		int sleep;             /* 0: a ttl, 1: a sleep level */
		long v;
	} ov[2 * PX_MAX_ROLES];
	size_t nov;
	const char *api_key;       /* NULL: none (loopback only) */
	size_t api_key_len;
};

enum px_state { PXS_STOPPED, PXS_STARTING, PXS_READY, PXS_DRAINING, PXS_SLEEPING, PXS_ASLEEP, PXS_WAKING,
	PXS_STOPPING, PXS_FAILED };

enum px_ctl { PXC_NONE, PXC_HEALTH, PXC_SLEEP, PXC_WAKE };

/* Where a role's serving setting came from, for --dry-run and /running. */
enum px_src { PXSRC_NONE, PXSRC_CATALOG, PXSRC_DEFAULT, PXSRC_OVERRIDE };

struct px_inst {
	struct model_entry e;
	struct model_role_serve sv;   /* the table's serving record */
	double ttl_s;                 /* in effect: catalog, else --ttl; --ttl ROLE=S overrides */
	int sleep_level;              /* likewise with --sleep-level */
	enum px_src ttl_src, sleep_src;
	int join;                     /* the group chosen while its way is cleared; -2: none chosen */
	/* the limits the running instance was started with */
	int grp;                      /* its together: group (model_table_group index), -1: alone */
	uint32_t lim_len;
	double lim_util;
	uint64_t lim_kv;              /* --kv-cache-memory-bytes, 0: the share was passed */
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
extern struct model_table px_table;   /* the loaded table, its serving sections checked */
extern struct px_inst px_inst[PX_MAX_ROLES];
extern size_t px_ninst;
extern struct px_conn px_conn[PX_MAX_CONN];
extern struct px_metrics px_m;
extern volatile int px_stopping;

double px_now(void);

/* Record s in role i's output ring (and nothing else). */
void px_log(struct px_inst *in, const char *s, size_t n);

/* Read a small file (/proc) into buf (NUL-terminated); its length, or -1. */
ssize_t px_read_small(const char *path, char *buf, size_t cap);

/* Nonzero when the request authorises: no key configured, or "Bearer KEY" (constant time). */
int px_authorized(const struct pxhttp_req *r);

#endif
