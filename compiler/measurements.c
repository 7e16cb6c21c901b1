#include "measurements.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MEAS_MAX_FIELDS = 64 };

struct meas_point {
	double tokens;
	double ttft;
};

/* Split one CSV line (RFC 4180 quoting, no embedded newlines) in place; returns the field count. */
static size_t split_csv(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		if (n == max)
			return n;
		char *out = NULL;
		char *end = p;
		fields[n++] = p;
		if (*p == '"') {
			char *r = p + 1;
			out = p;
			for (;;) {
				if (*r == '\0')
					break;
				if (*r == '"' && r[1] == '"') {
					*out++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else {
					*out++ = *r++;
				}
			}
			end = r;
		}
		while (*end && *end != ',')
			end++;
		int more = *end == ',';
		/* A quoted field ends where its unescaped copy does; text after its closing quote is dropped. */
		*(out ? out : end) = '\0';
		if (!more)
			return n;
		p = end + 1;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int cmp_point(const void *a, const void *b)
{
	const struct meas_point *x = a, *y = b;
	if (x->tokens != y->tokens)
		return x->tokens < y->tokens ? -1 : 1;
	return cmp_double(&x->ttft, &y->ttft);
}

static double median_sorted(const struct meas_point *p, size_t n)
{
	return n % 2 ? p[n / 2].ttft : (p[n / 2 - 1].ttft + p[n / 2].ttft) / 2;
}

char *measurements_dir_for(const char *catalog_path)
{
	const char *slash = catalog_path ? strrchr(catalog_path, '/') : NULL;
	size_t dl = slash ? (size_t)(slash - catalog_path) : 0;
	char *s = malloc(dl + sizeof "/measurements");
	if (!s)
		return NULL;
	if (slash)
		snprintf(s, dl + sizeof "/measurements", "%.*s/measurements", (int)dl, catalog_path);
	else
		snprintf(s, dl + sizeof "/measurements", "measurements");
	return s;
}

int measurements_ttft_at(const char *dir, const char *role, uint32_t max_model_len, double *ttft_ms)
{
	size_t plen = strlen(dir) + strlen(role) + 8;
	char *path = malloc(plen);
	if (!path)
		return -1;
	snprintf(path, plen, "%s/%s.csv", dir, role);
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	char *fields[MEAS_MAX_FIELDS];
	int ci = -1, pi = -1, ti = -1;
	struct meas_point *pts = NULL;
	size_t n = 0, pcap = 0;
	int bad = 0, first = 1;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\r\n")] = '\0';
		size_t nf = split_csv(line, fields, MEAS_MAX_FIELDS);
		if (first) {
			first = 0;
			for (size_t i = 0; i < nf; i++) {
				if (strcmp(fields[i], "concurrency") == 0)
					ci = (int)i;
				else if (strcmp(fields[i], "prompt_tokens") == 0)
					pi = (int)i;
				else if (strcmp(fields[i], "ttft_ms") == 0)
					ti = (int)i;
			}
			if (ci < 0 || pi < 0 || ti < 0)
				break;
			continue;
		}
		if ((size_t)ci >= nf || (size_t)pi >= nf || (size_t)ti >= nf)
			continue;
		if (strcmp(fields[ci], "1") != 0)
			continue;
		char *e1, *e2;
		double tok = strtod(fields[pi], &e1), t = strtod(fields[ti], &e2);
		if (*e1 || *e2 || e1 == fields[pi] || e2 == fields[ti] || !(t >= 0) || !(tok > 0))
			continue;
		if (n == pcap) {
			size_t nc = pcap ? 2 * pcap : 64;
			struct meas_point *np = realloc(pts, nc * sizeof *np);
			if (!np) {
				bad = ENOMEM;
				break;
			}
			pts = np;
			pcap = nc;
		}
		pts[n].tokens = tok;
		pts[n].ttft = t;
		n++;
	}
	if (!bad && ferror(f))
		bad = EIO;
	free(line);
	fclose(f);
	if (bad || n == 0) {
		free(pts);
		errno = bad ? bad : EINVAL;
		return -1;
	}
	/* Median per length, in place: pts[0..m) become (length, median). */
	qsort(pts, n, sizeof *pts, cmp_point);
	size_t m = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && pts[j].tokens == pts[i].tokens)
			j++;
		struct meas_point q = { pts[i].tokens, median_sorted(pts + i, j - i) };
		pts[m++] = q;
		i = j;
	}
	double L = max_model_len, r;
	if (m == 1) {
		r = pts[0].ttft;
	} else {
		size_t k = 1;
		while (k < m - 1 && pts[k].tokens < L)
			k++;
		/* Between pts[k-1] and pts[k]; beyond either end the nearest pair extends the line. */
		struct meas_point a = pts[k - 1], b = pts[k];
		r = a.ttft + (b.ttft - a.ttft) * (L - a.tokens) / (b.tokens - a.tokens);
		if (r < 0)
			r = 0;
	}
	free(pts);
	*ttft_ms = r;
	return 0;
}
