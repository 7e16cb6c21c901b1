#ifndef MODELC_XFER_STATE_H
#define MODELC_XFER_STATE_H

/*
 * The state of one job's transfer, private to xfer.c (the event loop, a hop's bytes, the
 * file's life in the cache) and xretry.c (what to do when a hop ends). Nothing else includes it.
 */

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "sink.h"
#include "xfer.h"

enum { XFER_MSG_MAX = 3 * HUB_URL_MAX };

enum job_phase { PH_WAIT, PH_ACTIVE, PH_SYNC, PH_DONE };  /* PH_SYNC: verified, fsync on the sink's worker */

struct xfer_state {
	enum job_phase phase;
	double next_try;
	unsigned attempt;               /* tries without progress */
	unsigned hops;
	bool waited_lock;
	int lockfd, fd;
	char tmp[HFCACHE_PATH_MAX], blob[HFCACHE_PATH_MAX];
	uint64_t offset;
	struct digest dg;
	bool dg_live;
	CURL *easy;
	struct curl_slist *hdrs;
	struct hub_hdrs hd;
	char url[HUB_URL_MAX];          /* the resolve URL, where every attempt starts */
	char cur[HUB_URL_MAX];          /* this hop */
	char cerr[CURL_ERROR_SIZE];
	bool body_checked, hop_data, overflow, bad_total;
	int wr_errno;
	uint64_t got;                   /* bytes in this attempt */
	double t0;
	struct xfer *x;
	struct xfer_job *job;
	struct sink sink;               /* writes and hashes on its own thread */
	bool paused;                    /* the sink was full: curl is paused */
	CURLM *multi;
};

/* url without its query (signed CDN URLs are long and expire), in buf; returns buf. */
const char *xfer_shown(const char *url, char *buf, size_t n);

/* End job j with result (1 rejected, 3 failed) and an error event saying msg. */
void xfer_job_fail(struct xfer *x, struct xfer_job *j, int result, const char *msg);

/* Set up s->easy for one hop to s->cur, resuming at s->offset; 0, or -1 (out of memory). */
int xfer_hop_setup(struct xfer_state *s);

/* All the pinned bytes are in the partial file: check the hashes, then start the fsync. */
void xfer_finish(struct xfer *x, struct xfer_job *j);

#endif
