#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_ladder.h"
#include "size.h"

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

int bench_ladder_parse(const char *s, uint32_t *out, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	const char *p = s;
	for (;;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		char item[32];
		if (len == 0 || len >= sizeof item) {
			snprintf(err, errlen, "'%.*s' is not a length", (int)(len < 32 ? len : 32), p);
			return -1;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		char *end;
		errno = 0;
		unsigned long long v = strtoull(item, &end, 10);
		if (end != item && (*end == 'k' || *end == 'K')) {
			v *= 1024;
			end++;
		}
		if (end == item || *end || errno || v == 0 || v > 16 * SIZE_MIB || item[0] == '-') {
			snprintf(err, errlen, "'%s' is not a length (expected a token count such as 512 or 4k)", item);
			return -1;
		}
		if (*n == BENCH_LADDER_MAX) {
			snprintf(err, errlen, "more than %d lengths", BENCH_LADDER_MAX);
			return -1;
		}
		out[(*n)++] = (uint32_t)v;
		if (!e)
			break;
		p = e + 1;
	}
	qsort(out, *n, sizeof *out, cmp_u32);
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (k == 0 || out[k - 1] != out[i])
			out[k++] = out[i];
	*n = k;
	return 0;
}

size_t bench_ladder_cap(uint32_t *lens, size_t *n, uint32_t max_model_len, uint32_t max_tokens)
{
	if (max_model_len == 0)
		return 0;
	uint32_t limit = max_model_len > max_tokens ? max_model_len - max_tokens : 1;
	size_t k = 0, dropped = 0;
	for (size_t i = 0; i < *n; i++) {
		if (lens[i] <= limit)
			lens[k++] = lens[i];
		else
			dropped++;
	}
	if (dropped && (k == 0 || lens[k - 1] != limit))
		lens[k++] = limit;
	*n = k;
	return dropped;
}
