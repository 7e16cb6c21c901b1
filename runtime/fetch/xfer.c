#define _DEFAULT_SOURCE
#include "xfer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "size.h"
#include "xfer_state.h"
#include "xretry.h"

const char *
xfer_shown(const char *url, char *buf, size_t n)
{
	size_t q = strcspn(url, "?");
	snprintf(buf, n, "%.*s", (int)q, url);
	return buf;
}

void
xfer_job_fail(struct xfer *x, struct xfer_job *j, int result, const char *msg)
{
	j->result = result;
	j->st->phase = PH_DONE;
	fprogress_event(x->prog, "error", j->role, j->path, 0, "%s", msg);
}

int
xfer_verify_file(const struct xfer_job *j, const char *file, char *err, size_t errlen)
{
	char s256[DIGEST_SHA256_HEX + 1], s1[DIGEST_SHA1_HEX + 1];
	if (digest_file(file, j->blob_id != NULL, j->size, s256, s1, err, errlen))
		return 3;
	if (j->sha256 && !digest_equal(s256, j->sha256, DIGEST_SHA256_HEX)) {
		snprintf(err, errlen, "sha256 mismatch: expected %s, got %s", j->sha256, s256);
		return 1;
	}
	if (j->blob_id && !digest_equal(s1, j->blob_id, DIGEST_SHA1_HEX)) {
		snprintf(err, errlen, "git blob id mismatch: expected %s, got %s", j->blob_id, s1);
		return 1;
	}
	return 0;
}

static size_t
on_data(char *p, size_t size, size_t n, void *ud)
{
	struct xfer_state *s = ud;
	struct xfer_job *j = s->job;
	size_t len = size * n;
	if (!s->body_checked) {
		s->body_checked = true;
		long status = 0;
		curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
		s->hop_data = status >= 200 && status < 300;
		if (s->hop_data && status == 206) {
			if (!s->hd.has_content_range || s->hd.range_start != s->offset) {
				/* Not the part asked for: start over rather than splice. */
				s->offset = (uint64_t)-1;
				return 0;
			}
			if (s->hd.range_total != j->size) {
				s->bad_total = true;
				s->hd.content_length = s->hd.range_total;
				return 0;
			}
		} else if (s->hop_data && s->offset > 0) {
			fprogress_event(s->x->prog, "restart", j->role, j->path, s->offset,
			    "the server ignored Range; starting again from byte 0");
			if ((s->wr_errno = sink_drain(&s->sink)))
				return 0;
			if (ftruncate(s->fd, 0)) {
				s->wr_errno = errno;
				return 0;
			}
			digest_free(&s->dg);
			if (digest_init(&s->dg, j->blob_id != NULL, j->size)) {
				s->wr_errno = ENOMEM;
				return 0;
			}
			s->offset = 0;
		}
	}
	if (!s->hop_data)
		return len;  /* a redirect's or an error's body */
	if (s->offset + len > j->size) {
		s->overflow = true;
		return 0;
	}
	int q = sink_put(&s->sink, p, len, s->offset);
	if (q == 0) {
		s->paused = true;
		return CURL_WRITEFUNC_PAUSE;  /* curl hands the same bytes again on resume */
	}
	if (q < 0) {
		/* The worker may have failed the write: take its errno under the sink's lock. */
		if (!(s->wr_errno = sink_drain(&s->sink)))
			s->wr_errno = EIO;
		return 0;
	}
	s->offset += len;
	s->got += len;
	j->received += len;
	s->x->prog->current = j->path;
	s->x->prog->current_done = s->offset;
	s->x->prog->current_size = j->size;
	fprogress_bytes(s->x->prog, len);
	return len;
}

int
xfer_hop_setup(struct xfer_state *s)
{
	struct xfer *x = s->x;
	hub_headers_free(s->hdrs);
	s->hdrs = hub_headers(x->hub, s->cur, s->offset, UINT64_MAX);
	if (!s->hdrs)
		return -1;
	if (!s->easy && !(s->easy = curl_easy_init()))
		return -1;
	CURL *c = s->easy;
	s->body_checked = s->hop_data = false;
	hub_easy_prepare(x->hub, c, s->cur, s->hdrs, &s->hd, on_data, s, s->cerr);
	curl_easy_setopt(c, CURLOPT_PRIVATE, s);
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, (long)XFER_BUFFER);
	return 0;
}

static void
wake(void *multi)
{
	curl_multi_wakeup(multi);
}

/* Hash the partial file, open it for resuming, start its sink; 0, or -1 with errno. */
static int
open_partial(struct xfer_state *s)
{
	struct xfer_job *j = s->job;
	s->fd = open(s->tmp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (s->fd < 0)
		return -1;
	struct stat st;
	if (fstat(s->fd, &st))
		return -1;
	s->offset = (uint64_t)st.st_size;
	if (s->offset > j->size) {
		if (ftruncate(s->fd, 0))
			return -1;
		s->offset = 0;
	}
	if (digest_init(&s->dg, j->blob_id != NULL, j->size)) {
		errno = ENOMEM;
		return -1;
	}
	s->dg_live = true;
	if (s->offset && digest_fd_prefix(&s->dg, s->fd, s->offset)) {
		/* Unreadable partial: drop it. */
		digest_free(&s->dg);
		if (ftruncate(s->fd, 0) || digest_init(&s->dg, j->blob_id != NULL, j->size))
			return -1;
		s->offset = 0;
	}
	return sink_start(&s->sink, s->fd, &s->dg, wake, s->multi);
}

static void
release(struct xfer_state *s)
{
	sink_stop(&s->sink);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	if (s->dg_live)
		digest_free(&s->dg);
	s->dg_live = false;
	hfcache_unlock(s->lockfd);
	s->lockfd = -1;
	hub_headers_free(s->hdrs);
	s->hdrs = NULL;
	if (s->easy)
		curl_easy_cleanup(s->easy);
	s->easy = NULL;
}

void
xfer_finish(struct xfer *x, struct xfer_job *j)
{
	struct xfer_state *s = j->st;
	char s256[DIGEST_SHA256_HEX + 1], s1[DIGEST_SHA1_HEX + 1], msg[XFER_MSG_MAX];
	digest_final(&s->dg, s256, s1);
	const char *want = j->sha256 ? j->sha256 : j->blob_id;
	const char *got = j->sha256 ? s256 : s1;
	size_t hl = j->sha256 ? DIGEST_SHA256_HEX : DIGEST_SHA1_HEX;
	if (!digest_equal(want, got, hl)) {
		unlink(s->tmp);
		snprintf(msg, sizeof msg, "%s mismatch: expected %s, got %s; the download was deleted",
		    j->sha256 ? "sha256" : "git blob id", want, got);
		xfer_job_fail(x, j, 1, msg);
		return;
	}
	/* git-tracked files may carry both; the blob id must match too. */
	if (j->sha256 && j->blob_id && !digest_equal(j->blob_id, s1, DIGEST_SHA1_HEX)) {
		unlink(s->tmp);
		snprintf(msg, sizeof msg, "git blob id mismatch: expected %s, got %s; the download was deleted",
		    j->blob_id, s1);
		xfer_job_fail(x, j, 1, msg);
		return;
	}
	/*
	 * The fsync (seconds for a large file on a disk) runs on the file's worker thread, so the
	 * event loop keeps the other transfers going; finish_commit follows when it is done.
	 */
	sink_sync_start(&s->sink);
	s->phase = PH_SYNC;
}

/* The verified file is on disk: make it visible (rename, stamp, link). err: the fsync's errno. */
static void
finish_commit(struct xfer *x, struct xfer_job *j, int sync_err)
{
	struct xfer_state *s = j->st;
	char msg[XFER_MSG_MAX], err[XFER_MSG_MAX];
	const char *want = j->sha256 ? j->sha256 : j->blob_id;
	mode_t um = umask(0);
	umask(um);
	int e = sync_err;
	if (!e && fchmod(s->fd, 0666 & ~um))
		e = errno;
	if (close(s->fd) && !e)
		e = errno;
	s->fd = -1;
	if (e) {
		snprintf(msg, sizeof msg, "%s: %s", s->tmp, strerror(e));
		xfer_job_fail(x, j, 3, msg);
		return;
	}
	if (rename(s->tmp, s->blob)) {
		snprintf(msg, sizeof msg, "%s: %s", s->blob, strerror(errno));
		xfer_job_fail(x, j, 3, msg);
		return;
	}
	char dir[HFCACHE_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", s->blob);
	*strrchr(dir, '/') = '\0';
	hfcache_fsync_dir(dir);
	if (hfcache_stamp_write(x->cache, j->folder, j->etag, s->blob, want, err, sizeof err) ||
	    hfcache_link(x->cache, j->folder, j->commit, j->path, j->etag, !x->cache->symlinks, err, sizeof err)) {
		xfer_job_fail(x, j, 3, err);
		return;
	}
	if (!x->cache->symlinks) {
		/* The blob moved into snapshots/: stamp that file instead. */
		char ptr[HFCACHE_PATH_MAX];
		hfcache_path(x->cache, ptr, sizeof ptr, j->folder, "snapshots/%s/%s", j->commit, j->path);
		hfcache_stamp_write(x->cache, j->folder, j->etag, ptr, want, err, sizeof err);
	}
	j->result = 0;
	j->downloaded = true;
	j->seconds = fprogress_now() - s->t0;
	s->phase = PH_DONE;
	x->prog->files_done++;
	char sz[32], rate[32] = "";
	if (j->received >= SIZE_MIB && j->seconds > 0)
		snprintf(rate, sizeof rate, ", %.0f MB/s", (double)j->received / j->seconds / 1e6);
	fprogress_event(x->prog, "done", j->role, j->path, j->received, "verified %s (%s %s)%s",
	    fprogress_size(j->size, sz, sizeof sz), j->sha256 ? "sha256" : "git blob id", want, rate);
}

/* Lock, look for the blob, open the partial file and start the first hop. */
static int
start(struct xfer *x, CURLM *multi, struct xfer_job *j)
{
	struct xfer_state *s = j->st;
	char err[XFER_MSG_MAX];
	int r = hfcache_lock(x->cache, j->folder, j->etag, false, &s->lockfd, err, sizeof err);
	if (r < 0) {
		xfer_job_fail(x, j, 3, err);
		return 0;
	}
	if (r == 1) {
		if (!s->waited_lock)
			fprogress_event(x->prog, "wait", j->role, j->path, 0,
			    "waiting for the blob's lock (another download of the same blob is running)");
		s->waited_lock = true;
		s->next_try = fprogress_now() + 0.5;
		return 0;
	}
	hfcache_path(x->cache, s->blob, sizeof s->blob, j->folder, "blobs/%s", j->etag);
	hfcache_path(x->cache, s->tmp, sizeof s->tmp, j->folder, "blobs/%s.incomplete", j->etag);
	struct stat st;
	if (stat(s->blob, &st) == 0) {
		/* Someone else finished it while we waited: verify it, then link. */
		int v = xfer_verify_file(j, s->blob, err, sizeof err);
		if (v == 0) {
			const char *want = j->sha256 ? j->sha256 : j->blob_id;
			if (hfcache_stamp_write(x->cache, j->folder, j->etag, s->blob, want, err, sizeof err) ||
			    hfcache_link(x->cache, j->folder, j->commit, j->path, j->etag, false, err, sizeof err)) {
				xfer_job_fail(x, j, 3, err);
				return 0;
			}
			j->result = 0;
			s->phase = PH_DONE;
			x->prog->files_done++;
			fprogress_event(x->prog, "skip", j->role, j->path, 0, "already in the cache; verified");
			return 0;
		}
		fprogress_event(x->prog, "corrupt", j->role, j->path, 0, "%s: %s; removing it", s->blob, err);
		unlink(s->blob);
	}
	if (hfcache_mkparents(s->tmp) || open_partial(s)) {
		snprintf(err, sizeof err, "%s: %s", s->tmp, strerror(errno));
		xfer_job_fail(x, j, 3, err);
		return 0;
	}
	s->t0 = fprogress_now();
	x->prog->current = j->path;
	if (s->offset == j->size) {
		xfer_finish(x, j);
		return 0;
	}
	char sz[32], at[32];
	if (s->offset)
		fprogress_event(x->prog, "resume", j->role, j->path, s->offset, "resuming at %s of %s",
		    fprogress_size(s->offset, at, sizeof at), fprogress_size(j->size, sz, sizeof sz));
	else
		fprogress_event(x->prog, "start", j->role, j->path, j->size, "downloading %s",
		    fprogress_size(j->size, sz, sizeof sz));
	snprintf(s->cur, sizeof s->cur, "%s", s->url);
	s->hops = 0;
	s->got = 0;
	if (xfer_hop_setup(s) || curl_multi_add_handle(multi, s->easy) != CURLM_OK) {
		xfer_job_fail(x, j, 3, "cannot set up the transfer (out of memory?)");
		return 0;
	}
	s->phase = PH_ACTIVE;
	return 1;
}

int
xfer_run(struct xfer *x, struct xfer_job *jobs, size_t n)
{
	CURLM *multi = curl_multi_init();
	struct xfer_state *states = calloc(n ? n : 1, sizeof *states);
	if (!multi || !states) {
		curl_multi_cleanup(multi);
		free(states);
		return 3;
	}
	for (size_t i = 0; i < n; i++) {
		struct xfer_state *s = &states[i];
		jobs[i].st = s;
		s->x = x;
		s->job = &jobs[i];
		s->fd = s->lockfd = -1;
		s->phase = PH_WAIT;
		s->multi = multi;
		char *u = hub_resolve_url(x->hub, jobs[i].repo, jobs[i].commit, jobs[i].path);
		snprintf(s->url, sizeof s->url, "%s", u ? u : "");
		free(u);
	}
	unsigned max = x->max_jobs ? x->max_jobs : 1;
	for (;;) {
		double now = fprogress_now(), wake = now + 0.5;
		unsigned active = 0;
		size_t left = 0;
		for (size_t i = 0; i < n; i++)
			if (states[i].phase == PH_ACTIVE || states[i].phase == PH_SYNC)
				active++;  /* a file being fsynced keeps its ring: memory stays bounded by --jobs */
		bool moved = false;  /* a job changed phase: go round again at once */
		for (size_t i = 0; i < n; i++) {
			struct xfer_state *s = &states[i];
			if (s->phase == PH_WAIT && active < max && s->next_try <= now) {
				moved = true;
				if (s->fd >= 0) {
					s->t0 = s->t0 ? s->t0 : now;
					xretry_restart_hop(x, multi, &jobs[i]);
				} else
					start(x, multi, &jobs[i]);
				if (s->phase == PH_ACTIVE)
					active++;
			}
			if (s->phase == PH_DONE)
				release(s);
			else {
				left++;
				if (s->phase == PH_WAIT && s->next_try < wake)
					wake = s->next_try;
			}
		}
		if (!left)
			break;
		int running = 0;
		curl_multi_perform(multi, &running);
		CURLMsg *msg;
		int q;
		while ((msg = curl_multi_info_read(multi, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct xfer_state *s = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			xretry_completed(x, multi, s->job, msg->data.result);
			moved = true;
		}
		now = fprogress_now();
		int timeout = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
		if (timeout > 100)
			timeout = 100;
		for (size_t i = 0; i < n; i++)
			if (states[i].phase == PH_SYNC) {
				int e;
				if (sink_sync_done(&states[i].sink, &e)) {
					finish_commit(x, &jobs[i], e);
					moved = true;
				}
			}
		/*
		 * A transfer just ended (done, redirected, to be retried) or started: no sleeping, or
		 * the last file's end and every redirect hop would wait out the 100 ms below with
		 * nothing running.
		 */
		if (moved)
			timeout = 0;
		/* Also with nothing running: a worker's fsync ends with curl_multi_wakeup. */
		curl_multi_poll(multi, NULL, 0, timeout, NULL);
		for (size_t i = 0; i < n; i++) {
			struct xfer_state *s = &states[i];
			if (s->phase == PH_ACTIVE && s->paused && sink_has_space(&s->sink)) {
				s->paused = false;
				curl_easy_pause(s->easy, CURLPAUSE_CONT);
			}
		}
		fprogress_bytes(x->prog, 0);
	}
	int worst = 0;
	for (size_t i = 0; i < n; i++) {
		release(&states[i]);
		jobs[i].st = NULL;
		if (jobs[i].result > worst)
			worst = jobs[i].result;
	}
	free(states);
	curl_multi_cleanup(multi);
	return worst;
}
