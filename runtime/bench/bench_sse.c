#include <stdlib.h>
#include <string.h>

#include "bench_sse.h"

/* Turn one raw event block (lines without the blank separator) into its data and deliver it. */
static int deliver(struct bench_sse *s, char *block, size_t n, bench_sse_fn *fn, void *ctx)
{
	char *data = malloc(n + 1);
	if (!data)
		return -1;
	size_t dl = 0;
	int any = 0;
	size_t i = 0;
	while (i < n) {
		size_t e = i;
		while (e < n && block[e] != '\n')
			e++;
		size_t ll = e - i;
		if (ll && block[i + ll - 1] == '\r')
			ll--;
		if (ll >= 5 && memcmp(block + i, "data:", 5) == 0) {
			size_t v = i + 5;
			if (v < i + ll && block[v] == ' ')
				v++;
			if (any)
				data[dl++] = '\n';
			memcpy(data + dl, block + v, i + ll - v);
			dl += i + ll - v;
			any = 1;
		}
		i = e + 1;
	}
	data[dl] = '\0';
	int rc = 0;
	if (any) {
		if (strcmp(data, "[DONE]") == 0)
			s->done = 1;
		else if (fn(ctx, data, dl) != 0)
			rc = -1;
	}
	free(data);
	return rc;
}

int bench_sse_feed(struct bench_sse *s, const char *p, size_t n, bench_sse_fn *fn, void *ctx)
{
	if (s->len + n + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + n + 1)
			cap *= 2;
		if (cap > 2 * (size_t)BENCH_SSE_MAX_EVENT + n + 1) {
			s->too_long = 1;
			return -1;
		}
		char *nb = realloc(s->buf, cap);
		if (!nb)
			return -1;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
	/* Events end at "\n\n" (or "\r\n\r\n"); deliver every complete one, keep the rest. */
	size_t start = 0;
	for (size_t i = 0; i + 1 < s->len; i++) {
		size_t sep = 0;
		if (s->buf[i] == '\n' && s->buf[i + 1] == '\n')
			sep = 2;
		else if (i + 3 < s->len && memcmp(s->buf + i, "\r\n\r\n", 4) == 0)
			sep = 4;
		if (!sep)
			continue;
		if (deliver(s, s->buf + start, i + (sep == 4 ? 1 : 0) - start + 1, fn, ctx) != 0)
			return -1;
		start = i + sep;
		i = start - 1;
	}
	if (start) {
		memmove(s->buf, s->buf + start, s->len - start);
		s->len -= start;
		s->buf[s->len] = '\0';
	}
	if (s->len > BENCH_SSE_MAX_EVENT) {
		s->too_long = 1;
		return -1;
	}
	return 0;
}

void bench_sse_free(struct bench_sse *s)
{
	free(s->buf);
	s->buf = NULL;
	s->len = s->cap = 0;
}
