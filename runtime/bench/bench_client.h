#ifndef MODELC_BENCH_CLIENT_H
#define MODELC_BENCH_CLIENT_H

/*
 * HTTP to an OpenAI-compatible server (vLLM, or a stand-in): JSON requests, and streamed
 * completions timed from the moment a request is handed to libcurl to each server-sent
 * event's arrival. Several streams run at once through one curl multi handle, which also
 * keeps connections alive between requests so that connection set-up is not timed.
 */

#include <stddef.h>

#include <jansson.h>

enum { BENCH_ERR_MAX = 512 };

/* What kind of failure a request met; main maps these to exit codes. */
enum bench_fail {
	BENCH_OK = 0,
	BENCH_FAIL_CONNECT,     /* server down: nothing listens at the URL */
	BENCH_FAIL_TIMEOUT,
	BENCH_FAIL_HTTP4,       /* 4xx: the request was rejected */
	BENCH_FAIL_HTTP5,       /* 5xx */
	BENCH_FAIL_CUT,         /* the stream ended before data: [DONE] */
	BENCH_FAIL_PROTOCOL,    /* unreadable JSON or events */
	BENCH_FAIL_SYSTEM,      /* out of memory, curl set-up */
};

struct bench_client {
	char base[1024];        /* "http://127.0.0.1:8000", no trailing slash */
	double timeout_s;       /* per request */
	void *multi;            /* CURLM * */
	char *api_key;          /* from $VLLM_API_KEY or $OPENAI_API_KEY; may be NULL */
};

/* One streamed completion's timings (seconds on the monotonic clock) and counts. */
struct bench_stream {
	double t_start, t_first, t_last, t_end;
	double *gaps_ms;        /* between successive token events; heap */
	size_t ngaps, capgaps;
	size_t events;          /* events that carried text */
	long usage_prompt;      /* from the usage chunk, or -1 */
	long usage_completion;
	int done;               /* data: [DONE] arrived */
	enum bench_fail fail;
	char err[BENCH_ERR_MAX];
};

/* Set up a client for base URL (trailing '/' removed). 0, or -1 with err filled. */
int bench_client_init(struct bench_client *c, const char *base, double timeout_s, char *err, size_t errlen);

/* Release the client's curl handles. */
void bench_client_free(struct bench_client *c);

/*
 * Send method (GET or POST) path with body (may be NULL) and parse the JSON answer into *out
 * (caller decrefs). Returns BENCH_OK, or a failure with err filled ("GET URL: ..."); *status
 * gets the HTTP status (0 when none).
 */
enum bench_fail bench_client_json(struct bench_client *c, const char *method, const char *path,
    json_t *body, json_t **out, long *status, char *err, size_t errlen);

/*
 * Run n streamed completions at once, bodies[i] being each request's JSON; fills out[i].
 * Returns the first failure among them (BENCH_OK when all succeeded).
 */
enum bench_fail bench_client_streams(struct bench_client *c, json_t *const *bodies, size_t n,
    struct bench_stream *out);

/* Free a stream's gap array. */
void bench_stream_free(struct bench_stream *s);

/* Seconds on the monotonic clock. */
double bench_now(void);

#endif
