#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"

void suite_jsondoc(void);

struct jd_run {
	struct arena a;
	struct ynode *root;
	json_t *json;
	int rc;
	char out[1024];
};

static void
jd_parse(struct jd_run *r, const char *text, size_t len)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct diag_sink d;
	diag_init(&d, f, "m");
	memset(&r->a, 0, sizeof r->a);
	r->rc = jsondoc_parse(&r->a, &d, "l.json", text, len, &r->root, &r->json);
	fclose(f);
	snprintf(r->out, sizeof r->out, "%s", buf ? buf : "");
	free(buf);
}

static void
jd_done(struct jd_run *r)
{
	json_decref(r->json);
	arena_free(&r->a);
}

#define POS(n, l, c) do { CU_ASSERT_EQUAL((n).line, (l)); CU_ASSERT_EQUAL((n).col, (c)); } while (0)

static void
test_positions(void)
{
	struct jd_run r;
	const char text[] = "{\"a\": [1, 2.5e1, \"x\", true,\n   null, {\"b\": -3}],\r\n \"c\"\n : \"\xc3\xa9\", \"d\": 0}";
	jd_parse(&r, text, strlen(text));
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	const struct ynode *root = r.root;
	CU_ASSERT_EQUAL_FATAL(root->kind, YNODE_MAP);
	CU_ASSERT_EQUAL_FATAL(root->count, 3);
	CU_ASSERT_STRING_EQUAL(root->keys[0], "a");
	POS(root->key_pos[0], 1, 2);
	const struct ynode *a = root->items[0];
	CU_ASSERT_EQUAL_FATAL(a->kind, YNODE_SEQ);
	CU_ASSERT_EQUAL_FATAL(a->count, 6);
	POS(a->pos, 1, 7);
	CU_ASSERT_EQUAL(a->items[0]->kind, YNODE_INT);
	CU_ASSERT_EQUAL(a->items[0]->integer, 1);
	CU_ASSERT_EQUAL(a->items[1]->kind, YNODE_FLOAT);
	CU_ASSERT_STRING_EQUAL(a->items[1]->text, "2.5e1");
	CU_ASSERT_DOUBLE_EQUAL(a->items[1]->number, 25.0, 0);
	POS(a->items[1]->pos, 1, 11);
	CU_ASSERT_EQUAL(a->items[2]->kind, YNODE_STRING);
	CU_ASSERT(a->items[2]->quoted);
	CU_ASSERT_EQUAL(a->items[3]->kind, YNODE_BOOL);
	CU_ASSERT(a->items[3]->boolean);
	CU_ASSERT_EQUAL(a->items[4]->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(a->items[4]->text_len, 0);
	POS(a->items[4]->pos, 2, 4);
	CU_ASSERT_EQUAL(a->items[5]->items[0]->integer, -3);
	POS(a->items[5]->key_pos[0], 2, 11);
	/* A CRLF ends a line once; a ':' may stand on the line after its key (libyaml refuses it). */
	POS(root->key_pos[1], 3, 2);
	POS(root->items[1]->pos, 4, 4);
	CU_ASSERT_STRING_EQUAL(root->items[1]->text, "\xc3\xa9");
	/* Columns count characters: 'é' is one. */
	POS(root->key_pos[2], 4, 9);
	jd_done(&r);
}

/* Valid JSON that libyaml refuses or reads differently: jansson's reading is the one kept. */
static void
test_what_libyaml_gets_wrong(void)
{
	struct jd_run r;
	char big[1200];
	snprintf(big, sizeof big, "{\"%01100d\": 1}", 0);
	jd_parse(&r, big, strlen(big));
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_EQUAL(strlen(r.root->keys[0]), 1100);
	POS(r.root->items[0]->pos, 1, 1106);
	jd_done(&r);

	const char pair[] = "{\"a\": \"\\ud83d\\ude00\", \"b\": \"x\xc2\x85y\", \"c\\n\": \"\\/\"}";
	jd_parse(&r, pair, strlen(pair));
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.root->items[0]->text, "\xf0\x9f\x98\x80");
	CU_ASSERT_STRING_EQUAL(r.root->items[1]->text, "x\xc2\x85y");
	CU_ASSERT_STRING_EQUAL(r.root->keys[2], "c\n");
	CU_ASSERT_STRING_EQUAL(r.root->items[2]->text, "/");
	POS(r.root->key_pos[2], 1, 35);
	jd_done(&r);

	jd_parse(&r, "\t[{}]", 5);
	CU_ASSERT_EQUAL(r.rc, 0);
	POS(r.root->pos, 1, 2);
	POS(r.root->items[0]->pos, 1, 3);
	jd_done(&r);
}

static void
test_syntax_errors(void)
{
	struct jd_run r;
	jd_parse(&r, "{\"a\": 1,}", 9);
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NULL(r.root);
	CU_ASSERT_PTR_NULL(r.json);
	CU_ASSERT_STRING_EQUAL(r.out, "m: l.json:1:9: error: invalid JSON: string or '}' expected near '}'\n");
	jd_done(&r);
	jd_parse(&r, "{\"a\": 1, \"a\": 2}", 16);
	CU_ASSERT_STRING_EQUAL(r.out, "m: l.json:1:12: error: invalid JSON: duplicate object key near '\"a\"'\n");
	jd_done(&r);
	/* jansson would read "5\0," as "5,"; no JSON text holds a NUL byte (found by fuzz target lock). */
	jd_parse(&r, "{\"a\": 5\0, \"b\": 1}", 18);
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out, "m: l.json:1:8: error: invalid JSON: a NUL byte\n");
	jd_done(&r);
	jd_parse(&r, "{\"a\": 9223372036854775808}", 26);
	CU_ASSERT_STRING_EQUAL(r.out, "m: l.json:1:25: error: invalid JSON: too big integer near '9223372036854775808'\n");
	jd_done(&r);
}

void
suite_jsondoc(void)
{
	CU_pSuite s = CU_add_suite("jsondoc", NULL, NULL);
	CU_add_test(s, "every key and value has its place", test_positions);
	CU_add_test(s, "JSON that libyaml refuses or misreads", test_what_libyaml_gets_wrong);
	CU_add_test(s, "syntax errors carry jansson's place", test_syntax_errors);
}
