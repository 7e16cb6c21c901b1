#include "fprogress.h"

#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "diag.h"

double
fprogress_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
fprogress_size(uint64_t n, char *buf, size_t len)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int u = 0;
	while (v >= 1024 && u < 4)
		v /= 1024, u++;
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	return buf;
}

void
fprogress_init(struct fprogress *p, enum fprogress_mode mode, FILE *out, FILE *errs)
{
	memset(p, 0, sizeof *p);
	p->mode = mode;
	p->out = out;
	p->errs = errs;
	p->t0 = fprogress_now();
}

static void
clear_line(struct fprogress *p)
{
	if (p->line_shown) {
		fputs("\r\033[K", p->errs);
		p->line_shown = false;
	}
}

void
fprogress_event(struct fprogress *p, const char *kind, const char *role, const char *file,
    uint64_t bytes, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	diag_record(fmt);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	bool err = strcmp(kind, "error") == 0;
	if (p->mode == FPROGRESS_JSON) {
		json_t *o = json_pack("{s:s, s:s}", "event", kind, "message", msg);
		if (role)
			json_object_set_new(o, "role", json_string(role));
		if (file)
			json_object_set_new(o, "file", json_string(file));
		if (bytes)
			json_object_set_new(o, "bytes", json_integer((json_int_t)bytes));
		char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
		if (s)
			fprintf(p->out, "%s\n", s);
		free(s);
		json_decref(o);
		fflush(p->out);
		if (err)
			fprintf(p->errs, "fetch: error: %s\n", msg);
		return;
	}
	clear_line(p);
	FILE *f = err ? p->errs : p->out;
	fprintf(f, "fetch: %s%s%s%s%s%s\n", err ? "error: " : "", role ? role : "", role ? ": " : "",
	    file ? file : "", file ? ": " : "", msg);
	fflush(f);
}

void
fprogress_bytes(struct fprogress *p, uint64_t n)
{
	p->bytes_done += n;
	if (p->mode != FPROGRESS_TTY)
		return;
	double now = fprogress_now();
	if (now - p->last_draw < 0.1)
		return;
	p->last_draw = now;
	double el = now - p->t0, rate = el > 0 ? (double)p->bytes_done / el : 0;
	char a[32], b[32], r[32], eta[32] = "--";
	if (rate > 0 && p->bytes_total > p->bytes_done) {
		double s = (double)(p->bytes_total - p->bytes_done) / rate;
		snprintf(eta, sizeof eta, "%dm%02ds", (int)s / 60, (int)s % 60);
	}
	char cur[96] = "";
	if (p->current && p->current_size)
		snprintf(cur, sizeof cur, "%.64s %3.0f%%", p->current,
		    100.0 * (double)p->current_done / (double)p->current_size);
	fprintf(p->errs, "\r\033[Kfetch: %u/%u files  %s / %s  %s/s  ETA %s  %s",
	    p->files_done, p->files_total, fprogress_size(p->bytes_done, a, sizeof a),
	    fprogress_size(p->bytes_total, b, sizeof b), fprogress_size((uint64_t)rate, r, sizeof r), eta, cur);
	fflush(p->errs);
	p->line_shown = true;
}

void
fprogress_finish(struct fprogress *p)
{
	clear_line(p);
}
