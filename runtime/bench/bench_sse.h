#ifndef MODELC_BENCH_SSE_H
#define MODELC_BENCH_SSE_H

/*
 * An incremental parser for server-sent events as OpenAI-compatible servers stream them:
 * "data: {...}" lines, events separated by a blank line, "data: [DONE]" at the end. Bytes
 * may arrive split anywhere; each complete event's data goes to the callback.
 */

#include <stddef.h>

#include "size.h"

enum { BENCH_SSE_MAX_EVENT = SIZE_MIB };

struct bench_sse {
	char *buf;              /* the unfinished event, heap */
	size_t len, cap;
	int done;               /* "data: [DONE]" was seen */
	int too_long;           /* an event exceeded BENCH_SSE_MAX_EVENT */
};

/* Called with one event's data (multi-line data joined by '\n', NUL-terminated); nonzero stops. */
typedef int bench_sse_fn(void *ctx, const char *data, size_t len);

/* Feed n bytes; calls fn for each complete event except [DONE]. 0, or -1 (out of memory, too long, fn stopped). */
int bench_sse_feed(struct bench_sse *s, const char *p, size_t n, bench_sse_fn *fn, void *ctx);

/* Release the buffer; the struct may be reused after memset to 0. */
void bench_sse_free(struct bench_sse *s);

#endif
