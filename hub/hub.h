#ifndef MODELC_HUB_H
#define MODELC_HUB_H

/*
 * The Hugging Face Hub client shared by `modelc lock` and `fetch` (libcurl): endpoint and
 * token from the environment as huggingface_hub reads them, request headers, redirects
 * followed by hand so the token reaches only the Hub's host name, retries with backoff,
 * and error messages mapped from X-Error-Code. Protocol: shared/reference/hf-hub.md.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "exitcode.h"

/* Only http and https, on old libcurl too (CURLOPT_PROTOCOLS_STR is 7.85+). */
#if LIBCURL_VERSION_NUM >= 0x075500
#define HUB_HTTP_ONLY(c) curl_easy_setopt((c), CURLOPT_PROTOCOLS_STR, "http,https")
#else
#define HUB_HTTP_ONLY(c) curl_easy_setopt((c), CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS))
#endif

enum {
	HUB_MAX_REDIRECTS = 10,
	HUB_MAX_TRIES = 6,              /* attempts per request, the first included */
	HUB_URL_MAX = 4096,
	HUB_HOST_MAX = 256,
	HUB_TOKEN_MAX = 4096,
	HUB_ERR_MAX = 1024,
	HUB_RETRY_AFTER_MAX_S = 300,    /* a longer Retry-After is capped to this */
};

/*
 * Results are exit codes (common/exitcode.h): EXITCODE_OK, EXITCODE_REJECTED when the Hub
 * refused (gated, not found), EXITCODE_SYSTEM for the network or the system.
 */

struct hub {
	char endpoint[HUB_URL_MAX];     /* HF_ENDPOINT without a trailing '/' */
	char host[HUB_HOST_MAX];        /* the endpoint's host name, lower case, no port */
	char *token;                    /* sodium_malloc'd and locked, NUL-terminated; NULL if none */
	const char *token_source;       /* "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "token file", NULL */
	bool offline;                   /* HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE */
	unsigned max_tries;
	unsigned backoff_ms;            /* first retry delay; doubles, capped at backoff_max_ms */
	unsigned backoff_max_ms;
	long connect_timeout_s;
	long low_speed_time_s;          /* abort a transfer slower than 1 byte/s for this long */
	char user_agent[128];
};

/* The headers of one response that the protocol cares about. */
struct hub_hdrs {
	long status;
	char location[HUB_URL_MAX];
	char etag[160];                 /* normalised: no W/, no quotes */
	char linked_etag[160];
	char commit[64];                /* X-Repo-Commit */
	char error_code[64];            /* X-Error-Code */
	char error_message[512];        /* X-Error-Message */
	char link_next[HUB_URL_MAX];    /* Link: <...>; rel="next" */
	uint64_t linked_size, content_length, range_start, range_total;
	bool has_linked_size, has_content_length, has_content_range;
	bool has_range_total;           /* range_total known: from a 206, or from the "*" form of a 416 */
	long retry_after_s;             /* -1 when absent */
};

struct hub_response {
	struct hub_hdrs h;              /* of the last hop */
	char *body;                     /* malloc'd, NUL-terminated; NULL for HEAD */
	size_t len;
	char url[HUB_URL_MAX];          /* the URL that answered last */
};

/*
 * Read HF_ENDPOINT, the token (HF_TOKEN, HUGGING_FACE_HUB_TOKEN, then $HF_TOKEN_PATH or
 * $HF_HOME/token, unless HF_HUB_DISABLE_IMPLICIT_TOKEN), HF_HUB_OFFLINE and the test knob
 * MODELC_HUB_BACKOFF_MS. 0 on success; -1 with a message. hub_close wipes the token.
 */
int hub_open(struct hub *h, char *err, size_t errlen);

/* Wipe and free the token. */
void hub_close(struct hub *h);

/* The host name of url, lower case, without userinfo or port; -1 when url has none. */
int hub_url_host(const char *url, char *host, size_t n);

/* Whether url's host name is the Hub's (ports ignored, as huggingface_hub does). */
bool hub_is_hub_host(const struct hub *h, const char *url);

/*
 * Request headers for url: User-Agent, Accept-Encoding: identity, a Range when range_from
 * or range_to is set (range_to UINT64_MAX: open end), and Authorization only when url's host
 * is the Hub's. Free with hub_headers_free, which wipes the token copy.
 */
struct curl_slist *hub_headers(const struct hub *h, const char *url, uint64_t range_from,
    uint64_t range_to);

/* Wipe every header string, then free the list. */
void hub_headers_free(struct curl_slist *l);

/* Reset a header record before a new hop. */
void hub_hdrs_reset(struct hub_hdrs *hd);

/* CURLOPT_HEADERFUNCTION callback filling the struct hub_hdrs passed as userdata. */
size_t hub_header_cb(char *buf, size_t size, size_t n, void *userdata);

/*
 * Ready c (reset) for one hop to url with the request headers hl: the answer's headers into hd
 * (reset), its body to write(wdata), libcurl's message in errbuf (CURL_ERROR_SIZE), no redirect
 * followed (every hop is checked), h's connect and stall timeouts, HTTP(S) only.
 */
void hub_easy_prepare(const struct hub *h, CURL *c, const char *url, struct curl_slist *hl,
    struct hub_hdrs *hd, curl_write_callback write, void *wdata, char *errbuf);

/*
 * Whether a repo-relative path is safe to create under a snapshot: not empty, not absolute,
 * no "." or ".." component, no backslash, no NUL within len, no empty component, no control
 * characters. 0 when safe; -1 with the reason in err.
 */
int hub_path_check(const char *path, size_t len, char *err, size_t errlen);

/* Percent-encode s into a malloc'd string, keeping '/' when keep_slash; NULL on no memory. */
char *hub_quote(const char *s, bool keep_slash);

/* "{endpoint}/{repo}/resolve/{quote(rev)}/{quote(path)}", malloc'd. */
char *hub_resolve_url(const struct hub *h, const char *repo, const char *rev, const char *path);

/* "{endpoint}/api/models/{repo}/{what}/{quote(rev)}{suffix}", malloc'd. */
char *hub_api_url(const struct hub *h, const char *repo, const char *what, const char *rev,
    const char *suffix);

/* Whether a status (or 0 with a curl error) is worth retrying. */
bool hub_retryable(long status, CURLcode cc);

/* Delay before retry number attempt (1-based), honouring Retry-After when >= 0. */
unsigned hub_retry_delay_ms(const struct hub *h, unsigned attempt, long retry_after_s);

/*
 * A message for a failed answer, from X-Error-Code first (GatedRepo, RepoNotFound,
 * RevisionNotFound, EntryNotFound), then the status. Returns EXITCODE_REJECTED for those the user
 * must fix (gated, not found, 401/403) and EXITCODE_SYSTEM otherwise.
 */
int hub_error_message(const struct hub *h, const char *repo, const char *rev, const char *path,
    const char *url, const struct hub_hdrs *hd, char *err, size_t errlen);

/*
 * A blocking request with retries. method is "GET" or "HEAD". Redirects: a relative one or
 * one to the Hub's host is followed with the token; one to another host is followed without
 * it, unless stop_cross_host, which returns that 3xx answer itself (the metadata hop).
 * Bodies above max_body bytes fail. repo/rev/path name the object in messages.
 * Returns EXITCODE_OK, EXITCODE_REJECTED or EXITCODE_SYSTEM (message in err).
 */
int hub_request(const struct hub *h, const char *method, const char *url, uint64_t range_from,
    uint64_t range_to, bool stop_cross_host, size_t max_body, const char *repo, const char *rev,
    const char *path, struct hub_response *out, char *err, size_t errlen);

/* Free a response's body. */
void hub_response_free(struct hub_response *r);

/* Whether s is exactly n lower-case hex digits. */
bool hub_is_hex(const char *s, size_t n);

#endif
