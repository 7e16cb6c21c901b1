#include "nvsmi.h"
#include "size.h"

#include <stdio.h>
#include <string.h>

enum { NVSMI_MAX_FIELDS = 16, NVSMI_LINE_MAX = 1024 };

/* One line split at ", " into at most NVSMI_MAX_FIELDS fields, in a private copy. */
struct nvsmi_line {
	char buf[NVSMI_LINE_MAX];
	char *field[NVSMI_MAX_FIELDS];
	size_t n;
};

static void
trim(char **s)
{
	char *p = *s;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r'))
		p[--len] = '\0';
	*s = p;
}

/* Copy the line at text (up to '\n') and split it; returns the start of the next line. */
static const char *
split_line(const char *text, struct nvsmi_line *l, int *toolong)
{
	const char *end = strchr(text, '\n');
	size_t len = end ? (size_t)(end - text) : strlen(text);

	*toolong = len >= sizeof l->buf;
	if (*toolong)
		len = sizeof l->buf - 1;
	memcpy(l->buf, text, len);
	l->buf[len] = '\0';
	l->n = 0;
	char *p = l->buf;
	for (;;) {
		char *comma = strchr(p, ',');
		if (l->n == NVSMI_MAX_FIELDS - 1 || !comma) {
			l->field[l->n++] = p;
			break;
		}
		*comma = '\0';
		l->field[l->n++] = p;
		p = comma + 1;
	}
	for (size_t i = 0; i < l->n; i++)
		trim(&l->field[i]);
	return end ? end + 1 : text + strlen(text);
}

static int
blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r')
			return 0;
	return 1;
}

/* A field that a driver could not fill: "[N/A]", "[Not Supported]", "[Unknown Error]", ... */
static int
unreported(const char *s)
{
	return s[0] == '[' || strcmp(s, "N/A") == 0;
}

/* Parse a non-negative integer with an optional " MiB" unit; -2 when it is not one. */
static int64_t
mib_field(const char *s)
{
	int64_t v = 0;
	const char *p = s;

	if (unreported(s))
		return NVSMI_UNKNOWN;
	if (*p < '0' || *p > '9')
		return -2;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (INT64_MAX - 9) / 10)
			return -2;
		v = v * 10 + (*p - '0');
	}
	if (*p == '\0' || strcmp(p, " MiB") == 0)
		return v;
	return -2;
}

/* The header line of --format=csv starts with the field name instead of a number. */
static int
header_line(const struct nvsmi_line *l, const char *first)
{
	return strcmp(l->field[0], first) == 0;
}

/* Join fields [from, to) back with ", " into dst (process and GPU names may contain commas). */
static void
join_fields(const struct nvsmi_line *l, size_t from, size_t to, char *dst, size_t cap)
{
	size_t len = 0;
	dst[0] = '\0';
	for (size_t i = from; i < to; i++) {
		int w = snprintf(dst + len, cap - len, "%s%s", i > from ? ", " : "", l->field[i]);
		if (w < 0 || (size_t)w >= cap - len)
			return;
		len += (size_t)w;
	}
}

/*
 * Read the next line of *text into *l, skipping blank lines and a first line that is the
 * header (its first field is header). 1 a record, 0 no lines left, -1 a line too long (err set).
 */
static int
next_record(const char **text, struct nvsmi_line *l, unsigned *lineno, const char *header,
    char err[NVSMI_ERR_MAX])
{
	int toolong;

	while (**text) {
		*text = split_line(*text, l, &toolong);
		++*lineno;
		if (l->n == 1 && blank(l->field[0]))
			continue;
		if (toolong) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: longer than %d bytes", *lineno, NVSMI_LINE_MAX - 1);
			return -1;
		}
		if (*lineno == 1 && header_line(l, header))
			continue;
		return 1;
	}
	return 0;
}

int
nvsmi_parse_gpus(const char *text, int with_reserved, struct nvsmi_state *st, char err[NVSMI_ERR_MAX])
{
	struct nvsmi_line l;
	size_t want = with_reserved ? 6 : 5;
	unsigned lineno = 0;
	int rc;

	st->ngpus = 0;
	while ((rc = next_record(&text, &l, &lineno, "index", err)) > 0) {
		if (l.n < want) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: expected %zu fields, found %zu", lineno, want, l.n);
			return -1;
		}
		if (st->ngpus == NVSMI_MAX_GPUS) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: more than %d GPUs", lineno, NVSMI_MAX_GPUS);
			return -1;
		}
		struct nvsmi_gpu *g = &st->gpus[st->ngpus];
		int64_t idx = mib_field(l.field[0]);
		size_t m = l.n - (want - 2);  /* first memory field; fields in between form the name */
		if (idx < 0 || idx > 1000000 || strchr(l.field[0], ' ')) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: GPU index '%s' is not a number", lineno, l.field[0]);
			return -1;
		}
		g->index = (int)idx;
		join_fields(&l, 1, m, g->name, sizeof g->name);
		int64_t *dst[4] = { &g->total_mib, &g->used_mib, &g->free_mib, &g->reserved_mib };
		g->reserved_mib = NVSMI_UNKNOWN;
		for (size_t i = 0; i < want - 2; i++) {
			int64_t v = mib_field(l.field[m + i]);
			if (v == -2) {
				snprintf(err, NVSMI_ERR_MAX, "line %u: memory field '%s' is not a number of MiB",
				    lineno, l.field[m + i]);
				return -1;
			}
			*dst[i] = v;
		}
		st->ngpus++;
	}
	return rc;
}

int
nvsmi_parse_apps(const char *text, struct nvsmi_state *st, char err[NVSMI_ERR_MAX])
{
	struct nvsmi_line l;
	unsigned lineno = 0;
	int rc;

	st->napps = 0;
	while ((rc = next_record(&text, &l, &lineno, "pid", err)) > 0) {
		if (l.n < 3) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: expected 3 fields, found %zu", lineno, l.n);
			return -1;
		}
		if (st->napps == NVSMI_MAX_APPS) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: more than %d processes", lineno, NVSMI_MAX_APPS);
			return -1;
		}
		struct nvsmi_app *a = &st->apps[st->napps];
		int64_t pid = mib_field(l.field[0]);
		if (pid < 0 || pid > 0x7fffffff || strchr(l.field[0], ' ')) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: pid '%s' is not a number", lineno, l.field[0]);
			return -1;
		}
		a->pid = (long)pid;
		join_fields(&l, 1, l.n - 1, a->name, sizeof a->name);
		a->used_mib = mib_field(l.field[l.n - 1]);
		if (a->used_mib == -2) {
			snprintf(err, NVSMI_ERR_MAX, "line %u: memory field '%s' is not a number of MiB",
			    lineno, l.field[l.n - 1]);
			return -1;
		}
		st->napps++;
	}
	return rc;
}

int64_t
nvsmi_cuda_total_bytes(const struct nvsmi_gpu *gpu)
{
	if (gpu->total_mib < 0)
		return NVSMI_UNKNOWN;
	int64_t mib = gpu->total_mib - (gpu->reserved_mib > 0 ? gpu->reserved_mib : 0);
	return mib * (int64_t)SIZE_MIB;
}
