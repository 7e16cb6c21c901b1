#define _DEFAULT_SOURCE
#include "hub.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "errmsg.h"
#include "repoid.h"

enum {
	DEFAULT_BACKOFF_MS = 1000,
	DEFAULT_BACKOFF_MAX_MS = 30000,
};

static bool
env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "true"));
}

/*
 * While a token is held, no core file may carry it and no other process of the same user may
 * read this one's memory or environment (/proc/PID/mem, environ): dumpable 0 covers both.
 */
static void
token_protect(void)
{
	struct rlimit no_core = {0, 0};
	(void)setrlimit(RLIMIT_CORE, &no_core);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/* Copy a token value into locked memory, trimmed as huggingface_hub's _clean_token does. */
static int
token_set(struct hub *h, const char *v, size_t len, const char *source)
{
	while (len && isspace((unsigned char)*v))
		v++, len--;
	while (len && isspace((unsigned char)v[len - 1]))
		len--;
	if (len == 0)
		return 0;
	if (len >= HUB_TOKEN_MAX)
		return -1;
	h->token = sodium_malloc(len + 1);
	if (!h->token)
		return -1;
	memcpy(h->token, v, len);
	h->token[len] = '\0';
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)h->token[i] < 0x21 || (unsigned char)h->token[i] > 0x7e) {
			/* A token with spaces or control bytes would break the header line. */
			sodium_free(h->token);
			h->token = NULL;
			return -1;
		}
	h->token_source = source;
	token_protect();
	return 0;
}

/* Read the token file into locked memory; a missing file means no token. */
static int
token_from_file(struct hub *h, char *err, size_t errlen)
{
	char path[HUB_URL_MAX];
	const char *tp = getenv("HF_TOKEN_PATH");
	if (tp && *tp)
		snprintf(path, sizeof path, "%s", tp);
	else {
		const char *home = getenv("HF_HOME");
		if (home && *home)
			snprintf(path, sizeof path, "%s/token", home);
		else {
			const char *xdg = getenv("XDG_CACHE_HOME"), *uh = getenv("HOME");
			if (xdg && *xdg)
				snprintf(path, sizeof path, "%s/huggingface/token", xdg);
			else if (uh && *uh)
				snprintf(path, sizeof path, "%s/.cache/huggingface/token", uh);
			else
				return 0;
		}
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 :
		    errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
	char *buf = sodium_malloc(HUB_TOKEN_MAX);
	if (!buf) {
		close(fd);
		return errmsg_fail(err, errlen, "cannot allocate locked memory for the token");
	}
	size_t len = 0;
	ssize_t r;
	while (len < HUB_TOKEN_MAX && (r = read(fd, buf + len, HUB_TOKEN_MAX - len)) > 0)
		len += (size_t)r;
	close(fd);
	int rc = 0;
	if (len >= HUB_TOKEN_MAX || token_set(h, buf, len, "token file"))
		rc = errmsg_fail(err, errlen, "%s: not a usable token (too long or contains spaces or control bytes)", path);
	sodium_free(buf);
	return rc;
}

int
hub_open(struct hub *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof *h);
	if (sodium_init() < 0)
		return errmsg_fail(err, errlen, "libsodium failed to initialise");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return errmsg_fail(err, errlen, "libcurl failed to initialise");
	const char *ep = getenv("HF_ENDPOINT");
	if (!ep || !*ep)
		ep = "https://huggingface.co";
	size_t n = strlen(ep);
	while (n && ep[n - 1] == '/')
		n--;
	if (n >= sizeof h->endpoint)
		return errmsg_fail(err, errlen, "HF_ENDPOINT is too long");
	memcpy(h->endpoint, ep, n);
	h->endpoint[n] = '\0';
	if (strncmp(h->endpoint, "https://", 8) && strncmp(h->endpoint, "http://", 7))
		return errmsg_fail(err, errlen, "HF_ENDPOINT '%s' is not an http:// or https:// URL", h->endpoint);
	if (hub_url_host(h->endpoint, h->host, sizeof h->host))
		return errmsg_fail(err, errlen, "HF_ENDPOINT '%s' has no host name", h->endpoint);
	h->offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
	h->max_tries = HUB_MAX_TRIES;
	h->backoff_ms = DEFAULT_BACKOFF_MS;
	h->backoff_max_ms = DEFAULT_BACKOFF_MAX_MS;
	const char *b = getenv("MODELC_HUB_BACKOFF_MS");
	if (b && *b) {
		char *end;
		unsigned long v = strtoul(b, &end, 10);
		if (*end || v > 60000)
			return errmsg_fail(err, errlen, "MODELC_HUB_BACKOFF_MS '%s' is not a number of milliseconds up to 60000", b);
		h->backoff_ms = (unsigned)v;
	}
	h->connect_timeout_s = 20;
	h->low_speed_time_s = 30;
	snprintf(h->user_agent, sizeof h->user_agent, "modelc/%s; libcurl/%s", MODELC_VERSION,
	    curl_version_info(CURLVERSION_NOW)->version);
	if (env_true("HF_HUB_DISABLE_IMPLICIT_TOKEN"))
		return 0;
	const char *t = getenv("HF_TOKEN");
	const char *src = "HF_TOKEN";
	if (!t || !*t) {
		t = getenv("HUGGING_FACE_HUB_TOKEN");
		src = "HUGGING_FACE_HUB_TOKEN";
	}
	if (t && *t) {
		if (token_set(h, t, strlen(t), src))
			return errmsg_fail(err, errlen, "%s is not a usable token (too long or contains spaces or control bytes)", src);
		return 0;
	}
	return token_from_file(h, err, errlen);
}

void
hub_close(struct hub *h)
{
	if (h->token)
		sodium_free(h->token);  /* sodium_free wipes before unmapping */
	h->token = NULL;
}

struct curl_slist *
hub_headers(const struct hub *h, const char *url, uint64_t range_from, uint64_t range_to)
{
	struct curl_slist *l = NULL, *t;
	char line[256];
	snprintf(line, sizeof line, "User-Agent: %s", h->user_agent);
	if (!(t = curl_slist_append(l, line)))
		goto oom;
	l = t;
	/* Raw bytes only: sizes and Range offsets then refer to what gets hashed. */
	if (!(t = curl_slist_append(l, "Accept-Encoding: identity")))
		goto oom;
	l = t;
	if (range_from || range_to != UINT64_MAX) {
		if (range_to == UINT64_MAX)
			snprintf(line, sizeof line, "Range: bytes=%llu-", (unsigned long long)range_from);
		else
			snprintf(line, sizeof line, "Range: bytes=%llu-%llu", (unsigned long long)range_from,
			    (unsigned long long)range_to);
		if (!(t = curl_slist_append(l, line)))
			goto oom;
		l = t;
	}
	if (h->token && hub_is_hub_host(h, url)) {
		size_t n = strlen(h->token) + sizeof "Authorization: Bearer ";
		char *auth = sodium_malloc(n);
		if (!auth)
			goto oom;
		snprintf(auth, n, "Authorization: Bearer %s", h->token);
		t = curl_slist_append(l, auth);
		sodium_free(auth);
		if (!t)
			goto oom;
		l = t;
	}
	return l;
oom:
	hub_headers_free(l);
	return NULL;
}

void
hub_headers_free(struct curl_slist *l)
{
	for (struct curl_slist *p = l; p; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(l);
}

bool
hub_retryable(long status, CURLcode cc)
{
	if (cc != CURLE_OK)
		return cc == CURLE_COULDNT_CONNECT || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
		    cc == CURLE_PARTIAL_FILE || cc == CURLE_OPERATION_TIMEDOUT || cc == CURLE_GOT_NOTHING ||
		    cc == CURLE_HTTP2 || cc == CURLE_HTTP2_STREAM || cc == CURLE_SSL_CONNECT_ERROR ||
		    cc == CURLE_COULDNT_RESOLVE_HOST;
	return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
	    status == 504;
}

unsigned
hub_retry_delay_ms(const struct hub *h, unsigned attempt, long retry_after_s)
{
	if (retry_after_s >= 0)
		return (unsigned)retry_after_s * 1000u;
	unsigned d = h->backoff_ms;
	for (unsigned i = 1; i < attempt && d < h->backoff_max_ms; i++)
		d *= 2;
	return d > h->backoff_max_ms ? h->backoff_max_ms : d;
}

int
hub_error_message(const struct hub *h, const char *repo, const char *rev, const char *path,
    const char *url, const struct hub_hdrs *hd, char *err, size_t errlen)
{
	const char *code = hd->error_code;
	if (!strcmp(code, "GatedRepo")) {
		if (h->token)
			errmsg_fail(err, errlen, "%s is a gated model and the token from %s is not approved for it: "
			    "accept its licence at %s/%s (with the account the token belongs to), then run again",
			    repo, h->token_source, h->endpoint, repo);
		else
			errmsg_fail(err, errlen, "%s is a gated model: accept its licence at %s/%s, then set HF_TOKEN "
			    "(or run 'hf auth login') and run again", repo, h->endpoint, repo);
		return EXITCODE_REJECTED;
	}
	if (!strcmp(code, "RepoNotFound")) {
		errmsg_fail(err, errlen, "repository '%s' was not found on %s (or it is private and %s)", repo,
		    h->endpoint, h->token ? "the token has no access" : "no token is set");
		return EXITCODE_REJECTED;
	}
	if (!strcmp(code, "RevisionNotFound")) {
		errmsg_fail(err, errlen, "revision '%s' was not found in %s", rev ? rev : "?", repo);
		return EXITCODE_REJECTED;
	}
	if (!strcmp(code, "EntryNotFound")) {
		errmsg_fail(err, errlen, "file '%s' was not found in %s at revision '%s'", path ? path : "?", repo,
		    rev ? rev : "?");
		return EXITCODE_REJECTED;
	}
	if (!strcmp(code, "DisabledRepo")) {
		errmsg_fail(err, errlen, "repository '%s' is disabled on %s", repo, h->endpoint);
		return EXITCODE_REJECTED;
	}
	if (hd->status == 401 || hd->status == 403) {
		errmsg_fail(err, errlen, "%s: HTTP %ld%s%s: %s", url, hd->status, hd->error_message[0] ? ": " : "",
		    hd->error_message, h->token ? "the token was refused; check HF_TOKEN" :
		    "the Hub wants a token; set HF_TOKEN");
		return EXITCODE_REJECTED;
	}
	if (hd->status == 404) {
		errmsg_fail(err, errlen, "%s: HTTP 404 (not found)%s%s", url, hd->error_message[0] ? ": " : "",
		    hd->error_message);
		return EXITCODE_REJECTED;
	}
	errmsg_fail(err, errlen, "%s: HTTP %ld%s%s", url, hd->status, hd->error_message[0] ? ": " : "",
	    hd->error_message);
	return EXITCODE_SYSTEM;
}

struct body {
	char *buf;
	size_t len, cap, max;
	bool too_big;
};

static size_t
body_cb(char *p, size_t size, size_t n, void *ud)
{
	struct body *b = ud;
	size_t len = size * n;
	if (b->len + len > b->max) {
		b->too_big = true;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 16384;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *nb = realloc(b->buf, cap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = cap;
	}
	memcpy(b->buf + b->len, p, len);
	b->len += len;
	b->buf[b->len] = '\0';
	return len;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One hop: -1 with err on a curl failure (cc set), else 0 with the status in out->h. */
void
hub_easy_prepare(const struct hub *h, CURL *c, const char *url, struct curl_slist *hl,
    struct hub_hdrs *hd, curl_write_callback write, void *wdata, char *errbuf)
{
	curl_easy_reset(c);
	hub_hdrs_reset(hd);
	errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, hub_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, hd);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, wdata);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->low_speed_time_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	HUB_HTTP_ONLY(c);
}

static int
one_hop(const struct hub *h, CURL *c, const char *method, const char *url, uint64_t rf, uint64_t rt,
    struct body *b, struct hub_response *out, CURLcode *cc, char *err, size_t errlen)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hl = hub_headers(h, url, rf, rt);
	if (!hl)
		return errmsg_fail(err, errlen, "out of memory");
	free(b->buf);
	b->buf = NULL;
	b->len = b->cap = 0;
	b->too_big = false;
	hub_easy_prepare(h, c, url, hl, &out->h, body_cb, b, ebuf);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	*cc = curl_easy_perform(c);
	hub_headers_free(hl);
	snprintf(out->url, sizeof out->url, "%s", url);
	if (*cc != CURLE_OK) {
		if (b->too_big)
			return errmsg_fail(err, errlen, "%s: answer is larger than %zu bytes", url, b->max);
		/* libcurl 7.x reports a header line over its 100 KB limit as running out of memory. */
		if (*cc == CURLE_OUT_OF_MEMORY)
			return errmsg_fail(err, errlen, "%s: the answer's headers are too large (over libcurl's limit of %d "
			    "bytes a header) or memory ran out", url, CURL_MAX_HTTP_HEADER);
		return errmsg_fail(err, errlen, "%s: %s", url, ebuf[0] ? ebuf : curl_easy_strerror(*cc));
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->h.status);
	return 0;
}

int
hub_request(const struct hub *h, const char *method, const char *url, uint64_t range_from,
    uint64_t range_to, bool stop_cross_host, size_t max_body, const char *repo, const char *rev,
    const char *path, struct hub_response *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	/* Every request passes here: an id the Hub would refuse never becomes a URL. */
	char why[128];
	if (repo && repoid_check(repo, why, sizeof why)) {
		errmsg_fail(err, errlen, "'%s' is not a Hugging Face repository id: %s", repo, why);
		return EXITCODE_REJECTED;
	}
	if (h->offline) {
		errmsg_fail(err, errlen, "HF_HUB_OFFLINE is set, so %s cannot be reached; unset it to use the Hub", url);
		return EXITCODE_REJECTED;
	}
	CURL *c = curl_easy_init();
	if (!c) {
		errmsg_fail(err, errlen, "libcurl: cannot create a handle");
		return EXITCODE_SYSTEM;
	}
	struct body b = {.max = max_body};
	char cur[HUB_URL_MAX];
	int rc = EXITCODE_SYSTEM;
	for (unsigned attempt = 1;; attempt++) {
		snprintf(cur, sizeof cur, "%s", url);
		CURLcode cc = CURLE_OK;
		unsigned hops = 0;
		int hr;
		for (;;) {
			hr = one_hop(h, c, method, cur, range_from, range_to, &b, out, &cc, err, errlen);
			if (hr || out->h.status < 300 || out->h.status >= 400 || out->h.status == 304)
				break;
			char *next = NULL;
			curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &next);
			if (!next) {
				errmsg_fail(err, errlen, "%s: HTTP %ld without a Location header", cur, out->h.status);
				goto out;
			}
			if (stop_cross_host && !hub_is_hub_host(h, next))
				break;  /* the metadata hop: its headers are the answer */
			if (++hops > HUB_MAX_REDIRECTS) {
				errmsg_fail(err, errlen, "%s: more than %d redirects (a redirect loop?)", url, HUB_MAX_REDIRECTS);
				goto out;
			}
			snprintf(cur, sizeof cur, "%s", next);
		}
		if (hr == 0 && out->h.status < 400) {
			rc = EXITCODE_OK;
			break;
		}
		if (hr == 0 && !hub_retryable(out->h.status, CURLE_OK)) {
			rc = hub_error_message(h, repo, rev, path, cur, &out->h, err, errlen);
			goto out;
		}
		if (hr && (b.too_big || !hub_retryable(0, cc)))
			goto out;
		if (hr == 0)
			hub_error_message(h, repo, rev, path, cur, &out->h, err, errlen);
		if (attempt >= h->max_tries)
			goto out;
		sleep_ms(hub_retry_delay_ms(h, attempt, hr ? -1 : out->h.retry_after_s));
	}
	out->body = b.buf;
	out->len = b.len;
	b.buf = NULL;
	if (!out->body && strcmp(method, "HEAD")) {
		out->body = calloc(1, 1);
		if (!out->body) {
			rc = EXITCODE_SYSTEM;
			errmsg_fail(err, errlen, "out of memory");
		}
	}
out:
	free(b.buf);
	curl_easy_cleanup(c);
	return rc;
}

void
hub_response_free(struct hub_response *r)
{
	free(r->body);
	r->body = NULL;
}

bool
hub_is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[n] == '\0';
}
