/* fuzz-covers: runtime/bench/bench_sse.c */
/*
 * The event stream of the server bench measures (the stand-in, vLLM, or whatever answers on
 * that port): fed whole, then again split at every point the first byte chooses, and the two
 * feeds must deliver the same events.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/bench/bench_sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fz_log {
	unsigned long long hash;
	size_t events;
};

static int
fz_event(void *ctx, const char *d, size_t len)
{
	struct fz_log *l = ctx;
	if (d[len] != '\0' || strlen(d) > len)
		abort();
	for (size_t i = 0; i < len; i++)
		l->hash = l->hash * 1099511628211ULL ^ (unsigned char)d[i];
	l->hash = l->hash * 1099511628211ULL ^ 0x100;
	l->events++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = data[0] % 16 + 1;
	data++, size--;
	struct bench_sse s1, s2;
	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	struct fz_log l1 = {14695981039346656037ULL, 0}, l2 = l1;
	int r1 = bench_sse_feed(&s1, (const char *)data, size, fz_event, &l1);
	int r2 = 0;
	/* The parser rescans what it holds on every feed: keep the split feed to small inputs. */
	if (size > 4096)
		size = 0;
	for (size_t off = 0; off < size && r2 == 0; off += step) {
		size_t n = size - off < step ? size - off : step;
		/* A private copy per chunk, so a read past the chunk is caught. */
		char *c = malloc(n);
		memcpy(c, data + off, n);
		r2 = bench_sse_feed(&s2, c, n, fz_event, &l2);
		free(c);
	}
	if (size && r1 == 0 && r2 == 0 && (l1.hash != l2.hash || l1.events != l2.events || s1.done != s2.done))
		abort();
	bench_sse_free(&s1);
	bench_sse_free(&s2);
	return 0;
}
