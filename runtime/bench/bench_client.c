#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "bench_client.h"
#include "bench_sse.h"
#include "size.h"

enum { ERRBODY_MAX = 64 * 1024 };

/* snprintf for messages, where cutting a long URL short is acceptable. */
__attribute__((format(printf, 3, 4))) static void errf(char *dst, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst, n, fmt, ap);
	va_end(ap);
}

double bench_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int bench_client_init(struct bench_client *c, const char *base, double timeout_s, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof c->base) {
		errf(err, errlen, "'%s' is not a usable URL", base);
		return -1;
	}
	memcpy(c->base, base, n);
	c->base[n] = '\0';
	c->timeout_s = timeout_s;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !(c->multi = curl_multi_init())) {
		errf(err, errlen, "cannot initialise libcurl");
		return -1;
	}
	const char *key = getenv("VLLM_API_KEY");
	if (!key || !*key)
		key = getenv("OPENAI_API_KEY");
	if (key && *key)
		c->api_key = strdup(key);
	return 0;
}

void bench_client_free(struct bench_client *c)
{
	if (c->multi)
		curl_multi_cleanup(c->multi);
	c->multi = NULL;
	free(c->api_key);
	c->api_key = NULL;
	curl_global_cleanup();
}

void bench_stream_free(struct bench_stream *s)
{
	free(s->gaps_ms);
	s->gaps_ms = NULL;
	s->ngaps = s->capgaps = 0;
}

/* The server's own words from an error body: error.message, detail, or the text itself. */
static void error_text(const char *body, size_t len, char *out, size_t outlen)
{
	json_error_t je;
	json_t *j = json_loadb(body, len, 0, &je);
	const char *msg = NULL;
	if (j) {
		json_t *e = json_object_get(j, "error");
		if (json_is_object(e))
			msg = json_string_value(json_object_get(e, "message"));
		else if (json_is_string(e))
			msg = json_string_value(e);
		if (!msg)
			msg = json_string_value(json_object_get(j, "message"));
		if (!msg)
			msg = json_string_value(json_object_get(j, "detail"));
	}
	if (msg) {
		snprintf(out, outlen, "%s", msg);
	} else {
		size_t n = len < 200 ? len : 200;
		while (n && (body[n - 1] == '\n' || body[n - 1] == '\r' || body[n - 1] == ' '))
			n--;
		snprintf(out, outlen, "%.*s", (int)n, n ? body : "(empty body)");
	}
	json_decref(j);
}

static enum bench_fail classify_curl(CURLcode rc, const char *method, const char *url, double timeout_s,
    const char *cerr, char *err, size_t errlen)
{
	const char *why = cerr && *cerr ? cerr : curl_easy_strerror(rc);
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		errf(err, errlen, "%s %s: timed out after %g s", method, url, timeout_s);
		return BENCH_FAIL_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
		errf(err, errlen, "%s %s: cannot connect: %s (is the server running? start it with 'switch serve')",
		    method, url, why);
		return BENCH_FAIL_CONNECT;
	case CURLE_OUT_OF_MEMORY:
	case CURLE_FAILED_INIT:
		errf(err, errlen, "%s %s: %s", method, url, why);
		return BENCH_FAIL_SYSTEM;
	default:
		errf(err, errlen, "%s %s: %s", method, url, why);
		return BENCH_FAIL_PROTOCOL;
	}
}

static struct curl_slist *base_headers(const struct bench_client *c, int stream)
{
	struct curl_slist *h = NULL;
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Expect:");
	if (stream)
		h = curl_slist_append(h, "Accept: text/event-stream");
	if (c->api_key) {
		char buf[1024];
		snprintf(buf, sizeof buf, "Authorization: Bearer %s", c->api_key);
		h = curl_slist_append(h, buf);
	}
	return h;
}

struct membuf {
	char *p;
	size_t len;
	int overflow;
};

static size_t mem_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct membuf *m = ud;
	size_t n = sz * nm;
	if (m->len + n > 64 * SIZE_MIB) {
		m->overflow = 1;
		return 0;
	}
	char *np = realloc(m->p, m->len + n + 1);
	if (!np)
		return 0;
	m->p = np;
	memcpy(m->p + m->len, p, n);
	m->len += n;
	m->p[m->len] = '\0';
	return n;
}

enum bench_fail bench_client_json(struct bench_client *c, const char *method, const char *path,
    json_t *body, json_t **out, long *status, char *err, size_t errlen)
{
	char url[2048];
	snprintf(url, sizeof url, "%s%s", c->base, path);
	*out = NULL;
	*status = 0;
	CURL *e = curl_easy_init();
	if (!e) {
		errf(err, errlen, "%s %s: cannot initialise libcurl", method, url);
		return BENCH_FAIL_SYSTEM;
	}
	char cerr[CURL_ERROR_SIZE] = "";
	struct membuf m = { 0 };
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	struct curl_slist *h = base_headers(c, 0);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(c->timeout_s * 1000));
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mem_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &m);
	if (strcmp(method, "POST") == 0)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, text ? text : "{}");
	CURLcode rc = curl_easy_perform(e);
	enum bench_fail f = BENCH_OK;
	if (rc != CURLE_OK) {
		f = classify_curl(rc, method, url, c->timeout_s, cerr, err, errlen);
	} else {
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
		if (*status >= 400) {
			char why[BENCH_ERR_MAX];
			error_text(m.p ? m.p : "", m.len, why, sizeof why);
			errf(err, errlen, "%s %s: HTTP %ld: %s", method, url, *status, why);
			f = *status >= 500 ? BENCH_FAIL_HTTP5 : BENCH_FAIL_HTTP4;
		} else {
			json_error_t je;
			*out = json_loadb(m.p ? m.p : "", m.len, 0, &je);
			if (!*out) {
				errf(err, errlen, "%s %s: the answer is not JSON: %s", method, url, je.text);
				f = BENCH_FAIL_PROTOCOL;
			}
		}
	}
	free(m.p);
	free(text);
	curl_slist_free_all(h);
	curl_easy_cleanup(e);
	return f;
}

/* One stream in flight. */
struct job {
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	struct bench_stream *s;
	struct bench_sse sse;
	struct membuf errbody;
	long status;
	int status_known;
	double now;
	char cerr[CURL_ERROR_SIZE];
};

static int on_event(void *ctx, const char *data, size_t len)
{
	struct job *j = ctx;
	struct bench_stream *s = j->s;
	json_error_t je;
	json_t *ev = json_loadb(data, len, 0, &je);
	if (!ev) {
		errf(s->err, sizeof s->err, "an event is not JSON: %s", je.text);
		s->fail = BENCH_FAIL_PROTOCOL;
		return -1;
	}
	json_t *error = json_object_get(ev, "error");
	if (json_is_object(error)) {
		const char *msg = json_string_value(json_object_get(error, "message"));
		errf(s->err, sizeof s->err, "the server reported an error mid-stream: %s", msg ? msg : "(no message)");
		s->fail = BENCH_FAIL_HTTP5;
		json_decref(ev);
		return -1;
	}
	json_t *usage = json_object_get(ev, "usage");
	if (json_is_object(usage)) {
		json_t *pt = json_object_get(usage, "prompt_tokens");
		json_t *ct = json_object_get(usage, "completion_tokens");
		if (json_is_integer(pt))
			s->usage_prompt = (long)json_integer_value(pt);
		if (json_is_integer(ct))
			s->usage_completion = (long)json_integer_value(ct);
	}
	json_t *ch = json_object_get(ev, "choices");
	const char *text = NULL;
	if (json_is_array(ch) && json_array_size(ch) > 0)
		text = json_string_value(json_object_get(json_array_get(ch, 0), "text"));
	if (text && *text) {
		if (s->events == 0) {
			s->t_first = j->now;
		} else {
			if (s->ngaps == s->capgaps) {
				size_t cap = s->capgaps ? 2 * s->capgaps : 64;
				double *ng = realloc(s->gaps_ms, cap * sizeof *ng);
				if (!ng) {
					json_decref(ev);
					s->fail = BENCH_FAIL_SYSTEM;
					errf(s->err, sizeof s->err, "out of memory");
					return -1;
				}
				s->gaps_ms = ng;
				s->capgaps = cap;
			}
			s->gaps_ms[s->ngaps++] = (j->now - s->t_last) * 1000.0;
		}
		s->t_last = j->now;
		s->events++;
	}
	json_decref(ev);
	return 0;
}

static size_t stream_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct job *j = ud;
	size_t n = sz * nm;
	j->now = bench_now();
	if (!j->status_known) {
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
		j->status_known = 1;
	}
	if (j->status != 200) {
		if (j->errbody.len < ERRBODY_MAX)
			return mem_write(p, sz, nm, &j->errbody) == n ? n : 0;
		return n;
	}
	if (bench_sse_feed(&j->sse, p, n, on_event, j) != 0) {
		if (j->s->fail == BENCH_OK) {
			j->s->fail = BENCH_FAIL_PROTOCOL;
			errf(j->s->err, sizeof j->s->err, "%s", j->sse.too_long ?
			    "an event is longer than 1 MiB" : "out of memory");
		}
		return 0;
	}
	return n;
}

static void finish(struct bench_client *c, struct job *j, CURLcode rc, const char *url)
{
	struct bench_stream *s = j->s;
	s->t_end = bench_now();
	s->done = j->sse.done;
	char inner[BENCH_ERR_MAX];
	if (s->fail != BENCH_OK) {
		/* A parse failure already said what; add the place. */
		snprintf(inner, sizeof inner, "%s", s->err);
		errf(s->err, sizeof s->err, "POST %s: %s", url, inner);
		return;
	}
	if (!j->status_known)
		curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->status);
	if (rc == CURLE_OK && j->status >= 400) {
		error_text(j->errbody.p ? j->errbody.p : "", j->errbody.len, inner, sizeof inner);
		errf(s->err, sizeof s->err, "POST %s: HTTP %ld: %s", url, j->status, inner);
		s->fail = j->status >= 500 ? BENCH_FAIL_HTTP5 : BENCH_FAIL_HTTP4;
		return;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
	    (rc != CURLE_OK && j->status != 200)) {
		s->fail = classify_curl(rc, "POST", url, c->timeout_s, j->cerr, s->err, sizeof s->err);
		return;
	}
	if (rc == CURLE_OK && s->done && s->events == 0) {
		errf(s->err, sizeof s->err, "POST %s: the stream ended without a single token", url);
		s->fail = BENCH_FAIL_PROTOCOL;
		return;
	}
	if (rc != CURLE_OK || !s->done) {
		errf(s->err, sizeof s->err,
		    "POST %s: the stream was cut after %zu token events without 'data: [DONE]'%s%s", url,
		    s->events, rc != CURLE_OK ? ": " : "", rc != CURLE_OK ? (*j->cerr ? j->cerr : curl_easy_strerror(rc)) : "");
		s->fail = BENCH_FAIL_CUT;
	}
}

enum bench_fail bench_client_streams(struct bench_client *c, json_t *const *bodies, size_t n,
    struct bench_stream *out)
{
	char url[2048];
	snprintf(url, sizeof url, "%s/v1/completions", c->base);
	struct job *jobs = calloc(n ? n : 1, sizeof *jobs);
	if (!jobs)
		return BENCH_FAIL_SYSTEM;
	CURLM *m = c->multi;
	enum bench_fail first = BENCH_OK;
	size_t added = 0;
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		memset(&out[i], 0, sizeof out[i]);
		out[i].usage_prompt = out[i].usage_completion = -1;
		j->s = &out[i];
		j->easy = curl_easy_init();
		j->body = json_dumps(bodies[i], JSON_COMPACT);
		j->hdrs = base_headers(c, 1);
		if (!j->easy || !j->body) {
			out[i].fail = BENCH_FAIL_SYSTEM;
			errf(out[i].err, sizeof out[i].err, "POST %s: cannot set up the request", url);
			continue;
		}
		curl_easy_setopt(j->easy, CURLOPT_URL, url);
		curl_easy_setopt(j->easy, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, j->cerr);
		curl_easy_setopt(j->easy, CURLOPT_HTTPHEADER, j->hdrs);
		curl_easy_setopt(j->easy, CURLOPT_POSTFIELDS, j->body);
		curl_easy_setopt(j->easy, CURLOPT_TIMEOUT_MS, (long)(c->timeout_s * 1000));
		curl_easy_setopt(j->easy, CURLOPT_WRITEFUNCTION, stream_write);
		curl_easy_setopt(j->easy, CURLOPT_WRITEDATA, j);
		curl_easy_setopt(j->easy, CURLOPT_PRIVATE, j);
		curl_easy_setopt(j->easy, CURLOPT_TCP_NODELAY, 1L);
	}
	/* Start the clocks together, as close to the hand-over as possible. */
	for (size_t i = 0; i < n; i++) {
		if (!jobs[i].easy || !jobs[i].body)
			continue;
		out[i].t_start = bench_now();
		curl_multi_add_handle(m, jobs[i].easy);
		added++;
	}
	int running = 1;
	while (added && running) {
		CURLMcode mc = curl_multi_perform(m, &running);
		if (mc != CURLM_OK)
			break;
		int q;
		CURLMsg *msg;
		while ((msg = curl_multi_info_read(m, &q))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			struct job *j = NULL;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
			finish(c, j, msg->data.result, url);
		}
		if (running)
			curl_multi_poll(m, NULL, 0, 100, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		if (j->easy) {
			curl_multi_remove_handle(m, j->easy);
			curl_easy_cleanup(j->easy);
		}
		curl_slist_free_all(j->hdrs);
		free(j->body);
		free(j->errbody.p);
		bench_sse_free(&j->sse);
		if (first == BENCH_OK && out[i].fail != BENCH_OK)
			first = out[i].fail;
	}
	free(jobs);
	return first;
}
