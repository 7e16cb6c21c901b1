#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_out.h"
#include "bench_stats.h"
#include "fileio.h"

const char bench_out_csv_header[] =
    "role,model,commit,gpu,server_flags,concurrency,target_tokens,prompt_tokens,exact,rep,"
    "ttft_ms,itl_ms,itl_p50_ms,itl_p90_ms,tokens_per_s,output_tokens,e2e_ms";

enum { SVG_W = 760, SVG_H = 520, SVG_LEFT = 80, SVG_RIGHT = 150, PANEL_H = 170 };

static int cmp_sample(const void *a, const void *b)
{
	const struct bench_sample *x = a, *y = b;
	if (x->concurrency != y->concurrency)
		return x->concurrency < y->concurrency ? -1 : 1;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return (x->rep > y->rep) - (x->rep < y->rep);
}

void bench_out_sort(struct bench_results *r)
{
	if (r->n > 1)
		qsort(r->s, r->n, sizeof *r->s, cmp_sample);
}

size_t bench_out_points(const struct bench_results *r, struct bench_point **out)
{
	*out = NULL;
	if (r->n == 0)
		return 0;
	struct bench_point *p = calloc(r->n, sizeof *p);
	double *v = malloc(r->n * sizeof *v);
	if (!p || !v) {
		free(p);
		free(v);
		return 0;
	}
	size_t np = 0;
	for (size_t i = 0; i < r->n;) {
		size_t j = i;
		while (j < r->n && r->s[j].concurrency == r->s[i].concurrency && r->s[j].target == r->s[i].target)
			j++;
		struct bench_point *q = &p[np++];
		size_t k = j - i;
		q->concurrency = r->s[i].concurrency;
		q->target = r->s[i].target;
		q->n = k;
		for (size_t t = 0; t < k; t++)
			v[t] = r->s[i + t].prompt_tokens;
		bench_stats_sort(v, k);
		q->prompt_tokens = (uint32_t)bench_stats_percentile(v, k, 50);
		for (size_t t = 0; t < k; t++)
			v[t] = r->s[i + t].ttft_ms;
		bench_stats_sort(v, k);
		q->ttft_min = v[0];
		q->ttft_med = bench_stats_percentile(v, k, 50);
		q->ttft_max = v[k - 1];
		for (size_t t = 0; t < k; t++)
			v[t] = r->s[i + t].itl_ms;
		bench_stats_sort(v, k);
		q->itl_min = v[0];
		q->itl_max = v[k - 1];
		q->itl_mean = bench_stats_mean(v, k);
		for (size_t t = 0; t < k; t++)
			v[t] = r->s[i + t].itl_p50_ms;
		q->itl_p50 = bench_stats_mean(v, k);
		for (size_t t = 0; t < k; t++)
			v[t] = r->s[i + t].itl_p90_ms;
		q->itl_p90 = bench_stats_mean(v, k);
		for (size_t t = 0; t < k; t++)
			v[t] = r->s[i + t].tokens_per_s;
		q->tokens_per_s = bench_stats_mean(v, k);
		i = j;
	}
	free(v);
	*out = p;
	return np;
}

/* A CSV field, quoted when it holds a comma, quote or line break (RFC 4180). */
static void csv_field(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

int bench_out_csv(FILE *f, const struct bench_meta *m, const struct bench_results *r)
{
	fprintf(f, "%s\n", bench_out_csv_header);
	for (size_t i = 0; i < r->n; i++) {
		const struct bench_sample *s = &r->s[i];
		csv_field(f, m->role);
		fputc(',', f);
		csv_field(f, m->model);
		fputc(',', f);
		csv_field(f, m->commit);
		fputc(',', f);
		csv_field(f, m->gpu);
		fputc(',', f);
		csv_field(f, m->server_flags);
		fprintf(f, ",%u,%u,%u,%d,%u,%.3f,%.3f,%.3f,%.3f,%.2f,%ld,%.3f\n", s->concurrency, s->target,
		    s->prompt_tokens, r->exact, s->rep, s->ttft_ms, s->itl_ms, s->itl_p50_ms, s->itl_p90_ms,
		    s->tokens_per_s, s->output_tokens, s->e2e_ms);
	}
	return ferror(f) ? -1 : 0;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

/* The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 times a power of ten) at least x. */
static double nice_ceil(double x)
{
	if (x <= 0)
		return 1;
	double e = pow(10, floor(log10(x)));
	const double steps[] = { 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10 };
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (steps[i] * e >= x * (1 - 1e-9))
			return steps[i] * e;
	return 10 * e;
}

struct xscale {
	double lo, hi;
	int logx;
};

static double xpos(const struct xscale *xs, double v)
{
	double w = SVG_W - SVG_LEFT - SVG_RIGHT;
	if (xs->hi <= xs->lo)
		return SVG_LEFT + w / 2;
	double a = xs->logx ? log2(v) : v, lo = xs->logx ? log2(xs->lo) : xs->lo, hi = xs->logx ? log2(xs->hi) : xs->hi;
	return SVG_LEFT + (a - lo) / (hi - lo) * w;
}

static double ypos(double v, double ymin, double ymax, int logy, int bottom)
{
	if (!logy)
		return bottom - v / ymax * PANEL_H;
	if (v < ymin)
		v = ymin;
	return bottom - (log10(v) - log10(ymin)) / (log10(ymax) - log10(ymin)) * PANEL_H;
}

static const char *series_colour(unsigned concurrency)
{
	return concurrency == 1 ? "#1f77b4" : "#d62728";
}

/* One panel: a band from lo to hi and a line through mid for each concurrency. */
static void panel(FILE *f, const struct xscale *xs, int top, const char *title, const struct bench_point *p,
    size_t n, int which)
{
	double ymax = 0;
	for (size_t i = 0; i < n; i++) {
		double hi = which == 0 ? p[i].ttft_max : p[i].itl_max;
		if (hi > ymax)
			ymax = hi;
	}
	ymax = nice_ceil(ymax * 1.05);
	int bottom = top + PANEL_H;
	/*
	 * When one concurrency's latencies are ten times another's, a linear axis flattens the
	 * faster line: the axis is then logarithmic, from the power of ten below the smallest value.
	 */
	double ymin = 0, lo_med = 0, hi_med = 0;
	for (size_t i = 0; i < n; i++) {
		double lo = which == 0 ? p[i].ttft_min : p[i].itl_min, med = which == 0 ? p[i].ttft_med : p[i].itl_mean;
		if (lo > 0 && (ymin == 0 || lo < ymin))
			ymin = lo;
		if (med > 0 && (lo_med == 0 || med < lo_med))
			lo_med = med;
		if (med > hi_med)
			hi_med = med;
	}
	int logy = lo_med > 0 && hi_med / lo_med >= 10;
	if (logy) {
		ymin = pow(10, floor(log10(ymin)));
		ymax = pow(10, ceil(log10(ymax)));
	}
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-weight=\"bold\">", SVG_LEFT, top - 8);
	xml_text(f, title);
	fputs(logy ? " (log scale)</text>\n" : "</text>\n", f);
	int nt = logy ? (int)lround(log10(ymax / ymin)) : 5;
	for (int t = 0; t <= nt; t++) {
		double v = logy ? ymin * pow(10, t) : ymax * t / 5.0;
		double y = bottom - (double)PANEL_H * t / nt;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>\n", SVG_LEFT, y,
		    SVG_W - SVG_RIGHT, y);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", SVG_LEFT - 6, y + 4, v);
	}
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", SVG_LEFT, bottom,
	    SVG_W - SVG_RIGHT, bottom);
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", SVG_LEFT, top, SVG_LEFT,
	    bottom);
	for (size_t i = 0; i < n; i++) {
		if (p[i].concurrency != p[0].concurrency)
			break;
		double x = xpos(xs, p[i].prompt_tokens);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"black\"/>\n", x, bottom, x,
		    bottom + 4);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%u</text>\n", x, bottom + 17,
		    p[i].prompt_tokens);
	}
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && p[j].concurrency == p[i].concurrency)
			j++;
		const char *col = series_colour(p[i].concurrency);
		fprintf(f, "<polygon fill=\"%s\" fill-opacity=\"0.2\" stroke=\"none\" points=\"", col);
		for (size_t k = i; k < j; k++)
			fprintf(f, "%s%.1f,%.1f", k == i ? "" : " ", xpos(xs, p[k].prompt_tokens),
			    ypos(which == 0 ? p[k].ttft_max : p[k].itl_max, ymin, ymax, logy, bottom));
		for (size_t k = j; k-- > i;)
			fprintf(f, " %.1f,%.1f", xpos(xs, p[k].prompt_tokens),
			    ypos(which == 0 ? p[k].ttft_min : p[k].itl_min, ymin, ymax, logy, bottom));
		fputs("\"/>\n", f);
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
		for (size_t k = i; k < j; k++)
			fprintf(f, "%s%.1f,%.1f", k == i ? "" : " ", xpos(xs, p[k].prompt_tokens),
			    ypos(which == 0 ? p[k].ttft_med : p[k].itl_mean, ymin, ymax, logy, bottom));
		fputs("\"/>\n", f);
		for (size_t k = i; k < j; k++)
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", xpos(xs, p[k].prompt_tokens),
			    ypos(which == 0 ? p[k].ttft_med : p[k].itl_mean, ymin, ymax, logy, bottom), col);
		i = j;
	}
}

int bench_out_svg(FILE *f, const struct bench_meta *m, const struct bench_point *p, size_t n)
{
	struct xscale xs = { 0, 0, 0 };
	for (size_t i = 0; i < n; i++) {
		double v = p[i].prompt_tokens ? p[i].prompt_tokens : 1;
		if (i == 0 || v < xs.lo)
			xs.lo = v;
		if (i == 0 || v > xs.hi)
			xs.hi = v;
	}
	xs.logx = xs.lo > 0 && xs.hi / xs.lo >= 4;
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fputs("<!-- generated by bench from the rows of the CSV beside it; do not edit -->\n", f);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n", SVG_W, SVG_H, SVG_W, SVG_H);
	fputs("<title>", f);
	xml_text(f, m->role);
	fputs(": latency against prompt length</title>\n", f);
	fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", SVG_W, SVG_H);
	fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\">", SVG_LEFT);
	if (m->title) {
		xml_text(f, m->title);
	} else {
		xml_text(f, m->role);
		fputs(" (", f);
		xml_text(f, m->model);
		fputs(")", f);
	}
	fputs(" on ", f);
	xml_text(f, m->gpu);
	fputs("</text>\n", f);
	if (m->server_flags && *m->server_flags) {
		fprintf(f, "<text x=\"%d\" y=\"38\" fill=\"#444444\">server: ", SVG_LEFT);
		xml_text(f, m->server_flags);
		fputs("</text>\n", f);
	}
	panel(f, &xs, 60, "time to first token, ms (median; band: min to max)", p, n, 0);
	panel(f, &xs, 300, "inter-token latency, ms (mean; band: min to max)", p, n, 1);
	fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">prompt tokens%s</text>\n",
	    SVG_LEFT + (SVG_W - SVG_LEFT - SVG_RIGHT) / 2, SVG_H - 8, xs.logx ? " (log scale)" : "");
	int ly = 70;
	for (size_t i = 0; i < n; i++) {
		if (i && p[i].concurrency == p[i - 1].concurrency)
			continue;
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/>\n", SVG_W - SVG_RIGHT + 15,
		    ly - 10, series_colour(p[i].concurrency));
		fprintf(f, "<text x=\"%d\" y=\"%d\">concurrency %u</text>\n", SVG_W - SVG_RIGHT + 32, ly,
		    p[i].concurrency);
		ly += 18;
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -1 : 0;
}

void bench_out_table(FILE *f, const struct bench_meta *m, const struct bench_point *p, size_t n, int exact)
{
	fprintf(f, "%s (%s) on %s, max_model_len %u%s\n", m->role, m->model, m->gpu, m->max_model_len,
	    exact ? "" : "; prompt lengths are approximate (the server has no /tokenize)");
	fprintf(f, "%4s %8s %4s %10s %21s %9s %8s %8s %9s\n", "conc", "prompt", "n", "ttft ms", "ttft min-max",
	    "itl ms", "itl p50", "itl p90", "tok/s");
	for (size_t i = 0; i < n; i++) {
		char range[64];
		snprintf(range, sizeof range, "%.1f-%.1f", p[i].ttft_min, p[i].ttft_max);
		fprintf(f, "%4u %8u %4zu %10.1f %21s %9.2f %8.2f %8.2f %9.1f\n", p[i].concurrency, p[i].prompt_tokens,
		    p[i].n, p[i].ttft_med, range, p[i].itl_mean, p[i].itl_p50, p[i].itl_p90, p[i].tokens_per_s);
	}
}

void bench_out_json(FILE *f, const struct bench_meta *m, const struct bench_point *p, size_t n, int exact,
    const char *csv_path, const char *svg_path)
{
	json_t *pts = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(pts, json_pack("{s:i, s:i, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
		    "concurrency", (int)p[i].concurrency, "target_tokens", (int)p[i].target, "prompt_tokens",
		    (int)p[i].prompt_tokens, "n", (int)p[i].n, "ttft_ms_median", p[i].ttft_med, "ttft_ms_min",
		    p[i].ttft_min, "ttft_ms_max", p[i].ttft_max, "itl_ms_mean", p[i].itl_mean, "itl_ms_p50", p[i].itl_p50,
		    "itl_ms_p90", p[i].itl_p90, "tokens_per_s", p[i].tokens_per_s));
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:b, s:s, s:s, s:o}", "role", m->role, "model",
	    m->model, "commit", m->commit, "gpu", m->gpu, "server_flags", m->server_flags, "max_model_len",
	    (int)m->max_model_len, "exact_lengths", exact, "csv", csv_path, "svg", svg_path, "points", pts);
	if (doc) {
		json_dumpf(doc, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
		fputc('\n', f);
	}
	json_decref(doc);
}

/* Replace csv and svg together: both written and synced before either is renamed. */
static int replace_pair(char *const path[2], char *const data[2], const size_t len[2], char *err, size_t errlen)
{
	struct fileio_atomic f[2];
	for (int i = 0; i < 2; i++)
		if (fileio_atomic_open(&f[i], path[i], 0644, FILEIO_EXACT_MODE) != 0) {
			snprintf(err, errlen, "cannot create a temp file beside %s: %s", path[i], strerror(errno));
			if (i)
				fileio_atomic_abort(&f[0]);
			return -1;
		}
	for (int i = 0; i < 2; i++)
		if (fileio_write_all(f[i].fd, data[i], len[i]) != 0 || fileio_atomic_close(&f[i]) != 0) {
			snprintf(err, errlen, "%s: %s", path[i], strerror(errno));
			fileio_atomic_abort(&f[0]);
			fileio_atomic_abort(&f[1]);
			return -1;
		}
	for (int i = 0; i < 2; i++)
		if (fileio_atomic_commit(&f[i]) != 0) {
			snprintf(err, errlen, "%s: %s", path[i], strerror(errno));
			fileio_atomic_abort(&f[1]);
			return -1;
		}
	fileio_sync_dir(path[0]);
	return 0;
}

int bench_out_write(const char *dir, const struct bench_meta *m, struct bench_results *r, char *err, size_t errlen)
{
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char csv[4096], svg[4096];
	snprintf(csv, sizeof csv, "%s/%s.csv", dir, m->role);
	snprintf(svg, sizeof svg, "%s/%s.svg", dir, m->role);
	bench_out_sort(r);
	struct bench_point *p = NULL;
	size_t n = bench_out_points(r, &p);
	/* Rendered in memory first, so that a write error names the file it was meant for. */
	char *data[2] = {NULL, NULL};
	size_t len[2] = {0, 0};
	FILE *fc = open_memstream(&data[0], &len[0]), *fs = open_memstream(&data[1], &len[1]);
	int rc = -1;
	if (fc)
		bench_out_csv(fc, m, r);
	if (fs)
		bench_out_svg(fs, m, p, n);
	int bc = !fc || fclose(fc) != 0, bs = !fs || fclose(fs) != 0;
	if (bc || bs)
		snprintf(err, errlen, "%s: %s", bc ? csv : svg, strerror(ENOMEM));
	else
		rc = replace_pair((char *[2]){csv, svg}, data, len, err, errlen);
	free(p);
	free(data[0]);
	free(data[1]);
	return rc;
}
