#include "sink.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * pwrite all of p at off; 0, or -1 with s->err set. Called without the lock, by the worker (or
 * by the producer for a chunk larger than a buffer, while the worker is idle).
 */
static int
write_all(struct sink *s, const unsigned char *p, size_t n, uint64_t off)
{
	for (size_t w = 0; w < n;) {
		ssize_t r = pwrite(s->fd, p + w, n - w, (off_t)(off + w));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			pthread_mutex_lock(&s->mu);
			s->err = errno;
			pthread_mutex_unlock(&s->mu);
			return -1;
		}
		w += (size_t)r;
	}
	return 0;
}

static void *
worker(void *arg)
{
	struct sink *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->count && !s->stop && !s->sync_req)
			pthread_cond_wait(&s->work, &s->mu);
		if (!s->count && s->sync_req) {
			/* Everything queued is written: fsync here, beside the other transfers. */
			s->sync_req = false;
			pthread_mutex_unlock(&s->mu);
			int e = fsync(s->fd) ? errno : 0;
			pthread_mutex_lock(&s->mu);
			s->sync_err = e;
			s->sync_done = true;
			if (s->notify) {
				pthread_mutex_unlock(&s->mu);
				s->notify(s->notify_arg);
				pthread_mutex_lock(&s->mu);
			}
			continue;
		}
		if (!s->count && s->stop)
			break;
		unsigned i = s->head;
		bool failed = s->err != 0;      /* after a failed write, nothing more is written */
		s->busy = true;
		pthread_mutex_unlock(&s->mu);
		/*
		 * Outside the lock: the producer keeps filling other buffers meanwhile. The worker
		 * writes as well as hashes, so the receiving thread (which serves every transfer)
		 * only copies: measured, it then needs about half the CPU curl needs for the same
		 * bytes, and the write runs on the file's own core.
		 */
		if (!failed)
			write_all(s, s->buf[i], s->len[i], s->off[i]);
		digest_update(s->dg, s->buf[i], s->len[i]);
		pthread_mutex_lock(&s->mu);
		s->busy = false;
		s->head = (s->head + 1) % SINK_NBUF;
		s->count--;
		pthread_cond_broadcast(&s->space);
		/* Wake the event loop only when the producer was turned away (its transfer is paused). */
		if (s->want_space && s->notify) {
			s->want_space = false;
			pthread_mutex_unlock(&s->mu);
			s->notify(s->notify_arg);
			pthread_mutex_lock(&s->mu);
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int
sink_start(struct sink *s, int fd, struct digest *dg, void (*notify)(void *), void *arg)
{
	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->dg = dg;
	s->notify = notify;
	s->notify_arg = arg;
	s->fill = -1;
	for (int i = 0; i < SINK_NBUF; i++)
		if (!(s->buf[i] = malloc(SINK_BUF))) {
			for (int k = 0; k < i; k++)
				free(s->buf[k]);
			errno = ENOMEM;
			return -1;
		}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work, NULL);
	pthread_cond_init(&s->space, NULL);
	int e = pthread_create(&s->thread, NULL, worker, s);
	if (e) {
		for (int i = 0; i < SINK_NBUF; i++)
			free(s->buf[i]);
		errno = e;
		return -1;
	}
	s->running = true;
	return 0;
}

/* Hand the filling buffer to the worker, which writes and hashes it. Called without the lock. */
static void
commit_fill(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	int i = s->fill;
	s->fill = -1;
	if (i >= 0 && s->len[i]) {
		s->count++;
		pthread_cond_signal(&s->work);
	}
	pthread_mutex_unlock(&s->mu);
}

/* More than a buffer at once (libcurl may hand over more after a pause): write it here, in order. */
static int
put_large(struct sink *s, const unsigned char *p, size_t n, uint64_t off)
{
	commit_fill(s);
	pthread_mutex_lock(&s->mu);
	while (s->count && !s->err)
		pthread_cond_wait(&s->space, &s->mu);
	int bad = s->err != 0;
	pthread_mutex_unlock(&s->mu);
	if (bad || write_all(s, p, n, off))
		return -1;
	digest_update(s->dg, p, n);  /* the worker is idle: everything before is hashed */
	return 1;
}

int
sink_put(struct sink *s, const void *p, size_t n, uint64_t off)
{
	pthread_mutex_lock(&s->mu);
	if (s->err) {
		pthread_mutex_unlock(&s->mu);
		return -1;
	}
	if (n > SINK_BUF) {
		pthread_mutex_unlock(&s->mu);
		return put_large(s, p, n, off);
	}
	if (s->fill >= 0 && (s->len[s->fill] + n > SINK_BUF || s->off[s->fill] + s->len[s->fill] != off)) {
		pthread_mutex_unlock(&s->mu);
		commit_fill(s);
		pthread_mutex_lock(&s->mu);
	}
	if (s->fill < 0) {
		/* The next buffer after the committed ones, if it is free. */
		if (s->count >= SINK_NBUF) {
			/*
			 * Full: turn the bytes away at once (curl pauses this transfer and serves the
			 * others) rather than wait here, which would stall every transfer of the
			 * event loop behind this file's hashing. The worker wakes the loop when a
			 * buffer frees up.
			 */
			s->want_space = true;
			pthread_mutex_unlock(&s->mu);
			return 0;
		}
		s->fill = (int)((s->head + s->count) % SINK_NBUF);
		s->len[s->fill] = 0;
		s->off[s->fill] = off;
	}
	/* The filling buffer is the producer's until flushed, so the copy needs no lock. */
	int i = s->fill;
	pthread_mutex_unlock(&s->mu);
	memcpy(s->buf[i] + s->len[i], p, n);
	s->len[i] += n;
	if (s->len[i] == SINK_BUF)
		commit_fill(s);
	return 1;
}

bool
sink_has_space(struct sink *s)
{
	pthread_mutex_lock(&s->mu);
	bool r = s->fill >= 0 || s->count < SINK_NBUF;
	pthread_mutex_unlock(&s->mu);
	return r;
}

int
sink_drain(struct sink *s)
{
	commit_fill(s);
	pthread_mutex_lock(&s->mu);
	while (s->count)
		pthread_cond_wait(&s->space, &s->mu);
	int e = s->err;
	pthread_mutex_unlock(&s->mu);
	return e;
}

void
sink_sync_start(struct sink *s)
{
	commit_fill(s);
	pthread_mutex_lock(&s->mu);
	s->sync_req = true;
	s->sync_done = false;
	s->sync_err = 0;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
}

bool
sink_sync_done(struct sink *s, int *err)
{
	pthread_mutex_lock(&s->mu);
	bool done = s->sync_done;
	if (done) {
		*err = s->err ? s->err : s->sync_err;
		s->sync_done = false;
	}
	pthread_mutex_unlock(&s->mu);
	return done;
}

void
sink_stop(struct sink *s)
{
	if (!s->running)
		return;
	sink_drain(s);
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_signal(&s->work);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	for (int i = 0; i < SINK_NBUF; i++)
		free(s->buf[i]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work);
	pthread_cond_destroy(&s->space);
	s->running = false;
}
