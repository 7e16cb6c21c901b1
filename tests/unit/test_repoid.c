#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"
#include "repoid.h"

void suite_repoid(void);

static const char *const repoid_schemas[] = {"schemas/models.schema.json", "schemas/models.lock.schema.json"};

static const char *
why(const char *id)
{
	static char buf[128];
	return repoid_check(id, buf, sizeof buf) ? buf : "valid";
}

static void
test_reasons(void)
{
	CU_ASSERT_STRING_EQUAL(why("Qwen/Qwen2.5-7B-Instruct"), "valid");
	CU_ASSERT_STRING_EQUAL(why("a/b/c"), "has more than one '/'");
	CU_ASSERT_STRING_EQUAL(why("/a"), "the owner is empty");
	CU_ASSERT_STRING_EQUAL(why("a/"), "the name is empty");
	CU_ASSERT_STRING_EQUAL(why("a b/c"), "only letters, digits, '-', '_' and '.' are allowed");
	CU_ASSERT_STRING_EQUAL(why(".a/b"), "the owner must start and end with a letter, digit or '_'");
	CU_ASSERT_STRING_EQUAL(why("a/b-"), "the name must start and end with a letter, digit or '_'");
	CU_ASSERT_STRING_EQUAL(why("a--b/c"), "contains '--'");
	CU_ASSERT_STRING_EQUAL(why("a/b..c"), "contains '..'");
	CU_ASSERT_STRING_EQUAL(why("a/b.git"), "ends with '.git'");
	char id[300];
	memset(id, 'n', 97);
	strcpy(id + 97, "/x");
	CU_ASSERT_STRING_EQUAL(why(id), "the owner is longer than 96 characters");
	CU_ASSERT_EQUAL(repoid_check("a--b", NULL, 0), -1);
}

/* A schema whose root is $defs/repo of the schema at path, so that one id can be validated alone. */
static struct jschema *
repo_schema(struct arena *a, struct diag_sink *d, const char *path)
{
	json_error_t err;
	json_t *s = json_load_file(path, 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *wrap = json_pack("{sOss}", "$defs", json_object_get(s, "$defs"), "$ref", "#/$defs/repo");
	char *text = json_dumps(wrap, 0);
	struct jschema *js = jschema_load_string(a, d, path, text);
	free(text);
	json_decref(wrap);
	json_decref(s);
	return js;
}

/*
 * tests/schema/repo-ids.txt through repoid_check and through both schemas' $defs/repo: each
 * must give the verdict the file gives (tests/schema/ajv_check.js holds ajv to the same file).
 */
static void
test_corpus_agrees(void)
{
	struct arena a = {0};
	struct diag_sink quiet;
	FILE *null = fopen("/dev/null", "w");
	diag_init(&quiet, null, "m");
	struct jschema *js[2];
	for (size_t k = 0; k < 2; k++)
		CU_ASSERT_PTR_NOT_NULL_FATAL(js[k] = repo_schema(&a, &quiet, repoid_schemas[k]));
	FILE *f = fopen("tests/schema/repo-ids.txt", "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	char line[1024];
	unsigned n = 0, valid = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		char verdict[16];
		int off = 0;
		CU_ASSERT_EQUAL_FATAL(sscanf(line, "%15s %n", verdict, &off), 1);
		json_error_t err;
		json_t *s = json_loads(line + off, JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK, &err);
		CU_ASSERT_FATAL(json_is_string(s));
		const char *id = json_string_value(s);
		bool want = strcmp(verdict, "valid") == 0;
		bool c_ok = repoid_check(id, NULL, 0) == 0;
		if (c_ok != want)
			fprintf(stderr, "\nrepoid_check says %s for %s", c_ok ? "valid" : "invalid", line);
		CU_ASSERT_EQUAL(c_ok, want);
		struct ynode node = {.kind = YNODE_STRING, .pos = {"id", 1, 1}, .text = id,
		    .text_len = json_string_length(s), .quoted = true};
		for (size_t k = 0; k < 2; k++) {
			bool s_ok = jschema_validate(js[k], &a, &quiet, &node) == 0;
			if (s_ok != want)
				fprintf(stderr, "\n%s says %s for %s", repoid_schemas[k], s_ok ? "valid" : "invalid", line);
			CU_ASSERT_EQUAL(s_ok, want);
		}
		n++;
		valid += want;
		json_decref(s);
	}
	fclose(f);
	CU_ASSERT(n >= 40);
	CU_ASSERT(valid >= 10 && valid < n);
	for (size_t k = 0; k < 2; k++)
		jschema_free(js[k]);
	fclose(null);
	arena_free(&a);
}

/* Both schemas spell the repository id and the revision the same way. */
static void
test_schemas_agree(void)
{
	json_t *defs[2], *s[2];
	for (size_t k = 0; k < 2; k++) {
		s[k] = json_load_file(repoid_schemas[k], 0, NULL);
		CU_ASSERT_PTR_NOT_NULL_FATAL(s[k]);
		defs[k] = json_object_get(s[k], "$defs");
	}
	static const char *const shared[] = {"repo", "revision"};
	for (size_t i = 0; i < 2; i++) {
		json_t *x = json_deep_copy(json_object_get(defs[0], shared[i]));
		json_t *y = json_deep_copy(json_object_get(defs[1], shared[i]));
		json_object_del(x, "$comment");
		json_object_del(y, "$comment");
		CU_ASSERT(json_equal(x, y));
		json_decref(x);
		json_decref(y);
	}
	json_decref(s[0]);
	json_decref(s[1]);
}

void
suite_repoid(void)
{
	CU_pSuite s = CU_add_suite("repoid", NULL, NULL);
	CU_add_test(s, "each rule has its reason", test_reasons);
	CU_add_test(s, "repoid_check and both schemas agree on the corpus", test_corpus_agrees);
	CU_add_test(s, "both schemas spell repo and revision alike", test_schemas_agree);
}
