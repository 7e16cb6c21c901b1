/*
 * bench: latency against context length on a running OpenAI-compatible server (vLLM as
 * `switch serve` starts it). See docs/bench.md and bench(1).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activefile.h"
#include "bench_client.h"
#include "bench_ladder.h"
#include "bench_csv.h"
#include "bench_out.h"
#include "bench_role.h"
#include "bench_run.h"
#include "exitcode.h"
#include "cliopt.h"
#include "diag.h"

#ifndef MODELC_VERSION
#define MODELC_VERSION "0"
#endif


static const char usage_text[] =
    "usage: bench [ROLE] [--url URL] [--lengths 256,512,1k,2k,4k,8k] [--reps N] [--warmup N]\n"
    "             [--concurrency N] [--max-tokens N] [--timeout S] [--out DIR] [--json]\n"
    "             [--generated DIR] [--model NAME] [--gpu NAME] [--server-flags FLAGS] [--title TEXT]\n"
    "       bench --chart CSV [--title TEXT]   (draw the SVG of a CSV bench wrote again, on stdout)\n";

struct opts {
	const char *role, *url, *lengths, *out, *gendir, *model, *gpu, *server_flags, *title, *chart;
	unsigned reps, warmup, concurrency, max_tokens;
	double timeout_s;
	int json;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;
	diag_record(fmt);
	fputs("bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage_text, stderr);
	return EXITCODE_USAGE;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v < min || v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	/* The options with a value come first, val their index + O_URL (1 is cliopt's "no option"). */
	enum { O_URL = 2, O_LENGTHS, O_REPS, O_WARMUP, O_CONC, O_MAX_TOKENS, O_TIMEOUT, O_OUT, O_GENERATED, O_MODEL, O_GPU };
	static const struct option longopts[] = {
		{"url", 1, NULL, O_URL}, {"lengths", 1, NULL, O_LENGTHS}, {"reps", 1, NULL, O_REPS},
		{"warmup", 1, NULL, O_WARMUP}, {"concurrency", 1, NULL, O_CONC}, {"max-tokens", 1, NULL, O_MAX_TOKENS},
		{"timeout", 1, NULL, O_TIMEOUT}, {"out", 1, NULL, O_OUT}, {"generated", 1, NULL, O_GENERATED},
		{"model", 1, NULL, O_MODEL}, {"gpu", 1, NULL, O_GPU}, {"server-flags", 1, NULL, O_GPU + 1},
		{"title", 1, NULL, O_GPU + 2}, {"chart", 1, NULL, O_GPU + 3},
		{"json", 0, NULL, 'j'}, {"help", 0, NULL, 'h'}, {"version", 0, NULL, 'V'}, {NULL, 0, NULL, 0} };
	const char *a;
	for (int k; (k = cliopt_next(argc, argv, "+:h", longopts, &a)) != -1;) {
		const char *v = optarg;
		int bad = 0;
		switch (k) {
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("bench %s\n", MODELC_VERSION); exit(0);
		case 'j': o->json = 1; break;
		case ':': return usage_error("option '%s' needs a value", a);
		case '?': return usage_error("unknown option '%s'", a);
		case 1:
			if (o->role)
				return usage_error("more than one role given: '%s'", v);
			o->role = v;
			break;
		case O_URL: o->url = v; break;
		case O_LENGTHS: o->lengths = v; break;
		case O_REPS: bad = parse_uint(v, 1, 100000, &o->reps); break;
		case O_WARMUP: bad = parse_uint(v, 0, 100000, &o->warmup); break;
		case O_CONC: bad = parse_uint(v, 1, 1024, &o->concurrency); break;
		case O_MAX_TOKENS: bad = parse_uint(v, 2, 1u << 20, &o->max_tokens); break;
		case O_TIMEOUT: {
			char *end;
			o->timeout_s = strtod(v, &end);
			bad = !*v || *end || !(o->timeout_s > 0 && o->timeout_s <= 86400);
			break;
		}
		case O_OUT: o->out = v; break;
		case O_GENERATED: o->gendir = v; break;
		case O_MODEL: o->model = v; break;
		case O_GPU: o->gpu = v; break;
		case O_GPU + 2: o->title = v; break;
		case O_GPU + 3: o->chart = v; break;
		default: o->server_flags = v; break;
		}
		if (bad)
			return usage_error("--%s: '%s' is not a valid value", longopts[k - O_URL].name, v);
	}
	if (o->role) {
		for (const char *p = o->role; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			    *p == '_' || *p == '-' || *p == '.') || o->role[0] == '.')
				return usage_error("'%s' is not a role name", o->role);
	}
	return 0;
}

/* dir/role.ext into buf; a path too long for buf is cut (it is only printed). */
static void path_of(char *buf, size_t n, const char *dir, const char *role, const char *ext)
{
	size_t len = 0;
	const char *parts[] = { dir, "/", role, ".", ext };
	for (size_t i = 0; i < 5; i++)
		for (const char *p = parts[i]; *p && len + 1 < n; p++)
			buf[len++] = *p;
	buf[len] = '\0';
}

static int exit_for(enum bench_fail f)
{
	return f == BENCH_FAIL_HTTP4 ? EXITCODE_REJECTED : EXITCODE_SYSTEM;
}

/* The GPU's name from nvidia-smi when it is there, else "unknown". */
static void gpu_name(char *out, size_t n)
{
	snprintf(out, n, "unknown");
	FILE *p = popen("nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null", "r");
	if (!p)
		return;
	char line[256];
	if (fgets(line, sizeof line, p)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0])
			snprintf(out, n, "%s", line);
	}
	pclose(p);
}

/* Served model names and their max_model_len from GET /v1/models. */
struct served {
	char name[256];
	uint32_t max_model_len;
};

static int list_models(struct bench_client *c, struct served *sv, size_t cap, size_t *n, enum bench_fail *f,
    char *err, size_t errlen)
{
	json_t *res = NULL;
	long status = 0;
	*n = 0;
	*f = bench_client_json(c, "GET", "/v1/models", NULL, &res, &status, err, errlen);
	if (*f != BENCH_OK)
		return -1;
	json_t *data = json_object_get(res, "data");
	size_t i;
	json_t *m;
	json_array_foreach(data, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		if (!id || *n == cap)
			continue;
		snprintf(sv[*n].name, sizeof sv[*n].name, "%s", id);
		json_t *ml = json_object_get(m, "max_model_len");
		sv[*n].max_model_len = json_is_integer(ml) ? (uint32_t)json_integer_value(ml) : 0;
		(*n)++;
	}
	json_decref(res);
	if (*n == 0) {
		snprintf(err, errlen, "GET %s/v1/models: the server lists no model", c->base);
		*f = BENCH_FAIL_PROTOCOL;
		return -1;
	}
	return 0;
}

/* bench --chart CSV: the SVG of the rows, on stdout. */
static int chart(const struct opts *o)
{
	struct bench_meta m;
	struct bench_results r;
	char *buf, err[4096];
	if (bench_csv_read(o->chart, &m, &buf, &r, err, sizeof err) != 0) {
		diag_print(stderr, "bench: %s\n", err);
		return EXITCODE_REJECTED;
	}
	m.title = o->title;
	bench_out_sort(&r);
	struct bench_point *pts = NULL;
	size_t np = bench_out_points(&r, &pts);
	int rc = bench_out_svg(stdout, &m, pts, np) == 0 && fflush(stdout) == 0 ? 0 : EXITCODE_SYSTEM;
	free(pts);
	bench_results_free(&r);
	free(buf);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { .reps = 5, .warmup = 2, .concurrency = 1, .max_tokens = 64, .timeout_s = 120,
		.out = "measurements", .gendir = "generated", .lengths = "256,512,1k,2k,4k,8k" };
	const char *env_url = getenv("BENCH_URL");
	o.url = env_url && *env_url ? env_url : "http://127.0.0.1:8000";
	int rc = parse_args(argc, argv, &o);
	if (rc == 0 && o.chart)
		return chart(&o);
	if (rc)
		return rc;
	uint32_t lens[BENCH_LADDER_MAX + 1];
	size_t nlens = 0;
	char err[4096];
	if (bench_ladder_parse(o.lengths, lens, &nlens, err, sizeof err) != 0)
		return usage_error("--lengths: %s", err);

	struct bench_client c;
	if (bench_client_init(&c, o.url, o.timeout_s, err, sizeof err) != 0) {
		diag_print(stderr, "bench: %s\n", err);
		return EXITCODE_SYSTEM;
	}
	struct served sv[16];
	size_t nsv = 0;
	enum bench_fail f;
	if (list_models(&c, sv, 16, &nsv, &f, err, sizeof err) != 0) {
		diag_print(stderr, "bench: %s\n", err);
		bench_client_free(&c);
		return exit_for(f);
	}

	struct bench_role_info ri;
	bench_role_read(o.gendir, NULL, &ri);
	const char *role = o.role;
	if (!role && getenv("MODELC_ACTIVE_ROLE") && *getenv("MODELC_ACTIVE_ROLE"))
		role = getenv("MODELC_ACTIVE_ROLE");
	/* Then the role switch recorded (.active_model), then the one modelc made active. */
	static struct activefile af;
	unsigned afline = 0;
	if (!role && activefile_read(activefile_path(NULL), &af, &afline) == 0 && af.role[0])
		role = af.role;
	char active[BENCH_ROLE_STR];
	if (!role && ri.active_role[0]) {
		memcpy(active, ri.active_role, sizeof active);
		role = active;
	}
	bench_role_read(o.gendir, role, &ri);

	/* Which served model: --model, else the role's name (modelc's default served name),
	 * else the role's model id (vLLM's default), else the only one served. */
	const struct served *pick = NULL;
	const char *want[3] = { o.model, role, ri.model_id[0] ? ri.model_id : NULL };
	for (int w = 0; w < 3 && !pick; w++) {
		if (!want[w])
			continue;
		for (size_t i = 0; i < nsv; i++)
			if (strcmp(sv[i].name, want[w]) == 0)
				pick = &sv[i];
		if (w == 0 && !pick)
			break;
	}
	if (!pick && !o.model && nsv == 1)
		pick = &sv[0];
	if (!pick) {
		diag_print(stderr, "bench: %s: the server at %s does not serve '%s'; it serves ",
		    o.model ? "--model" : "role", c.base, o.model ? o.model : role);
		for (size_t i = 0; i < nsv; i++)
			diag_print(stderr, "%s'%s'", i ? ", " : "", sv[i].name);
		fputc('\n', stderr);
		bench_client_free(&c);
		return EXITCODE_REJECTED;
	}
	if (!role)
		role = pick->name;
	for (const char *p = role; *p; p++)
		if (*p == '/' || role[0] == '.') {
			diag_print(stderr, "bench: '%s' cannot name an output file; give a ROLE\n", role);
			bench_client_free(&c);
			return EXITCODE_USAGE;
		}
	uint32_t mml = pick->max_model_len ? pick->max_model_len : ri.max_model_len;
	if (ri.max_model_len && pick->max_model_len && ri.max_model_len != pick->max_model_len)
		diag_print(stderr, "bench: warning: the server runs '%s' with max_model_len %u, generated/.env says %u\n",
		    pick->name, pick->max_model_len, ri.max_model_len);
	size_t asked = nlens;
	size_t dropped = bench_ladder_cap(lens, &nlens, mml, o.max_tokens);
	if (dropped)
		diag_print(stderr, "bench: note: %zu of %zu lengths do not fit max_model_len %u with %u output tokens; "
		    "measuring up to %u instead\n", dropped, asked, mml, o.max_tokens, lens[nlens - 1]);

	char gpu[256], flags[1024];
	if (o.gpu)
		snprintf(gpu, sizeof gpu, "%s", o.gpu);
	else
		gpu_name(gpu, sizeof gpu);
	if (o.server_flags)
		snprintf(flags, sizeof flags, "%s", o.server_flags);
	else
		bench_role_flags(&ri, mml, flags, sizeof flags);

	struct bench_plan plan = { .model = pick->name, .lengths = lens, .nlengths = nlens, .reps = o.reps,
		.warmup = o.warmup, .concurrency = o.concurrency, .max_tokens = o.max_tokens };
	struct bench_results res = { 0 };
	f = bench_run(&c, &plan, &res, stderr, err, sizeof err);
	bench_client_free(&c);
	if (f != BENCH_OK) {
		diag_print(stderr, "bench: %s\n", err);
		diag_print(stderr, "bench: nothing written to %s\n", o.out);
		bench_results_free(&res);
		return exit_for(f);
	}
	if (!res.exact)
		diag_print(stderr, "bench: warning: the server has no /tokenize: prompt lengths are approximate "
		    "(one word taken as one token)\n");
	struct bench_meta meta = { .role = role, .model = pick->name, .commit = ri.commit, .gpu = gpu,
		.server_flags = flags, .max_model_len = mml, .title = o.title };
	if (bench_out_write(o.out, &meta, &res, err, sizeof err) != 0) {
		diag_print(stderr, "bench: %s\n", err);
		bench_results_free(&res);
		return EXITCODE_SYSTEM;
	}
	struct bench_point *pts = NULL;
	size_t np = bench_out_points(&res, &pts);
	char csv[4096], svg[4096];
	path_of(csv, sizeof csv, o.out, role, "csv");
	path_of(svg, sizeof svg, o.out, role, "svg");
	if (o.json) {
		bench_out_json(stdout, &meta, pts, np, res.exact, csv, svg);
	} else {
		bench_out_table(stdout, &meta, pts, np, res.exact);
		printf("wrote %s and %s\n", csv, svg);
	}
	free(pts);
	bench_results_free(&res);
	return fflush(stdout) == 0 ? 0 : EXITCODE_SYSTEM;
}
