#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontend.h"

void suite_frontend(void);

struct fe_run {
	struct arena a;
	struct catalog c;
	const struct ynode *root;
	int rc;
	char out[4096];
};

/* Close the memory stream (which sets *buf) and keep its text. */
static void
fe_finish(struct fe_run *r, FILE *f, char **buf)
{
	fclose(f);
	snprintf(r->out, sizeof r->out, "%s", *buf ? *buf : "");
	free(*buf);
}

static void
fe_load(struct fe_run *r, const char *path, const char *schema_dir)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, f, "m");
	memset(&r->a, 0, sizeof r->a);
	r->rc = frontend_load(&r->a, &d, path, schema_dir, &r->c);
	fe_finish(r, f, &buf);
}

static void
fe_parse(struct fe_run *r, const char *path, const char *schema_dir)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, f, "m");
	memset(&r->a, 0, sizeof r->a);
	r->rc = frontend_parse(&r->a, &d, path, schema_dir, &r->root, NULL);
	fe_finish(r, f, &buf);
}

static void
fe_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

/* The shipped catalog loads, with the seed's five roles. */
static void
test_seed_catalog(void)
{
	struct fe_run r;
	fe_load(&r, "models.yaml", NULL);
	CU_ASSERT_EQUAL(r.rc, EXITCODE_OK);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_EQUAL(r.c.nroles, 5);
	const char *names[] = {"primary", "secondary", "lightweight", "math", "code"};
	for (size_t i = 0; i < 5 && i < r.c.nroles; i++)
		CU_ASSERT_STRING_EQUAL(r.c.roles[i].name, names[i]);
	CU_ASSERT_STRING_EQUAL(r.c.hf_home, "/mnt/f/hf_cache");
	CU_ASSERT_STRING_EQUAL(r.c.hub_cache, "/mnt/f/hf_cache/hub");
	CU_ASSERT_STRING_EQUAL(r.c.models_dir, "/mnt/f/models");
	CU_ASSERT_STRING_EQUAL(r.c.gpu_profile, "rtx3070-8gb");
	CU_ASSERT(r.c.gpu_total_estimated);
	const struct catalog_role *p = catalog_role(&r.c, "primary");
	CU_ASSERT_STRING_EQUAL(p->repo, "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4");
	CU_ASSERT_STRING_EQUAL(p->quantization, "awq");
	CU_ASSERT_STRING_EQUAL(catalog_role(&r.c, "secondary")->repo, "Qwen/Qwen2.5-7B-Instruct-AWQ");
	CU_ASSERT_STRING_EQUAL(catalog_role(&r.c, "lightweight")->quantization, "bitsandbytes");
	CU_ASSERT_STRING_EQUAL(catalog_role(&r.c, "math")->local, "/mnt/f/models/mathstral-7b");
	CU_ASSERT(catalog_role(&r.c, "code")->max_model_len_auto);
	CU_ASSERT_EQUAL(r.c.nexcluded, 2);
	arena_free(&r.a);
}

static void
test_schema_dir(void)
{
	struct arena a = {0};
	char *saved = getenv("MODELC_SCHEMA_DIR") ? strdup(getenv("MODELC_SCHEMA_DIR")) : NULL;

	setenv("MODELC_SCHEMA_DIR", "schemas", 1);
	CU_ASSERT_STRING_EQUAL(frontend_schema_dir(&a, "/elsewhere/models.yaml"), "schemas");
	setenv("MODELC_SCHEMA_DIR", "/nonexistent", 1);
	CU_ASSERT_PTR_NULL(frontend_schema_dir(&a, "models.yaml"));
	CU_ASSERT_STRING_EQUAL(frontend_schema_search(&a, "models.yaml"), "/nonexistent");

	unsetenv("MODELC_SCHEMA_DIR");
	CU_ASSERT_STRING_EQUAL(frontend_schema_dir(&a, "models.yaml"), "./schemas");
	CU_ASSERT_STRING_EQUAL(frontend_schema_dir(&a, "tests/../models.yaml"), "tests/../schemas");
	/*
	 * Not next to the catalog: found from the executable, build/bin/../../schemas, by its
	 * real path (a SAN=1 runner in build/san/bin has no such folder and finds none).
	 */
	const char *dir = frontend_schema_dir(&a, "/nonexistent/models.yaml");
	char *here = realpath("schemas", NULL);
	char *bin = realpath("build/bin/unit-tests", NULL);
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	self[n > 0 ? n : 0] = '\0';
	bool in_build_bin = bin && strcmp(bin, self) == 0;
	if (in_build_bin)
		CU_ASSERT_STRING_EQUAL(dir ? dir : "(none)", here);
	const char *search = frontend_schema_search(&a, "/x/models.yaml");
	char expect[8192];
	snprintf(expect, sizeof expect, "/x/schemas, %s, ", here);
	if (in_build_bin)
		CU_ASSERT_EQUAL(strncmp(search, expect, strlen(expect)), 0);
	CU_ASSERT(strstr(search, "/share/modelc, " MODELC_DATADIR) != NULL);
	free(bin);
	free(here);
	CU_ASSERT_STRING_EQUAL(frontend_schema_search(&a, "m.yaml") + 0, frontend_schema_search(&a, "./m.yaml"));

	if (saved) {
		setenv("MODELC_SCHEMA_DIR", saved, 1);
		free(saved);
	}
	arena_free(&a);
}

static void
test_failures(void)
{
	char dir[] = "/tmp/modelc-frontend-XXXXXX";
	char path[256], schema[256];
	struct fe_run r;
	char expect[1024];

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));

	snprintf(path, sizeof path, "%s/missing.yaml", dir);
	fe_parse(&r, path, "schemas");
	CU_ASSERT_EQUAL(r.rc, EXITCODE_SYSTEM);
	snprintf(expect, sizeof expect, "m: %s: error: cannot open: No such file or directory\n", path);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	fe_parse(&r, dir, "schemas");
	CU_ASSERT_EQUAL(r.rc, EXITCODE_SYSTEM);
	snprintf(expect, sizeof expect, "m: %s: error: cannot read: Is a directory\n", dir);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	char *saved = getenv("MODELC_SCHEMA_DIR") ? strdup(getenv("MODELC_SCHEMA_DIR")) : NULL;
	setenv("MODELC_SCHEMA_DIR", "/nonexistent", 1);
	fe_load(&r, "models.yaml", NULL);
	CU_ASSERT_EQUAL(r.rc, EXITCODE_SYSTEM);
	CU_ASSERT_STRING_EQUAL(r.out, "m: models.yaml: error: cannot find models.schema.json "
	    "(looked in /nonexistent); set MODELC_SCHEMA_DIR\n");
	arena_free(&r.a);
	if (saved) {
		setenv("MODELC_SCHEMA_DIR", saved, 1);
		free(saved);
	} else {
		unsetenv("MODELC_SCHEMA_DIR");
	}

	/* YAML errors stop before the schema, which would only add noise. */
	snprintf(path, sizeof path, "%s/c.yaml", dir);
	fe_write(path, "roles: 1\nroles: 2\n");
	fe_parse(&r, path, "schemas");
	CU_ASSERT_EQUAL(r.rc, EXITCODE_REJECTED);
	snprintf(expect, sizeof expect, "m: %s:2:1: error: duplicate key 'roles' (first defined at line 1)\n", path);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	CU_ASSERT_PTR_NOT_NULL(r.root);
	arena_free(&r.a);

	/* Schema errors stop before the catalog. */
	fe_write(path, "storage: {hf_home: /h}\ngpu: {profile: nope}\nroles: {}\n");
	fe_load(&r, path, "schemas");
	CU_ASSERT_EQUAL(r.rc, EXITCODE_REJECTED);
	snprintf(expect, sizeof expect, "m: %s:3:1: error: roles: must have at least 1 entry, found 0\n", path);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	/* A schema-valid catalog the catalog step rejects. */
	fe_write(path, "storage: {hf_home: /h}\ngpu: {profile: nope}\nroles: {a: {local: /a, quantization: none}}\n");
	fe_load(&r, path, "schemas");
	CU_ASSERT_EQUAL(r.rc, EXITCODE_REJECTED);
	arena_free(&r.a);

	/* A broken schema is an installation problem, not the catalog's. */
	snprintf(schema, sizeof schema, "%s/models.schema.json", dir);
	fe_write(schema, "{\"type\": \"object\", \"unevaluatedProperties\": false}");
	fe_parse(&r, path, dir);
	CU_ASSERT_EQUAL(r.rc, EXITCODE_SYSTEM);
	snprintf(expect, sizeof expect, "m: %s: error: #: keyword 'unevaluatedProperties' is not "
	    "supported by modelc's validator\n", schema);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	/* Files over the limit are refused without being parsed. */
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	static char block[64 * 1024];
	memset(block, '#', sizeof block);
	for (size_t n = 0; n <= YAMLDOC_MAX_BYTES; n += sizeof block)
		fwrite(block, 1, sizeof block, f);
	fclose(f);
	fe_parse(&r, path, "schemas");
	CU_ASSERT_EQUAL(r.rc, EXITCODE_REJECTED);
	snprintf(expect, sizeof expect, "m: %s: error: the file is larger than 16 MiB\n", path);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	unlink(path);
	unlink(schema);
	rmdir(dir);
}

void
suite_frontend(void)
{
	CU_pSuite s = CU_add_suite("frontend", NULL, NULL);
	CU_add_test(s, "the shipped models.yaml", test_seed_catalog);
	CU_add_test(s, "finding the schema folder", test_schema_dir);
	CU_add_test(s, "unreadable, invalid and oversized input", test_failures);
}
