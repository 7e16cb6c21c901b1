#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsondoc.h"
#include "jsonschema.h"
#include "yamldoc.h"

void suite_jsonschema(void);

/* Collects what a sink printed, without the "m: " prefix of each line. */
struct js_out {
	char *buf;
	size_t len;
	FILE *f;
	struct diag_sink d;
	char text[8192];
};

static void
js_open(struct js_out *o)
{
	o->buf = NULL;
	o->f = open_memstream(&o->buf, &o->len);
	diag_init(&o->d, o->f, "m");
}

static const char *
js_close(struct js_out *o)
{
	fclose(o->f);
	size_t n = 0;
	for (const char *p = o->buf; p && *p && n + 1 < sizeof o->text;) {
		if (strncmp(p, "m: ", 3) == 0)
			p += 3;
		while (*p && n + 1 < sizeof o->text) {
			o->text[n++] = *p;
			if (*p++ == '\n')
				break;
		}
	}
	o->text[n] = '\0';
	free(o->buf);
	return o->text;
}

/* Load schema_text, validate yaml against it; returns the diagnostics of both steps. */
static const char *
js_check(struct js_out *o, const char *schema_text, const char *yaml, unsigned *violations)
{
	struct arena a = {0};
	struct ynode *root;
	js_open(o);
	*violations = (unsigned)-1;
	struct jschema *s = jschema_load_string(&a, &o->d, "s.json", schema_text);
	if (s && yamldoc_parse(&a, &o->d, "t.yaml", yaml, strlen(yaml), &root) == 0)
		*violations = jschema_validate(s, &a, &o->d, root);
	jschema_free(s);
	const char *out = js_close(o);
	arena_free(&a);
	return out;
}

static const char *
js_load_errors(struct js_out *o, const char *schema_text)
{
	struct arena a = {0};
	js_open(o);
	struct jschema *s = jschema_load_string(&a, &o->d, "s.json", schema_text);
	CU_ASSERT_PTR_NULL(s);
	jschema_free(s);
	arena_free(&a);
	return js_close(o);
}

static void
test_load_errors(void)
{
	struct js_out o;
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"type\": }"),
	    "s.json:1:10: error: unexpected token near '}'\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"a\": 1, \"a\": 2}"),
	    "s.json:1:12: error: duplicate object key near '\"a\"'\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o,
	    "{\"properties\": {\"x\": {\"if\": true, \"format\": \"uri\"}}}"),
	    "s.json: error: #/properties/x: keyword 'if' is not supported by modelc's validator\n"
	    "s.json: error: #/properties/x: keyword 'format' is not supported by modelc's validator\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"$schema\": \"http://json-schema.org/draft-07/schema#\"}"),
	    "s.json: error: #/$schema: only draft 2020-12 ('https://json-schema.org/draft/2020-12/schema') is supported\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"$ref\": \"#/$defs/nope\"}"),
	    "s.json: error: #/$ref: '$ref' '#/$defs/nope' does not point into this schema\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"$ref\": 3}"),
	    "s.json: error: #/$ref: '$ref' must be a string\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"pattern\": \"a(\"}"),
	    "s.json: error: #/pattern: pattern 'a(' is not a POSIX extended regular expression: Unmatched ( or \\(\n"
	    );
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"pattern\": 1}"),
	    "s.json: error: #/pattern: 'pattern' must be a string\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"patternProperties\": {\"(\": true}}"),
	    "s.json: error: #/patternProperties: pattern '(' is not a POSIX extended regular expression: Unmatched ( or \\(\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"patternProperties\": []}"),
	    "s.json: error: #/patternProperties: 'patternProperties' must be an object\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "[1]"),
	    "s.json: error: #: a schema must be an object or a boolean\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"enum\": []}"),
	    "s.json: error: #/enum: 'enum' must be a non-empty array\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"type\": [\"string\", \"text\"]}"),
	    "s.json: error: #/type: 'type' must name JSON types\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"required\": \"a\"}"),
	    "s.json: error: #/required: 'required' must be an array of strings\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"required\": [1]}"),
	    "s.json: error: #/required: 'required' must be an array of strings\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"minLength\": -1}"),
	    "s.json: error: #/minLength: 'minLength' must be a non-negative integer\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"minimum\": \"1\"}"),
	    "s.json: error: #/minimum: 'minimum' must be a number\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"anyOf\": []}"),
	    "s.json: error: #/anyOf: 'anyOf' must be a non-empty array\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"$defs\": {\"a/b~c\": {\"x\": 1}}}"),
	    "s.json: error: #/$defs/a~1b~0c: keyword 'x' is not supported by modelc's validator\n");
	CU_ASSERT_STRING_EQUAL(js_load_errors(&o, "{\"properties\": 1}"),
	    "s.json: error: #/properties: 'properties' must be an object\n");

	struct arena a = {0};
	js_open(&o);
	CU_ASSERT_PTR_NULL(jschema_load(&a, &o.d, "/nonexistent/s.json"));
	CU_ASSERT_STRING_EQUAL(js_close(&o),
	    "/nonexistent/s.json: error: unable to open /nonexistent/s.json: No such file or directory\n");
	arena_free(&a);
}

static void
test_messages(void)
{
	struct js_out o;
	unsigned n;

	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": false}}", "a: 1\n", &n),
	    "t.yaml:1:4: error: a: no value is allowed here\n");
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"const\": \"x\"}}}", "a: y\n", &n),
	    "t.yaml:1:4: error: a: must be 'x', found 'y'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"pattern\": \"^x+$\"}}}", "a: y\n", &n),
	    "t.yaml:1:4: error: a: 'y' does not match the pattern ^x+$\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"minLength\": 3}}}", "a: y\n", &n),
	    "t.yaml:1:4: error: a: must be at least 3 characters long, found 'y'\n");
	/* Lengths count characters, not bytes. */
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"maxLength\": 2}}}", "a: \xc3\xa9\xc3\xa9\n", &n), "");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"exclusiveMaximum\": 2}}}", "a: 2\n", &n),
	    "t.yaml:1:4: error: a: must be less than 2, found '2'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"minimum\": 0.5}}}", "a: 0x0\n", &n),
	    "t.yaml:1:4: error: a: must be at least 0.5, found '0x0'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"maxItems\": 1}}}", "a: [1, 2]\n", &n),
	    "t.yaml:1:1: error: a: must have at most 1 item, found 2\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"minItems\": 2}}}", "a: [1]\n", &n),
	    "t.yaml:1:1: error: a: must have at least 2 items, found 1\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"maxProperties\": 1}", "a: 1\nb: 2\n", &n),
	    "t.yaml:1:1: error: must have at most 1 entry, found 2\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"minProperties\": 3}", "a: 1\n", &n),
	    "t.yaml:1:1: error: must have at least 3 entries, found 1\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"type\": [\"integer\", \"null\"]}", "x\n", &n),
	    "t.yaml:1:1: error: expected integer or null, found string 'x'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"type\": [\"integer\", \"null\", \"array\"]}", "{}\n", &n),
	    "t.yaml:1:1: error: expected integer, null or sequence, found mapping\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"type\": \"boolean\"}", "off\n", &n),
	    "t.yaml:1:1: error: expected boolean, found string 'off' (YAML 1.2 reads it as a string: write true or false)\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"type\": \"boolean\"}", "'off'\n", &n),
	    "t.yaml:1:1: error: expected boolean, found string 'off'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"enum\": [1, \"two\", null]}", "3\n", &n),
	    "t.yaml:1:1: error: '3' is not one of 1, two, null\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"enum\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]}", "0\n", &n),
	    "t.yaml:1:1: error: '0' is not one of 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, ...\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"enum\": [[1, {\"a\": true}]]}", "[1, {a: true}]\n", &n), "");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"enum\": [[1, {\"a\": true}]]}", "[1, {a: false}]\n", &n),
	    "t.yaml:1:1: error: expected one of [1,{\"a\":true}], found sequence\n");
	/* Recursion through "#" ends at the document's depth. */
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"items\": {\"$ref\": \"#\"}, \"type\": \"array\"}", "[[[]], [[[1]]]]\n", &n),
	    "t.yaml:1:11: error: [1][0][0][0]: expected sequence, found integer '1'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"$ref\": \"#\"}", "1\n", &n),
	    "t.yaml:1:1: error: the schema refers to itself without end\n");
	/* patternProperties and additionalProperties together. */
	CU_ASSERT_STRING_EQUAL(js_check(&o,
	    "{\"patternProperties\": {\"^x_\": {\"type\": \"integer\"}}, \"additionalProperties\": false}",
	    "x_a: 1\nx_b: no\ny: 2\n", &n),
	    "t.yaml:2:6: error: x_b: expected integer, found string 'no'\n"
	    "t.yaml:3:1: error: unknown key 'y'\n");
	/* Keys with odd characters are shown escaped in paths. */
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"additionalProperties\": {\"type\": \"string\"}}",
	    "\"a\\tb\": 1\n", &n),
	    "t.yaml:1:9: error: [\"a\\tb\"]: expected string, found integer '1'\n");
}

static void
test_choices(void)
{
	struct js_out o;
	unsigned n;
	const char *one_of = "{\"oneOf\": [{\"type\": \"integer\"}, {\"type\": \"number\", \"minimum\": 5}]}";

	/* 7 is an integer and a number >= 5: both branches pass. */
	CU_ASSERT_STRING_EQUAL(js_check(&o, one_of, "7\n", &n),
	    "t.yaml:1:1: error: matches more than one of the allowed forms\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, one_of, "2\n", &n), "");
	/* No branch passes: the branch whose type fits explains why. */
	CU_ASSERT_STRING_EQUAL(js_check(&o, one_of, "2.5\n", &n),
	    "t.yaml:1:1: error: must be at least 5, found '2.5'\n");
	/* No branch's type fits: the types are listed. */
	CU_ASSERT_STRING_EQUAL(js_check(&o,
	    "{\"anyOf\": [{\"type\": \"integer\"}, {\"type\": [\"string\", \"null\"]}]}", "[]\n", &n),
	    "t.yaml:1:1: error: expected integer or string or null, found sequence\n");
	/* required-only branches name the keys. */
	CU_ASSERT_STRING_EQUAL(js_check(&o,
	    "{\"anyOf\": [{\"required\": [\"a\"]}, {\"required\": [\"b\"]}, {\"required\": [\"c\"]}]}",
	    "d: 1\n", &n),
	    "t.yaml:1:1: error: missing required key 'a', 'b' or 'c'\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o,
	    "{\"oneOf\": [{\"required\": [\"a\"]}, {\"required\": [\"b\"]}, {\"required\": [\"c\"]}]}",
	    "a: 1\nc: 2\n", &n),
	    "t.yaml:1:1: error: 'a' and 'c' exclude each other; give only one\n");
	/* A title says what the value should have been. */
	CU_ASSERT_STRING_EQUAL(js_check(&o,
	    "{\"title\": \"a small number\", \"anyOf\": [{\"type\": \"integer\", \"maximum\": 3}]}", "{}\n", &n),
	    "t.yaml:1:1: error: expected a small number, found mapping\n");
	CU_ASSERT_EQUAL(n, 1);
}

/* The validator follows the schema file: editing it changes the verdict. */
static void
test_schema_is_the_source(void)
{
	const char *doc =
	    "storage: {hf_home: /h}\ngpu: {memory: 8 GiB}\n"
	    "roles:\n  primary: {repo: o/n, quantization: awq}\nserver: {port: 9000}\n";
	struct arena a = {0};
	struct js_out o;
	struct ynode *root;
	js_open(&o);
	struct jschema *s = jschema_load(&a, &o.d, "schemas/models.schema.json");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(yamldoc_parse(&a, &o.d, "t.yaml", doc, strlen(doc), &root), 0);
	CU_ASSERT_EQUAL(jschema_validate(s, &a, &o.d, root), 0);

	/* Drop awq from the quantization enum and lower the port maximum. */
	json_t *copy = json_deep_copy(jschema_json(s));
	json_t *defs = json_object_get(copy, "$defs");
	json_t *qenum = json_object_get(json_object_get(defs, "quantization"), "enum");
	CU_ASSERT_EQUAL_FATAL(json_array_remove(qenum, 0), 0);
	json_t *port = json_object_get(json_object_get(json_object_get(
	    json_object_get(copy, "properties"), "server"), "properties"), "port");
	json_object_set_new(port, "maximum", json_integer(8080));
	char *text = json_dumps(copy, 0);
	json_decref(copy);
	struct jschema *edited = jschema_load_string(&a, &o.d, "edited.json", text);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(edited);
	CU_ASSERT_EQUAL(jschema_validate(edited, &a, &o.d, root), 2);
	jschema_free(edited);
	jschema_free(s);
	CU_ASSERT_STRING_EQUAL(js_close(&o),
	    "t.yaml:4:38: error: roles.primary.quantization: 'awq' is not one of gptq, bitsandbytes, fp8, compressed-tensors, none\n"
	    "t.yaml:5:16: error: server.port: must be at most 8080, found '9000'\n");
	arena_free(&a);
}

/* Validate the JSON text doc (read by jsondoc, as models.lock is) against schema_text. */
static const char *
js_check_json(struct js_out *o, const char *schema_text, const char *doc, unsigned *violations)
{
	struct arena a = {0};
	struct ynode *root;
	json_t *json;
	js_open(o);
	*violations = (unsigned)-1;
	struct jschema *s = jschema_load_string(&a, &o->d, "s.json", schema_text);
	if (s && jsondoc_parse(&a, &o->d, "t.json", doc, strlen(doc), &root, &json) == 0) {
		*violations = jschema_validate_json(s, &a, &o->d, root);
		json_decref(json);
	}
	jschema_free(s);
	const char *out = js_close(o);
	arena_free(&a);
	return out;
}

static void
test_not(void)
{
	struct js_out o;
	unsigned n;
	/* With a title the complaint says what the value should be; the pattern's and not's are one. */
	const char *titled = "{\"additionalProperties\": {\"title\": \"a word without '--'\", \"type\": \"string\", "
	    "\"pattern\": \"^[a-z-]+$\", \"not\": {\"pattern\": \"--\"}}}";
	CU_ASSERT_STRING_EQUAL(js_check(&o, titled, "a: x--y\nb: X--Y\nc: x-y\n", &n),
	    "t.yaml:1:4: error: a: 'x--y' is not a word without '--'\n"
	    "t.yaml:2:4: error: b: 'X--Y' is not a word without '--'\n");
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"title\": \"no list\", \"not\": {\"type\": \"array\"}}", "[1]\n", &n),
	    "t.yaml:1:1: error: expected no list, found sequence\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"not\": {\"const\": 3}}}}", "a: 3\n", &n),
	    "t.yaml:1:4: error: a: integer '3' is not allowed here\n");
	CU_ASSERT_STRING_EQUAL(js_check(&o, "{\"properties\": {\"a\": {\"not\": {\"const\": 3}}}}", "a: 4\n", &n), "");
}

/* A document read from JSON is spoken of in JSON's words; keys that are no identifiers in brackets. */
static void
test_json_words(void)
{
	struct js_out o;
	unsigned n;
	const char *schema = "{\"additionalProperties\": {\"type\": \"object\", \"properties\": {\"n\": {\"type\": \"integer\"},"
	    " \"e\": {\"enum\": [\"false\", \"auto\"]}}}}";
	CU_ASSERT_STRING_EQUAL(js_check_json(&o, schema,
	    "{\"o/n@main\": [], \"x\\\"y\": {\"n\": 1.5}, \"ok\": {\"n\": 1e3, \"e\": false}}", &n),
	    "t.json:1:14: error: [\"o/n@main\"]: expected object, found array\n"
	    "t.json:1:32: error: [\"x\\\"y\"].n: expected integer, found number '1.5'\n"
	    "t.json:1:60: error: ok.e: 'false' is not one of false, auto (that is boolean 'false'; the list has the string \"false\")\n");
	CU_ASSERT_EQUAL(n, 3);
	/* The same schema in YAML's words. */
	CU_ASSERT_STRING_EQUAL(js_check(&o, schema, "a: []\n", &n), "t.yaml:1:4: error: a: expected mapping, found sequence\n");
	char key[300], doc[400], want[400];
	memset(key, 'k', 250);
	key[0] = '-';
	key[250] = '\0';
	snprintf(doc, sizeof doc, "{\"%s\": 1}", key);
	snprintf(want, sizeof want, "t.json:1:%u: error: [\"%.200s...\"]: expected object, found integer '1'\n", 256u, key);
	CU_ASSERT_STRING_EQUAL(js_check_json(&o, schema, doc, &n), want);
}

void
suite_jsonschema(void)
{
	CU_pSuite s = CU_add_suite("jsonschema", NULL, NULL);
	CU_add_test(s, "schema load errors", test_load_errors);
	CU_add_test(s, "violation messages", test_messages);
	CU_add_test(s, "anyOf and oneOf", test_choices);
	CU_add_test(s, "an edited schema changes the verdict", test_schema_is_the_source);
	CU_add_test(s, "not", test_not);
	CU_add_test(s, "JSON documents", test_json_words);
}
