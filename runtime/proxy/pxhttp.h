#ifndef MODELC_PXHTTP_H
#define MODELC_PXHTTP_H

/*
 * The proxy's HTTP/1.1 parsing, strict (RFC 9112): a request head, the request body's "model"
 * field, and a tracker that follows a chunked response body so that the proxy knows whether an
 * upstream that closed had finished and whether it stopped between two chunks. No allocation.
 */

#include <stddef.h>
#include <stdint.h>

enum { PXHTTP_HEAD_MAX = 16384, PXHTTP_MODEL_MAX = 512 };

struct pxhttp_req {
	char method[16];
	const char *target;       /* into the buffer, not NUL-terminated */
	size_t target_len;
	size_t head_len;          /* bytes up to and including the empty line */
	uint64_t content_length;
	int expect_continue;
	int http10;
	const char *auth;         /* Authorization value or NULL */
	size_t auth_len;
	const char *ctype;        /* Content-Type value or NULL */
	size_t ctype_len;
};

/*
 * Parse the head at buf[0..len). Returns 0 when more bytes are needed, 1 when the head is
 * complete (r filled), or an HTTP status to answer with: 400 (malformed), 413 (Content-Length
 * over max_body), 431 (head over PXHTTP_HEAD_MAX), 501 (Transfer-Encoding), 505 (version).
 * *why is a static sentence for the error body.
 */
int pxhttp_parse(const char *buf, size_t len, uint64_t max_body, struct pxhttp_req *r, const char **why);

/*
 * The "model" of a request body: the top-level string member of a JSON object, or the form
 * field of a multipart/form-data body (audio uploads). 0 with it in out, -1 when there is none.
 */
int pxhttp_model(const char *body, size_t len, const char *ctype, size_t ctype_len, char out[PXHTTP_MODEL_MAX]);

/* Case-insensitive comparison of a header name of n bytes with name. */
int pxhttp_name_is(const char *s, size_t n, const char *name);

/* A chunked body, byte by byte. */
struct pxhttp_chunks {
	int state;
	uint64_t left;            /* data bytes left in the current chunk */
	int digits;
};

/* Feed n bytes; returns 1 once the last chunk and trailers are through, -1 on a malformed body. */
int pxhttp_chunks_feed(struct pxhttp_chunks *c, const char *p, size_t n);

/* Nonzero when the tracker stands between two chunks (a whole chunk can be added there). */
int pxhttp_chunks_at_boundary(const struct pxhttp_chunks *c);

#endif
