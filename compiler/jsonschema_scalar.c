/*
 * The validator's keywords on scalar values (enum, const's equality, the string and number
 * bounds) and the words its messages use. A document read from YAML names its collections
 * mapping and sequence, one read from JSON object and array, so that each message speaks
 * the language of the file it is about.
 */
#include "jsonschema_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "suggest.h"

static const char *const jschema_yaml_kinds[] = {
	"null", "boolean", "integer", "float", "string", "sequence", "mapping",
};

static const char *const jschema_json_kinds[] = {
	"null", "boolean", "integer", "number", "string", "array", "object",
};

const char *
jschema_kind_word(const struct jschema_ctx *c, enum ynode_kind kind)
{
	return c->json ? jschema_json_kinds[kind] : jschema_yaml_kinds[kind];
}

const char *
jschema_type_word(const struct jschema_ctx *c, const char *t)
{
	if (c->json)
		return t;
	if (strcmp(t, "object") == 0)
		return "mapping";
	if (strcmp(t, "array") == 0)
		return "sequence";
	return t;
}

const char *
jschema_describe(const struct jschema_ctx *c, const struct ynode *n)
{
	const char *kind = jschema_kind_word(c, n->kind);
	if (n->kind == YNODE_SEQ || n->kind == YNODE_MAP)
		return kind;
	if (n->kind == YNODE_NULL && n->text_len == 0)
		return kind;
	return arena_printf(c->a, "%s '%s'", kind, yamldoc_quote(c->a, n->text, n->text_len));
}

static bool
jschema_is_type(const struct ynode *n, const char *t)
{
	double d;
	switch (n->kind) {
	case YNODE_NULL:
		return strcmp(t, "null") == 0;
	case YNODE_BOOL:
		return strcmp(t, "boolean") == 0;
	case YNODE_STRING:
		return strcmp(t, "string") == 0;
	case YNODE_SEQ:
		return strcmp(t, "array") == 0;
	case YNODE_MAP:
		return strcmp(t, "object") == 0;
	case YNODE_INT:
	case YNODE_FLOAT:
		/* .inf and .nan are no JSON numbers: ajv's strictNumbers refuses them too. */
		if (!isfinite(n->number))
			return false;
		return strcmp(t, "number") == 0 || (strcmp(t, "integer") == 0 && yamldoc_integral(n, &d));
	}
	return false;
}
const char *
jschema_types_text(const struct jschema_ctx *c, const json_t *type)
{
	if (json_is_string(type))
		return jschema_type_word(c, json_string_value(type));
	const char *out = "";
	size_t n = json_array_size(type);
	for (size_t i = 0; i < n; i++) {
		const char *w = jschema_type_word(c, json_string_value(json_array_get(type, i)));
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		out = arena_printf(c->a, "%s%s%s", out, sep, w);
	}
	return out;
}
bool
jschema_type_ok(const struct ynode *n, const json_t *type)
{
	if (json_is_string(type))
		return jschema_is_type(n, json_string_value(type));
	size_t i;
	json_t *t;
	json_array_foreach(type, i, t)
		if (jschema_is_type(n, json_string_value(t)))
			return true;
	return false;
}
bool
jschema_equal(const json_t *v, const struct ynode *n)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return n->kind == YNODE_STRING && n->text_len == json_string_length(v) &&
		    memcmp(n->text, json_string_value(v), n->text_len) == 0;
	case JSON_INTEGER:
	case JSON_REAL:
		return (n->kind == YNODE_INT || n->kind == YNODE_FLOAT) &&
		    n->number == json_number_value(v);
	case JSON_TRUE:
	case JSON_FALSE:
		return n->kind == YNODE_BOOL && n->boolean == json_is_true(v);
	case JSON_NULL:
		return n->kind == YNODE_NULL;
	case JSON_ARRAY:
		if (n->kind != YNODE_SEQ || n->count != json_array_size(v))
			return false;
		for (size_t i = 0; i < n->count; i++)
			if (!jschema_equal(json_array_get(v, i), n->items[i]))
				return false;
		return true;
	case JSON_OBJECT:
		if (n->kind != YNODE_MAP || n->count != json_object_size(v))
			return false;
		for (size_t i = 0; i < n->count; i++) {
			const json_t *m = json_object_get(v, n->keys[i]);
			if (!m || !jschema_equal(m, n->items[i]))
				return false;
		}
		return true;
	}
	return false;
}
const char *
jschema_value_text(struct arena *a, const json_t *v)
{
	if (json_is_string(v))
		return yamldoc_quote(a, json_string_value(v), json_string_length(v));
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	const char *out = arena_strdup(a, s ? s : "?");
	free(s);
	return out;
}
static const char *
jschema_number_text(struct arena *a, const json_t *v)
{
	if (json_is_integer(v))
		return arena_printf(a, "%lld", (long long)json_integer_value(v));
	return arena_printf(a, "%g", json_real_value(v));
}
const char *
jschema_found(const struct jschema_ctx *c, const struct ynode *n)
{
	if (n->kind == YNODE_SEQ || n->kind == YNODE_MAP || (n->kind == YNODE_NULL && n->text_len == 0))
		return jschema_kind_word(c, n->kind);
	return arena_printf(c->a, "'%s'", yamldoc_quote(c->a, n->text, n->text_len));
}
static size_t
jschema_codepoints(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}
const char *
jschema_title(const json_t *schema)
{
	const json_t *t = json_object_get(schema, "title");
	return json_is_string(t) ? json_string_value(t) : NULL;
}
void
jschema_check_enum(struct jschema_ctx *c, const json_t *list, const struct ynode *node,
    const char *path, struct jschema_errs *out)
{
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (jschema_equal(v, node))
			return;
	const char *shown = "";
	const char *names[JSCHEMA_MAX_ENUM_SHOWN];
	size_t nnames = 0;
	json_array_foreach(list, i, v) {
		if (i == JSCHEMA_MAX_ENUM_SHOWN) {
			shown = arena_printf(c->a, "%s, ...", shown);
			break;
		}
		shown = arena_printf(c->a, "%s%s%s", shown, i ? ", " : "", jschema_value_text(c->a, v));
		if (json_is_string(v))
			names[nnames++] = json_string_value(v);
	}
	const char *hint = "";
	if (node->kind == YNODE_STRING) {
		const char *best = suggest_best(node->text, names, nnames);
		if (best)
			hint = arena_printf(c->a, " (did you mean '%s'?)", best);
	} else if (node->kind != YNODE_SEQ && node->kind != YNODE_MAP) {
		/* false where the list holds the string "false": the same text, another type. */
		json_array_foreach(list, i, v)
			if (json_is_string(v) && strlen(json_string_value(v)) == node->text_len &&
			    memcmp(json_string_value(v), node->text, node->text_len) == 0)
				hint = arena_printf(c->a, " (that is %s; the list has the string \"%s\")",
				    jschema_describe(c, node), json_string_value(v));
	}
	if (node->kind == YNODE_SEQ || node->kind == YNODE_MAP)
		jschema_push(c, out, node->pos, path,
		    arena_printf(c->a, "expected one of %s, found %s", shown, jschema_kind_word(c, node->kind)));
	else
		jschema_push(c, out, node->pos, path,
		    arena_printf(c->a, "%s is not one of %s%s", jschema_found(c, node), shown, hint));
}

void
jschema_check_string(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct jschema_errs *out)
{
	const json_t *v;
	size_t len = jschema_codepoints(node->text, node->text_len);
	const char *found = jschema_found(c, node);

	if ((v = json_object_get(schema, "minLength")) && len < (size_t)json_integer_value(v)) {
		if (json_integer_value(v) == 1)
			jschema_push(c, out, node->pos, path, "must not be empty");
		else
			jschema_push(c, out, node->pos, path, arena_printf(c->a,
			    "must be at least %lld characters long, found %s",
			    (long long)json_integer_value(v), found));
	}
	if ((v = json_object_get(schema, "maxLength")) && len > (size_t)json_integer_value(v))
		jschema_push(c, out, node->pos, path, arena_printf(c->a,
		    "must be at most %lld characters long, found %zu characters",
		    (long long)json_integer_value(v), len));
	if ((v = json_object_get(schema, "pattern")) &&
	    !jschema_match(c->s, json_string_value(v), node->text, node->text_len)) {
		const char *title = jschema_title(schema);
		if (title)
			jschema_push(c, out, node->pos, path,
			    arena_printf(c->a, "%s is not %s", found, title));
		else
			jschema_push(c, out, node->pos, path, arena_printf(c->a,
			    "%s does not match the pattern %s", found, json_string_value(v)));
	}
}

void
jschema_check_number(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct jschema_errs *out)
{
	static const struct {
		const char *kw;
		const char *words;
		int sign;          /* fails when sign * (x - limit) is < 0, or <= 0 when strict */
		bool strict;
	} checks[] = {
		{"minimum", "at least", 1, false},
		{"maximum", "at most", -1, false},
		{"exclusiveMinimum", "greater than", 1, true},
		{"exclusiveMaximum", "less than", -1, true},
	};
	double x = node->number;
	for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
		const json_t *v = json_object_get(schema, checks[i].kw);
		if (!v)
			continue;
		double d = checks[i].sign * (x - json_number_value(v));
		bool bad = isnan(x) || (checks[i].strict ? d <= 0 : d < 0);
		if (bad)
			jschema_push(c, out, node->pos, path, arena_printf(c->a, "must be %s %s, found %s",
			    checks[i].words, jschema_number_text(c->a, v), jschema_found(c, node)));
	}
}
