/*
 * modelc adopt: check a quantized checkpoint directory against the plan and make it a role's
 * local copy (models.yaml `local:` + a models.lock `local:` entry). --check only validates.
 * Exit 0 adopted (or valid), 1 rejected, 2 usage, 3 a file could not be written.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "arena.h"
#include "commands.h"
#include "diag.h"
#include "quantplan.h"

static const char adopt_usage[] =
    "usage: modelc adopt [-f models.yaml] [--lock FILE] [--method awq|gptq] [--bits N]\n"
    "                    [--group-size N] [--tolerance PCT] [--dry-run] [--no-hash] ROLE DIR\n"
    "       modelc adopt --check [--method awq|gptq] [--bits N] [--group-size N] [--tolerance PCT] DIR\n"
    "Checks DIR (config.json, every quantized layer's tensors, size, shards) against the plan of\n"
    "'modelc quantize ROLE' with the same options, then records it: 'local: DIR' for the role in\n"
    "models.yaml and a 'local:DIR' entry in models.lock. Run 'make config' afterwards.\n";

/* What adopting into the catalog needs besides the directory check. */
struct adopt_catalog_opts {
	const char *catalog;
	const char *lock;               /* NULL: models.lock next to the catalog */
	const char *role;
	const char *dir;                /* absolute */
	bool dry_run;
	bool no_hash;
};

static int adopt_catalog_run(struct arena *a, struct diag_sink *diag, const struct adopt_catalog_opts *co,
    struct adopt_expect *want, void (*summary)(const char *, const struct adopt_result *));

static int
adopt_bad(const char *fmt, const char *arg)
{
	fputs("modelc: adopt: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	fputs(adopt_usage, stderr);
	return 2;
}

static int
parse_num(const char *s, unsigned long max, uint32_t *out)
{
	char *end;
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static double
gib(uint64_t b)
{
	return (double)b / (1024.0 * 1024.0 * 1024.0);
}

static void
print_summary(const char *dir, const struct adopt_result *r)
{
	printf("%s: %s, %u-bit, group size %u, %zu quantized linear layers\n", dir, r->format_name, r->bits,
	    r->group_size, r->quantized_linears);
	double diff = r->predicted_bytes
	    ? 100.0 * ((double)r->tensor_bytes - (double)r->predicted_bytes) / (double)r->predicted_bytes
	    : 0.0;
	printf("weights: %llu bytes (%.2f GiB), predicted %llu (%.2f GiB), %+.1f%%\n",
	    (unsigned long long)r->tensor_bytes, gib(r->tensor_bytes), (unsigned long long)r->predicted_bytes,
	    gib(r->predicted_bytes), diff);
}

int
cmd_adopt(int argc, char **argv)
{
	struct adopt_catalog_opts co = {0};
	struct adopt_expect want = {0};
	bool check_only = false, dry_run = false, no_hash = false;
	uint32_t bits = QUANTPLAN_DEFAULT_BITS, group = QUANTPLAN_DEFAULT_GROUP, tol = 5;
	const char *method = "awq";
	const char *pos[2];
	int npos = 0;
	co.catalog = "models.yaml";

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(adopt_usage, stdout);
			return 0;
		} else if (!strcmp(a, "--version")) {
			printf("modelc %s\n", MODELC_VERSION);
			return 0;
		} else if (!strcmp(a, "--check")) {
			check_only = true;
		} else if (!strcmp(a, "--dry-run")) {
			dry_run = true;
		} else if (!strcmp(a, "--no-hash")) {
			no_hash = true;
		} else if (!strcmp(a, "-f") || !strcmp(a, "--catalog") || !strcmp(a, "--lock") ||
		    !strcmp(a, "--method") || !strcmp(a, "--bits") || !strcmp(a, "--group-size") ||
		    !strcmp(a, "--tolerance")) {
			if (!next)
				return adopt_bad("option '%s' needs a value", a);
			i++;
			if (!strcmp(a, "-f") || !strcmp(a, "--catalog"))
				co.catalog = next;
			else if (!strcmp(a, "--lock"))
				co.lock = next;
			else if (!strcmp(a, "--method")) {
				if (strcmp(next, "awq") && strcmp(next, "gptq"))
					return adopt_bad("--method: '%s' is not awq or gptq", next);
				method = next;
			} else if (!strcmp(a, "--bits") && (parse_num(next, 8, &bits) || (bits != 4 && bits != 8)))
				return adopt_bad("--bits: '%s' is not 4 or 8", next);
			else if (!strcmp(a, "--group-size") && parse_num(next, 1u << 20, &group))
				return adopt_bad("--group-size: '%s' is not a positive integer", next);
			else if (!strcmp(a, "--tolerance") && parse_num(next, 100, &tol))
				return adopt_bad("--tolerance: '%s' is not a percentage from 1 to 100", next);
		} else if (a[0] == '-' && a[1]) {
			return adopt_bad("unknown option '%s'", a);
		} else if (npos < 2) {
			pos[npos++] = a;
		} else {
			return adopt_bad("unexpected argument '%s'", a);
		}
	}
	if (check_only && npos != 1)
		return adopt_bad("%s", "--check takes one argument, DIR");
	if (!check_only && npos != 2)
		return adopt_bad("%s", "expected ROLE and DIR");
	if (check_only && (dry_run || no_hash))
		return adopt_bad("%s", "--check writes nothing; --dry-run and --no-hash do not apply");

	const char *dir_arg = pos[npos - 1];
	char real[PATH_MAX];
	if (!realpath(dir_arg, real)) {
		fprintf(stderr, "modelc: %s: %s\n", dir_arg, strerror(errno));
		return 1;
	}
	want.method = method;
	want.bits = bits;
	want.group_size = group;
	want.tolerance = tol / 100.0;

	struct arena a = {0};
	struct diag_sink diag;
	diag_init(&diag, stderr, "modelc");
	int rc;
	if (check_only) {
		struct adopt_result r;
		if (adopt_check(&a, &diag, real, &want, &r) != 0) {
			fprintf(stderr, "modelc: %u error%s; '%s' is not adoptable\n", diag.errors,
			    diag.errors == 1 ? "" : "s", real);
			rc = 1;
		} else {
			print_summary(real, &r);
			rc = 0;
		}
	} else {
		co.role = pos[0];
		co.dir = real;
		co.dry_run = dry_run;
		co.no_hash = no_hash;
		rc = adopt_catalog_run(&a, &diag, &co, &want, print_summary);
	}
	arena_free(&a);
	return rc;
}

static int
adopt_catalog_run(struct arena *a, struct diag_sink *diag, const struct adopt_catalog_opts *co,
    struct adopt_expect *want, void (*summary)(const char *, const struct adopt_result *))
{
	(void)a;
	(void)diag;
	(void)co;
	(void)want;
	(void)summary;
	fputs("modelc: adopt: the catalog front end is not built yet; use --check\n", stderr);
	return 3;
}
