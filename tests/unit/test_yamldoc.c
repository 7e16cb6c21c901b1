#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

void suite_yamldoc(void);

/* Parse text and return what was reported (without the "modelc: " prefix on each line). */
struct yd_run {
	struct arena a;
	struct ynode *root;
	int rc;
	char out[8192];
};

static void
yd_parse(struct yd_run *r, const char *text, size_t len)
{
	char *buf = NULL;
	size_t blen = 0;
	FILE *f = open_memstream(&buf, &blen);
	struct diag_sink d;
	diag_init(&d, f, "m");
	memset(&r->a, 0, sizeof r->a);
	r->rc = yamldoc_parse(&r->a, &d, "t.yaml", text, len, &r->root);
	fclose(f);
	/* Drop the "m: " program prefix of each line to keep expectations short. */
	size_t o = 0;
	for (const char *p = buf; p && *p && o + 1 < sizeof r->out;) {
		if (strncmp(p, "m: ", 3) == 0)
			p += 3;
		while (*p && o + 1 < sizeof r->out) {
			r->out[o++] = *p;
			if (*p++ == '\n')
				break;
		}
	}
	r->out[o] = '\0';
	free(buf);
}

static void
yd(struct yd_run *r, const char *text)
{
	yd_parse(r, text, strlen(text));
}

static const struct ynode *
yd_get(const struct yd_run *r, const char *key)
{
	return yamldoc_get(r->root, key);
}

static void
test_core_schema_scalars(void)
{
	struct yd_run r;
	yd(&r, "a: yes\nb: on\nc: 0x10\nd: 0o10\ne: ~\nf: 1e3\ng: \"1\"\nh: .inf\ni: -.Inf\n"
	    "j: .NaN\nk: True\nl: FALSE\nm:\nn: null\no: 010\np: +12\nq: 1_000\nr: 'true'\n"
	    "s: 1.5\nt: .5\nu: 1.\nv: 99999999999999999999\nw: 0xZZ\nx: |\n  12\ny: Null\nz: -7\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_EQUAL(r.root->kind, YNODE_MAP);
	CU_ASSERT_EQUAL(r.root->count, 26);
	CU_ASSERT_EQUAL(yd_get(&r, "a")->kind, YNODE_STRING);
	CU_ASSERT_STRING_EQUAL(yd_get(&r, "a")->text, "yes");
	CU_ASSERT_EQUAL(yd_get(&r, "b")->kind, YNODE_STRING);
	CU_ASSERT_EQUAL(yd_get(&r, "c")->kind, YNODE_INT);
	CU_ASSERT_EQUAL(yd_get(&r, "c")->integer, 16);
	CU_ASSERT_EQUAL(yd_get(&r, "d")->integer, 8);
	CU_ASSERT_EQUAL(yd_get(&r, "d")->number, 8.0);
	CU_ASSERT_EQUAL(yd_get(&r, "e")->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(yd_get(&r, "f")->kind, YNODE_FLOAT);
	CU_ASSERT_EQUAL(yd_get(&r, "f")->number, 1000.0);
	CU_ASSERT_EQUAL(yd_get(&r, "g")->kind, YNODE_STRING);
	CU_ASSERT(yd_get(&r, "g")->quoted);
	CU_ASSERT_EQUAL(yd_get(&r, "h")->kind, YNODE_FLOAT);
	CU_ASSERT(isinf(yd_get(&r, "h")->number) && yd_get(&r, "h")->number > 0);
	CU_ASSERT(isinf(yd_get(&r, "i")->number) && yd_get(&r, "i")->number < 0);
	CU_ASSERT(isnan(yd_get(&r, "j")->number));
	CU_ASSERT_EQUAL(yd_get(&r, "k")->kind, YNODE_BOOL);
	CU_ASSERT(yd_get(&r, "k")->boolean);
	CU_ASSERT_EQUAL(yd_get(&r, "l")->kind, YNODE_BOOL);
	CU_ASSERT(!yd_get(&r, "l")->boolean);
	CU_ASSERT_EQUAL(yd_get(&r, "m")->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(yd_get(&r, "n")->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(yd_get(&r, "o")->integer, 10);
	CU_ASSERT_EQUAL(yd_get(&r, "p")->integer, 12);
	CU_ASSERT_EQUAL(yd_get(&r, "q")->kind, YNODE_STRING);
	CU_ASSERT_EQUAL(yd_get(&r, "r")->kind, YNODE_STRING);
	CU_ASSERT_EQUAL(yd_get(&r, "s")->number, 1.5);
	CU_ASSERT_EQUAL(yd_get(&r, "t")->number, 0.5);
	CU_ASSERT_EQUAL(yd_get(&r, "u")->number, 1.0);
	CU_ASSERT_EQUAL(yd_get(&r, "v")->kind, YNODE_FLOAT);
	CU_ASSERT_EQUAL(yd_get(&r, "v")->number, 1e20);
	CU_ASSERT_EQUAL(yd_get(&r, "w")->kind, YNODE_STRING);
	CU_ASSERT_EQUAL(yd_get(&r, "x")->kind, YNODE_STRING);
	CU_ASSERT_STRING_EQUAL(yd_get(&r, "x")->text, "12\n");
	CU_ASSERT_EQUAL(yd_get(&r, "y")->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(yd_get(&r, "z")->integer, -7);
	arena_free(&r.a);
}

static void
test_positions(void)
{
	struct yd_run r;
	yd(&r, "# comment\nroles:\n  primary:\n    repo:   owner/name\n    empty:\n  list: [a, 'b']\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	struct diag_pos p = yamldoc_key_pos(r.root, "roles");
	CU_ASSERT_EQUAL(p.line, 2);
	CU_ASSERT_EQUAL(p.col, 1);
	CU_ASSERT_STRING_EQUAL(p.file, "t.yaml");
	const struct ynode *roles = yd_get(&r, "roles");
	const struct ynode *primary = yamldoc_get(roles, "primary");
	CU_ASSERT_EQUAL(primary->pos.line, 4);
	CU_ASSERT_EQUAL(primary->pos.col, 5);
	const struct ynode *repo = yamldoc_get(primary, "repo");
	CU_ASSERT_EQUAL(repo->pos.line, 4);
	CU_ASSERT_EQUAL(repo->pos.col, 13);
	CU_ASSERT_EQUAL(yamldoc_key_pos(primary, "repo").col, 5);
	/* An empty value points at its key. */
	const struct ynode *empty = yamldoc_get(primary, "empty");
	CU_ASSERT_EQUAL(empty->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(empty->pos.line, 5);
	CU_ASSERT_EQUAL(empty->pos.col, 5);
	const struct ynode *list = yamldoc_get(roles, "list");
	CU_ASSERT_EQUAL(list->kind, YNODE_SEQ);
	CU_ASSERT_EQUAL(list->count, 2);
	CU_ASSERT_EQUAL(list->items[1]->pos.col, 13);
	CU_ASSERT_PTR_NULL(yamldoc_get(roles, "nope"));
	CU_ASSERT_PTR_NULL(yamldoc_get(list, "a"));
	/* A missing key falls back to the map's own position. */
	CU_ASSERT_EQUAL(yamldoc_key_pos(primary, "nope").line, 4);
	arena_free(&r.a);
}

static void
test_empty_and_many(void)
{
	struct yd_run r;
	yd(&r, "");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.root->kind, YNODE_NULL);
	CU_ASSERT_EQUAL(r.root->pos.line, 1);
	CU_ASSERT_EQUAL(r.root->pos.col, 1);
	arena_free(&r.a);

	/* Many keys exercise the growth of the arrays and the sorted duplicate check. */
	size_t cap = 100 * 16, o = 0;
	char *text = malloc(cap);
	for (int i = 0; i < 100; i++)
		o += (size_t)snprintf(text + o, cap - o, "k%03d: %d\n", i, i);
	yd_parse(&r, text, o);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.root->count, 100);
	CU_ASSERT_EQUAL(yd_get(&r, "k099")->integer, 99);
	free(text);
	arena_free(&r.a);
}

static void
test_duplicates(void)
{
	struct yd_run r;
	yd(&r, "a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\na: 2\nc: 3\na: 4\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:5:3: error: duplicate key 'x' (first defined at line 3)\n"
	    "t.yaml:6:1: error: duplicate key 'a' (first defined at line 1)\n"
	    "t.yaml:8:1: error: duplicate key 'a' (first defined at line 1)\n");
	/* The first definition is kept so later tools see one value. */
	CU_ASSERT_PTR_NOT_NULL(r.root);
	CU_ASSERT_EQUAL(r.root->count, 3);
	CU_ASSERT_EQUAL(yd_get(&r, "a")->integer, 1);
	arena_free(&r.a);
}

static void
test_anchors_aliases_tags(void)
{
	struct yd_run r;
	yd(&r, "a: &x 1\nb: *x\nc: !!str 2\nd: !local 3\ne: &m {k: v}\nf: !!seq [1]\n*x : 5\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:1:4: error: anchors are not allowed: '&x'\n"
	    "t.yaml:2:4: error: aliases are not allowed: '*x'\n"
	    "t.yaml:3:4: error: tags are not allowed: '!!str'\n"
	    "t.yaml:4:4: error: tags are not allowed: '!local'\n"
	    "t.yaml:5:4: error: anchors are not allowed: '&m'\n"
	    "t.yaml:6:4: error: tags are not allowed: '!!seq'\n"
	    "t.yaml:7:1: error: aliases are not allowed: '*x'\n"
	    "t.yaml:7:1: error: keys must be strings, found null\n");
	arena_free(&r.a);
}

static void
test_keys(void)
{
	struct yd_run r;
	yd(&r, "1: a\n~: b\ntrue: c\n[x]: d\n{k: v}: e\n\"2\": ok\n\"n\\0ul\": f\n1.5: g\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:1:1: error: keys must be strings, found integer '1'\n"
	    "t.yaml:2:1: error: keys must be strings, found null '~'\n"
	    "t.yaml:3:1: error: keys must be strings, found boolean 'true'\n"
	    "t.yaml:4:1: error: keys must be strings, found sequence\n"
	    "t.yaml:5:1: error: keys must be strings, found mapping\n"
	    "t.yaml:7:1: error: a key contains a NUL character ('n\\x00ul'), which no path, name or text may hold\n"
	    "t.yaml:8:1: error: keys must be strings, found float '1.5'\n");
	CU_ASSERT_EQUAL(r.root->count, 1);
	CU_ASSERT_STRING_EQUAL(r.root->keys[0], "2");
	arena_free(&r.a);
}

static void
test_nul_in_values(void)
{
	struct yd_run r;
	yd(&r, "a: \"/srv/a\\0b\"\nm:\n  k: [ok, \"x\\x00\"]\n  \"q\\0\": {v: '\\0 is fine here'}\n"
	    "l: |\n  text\n\"\\0\": 1\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:1:4: error: a: contains a NUL character ('/srv/a\\x00b'), which no path, name or text may hold\n"
	    "t.yaml:3:11: error: m.k[1]: contains a NUL character ('x\\x00'), which no path, name or text may hold\n"
	    "t.yaml:4:3: error: m: a key contains a NUL character ('q\\x00'), which no path, name or text may hold\n"
	    "t.yaml:7:1: error: a key contains a NUL character ('\\x00'), which no path, name or text may hold\n");
	arena_free(&r.a);

	yd(&r, "\"\\0\"\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:1:1: error: the document contains a NUL character ('\\x00'), which no path, name or text may hold\n");
	arena_free(&r.a);
}

static void
test_documents_and_versions(void)
{
	struct yd_run r;
	yd(&r, "a: 1\n---\nb: 2\n---\nc: 3\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:2:1: error: a second document starts here; the file must hold exactly one\n");
	CU_ASSERT_PTR_NULL(r.root);
	arena_free(&r.a);

	yd(&r, "%YAML 1.1\n---\na: yes\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:1:1: error: '%YAML 1.1' is not supported: the file is read as YAML 1.2\n");
	arena_free(&r.a);

	yd(&r, "%YAML 1.2\n---\na: yes\n...\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(yd_get(&r, "a")->text, "yes");
	arena_free(&r.a);
}

static void
test_syntax_errors(void)
{
	struct yd_run r;
	yd(&r, "a: b: c\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out, "t.yaml:1:5: error: a ':' followed by a space starts a new key here, where no key can start; "
	    "quote the value if it holds ': ' (why: 'a: b'), or indent the key like the keys beside it\n");
	CU_ASSERT_PTR_NULL(r.root);
	arena_free(&r.a);

	yd(&r, "a: [b\n");
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:2:1: error: expected ',' or ']' in this [...] list (in the [...] list that starts at 1:4)\n");
	arena_free(&r.a);

	/* Errors found before the syntax error are reported too. */
	yd(&r, "a: 1\na: 2\nb: \"open\n");
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:2:1: error: duplicate key 'a' (first defined at line 1)\n"
	    "t.yaml:4:1: error: the file ends inside a quoted value or a [...] or {...} list; close it (in the "
	    "quoted value that starts at 3:4)\n");
	arena_free(&r.a);

	yd(&r, "a: ok\nb: caf\xff\n");
	CU_ASSERT_STRING_EQUAL(r.out, "t.yaml:2:7: error: the file is not UTF-8 text (byte 0xff)\n");
	arena_free(&r.a);

	/* YAML 1.1 line breaks are refused before libyaml could count lines differently. */
	yd(&r, "a: x\xe2\x80\xa8y\nb: \"\xc2\x85\"\nc: \xe2\x80\xa9\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_PTR_NULL(r.root);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "t.yaml:1:5: error: character U+2028 (line separator) is not allowed: YAML 1.1 parsers break the line there and YAML 1.2 parsers do not\n"
	    "t.yaml:2:5: error: character U+0085 (next line) is not allowed: YAML 1.1 parsers break the line there and YAML 1.2 parsers do not\n"
	    "t.yaml:3:4: error: character U+2029 (paragraph separator) is not allowed: YAML 1.1 parsers break the line there and YAML 1.2 parsers do not\n");
	arena_free(&r.a);

	yd(&r, "a: caf\xc3");
	CU_ASSERT_STRING_EQUAL(r.out, "t.yaml:1:7: error: the file is not UTF-8 text (a character is cut short)\n");
	arena_free(&r.a);
}

static void
test_limits(void)
{
	struct yd_run r;
	char deep[2 * YAMLDOC_MAX_DEPTH + 8];
	size_t o = 0;
	for (int i = 0; i < YAMLDOC_MAX_DEPTH + 1; i++)
		deep[o++] = '[';
	for (int i = 0; i < YAMLDOC_MAX_DEPTH + 1; i++)
		deep[o++] = ']';
	deep[o] = '\0';
	yd(&r, deep);
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out, "t.yaml:1:65: error: nesting is deeper than 64 levels\n");
	arena_free(&r.a);

	/* Exactly the limit is fine. */
	deep[YAMLDOC_MAX_DEPTH] = '\0';
	char ok[2 * YAMLDOC_MAX_DEPTH + 1];
	memcpy(ok, deep, YAMLDOC_MAX_DEPTH);
	memset(ok + YAMLDOC_MAX_DEPTH, ']', YAMLDOC_MAX_DEPTH);
	ok[2 * YAMLDOC_MAX_DEPTH] = '\0';
	yd(&r, ok);
	CU_ASSERT_EQUAL(r.rc, 0);
	arena_free(&r.a);

	/* The size limit is checked before parsing: the text is never read past it. */
	yd_parse(&r, "a: 1\n", (size_t)YAMLDOC_MAX_BYTES + 1);
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out, "t.yaml: error: the file is larger than 16 MiB\n");
	arena_free(&r.a);
}

static void
test_describe_and_quote(void)
{
	struct arena a = {0};
	struct ynode n = {.kind = YNODE_STRING, .text = "abc", .text_len = 3};
	CU_ASSERT_STRING_EQUAL(yamldoc_describe(&a, &n), "string 'abc'");
	n.kind = YNODE_MAP;
	CU_ASSERT_STRING_EQUAL(yamldoc_describe(&a, &n), "mapping");
	n.kind = YNODE_NULL;
	n.text = "";
	n.text_len = 0;
	CU_ASSERT_STRING_EQUAL(yamldoc_describe(&a, &n), "null");
	CU_ASSERT_STRING_EQUAL(yamldoc_kind_name(YNODE_BOOL), "boolean");
	CU_ASSERT_STRING_EQUAL(yamldoc_kind_name(YNODE_SEQ), "sequence");
	CU_ASSERT_STRING_EQUAL(yamldoc_quote(&a, "a\nb\tc\x01", 6), "a\\nb\\tc\\x01");
	CU_ASSERT_STRING_EQUAL(yamldoc_quote(&a, "a\0b", 3), "a\\x00b");
	char long_text[100];
	memset(long_text, 'x', sizeof long_text);
	const char *q = yamldoc_quote(&a, long_text, sizeof long_text);
	CU_ASSERT_EQUAL(strlen(q), 63);
	CU_ASSERT_STRING_EQUAL(q + 60, "...");
	/* A cut never splits a UTF-8 character. */
	char utf[80];
	memset(utf, 'x', 59);
	memcpy(utf + 59, "\xc3\xa9yyyyyyyyyy", 12);
	q = yamldoc_quote(&a, utf, 71);
	CU_ASSERT_EQUAL(strlen(q), 62);
	CU_ASSERT_STRING_EQUAL(q + 59, "...");

	double v;
	struct ynode f = {.kind = YNODE_FLOAT, .number = 1000.0};
	CU_ASSERT(yamldoc_integral(&f, &v) && v == 1000.0);
	f.number = 1.5;
	CU_ASSERT(!yamldoc_integral(&f, &v));
	f.number = HUGE_VAL;
	CU_ASSERT(!yamldoc_integral(&f, &v));
	struct ynode s = {.kind = YNODE_STRING, .text = "1", .text_len = 1};
	CU_ASSERT(!yamldoc_integral(&s, &v));
	arena_free(&a);
}

void
suite_yamldoc(void)
{
	CU_pSuite s = CU_add_suite("yamldoc", NULL, NULL);
	CU_add_test(s, "YAML 1.2 core schema scalars", test_core_schema_scalars);
	CU_add_test(s, "1-based positions of keys and values", test_positions);
	CU_add_test(s, "empty document, many keys", test_empty_and_many);
	CU_add_test(s, "duplicate keys", test_duplicates);
	CU_add_test(s, "anchors, aliases, tags", test_anchors_aliases_tags);
	CU_add_test(s, "non-string keys", test_keys);
	CU_add_test(s, "NUL characters in values and keys", test_nul_in_values);
	CU_add_test(s, "documents and %YAML", test_documents_and_versions);
	CU_add_test(s, "syntax errors", test_syntax_errors);
	CU_add_test(s, "depth and size limits", test_limits);
	CU_add_test(s, "describe and quote", test_describe_and_quote);
}
