/*
 * What a finished hop means for its file. The policy: a redirect is followed; a broken
 * connection, a body that ends early, 408, 429 and 5xx are retried from the resolve URL at the
 * current offset, with backoff, until a number of tries without progress; a 206 for another
 * range drops the partial file; more bytes than pinned, a size the server disagrees on, and
 * refusals end the job.
 */
#include "xretry.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "xfer_state.h"

/* Schedule another attempt from the resolve URL, or give up. */
static void
retry(struct xfer *x, struct xfer_job *j, long retry_after, const char *why)
{
	struct xfer_state *s = j->st;
	if (s->offset == j->size) {
		/*
		 * Every pinned byte is already here: the server announced a longer body and closed
		 * after the file, say. Resuming would ask for bytes=SIZE-, a range past the end that
		 * servers answer with 416; the hashes decide instead.
		 */
		char sz[32];
		fprogress_event(x->prog, "note", j->role, j->path, s->offset, "%s; all %s the manifest "
		    "pins have arrived, so they are verified instead of resumed", why,
		    fprogress_size(j->size, sz, sizeof sz));
		xfer_finish(x, j);
		return;
	}
	if (s->got)
		s->attempt = 0;  /* progress was made: only tries without progress count */
	s->attempt++;
	if (s->attempt >= x->hub->max_tries) {
		char msg[XFER_MSG_MAX + 256];
		snprintf(msg, sizeof msg, "%s; gave up after %u tries without progress (the partial file is "
		    "kept; run fetch again to resume)", why, s->attempt);
		xfer_job_fail(x, j, 3, msg);
		return;
	}
	unsigned ms = hub_retry_delay_ms(x->hub, s->attempt, retry_after);
	fprogress_event(x->prog, "retry", j->role, j->path, s->offset, "%s; retry %u in %.1f s", why,
	    s->attempt, ms / 1000.0);
	s->next_try = fprogress_now() + ms / 1000.0;
	snprintf(s->cur, sizeof s->cur, "%s", s->url);
	s->hops = 0;
	s->got = 0;
	s->phase = PH_WAIT;  /* keeps its lock and partial file */
}

/*
 * A 416 (range not satisfiable) to "Range: bytes=OFFSET-": the partial file does not continue
 * the file the server has. Say which of the two is off and what to do about it.
 */
static void
range_refused(struct xfer *x, struct xfer_job *j)
{
	struct xfer_state *s = j->st;
	char msg[XFER_MSG_MAX + HFCACHE_PATH_MAX], u[HUB_URL_MAX], at[32], sz[32], srv[32];
	const char *url = xfer_shown(s->cur, u, sizeof u);
	fprogress_size(s->offset, at, sizeof at);
	fprogress_size(j->size, sz, sizeof sz);
	if (s->hd.has_range_total && s->hd.range_total != j->size) {
		snprintf(msg, sizeof msg, "%s: HTTP 416 (range not satisfiable): the server refused to resume "
		    "at %s because its file has %llu bytes (%s) and the manifest pins %llu (%s): it serves "
		    "another file than the one pinned (check HF_ENDPOINT, or run 'modelc lock %s' and "
		    "'modelc build' if the pin is wrong); the partial file is kept", url, at,
		    (unsigned long long)s->hd.range_total, fprogress_size(s->hd.range_total, srv, sizeof srv),
		    (unsigned long long)j->size, sz, j->role);
		xfer_job_fail(x, j, 1, msg);
		return;
	}
	snprintf(msg, sizeof msg, "%s: HTTP 416 (range not satisfiable): the server refused to send the "
	    "file from byte %llu (%s of %s), a range the pinned file has; the partial file %s is kept: "
	    "run fetch again to retry, or delete it to download the file from the start", url,
	    (unsigned long long)s->offset, at, sz, s->tmp);
	xfer_job_fail(x, j, 3, msg);
}

void
xretry_restart_hop(struct xfer *x, CURLM *multi, struct xfer_job *j)
{
	struct xfer_state *s = j->st;
	if (xfer_hop_setup(s) || curl_multi_add_handle(multi, s->easy) != CURLM_OK)
		xfer_job_fail(x, j, 3, "cannot set up the transfer (out of memory?)");
	else
		s->phase = PH_ACTIVE;
}

void
xretry_completed(struct xfer *x, CURLM *multi, struct xfer_job *j, CURLcode cc)
{
	struct xfer_state *s = j->st;
	char msg[XFER_MSG_MAX], u[HUB_URL_MAX];
	long status = 0;
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(multi, s->easy);
	s->paused = false;
	int e = sink_drain(&s->sink);
	if (e && !s->wr_errno)
		s->wr_errno = e;
	if (s->wr_errno) {
		snprintf(msg, sizeof msg, "%s: %s (the partial file is kept; free some space and run fetch "
		    "again to resume)", s->tmp, strerror(s->wr_errno));
		xfer_job_fail(x, j, 3, msg);
		return;
	}
	if (s->overflow) {
		unlink(s->tmp);
		snprintf(msg, sizeof msg, "%s sent more than the %llu bytes the manifest pins; the download was "
		    "deleted", xfer_shown(s->cur, u, sizeof u), (unsigned long long)j->size);
		xfer_job_fail(x, j, 1, msg);
		return;
	}
	if (s->bad_total) {
		snprintf(msg, sizeof msg, "%s: the server says the file has %llu bytes, the manifest pins %llu",
		    xfer_shown(s->cur, u, sizeof u), (unsigned long long)s->hd.content_length, (unsigned long long)j->size);
		xfer_job_fail(x, j, 1, msg);
		return;
	}
	if (s->offset == (uint64_t)-1) {
		/* A 206 for the wrong range: drop the partial file and try again. */
		if (ftruncate(s->fd, 0) == 0) {
			digest_free(&s->dg);
			if (digest_init(&s->dg, j->blob_id != NULL, j->size) == 0) {
				s->offset = 0;
				retry(x, j, -1, "the server answered a different range than asked");
				return;
			}
		}
		xfer_job_fail(x, j, 3, "cannot reset the partial file");
		return;
	}
	if (cc != CURLE_OK) {
		snprintf(msg, sizeof msg, "%s: %s", xfer_shown(s->cur, u, sizeof u), s->cerr[0] ? s->cerr : curl_easy_strerror(cc));
		if (hub_retryable(0, cc))
			retry(x, j, -1, msg);
		else
			xfer_job_fail(x, j, 3, msg);
		return;
	}
	if (status >= 300 && status < 400) {
		char *next = NULL;
		curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &next);
		if (s->hops == 0 && s->hd.commit[0] && strcmp(s->hd.commit, j->commit)) {
			snprintf(msg, sizeof msg, "the Hub answered commit %s for %s, the manifest pins %s",
			    s->hd.commit, xfer_shown(s->cur, u, sizeof u), j->commit);
			xfer_job_fail(x, j, 1, msg);
			return;
		}
		if (!next) {
			snprintf(msg, sizeof msg, "%s: HTTP %ld without a Location header", xfer_shown(s->cur, u, sizeof u), status);
			xfer_job_fail(x, j, 3, msg);
			return;
		}
		if (++s->hops > HUB_MAX_REDIRECTS) {
			snprintf(msg, sizeof msg, "%s: more than %d redirects (a redirect loop?)", s->url,
			    HUB_MAX_REDIRECTS);
			xfer_job_fail(x, j, 3, msg);
			return;
		}
		snprintf(s->cur, sizeof s->cur, "%s", next);
		xretry_restart_hop(x, multi, j);  /* hub_headers adds the token only for the Hub's host */
		return;
	}
	if (status == 416) {
		range_refused(x, j);
		return;
	}
	if (status >= 400) {
		hub_error_message(x->hub, j->repo, j->commit, j->path, xfer_shown(s->cur, u, sizeof u), &s->hd, msg, sizeof msg);
		if (hub_retryable(status, CURLE_OK))
			retry(x, j, s->hd.retry_after_s, msg);
		else
			xfer_job_fail(x, j, status == 401 || status == 403 || status == 404 ? 1 : 3, msg);
		return;
	}
	if (s->offset < j->size) {
		char a[32], b[32];
		snprintf(msg, sizeof msg, "%s: the body ended at %s of %s", xfer_shown(s->cur, u, sizeof u),
		    fprogress_size(s->offset, a, sizeof a), fprogress_size(j->size, b, sizeof b));
		retry(x, j, -1, msg);
		return;
	}
	xfer_finish(x, j);
}
