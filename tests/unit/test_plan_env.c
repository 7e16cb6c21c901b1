/* plan_env_check on hand-built plans: the .env values a catalog value feeds, derived ones too. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_env.h"

void suite_plan_env(void);

/* A path of n bytes: "/" and then head, padded with 'a'. */
static char *
long_path(size_t n, const char *head)
{
	char *s = malloc(n + 1);
	memset(s, 'a', n);
	s[0] = '/';
	memcpy(s + 1, head, strlen(head));
	s[n] = '\0';
	return s;
}

/* Run plan_env_check and return its diagnostics; the caller frees them. */
static char *
check(struct catalog *c, struct catalog_role *roles, size_t n)
{
	struct arena a = {0};
	struct plan_role pr[4];
	struct diag_pos pos[4];
	struct plan p = {.catalog = c, .roles = pr, .nroles = n};
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct diag_sink d;

	memset(pr, 0, sizeof pr);
	for (size_t i = 0; i < n; i++) {
		pr[i].role = &roles[i];
		pr[i].env_prefix = arena_printf(&a, "%s", roles[i].name);
		for (char *u = (char *)pr[i].env_prefix; *u; u++)
			*u = (char)(*u - 'a' + 'A');
		pos[i] = diag_file("models.yaml");
	}
	c->roles = roles;
	c->nroles = n;
	diag_init(&d, m, "modelc");
	plan_env_check(&a, &d, &p, pos);
	fclose(m);
	arena_free(&a);
	return buf;
}

/* hf_home: a refused character at HF_HOME and, separately, the longest key over the limit. */
static void
test_storage(void)
{
	char *home = long_path(131050, "it's \"here\"");
	struct catalog c = {.path = "models.yaml", .hf_home = home};
	c.hub_cache = long_path(131050, "it's \"here\"/hub");
	struct catalog_role roles[] = {{.name = "a", .repo = "o/m", .quantization = "awq"}};
	char *out = check(&c, roles, 1);
	CU_ASSERT_STRING_EQUAL(out,
	    "modelc: models.yaml: error: storage.hf_home: cannot be written to .env as HF_HOME: mixes a "
	    "single quote with '\"', '\\', '$' or '`', which no quoting reads the same everywhere\n"
	    "modelc: models.yaml: error: storage.hf_home: cannot be written to .env as HF_DATASETS_CACHE "
	    "(hf_home/datasets): the assignment would be 131079 bytes, over the limit of 131071 (no "
	    "child process could start)\n");
	free(out);
	free(home);
	free((char *)c.hub_cache);

	/* 131,042 bytes is the longest hf_home every key takes. */
	home = long_path(131042, "");
	c.hf_home = home;
	c.hub_cache = NULL;
	out = check(&c, roles, 1);
	CU_ASSERT_STRING_EQUAL(out ? out : "", "");
	free(out);
	free(home);
}

/* The active role's values are also VLLM_*: the longer key decides. */
static void
test_active_role(void)
{
	char *repo = long_path(131058, "o/");
	struct catalog c = {.path = "models.yaml", .hf_home = "/hf", .hub_cache = "/hf/hub"};
	struct catalog_role roles[] = {
		{.name = "a", .repo = repo, .quantization = "awq"},
		{.name = "bb", .repo = repo, .quantization = "awq"},
		{.name = "ccc", .local = repo, .quantization = "awq"},
	};
	char *out = check(&c, roles, 3);
	CU_ASSERT_STRING_EQUAL(out,
	    "modelc: models.yaml: error: roles.a.repo: cannot be written to .env as VLLM_MODEL_ID (for the "
	    "active role): the assignment would be 131074 bytes, over the limit of 131071 (no child "
	    "process could start)\n"
	    "modelc: models.yaml: error: roles.bb.repo: cannot be written to .env as BB_MODEL_ID: the "
	    "assignment would be 131072 bytes, over the limit of 131071 (no child process could start)\n"
	    "modelc: models.yaml: error: roles.ccc.local: cannot be written to .env as CCC_MODEL_LOCAL: the "
	    "assignment would be 131076 bytes, over the limit of 131071 (no child process could start)\n");
	free(out);
	free(repo);
}

void
suite_plan_env(void)
{
	CU_pSuite s = CU_add_suite("plan_env", NULL, NULL);
	CU_add_test(s, "storage values and the keys derived from them", test_storage);
	CU_add_test(s, "role values, the active role's VLLM_* copies", test_active_role);
}
