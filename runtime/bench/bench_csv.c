#define _POSIX_C_SOURCE 200809L /* stpcpy */
#include "bench_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CSV_COLS = 17, CSV_LINE_MAX = 8192 };

/* Split one CSV line (RFC 4180 quoting, no line breaks inside fields) into at most CSV_COLS fields, in place. */
static int
split(char *line, char *f[CSV_COLS])
{
	int n = 0;
	char *p = line;
	while (n < CSV_COLS) {
		char *out = p, *start = p;
		if (*p == '"') {
			p++;
			while (*p && !(*p == '"' && p[1] != '"')) {
				if (*p == '"')
					p++;
				*out++ = *p++;
			}
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != '\n' && *p != '\r')
				*out++ = *p++;
		}
		char sep = *p;
		*out = '\0';
		f[n++] = start;
		if (sep != ',')
			break;
		p++;
	}
	return n;
}

int
bench_csv_read(const char *path, struct bench_meta *m, char **meta_buf, struct bench_results *r, char *err,
    size_t errlen)
{
	memset(m, 0, sizeof *m);
	memset(r, 0, sizeof *r);
	*meta_buf = NULL;
	FILE *in = fopen(path, "r");
	if (!in) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[CSV_LINE_MAX];
	unsigned lineno = 0;
	int rc = 0;
	r->exact = 1;
	while (fgets(line, sizeof line, in)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (lineno == 1) {
			if (strcmp(line, bench_out_csv_header) != 0) {
				snprintf(err, errlen, "%s:1: not a CSV that bench wrote (its header differs)", path);
				rc = -1;
				break;
			}
			continue;
		}
		if (!*line)
			continue;
		char *f[CSV_COLS];
		if (split(line, f) != CSV_COLS) {
			snprintf(err, errlen, "%s:%u: expected %d fields", path, lineno, CSV_COLS);
			rc = -1;
			break;
		}
		if (!*meta_buf) {
			size_t len = strlen(f[0]) + strlen(f[1]) + strlen(f[2]) + strlen(f[3]) + strlen(f[4]) + 5;
			char *b = *meta_buf = malloc(len);
			if (!b) {
				rc = -1;
				snprintf(err, errlen, "out of memory");
				break;
			}
			const char **dst[] = {&m->role, &m->model, &m->commit, &m->gpu, &m->server_flags};
			for (int i = 0; i < 5; i++) {
				*dst[i] = b;
				b = stpcpy(b, f[i]) + 1;
			}
		}
		if (r->n == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 64;
			struct bench_sample *s = realloc(r->s, r->cap * sizeof *s);
			if (!s) {
				rc = -1;
				snprintf(err, errlen, "out of memory");
				break;
			}
			r->s = s;
		}
		struct bench_sample *s = &r->s[r->n++];
		s->concurrency = (unsigned)strtoul(f[5], NULL, 10);
		s->target = (uint32_t)strtoul(f[6], NULL, 10);
		s->prompt_tokens = (uint32_t)strtoul(f[7], NULL, 10);
		r->exact &= strcmp(f[8], "1") == 0;
		s->rep = (unsigned)strtoul(f[9], NULL, 10);
		s->ttft_ms = strtod(f[10], NULL);
		s->itl_ms = strtod(f[11], NULL);
		s->itl_p50_ms = strtod(f[12], NULL);
		s->itl_p90_ms = strtod(f[13], NULL);
		s->tokens_per_s = strtod(f[14], NULL);
		s->output_tokens = strtol(f[15], NULL, 10);
		s->e2e_ms = strtod(f[16], NULL);
		if (!s->concurrency) {
			snprintf(err, errlen, "%s:%u: concurrency '%s' is not a positive integer", path, lineno, f[5]);
			rc = -1;
			break;
		}
	}
	fclose(in);
	if (rc == 0 && r->n == 0) {
		snprintf(err, errlen, "%s: no rows", path);
		rc = -1;
	}
	if (rc) {
		free(r->s);
		r->s = NULL;
		r->n = 0;
		free(*meta_buf);
		*meta_buf = NULL;
	}
	return rc;
}
