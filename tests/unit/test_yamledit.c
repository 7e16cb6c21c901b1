#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "diag.h"
#include "yamldoc.h"
#include "yamledit.h"

void suite_yamledit(void);

/* Set key: value for role in text (after its repo: line when new), as modelc adopt does; the new text or NULL with *why. */
static const char *
edit(struct arena *a, const char *text, const char *role, const char *key, const char *value, const char **why)
{
	static struct diag_sink d;
	diag_init(&d, stderr, "test");
	struct yamledit e;
	yamledit_init(&e, a, &d, "models.yaml", text, strlen(text));
	e.noun = "the role";
	const char *const path[] = {"roles", role, NULL};
	CU_ASSERT_PTR_NOT_NULL_FATAL(yamledit_get(&e, path));
	if (yamledit_set(&e, path, key, value, "repo", why) != 0) {
		CU_ASSERT_PTR_NOT_NULL(*why);
		CU_ASSERT_STRING_EQUAL(e.text, text);  /* left as it was */
		return NULL;
	}
	CU_ASSERT_EQUAL(e.len, strlen(e.text));
	return e.text;
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
	const char *out = edit(&a, in, "primary", "local", "/mnt/f/models/llama-awq", &why);
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
	/* Then the quantization value is replaced in place, its comment kept in its column. */
	out = edit(&a, out, "primary", "quantization", "awq", &why);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "    local: /mnt/f/models/llama-awq\n    quantization: awq     # for now\n"));
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
	const char *out = edit(&a, "roles:\n  m:\n    local: '/old dir'  # old\n    quantization: awq\n", "m", "local",
	    "/new dir/it's", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    local: '/new dir/it''s' # old\n    quantization: awq\n");
	out = edit(&a, "roles:\n  m:\n    local: \"/a\\\"b\"\n    quantization: awq\n", "m", "local", "/c", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    local: /c\n    quantization: awq\n");
	out = edit(&a, "roles:\n  m:\n    local: /a#b # c\n    quantization: awq\n", "m", "local", "/c", &why);
	CU_ASSERT_STRING_EQUAL(out, "roles:\n  m:\n    local: /c   # c\n    quantization: awq\n");
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
	const char *out = edit(&a, "roles:\n  m:\n    local: /x\n    quantization: awq\n", "m", "served_model_name", "m1", &why);
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
	CU_ASSERT_STRING_EQUAL(why, "the value contains a line break");
	CU_ASSERT_PTR_NULL(edit(&a, "roles:\n  m: {}\n", "m", "local", "/x", &why));
	CU_ASSERT_STRING_EQUAL(why, "the role is not a mapping with keys");
	CU_ASSERT_PTR_NULL(edit(&a, "roles:\n  m:\n    local: /x\n    quantization: |\n      awq\n", "m", "quantization", "gptq",
	    &why));
	CU_ASSERT_STRING_EQUAL(why, "the value spans lines or is not a plain or quoted scalar");
	arena_free(&a);
}

/* The general interface: any path, repeated edits of one text, a new key first in its mapping. */
static void
test_paths(void)
{
	struct arena a = {0};
	struct diag_sink d;
	diag_init(&d, stderr, "test");
	const char *in = "# catalog\n"
			 "gpu:\n"
			 "  profile: rtx-4060  # laptop\n"
			 "roles:\n"
			 "  primary:\n"
			 "    repo: a/b\n";
	struct yamledit e;
	yamledit_init(&e, &a, &d, "models.yaml", in, strlen(in));
	const char *why = NULL;
	const char *const gpu[] = {"gpu", NULL}, *const top[] = {NULL};
	CU_ASSERT_EQUAL(yamledit_set(&e, gpu, "memory", "8 GiB", NULL, &why), 0);
	CU_ASSERT_EQUAL(yamledit_set(&e, gpu, "profile", "rtx", NULL, &why), 0);
	CU_ASSERT_EQUAL(yamledit_set(&e, gpu, "utilization", "0.9", "profile", &why), 0);
	CU_ASSERT_EQUAL(yamledit_set(&e, top, "version", "1", NULL, &why), 0);
	CU_ASSERT_STRING_EQUAL(e.text, "# catalog\n"
				       "version: '1'\n"
				       "gpu:\n"
				       "  memory: 8 GiB\n"
				       "  profile: rtx       # laptop\n"
				       "  utilization: '0.9'\n"
				       "roles:\n"
				       "  primary:\n"
				       "    repo: a/b\n");
	/* A longer value pushes the comment out to one space after it, never into it. */
	CU_ASSERT_EQUAL(yamledit_set(&e, gpu, "profile", "rtx-4090-laptop", NULL, &why), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.text, "\n  profile: rtx-4090-laptop # laptop\n"));
	/* Sizes stay plain; what YAML would read otherwise, or with a space at an end, is quoted. */
	CU_ASSERT_EQUAL(yamledit_set(&e, gpu, "memory", "8 ", NULL, &why), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.text, "\n  memory: '8 '\n"));
	CU_ASSERT_EQUAL(yamledit_set(&e, gpu, "memory", "8 GiB", NULL, &why), 0);
	/* The edited text is what later lookups see. */
	const char *const mem[] = {"gpu", "memory", NULL};
	const struct ynode *n = yamledit_get(&e, mem);
	CU_ASSERT(n && n->kind == YNODE_STRING && strcmp(n->text, "8 GiB") == 0);
	/* No mapping at the path: refused, named with the noun (default "the mapping"). */
	const char *const none[] = {"roles", "nope", NULL};
	CU_ASSERT_EQUAL(yamledit_set(&e, none, "local", "/x", NULL, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "the mapping is not in the text");
	const char *const scalar[] = {"gpu", "profile", NULL};
	CU_ASSERT_EQUAL(yamledit_set(&e, scalar, "x", "y", NULL, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "the mapping is not a mapping with keys");
	arena_free(&a);
}

static void
test_not_yaml(void)
{
	struct arena a = {0};
	struct diag_sink d;
	FILE *devnull = fopen("/dev/null", "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	diag_init(&d, devnull, "test");
	const char *in = "roles: [\n";
	struct yamledit e;
	yamledit_init(&e, &a, &d, "bad.yaml", in, strlen(in));
	const char *const path[] = {"roles", NULL};
	const char *why = NULL;
	CU_ASSERT_PTR_NULL(yamledit_get(&e, path));
	CU_ASSERT_EQUAL(yamledit_set(&e, path, "k", "v", NULL, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "the text is not valid YAML");
	CU_ASSERT_EQUAL(d.errors, 1);  /* reported once */
	fclose(devnull);
	arena_free(&a);
}

/* A new role goes after the last role and what belongs to it, comments kept, at the roles' indentation. */
static void
test_add_map(void)
{
	struct arena a = {0};
	struct diag_sink d;
	diag_init(&d, stderr, "test");
	const char *in = "roles:\n"
			 "    a:\n"
			 "        repo: x/y   # the first\n"
			 "\n"
			 "        quantization: none\n"
			 "    # a comment that ends the roles\n"
			 "server:\n"
			 "  port: 1\n";
	struct yamledit e;
	yamledit_init(&e, &a, &d, "models.yaml", in, strlen(in));
	const char *why = NULL;
	const char *const roles[] = {"roles", NULL};
	const char *const pairs[] = {"repo", "o/n", "quantization", "none", "why", "a: b", NULL};
	CU_ASSERT_EQUAL(yamledit_add_map(&e, roles, "b", pairs, &why), 0);
	CU_ASSERT_STRING_EQUAL(e.text, "roles:\n"
				       "    a:\n"
				       "        repo: x/y   # the first\n"
				       "\n"
				       "        quantization: none\n"
				       "    b:\n"
				       "        repo: o/n\n"
				       "        quantization: none\n"
				       "        why: 'a: b'\n"
				       "    # a comment that ends the roles\n"
				       "server:\n"
				       "  port: 1\n");
	CU_ASSERT_EQUAL(yamledit_add_map(&e, roles, "a", pairs, &why), -1);
	CU_ASSERT_STRING_EQUAL(why, "the mapping already has 'a'");
	/* At the end of a file without a final newline. */
	const char *end = "roles:\n  a:\n    repo: x/y";
	yamledit_init(&e, &a, &d, "models.yaml", end, strlen(end));
	CU_ASSERT_EQUAL(yamledit_add_map(&e, roles, "b", pairs, &why), 0);
	CU_ASSERT_STRING_EQUAL(e.text, "roles:\n  a:\n    repo: x/y\n  b:\n    repo: o/n\n    quantization: none\n"
				       "    why: 'a: b'\n");
	arena_free(&a);
}

void
suite_yamledit(void)
{
	CU_pSuite s = CU_add_suite("yamledit", NULL, NULL);
	CU_add_test(s, "insert_after_repo", test_insert_after_repo);
	CU_add_test(s, "replace", test_replace);
	CU_add_test(s, "insert_first", test_insert_first);
	CU_add_test(s, "refusals", test_refusals);
	CU_add_test(s, "paths", test_paths);
	CU_add_test(s, "not_yaml", test_not_yaml);
	CU_add_test(s, "add_map", test_add_map);
}
