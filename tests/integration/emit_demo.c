/*
 * A stand-in for `modelc build` while the emitters are tested on their own: writes the outputs
 * of a hand-built plan with outdir_write. `emit_demo seed DIR` uses the seed-like fixture;
 * `emit_demo awkward DIR` a plan full of awkward paths, role names and file names, and prints
 * "KEY=HEX" for each value it set (hex of the exact bytes) so consumers can be checked, and
 * `emit_demo keys` prints every key .env must hold for the awkward plan.
 * Built by the integration tests against the compiler's archives (build/lib).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit_env.h"
#include "emit_fixture.h"
#include "envfile.h"
#include "outdir.h"

enum { NAWK = 7 };

struct awkward {
	struct fix_seed seed;
	struct catalog_role roles[NAWK];
	struct plan_role pr[NAWK];
	struct plan_file files[4];
	struct lock_model lock;
};

static const char *const names[NAWK] = {
	"primary", "x", "a_very_long_role_name_0123456789", "path", "hf", "ifs", "z9",
};

/* Local directories: every kind of byte the .env rule accepts, and shell bait. */
static const char *const locals[NAWK] = {
	"/mnt/\xc3\xa4/\xe3\x83\xa2\xe3\x83\x87\xe3\x83\xab/$HOME/`touch pwned1`/$(touch pwned2)/\"q\"/a\\b/ tail ",
	"/tmp/line1\nline2\ttab\n#comment-like\nY='1'\nexport Z=2",
	"/tmp/emoji \xf0\x9f\x98\x80 sep\xe2\x80\xa8x\xe2\x80\xa9y nel\xc2\x85z #hash =eq ;&|<>()*?[a]~",
	"  spaced  ",
	"it's",
	"#hash",
	NULL,
};

static void
hex_line(const char *key, const char *v)
{
	printf("%s=", key);
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		printf("%02x", *p);
	putchar('\n');
}

static void
upper_key(char *buf, size_t n, const char *role, const char *suffix)
{
	size_t i = 0;
	for (; role[i] && i + 1 < n; i++)
		buf[i] = role[i] >= 'a' && role[i] <= 'z' ? (char)(role[i] - 32) : role[i];
	snprintf(buf + i, n - i, "%s", suffix);
}

static void
check(const char *key, const char *v)
{
	const char *why = v ? envfile_check_value(key, v, strlen(v)) : NULL;
	if (why) {
		fprintf(stderr, "emit_demo: %s: the value %s\n", key, why);
		exit(3);
	}
}

static void
awkward_init(struct awkward *a, int print)
{
	fix_seed_init(&a->seed);
	struct catalog *c = &a->seed.cat;
	c->path = "tests/awkward catalog.yaml";
	c->hf_home = "/mnt/f/hf cache/#x = y;&|<>()*?[a]";
	c->hub_cache = "/mnt/f/it's/hub";
	c->roles = a->roles;
	c->nroles = NAWK;

	a->files[0] = (struct plan_file){"sub dir/\xc3\xa4?.json", 10, true, 0, NULL,
	    "0178295f88afc3c7f279ed284f961f8c1be00654"};
	a->files[1] = (struct plan_file){"a\"b\\c */ ?\?= ?\?/.bin", 4000000000u, true, 1,
	    "a1333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7", NULL};
	a->files[2] = (struct plan_file){"config.json", 663, true, 0, NULL,
	    "1111111111111111111111111111111111111111"};
	/* Longer than the 4095 bytes C11 promises for a literal: the table needs a char array. */
	static char deep[4200];
	memset(deep, 'd', sizeof deep - 1);
	memcpy(deep, "tab\there/", 9);
	a->files[3] = (struct plan_file){deep, 0, false, -1, NULL, NULL};
	a->lock = (struct lock_model){.key = "owner-1/Name.With_Dots-2@refs/pr/1",
	    .repo = "owner-1/Name.With_Dots-2", .revision = "refs/pr/1",
	    .commit = "89abcdef0123456789abcdef0123456789abcdef", .files_complete = true};

	for (int i = 0; i < NAWK; i++) {
		struct catalog_role *r = &a->roles[i];
		struct plan_role *p = &a->pr[i];
		*r = a->seed.roles[0];
		r->name = names[i];
		r->local = locals[i];
		r->repo = i == 0 || i == 6 ? "owner-1/Name.With_Dots-2" : NULL;
		r->revision = r->repo ? "refs/pr/1" : NULL;
		r->rationale = i == 1 ? "line\nEVIL='1'\n# \xe2\x80\xa8OTHER='2'" : NULL;
		*p = a->seed.pr[0];
		p->role = r;
		p->local_dir = r->local;
		p->local_present = false;
		p->model_id = r->repo ? r->repo : r->local;
		p->lock = r->repo ? &a->lock : NULL;
		p->files = r->repo ? a->files : NULL;
		p->nfiles = r->repo ? 4 : 0;
		p->download_bytes = r->repo ? 4000000673u : 0;
		p->download_bytes_complete = r->repo == NULL;
		p->measured_ttft_ms = -1;
	}
	a->seed.plan.roles = a->pr;
	a->seed.plan.nroles = NAWK;
	a->seed.plan.download_bytes = 2 * 4000000673u;

	char key[96];
	check("HF_HOME", c->hf_home);
	check("HF_HUB_CACHE", c->hub_cache);
	if (print) {
		hex_line("HF_HOME", c->hf_home);
		hex_line("HF_HUB_CACHE", c->hub_cache);
		hex_line("TRANSFORMERS_CACHE", c->hub_cache);
	}
	for (int i = 0; i < NAWK; i++) {
		upper_key(key, sizeof key, names[i], "_MODEL_LOCAL");
		check(key, locals[i]);
		if (print)
			hex_line(key, locals[i] ? locals[i] : "");
		upper_key(key, sizeof key, names[i], "_MODEL_ID");
		check(key, a->pr[i].model_id);
		if (print)
			hex_line(key, a->pr[i].model_id);
	}
}

int
main(int argc, char **argv)
{
	static struct awkward a;
	struct diag_sink d;
	diag_init(&d, stderr, "emit_demo");

	if (argc == 2 && strcmp(argv[1], "keys") == 0) {
		char key[96];
		for (size_t i = 0; emit_env_global_keys[i]; i++)
			puts(emit_env_global_keys[i]);
		for (int i = 0; i < NAWK; i++)
			for (size_t k = 0; emit_env_role_suffixes[k]; k++) {
				upper_key(key, sizeof key, names[i], emit_env_role_suffixes[k]);
				puts(key);
			}
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "seed") == 0) {
		fix_seed_init(&a.seed);
		return outdir_write(&a.seed.plan, argv[2], &d);
	}
	if (argc == 4 && strcmp(argv[1], "many") == 0) {
		/* N copies of the seed's primary role, for timing the emitters at scale. */
		size_t n = strtoul(argv[2], NULL, 10);
		struct catalog_role *roles = calloc(n, sizeof *roles);
		struct plan_role *pr = calloc(n, sizeof *pr);
		char (*names_n)[24] = calloc(n, sizeof *names_n);
		fix_seed_init(&a.seed);
		for (size_t i = 0; i < n; i++) {
			snprintf(names_n[i], sizeof names_n[i], "r%zu", i);
			roles[i] = a.seed.roles[i % 3];
			roles[i].name = names_n[i];
			pr[i] = a.seed.pr[i % 3];
			pr[i].role = &roles[i];
		}
		a.seed.cat.roles = roles;
		a.seed.cat.nroles = n;
		a.seed.plan.roles = pr;
		a.seed.plan.nroles = n;
		return outdir_write(&a.seed.plan, argv[3], &d);
	}
	if (argc != 3) {
		fputs("usage: emit_demo seed|awkward DIR | emit_demo keys | emit_demo many N DIR\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "awkward") == 0) {
		awkward_init(&a, 1);
		return outdir_write(&a.seed.plan, argv[2], &d);
	}
	fputs("usage: emit_demo seed|awkward DIR | emit_demo keys | emit_demo many N DIR\n", stderr);
	return 2;
}
