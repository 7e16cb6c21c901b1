#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "adopt.h"
#include "arena.h"
#include "diag.h"
#include "yamldoc.h"

void suite_adopt(void);

/* Set key: value for role in text; the new text or NULL with *why. */
static char *
edit(struct arena *a, const char *text, const char *role, const char *key, const char *value, const char **why)
{
	struct diag_sink d;
	diag_init(&d, stderr, "test");
	struct ynode *root;
	CU_ASSERT_EQUAL_FATAL(yamldoc_parse(a, &d, "models.yaml", text, strlen(text), &root), 0);
	const struct ynode *r = yamldoc_get(yamldoc_get(root, "roles"), role);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	size_t n = 0;
	char *out = adopt_yaml_set(a, text, strlen(text), r, key, value, &n, why);
	if (out)
		CU_ASSERT_EQUAL(n, strlen(out));
	return out;
}

static void
test_insert_after_repo(void)
{
	struct arena a = {0};
	const char *why;
	const char *in = "# catalog\n"
			 "roles:\n"
			 "  primary:\n"
			 "    # the main model\n"
			 "    repo: meta-llama/Llama-3.1-8B-Instruct   # gated\n"
			 "    quantization: none    # for now\n"
			 "  code:\n"
			 "    repo: bigcode/starcoder2-7b\n"
			 "    quantization: none\n";
	char *out = edit(&a, in, "primary", "local", "/mnt/f/models/llama-awq", &why);
	CU_ASSERT_STRING_EQUAL(out, "# catalog\n"
				    "roles:\n"
				    "  primary:\n"
				    "    # the main model\n"
				    "    repo: meta-llama/Llama-3.1-8B-Instruct   # gated\n"
				    "    local: /mnt/f/models/llama-awq\n"
				    "    quantization: none    # for now\n"
				    "  code:\n"
				    "    repo: bigcode/starcoder2-7b\n"
				    "    quantization: none\n");
	/* Then the quantization value is replaced in place, its comment kept. */
	out = edit(&a, out, "primary", "quantization", "awq", &why);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "    local: /mnt/f/models/llama-awq\n    quantization: awq    # for now\n"));
	/* The last role, repo on the last line without a newline. */
	out = edit(&a, "roles:\n  code:\n    quantization: none\n    repo: bigcode/starcoder2-7b", "code", "local",
	    "/m/s", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  code:\n    quantization: none\n    repo: bigcode/starcoder2-7b\n    local: /m/s\n");
	arena_free(&a);
}

static void
test_replace(void)
{
	struct arena a = {0};
	const char *why;
	char *out = edit(&a, "roles:\n  m:\n    local: '/old dir'  # old\n    quantization: awq\n", "m", "local",
	    "/new dir/it's", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    local: '/new dir/it''s'  # old\n    quantization: awq\n");
	out = edit(&a, "roles:\n  m:\n    local: \"/a\\\"b\"\n    quantization: awq\n", "m", "local", "/c", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    local: /c\n    quantization: awq\n");
	out = edit(&a, "roles:\n  m:\n    local: /a#b # c\n    quantization: awq\n", "m", "local", "/c", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    local: /c # c\n    quantization: awq\n");
	/* Tabs-free four-space indentation elsewhere is kept as written. */
	out = edit(&a, "roles:\n    m:\n        quantization: none\n        local: /x\n", "m", "quantization",
	    "compressed-tensors", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n    m:\n        quantization: compressed-tensors\n        local: /x\n");
	/* A CRLF file keeps its line ends. */
	out = edit(&a, "roles:\r\n  m:\r\n    local: /a\r\n    quantization: awq\r\n", "m", "local", "/b", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\r\n  m:\r\n    local: /b\r\n    quantization: awq\r\n");
	/* Words YAML would read as something else are quoted. */
	out = edit(&a, "roles:\n  m:\n    quantization: none\n    local: /x\n", "m", "quantization", "true", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    quantization: 'true'\n    local: /x\n");
	arena_free(&a);
}

static void
test_insert_first(void)
{
	struct arena a = {0};
	const char *why;
	char *out = edit(&a, "roles:\n  m:\n    local: /x\n    quantization: awq\n", "m", "served_model_name", "m1", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    served_model_name: m1\n    local: /x\n    quantization: awq\n");
	arena_free(&a);
}

static void
test_refusals(void)
{
	struct arena a = {0};
	const char *why = NULL;
	CU_ASSERT_PTR_NULL(edit(&a, "roles:\n  m: {repo: a/b, quantization: none}\n", "m", "local", "/x", &why));
	CU_ASSERT_STRING_EQUAL(why, "the role is written as a flow mapping ({...})");
	CU_ASSERT_PTR_NULL(edit(&a, "roles:\n  m:\n    local: >\n      /x\n    quantization: awq\n", "m", "local", "/y", &why));
	CU_ASSERT_STRING_EQUAL(why, "the value spans lines or is not a plain or quoted scalar");
	CU_ASSERT_PTR_NULL(edit(&a, "roles:\n  m:\n    repo: a/b\n    quantization: none\n", "m", "local", "/x\ny", &why));
	CU_ASSERT_STRING_EQUAL(why, "the directory name contains a line break");
	arena_free(&a);
}

static void
test_lock_merge(void)
{
	struct arena a = {0};
	struct lock_model ms[2];
	memset(ms, 0, sizeof ms);
	ms[0].key = "a/b@main";
	ms[1].key = "z/y@main";
	struct lock l = {"models.lock", ms, 2};
	struct lock_model m;
	memset(&m, 0, sizeof m);
	m.key = "local:/m";
	struct lock out = adopt_lock_merge(&a, &l, &m);
	CU_ASSERT_EQUAL(out.nmodels, 3);
	CU_ASSERT_STRING_EQUAL(out.models[0].key, "a/b@main");
	CU_ASSERT_STRING_EQUAL(out.models[1].key, "local:/m");
	CU_ASSERT_STRING_EQUAL(out.models[2].key, "z/y@main");
	m.has_config = true;
	out = adopt_lock_merge(&a, &out, &m);
	CU_ASSERT_EQUAL(out.nmodels, 3);
	CU_ASSERT(out.models[1].has_config);
	arena_free(&a);
}

void
suite_adopt(void)
{
	CU_pSuite s = CU_add_suite("adopt", NULL, NULL);
	CU_add_test(s, "insert_after_repo", test_insert_after_repo);
	CU_add_test(s, "replace", test_replace);
	CU_add_test(s, "insert_first", test_insert_first);
	CU_add_test(s, "refusals", test_refusals);
	CU_add_test(s, "lock_merge", test_lock_merge);
}
