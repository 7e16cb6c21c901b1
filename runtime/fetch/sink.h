#ifndef MODELC_SINK_H
#define MODELC_SINK_H

/*
 * Where a download's bytes go: the caller (curl's write callback, on the thread that serves
 * every transfer) only copies them into a small ring of buffers; one worker thread per file
 * writes each full buffer with one pwrite and hashes it, so writing and hashing run beside the
 * network instead of after it. When the ring is full the producer is told at once to pause, so
 * the event loop serves the other transfers meanwhile; the worker calls notify when a buffer
 * frees up for a paused producer.
 */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"

enum { SINK_NBUF = 4, SINK_BUF = 512 * 1024 };

struct sink {
	int fd;
	struct digest *dg;
	void (*notify)(void *);
	void *notify_arg;
	pthread_t thread;
	bool running;
	pthread_mutex_t mu;
	pthread_cond_t work, space;
	unsigned char *buf[SINK_NBUF];
	size_t len[SINK_NBUF];
	uint64_t off[SINK_NBUF];
	unsigned head, count;           /* committed buffers waiting for the worker */
	int fill;                       /* buffer the producer is filling, or -1 */
	bool busy;                      /* the worker holds a buffer */
	bool stop;
	bool want_space;
	bool sync_req, sync_done;       /* sink_sync_start asked the worker for an fsync; it is done */
	int sync_err;                /* sink_put was turned away: notify when a buffer frees */
	int err;                        /* errno of a failed write */
};

/* Start the worker for fd and dg; 0, or -1 with errno. */
int sink_start(struct sink *s, int fd, struct digest *dg, void (*notify)(void *), void *arg);

/*
 * Queue n bytes to be written at off (more than SINK_BUF are written at once); 1 queued, 0 full
 * (pause; notify follows when there is space), -1 failed (a write failed: this one or an
 * earlier one, which the worker made). Queued bytes are written once their buffer fills, or at
 * sink_drain.
 */
int sink_put(struct sink *s, const void *p, size_t n, uint64_t off);

/* Whether sink_put can take more now (to resume a paused transfer). */
bool sink_has_space(struct sink *s);

/* Wait until everything queued is written and hashed; returns 0 or a failed write's errno. */
int sink_drain(struct sink *s);

/*
 * Ask the worker to fsync the file once everything queued is written, so the fsync (seconds
 * for a large file on a disk) runs beside the other transfers; notify is called when it is
 * done. sink_sync_done then says whether it is, with 0 or the errno of a failed write or fsync.
 */
void sink_sync_start(struct sink *s);
bool sink_sync_done(struct sink *s, int *err);

/* Drain, stop the worker (after any fsync asked for) and free the buffers. */
void sink_stop(struct sink *s);

#endif
