#include "jsonschema.h"

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "suggest.h"

enum { JSCHEMA_MAX_REF_DEPTH = 256, JSCHEMA_MAX_ENUM_SHOWN = 12 };

/* A compiled pattern, found by the address of its text inside the loaded JSON. */
struct jschema_regex {
	const char *source;
	regex_t re;
};

struct jschema {
	json_t *root;
	const char *path;
	struct jschema_regex *regexes;
	size_t nregexes;
	size_t cap;
};

/* How a keyword's value is walked when the schema is loaded. */
enum jschema_kw_shape {
	KW_ANNOTATION,          /* ignored by validation */
	KW_SCHEMA,              /* one subschema */
	KW_SCHEMA_MAP,          /* an object of subschemas */
	KW_SCHEMA_LIST,         /* an array of subschemas */
	KW_PATTERN_MAP,         /* patternProperties: regex keys, subschema values */
	KW_PATTERN,
	KW_REF,
	KW_TYPE,
	KW_STRINGS,             /* required */
	KW_NUMBER,
	KW_COUNT,               /* a non-negative integer */
	KW_ANY,                 /* enum (an array), const */
};

struct jschema_keyword {
	const char *name;
	enum jschema_kw_shape shape;
};

static const struct jschema_keyword jschema_keywords[] = {
	{"$schema", KW_ANNOTATION}, {"$id", KW_ANNOTATION}, {"$comment", KW_ANNOTATION},
	{"title", KW_ANNOTATION}, {"description", KW_ANNOTATION}, {"default", KW_ANNOTATION},
	{"examples", KW_ANNOTATION}, {"deprecated", KW_ANNOTATION},
	{"$defs", KW_SCHEMA_MAP}, {"$ref", KW_REF},
	{"type", KW_TYPE},
	{"properties", KW_SCHEMA_MAP}, {"patternProperties", KW_PATTERN_MAP},
	{"additionalProperties", KW_SCHEMA}, {"propertyNames", KW_SCHEMA},
	{"required", KW_STRINGS}, {"minProperties", KW_COUNT}, {"maxProperties", KW_COUNT},
	{"enum", KW_ANY}, {"const", KW_ANY},
	{"pattern", KW_PATTERN}, {"minLength", KW_COUNT}, {"maxLength", KW_COUNT},
	{"minimum", KW_NUMBER}, {"maximum", KW_NUMBER},
	{"exclusiveMinimum", KW_NUMBER}, {"exclusiveMaximum", KW_NUMBER},
	{"items", KW_SCHEMA}, {"minItems", KW_COUNT}, {"maxItems", KW_COUNT},
	{"anyOf", KW_SCHEMA_LIST}, {"oneOf", KW_SCHEMA_LIST},
};

static const char *const jschema_types[] = {
	"null", "boolean", "object", "array", "number", "integer", "string",
};

static const char *const JSCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema";

/* ---- loading ---- */

struct jschema_loader {
	struct jschema *s;
	struct arena *a;
	struct diag_sink *diag;
};

static void jschema_walk(struct jschema_loader *l, const json_t *schema, const char *ptr);

static const struct jschema_keyword *
jschema_keyword(const char *name)
{
	for (size_t i = 0; i < sizeof jschema_keywords / sizeof jschema_keywords[0]; i++)
		if (strcmp(jschema_keywords[i].name, name) == 0)
			return &jschema_keywords[i];
	return NULL;
}

/* Allocation failed: nothing sensible can follow (as in arena.c). */
static _Noreturn void
jschema_oom(void)
{
	fputs("out of memory\n", stderr);
	abort();
}

/* The JSON pointer of key inside ptr, with '~' and '/' escaped as RFC 6901 says. */
static const char *
jschema_ptr_join(struct arena *a, const char *ptr, const char *key)
{
	size_t extra = 0;
	for (const char *p = key; *p; p++)
		extra += *p == '~' || *p == '/';
	char *out = arena_alloc(a, strlen(ptr) + strlen(key) + extra + 2);
	char *o = out + strlen(ptr);
	memcpy(out, ptr, strlen(ptr));
	*o++ = '/';
	for (const char *p = key; *p; p++) {
		if (*p == '~' || *p == '/') {
			*o++ = '~';
			*o++ = *p == '~' ? '0' : '1';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* Resolve a local reference "#", "#/$defs/x"; NULL when it points nowhere. */
static const json_t *
jschema_resolve(const json_t *root, const char *ref)
{
	if (ref[0] != '#')
		return NULL;
	const json_t *cur = root;
	const char *p = ref + 1;
	while (*p == '/') {
		p++;
		size_t n = strcspn(p, "/");
		char key[256];
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (k + 1 >= sizeof key)
				return NULL;
			if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
				key[k++] = p[i + 1] == '0' ? '~' : '/';
				i++;
			} else {
				key[k++] = p[i];
			}
		}
		key[k] = '\0';
		if (json_is_object(cur)) {
			cur = json_object_get(cur, key);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long idx = strtoul(key, &end, 10);
			cur = *key && !*end ? json_array_get(cur, idx) : NULL;
		} else {
			cur = NULL;
		}
		if (!cur)
			return NULL;
		p += n;
	}
	return *p ? NULL : cur;
}

static void
jschema_add_regex(struct jschema_loader *l, const char *source, const char *ptr)
{
	struct jschema *s = l->s;
	for (size_t i = 0; i < s->nregexes; i++)
		if (s->regexes[i].source == source)
			return;
	if (s->nregexes == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct jschema_regex *r = realloc(s->regexes, cap * sizeof *r);
		if (!r)
			jschema_oom();
		s->regexes = r;
		s->cap = cap;
	}
	int rc = regcomp(&s->regexes[s->nregexes].re, source, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[128];
		regerror(rc, &s->regexes[s->nregexes].re, msg, sizeof msg);
		diag_error(l->diag, diag_file(l->s->path), "%s: pattern '%s' is not a POSIX extended regular expression: %s",
		    ptr, source, msg);
		return;
	}
	s->regexes[s->nregexes++].source = source;
}

static bool
jschema_is_count(const json_t *v)
{
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

static void
jschema_walk_keyword(struct jschema_loader *l, const struct jschema_keyword *kw,
    const json_t *v, const char *ptr)
{
	const char *key;
	json_t *sub;
	size_t i;

	switch (kw->shape) {
	case KW_ANNOTATION:
	case KW_ANY:
		if (strcmp(kw->name, "enum") == 0 && (!json_is_array(v) || json_array_size(v) == 0))
			diag_error(l->diag, diag_file(l->s->path), "%s: 'enum' must be a non-empty array", ptr);
		return;
	case KW_SCHEMA:
		jschema_walk(l, v, ptr);
		return;
	case KW_SCHEMA_MAP:
		if (!json_is_object(v)) {
			diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be an object", ptr, kw->name);
			return;
		}
		json_object_foreach((json_t *)v, key, sub)
			jschema_walk(l, sub, jschema_ptr_join(l->a, ptr, key));
		return;
	case KW_PATTERN_MAP:
		if (!json_is_object(v)) {
			diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be an object", ptr, kw->name);
			return;
		}
		json_object_foreach((json_t *)v, key, sub) {
			jschema_add_regex(l, key, ptr);
			jschema_walk(l, sub, jschema_ptr_join(l->a, ptr, key));
		}
		return;
	case KW_SCHEMA_LIST:
		if (!json_is_array(v) || json_array_size(v) == 0) {
			diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be a non-empty array", ptr, kw->name);
			return;
		}
		json_array_foreach(v, i, sub)
			jschema_walk(l, sub, arena_printf(l->a, "%s/%zu", ptr, i));
		return;
	case KW_PATTERN:
		if (!json_is_string(v))
			diag_error(l->diag, diag_file(l->s->path), "%s: 'pattern' must be a string", ptr);
		else
			jschema_add_regex(l, json_string_value(v), ptr);
		return;
	case KW_REF:
		if (!json_is_string(v))
			diag_error(l->diag, diag_file(l->s->path), "%s: '$ref' must be a string", ptr);
		else if (!jschema_resolve(l->s->root, json_string_value(v)))
			diag_error(l->diag, diag_file(l->s->path), "%s: '$ref' '%s' does not point into this schema", ptr,
			    json_string_value(v));
		return;
	case KW_TYPE: {
		size_t n = json_is_array(v) ? json_array_size(v) : 1;
		for (i = 0; i < n; i++) {
			const json_t *t = json_is_array(v) ? json_array_get(v, i) : v;
			bool ok = false;
			for (size_t k = 0; json_is_string(t) && k < sizeof jschema_types / sizeof *jschema_types; k++)
				ok |= strcmp(json_string_value(t), jschema_types[k]) == 0;
			if (!ok)
				diag_error(l->diag, diag_file(l->s->path), "%s: 'type' must name JSON types", ptr);
		}
		return;
	}
	case KW_STRINGS:
		if (!json_is_array(v)) {
			diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be an array of strings", ptr, kw->name);
			return;
		}
		json_array_foreach(v, i, sub)
			if (!json_is_string(sub))
				diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be an array of strings", ptr, kw->name);
		return;
	case KW_NUMBER:
		if (!json_is_number(v))
			diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be a number", ptr, kw->name);
		return;
	case KW_COUNT:
		if (!jschema_is_count(v))
			diag_error(l->diag, diag_file(l->s->path), "%s: '%s' must be a non-negative integer", ptr, kw->name);
		return;
	}
}

static void
jschema_walk(struct jschema_loader *l, const json_t *schema, const char *ptr)
{
	const char *key;
	json_t *v;

	if (json_is_boolean(schema))
		return;
	if (!json_is_object(schema)) {
		diag_error(l->diag, diag_file(l->s->path), "%s: a schema must be an object or a boolean", ptr);
		return;
	}
	json_object_foreach((json_t *)schema, key, v) {
		const struct jschema_keyword *kw = jschema_keyword(key);
		if (!kw) {
			diag_error(l->diag, diag_file(l->s->path), "%s: keyword '%s' is not supported by modelc's validator",
			    ptr, key);
			continue;
		}
		jschema_walk_keyword(l, kw, v, jschema_ptr_join(l->a, ptr, key));
	}
}

static struct jschema *
jschema_finish_load(struct arena *a, struct diag_sink *diag, const char *path, json_t *root,
    const json_error_t *err)
{
	if (!root) {
		struct diag_pos pos = {path, (unsigned)(err->line > 0 ? err->line : 0),
		    (unsigned)(err->column > 0 ? err->column : 0)};
		diag_error(diag, pos, "%s", err->text);
		return NULL;
	}
	struct jschema *s = calloc(1, sizeof *s);
	if (!s)
		jschema_oom();
	s->root = root;
	s->path = path;
	struct jschema_loader l = {s, a, diag};
	unsigned errors_before = diag->errors;
	const json_t *draft = json_object_get(root, "$schema");
	if (draft && (!json_is_string(draft) || strcmp(json_string_value(draft), JSCHEMA_DRAFT) != 0))
		diag_error(l.diag, diag_file(l.s->path), "#/$schema: only draft 2020-12 ('%s') is supported", JSCHEMA_DRAFT);
	jschema_walk(&l, root, "#");
	if (diag->errors != errors_before) {
		jschema_free(s);
		return NULL;
	}
	return s;
}

struct jschema *
jschema_load(struct arena *a, struct diag_sink *diag, const char *path)
{
	json_error_t err;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	return jschema_finish_load(a, diag, path, root, &err);
}

struct jschema *
jschema_load_string(struct arena *a, struct diag_sink *diag, const char *name, const char *text)
{
	json_error_t err;
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &err);
	return jschema_finish_load(a, diag, name, root, &err);
}

const json_t *
jschema_json(const struct jschema *s)
{
	return s->root;
}

void
jschema_free(struct jschema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nregexes; i++)
		regfree(&s->regexes[i].re);
	free(s->regexes);
	json_decref(s->root);
	free(s);
}

/* ---- validation ---- */

struct jschema_err {
	struct diag_pos pos;
	const char *msg;
	size_t seq;             /* the order it was found in, for a stable sort */
};

struct jschema_errs {
	struct jschema_err *v;
	size_t n;
	size_t cap;
};

struct jschema_ctx {
	const struct jschema *s;
	struct arena *a;
	int depth;
	size_t seq;
};

static void jschema_check(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out);

/* Room for one more error in out: the array doubles (from 8) when full. */
static void
jschema_reserve(struct jschema_ctx *c, struct jschema_errs *out)
{
	if (out->n == out->cap) {
		size_t cap = out->cap ? out->cap * 2 : 8;
		struct jschema_err *v = arena_alloc(c->a, cap * sizeof *v);
		if (out->n)
			memcpy(v, out->v, out->n * sizeof *v);
		out->v = v;
		out->cap = cap;
	}
}

static void
jschema_push(struct jschema_ctx *c, struct jschema_errs *out, struct diag_pos pos,
    const char *path, const char *msg)
{
	jschema_reserve(c, out);
	out->v[out->n].pos = pos;
	out->v[out->n].seq = c->seq++;
	out->v[out->n].msg = *path ? arena_printf(c->a, "%s: %s", path, msg) : msg;
	out->n++;
}

static void
jschema_append(struct jschema_ctx *c, struct jschema_errs *out, const struct jschema_errs *in)
{
	for (size_t i = 0; i < in->n; i++) {
		jschema_reserve(c, out);
		out->v[out->n++] = in->v[i];
	}
}

static const char *
jschema_type_word(const char *t)
{
	if (strcmp(t, "object") == 0)
		return "mapping";
	if (strcmp(t, "array") == 0)
		return "sequence";
	return t;
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

/* "integer", "integer or string", "null, integer or string" from a type keyword. */
static const char *
jschema_types_text(struct arena *a, const json_t *type)
{
	if (json_is_string(type))
		return jschema_type_word(json_string_value(type));
	const char *out = "";
	size_t n = json_array_size(type);
	for (size_t i = 0; i < n; i++) {
		const char *w = jschema_type_word(json_string_value(json_array_get(type, i)));
		const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
		out = arena_printf(a, "%s%s%s", out, sep, w);
	}
	return out;
}

static bool
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

/* Whether a JSON value equals a YAML node under JSON Schema's equality. */
static bool
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

/* A JSON value as a message shows it: strings bare, everything else as compact JSON. */
static const char *
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

/* The node's value in quotes for "found ..." parts: "'abc'", or its kind for collections. */
static const char *
jschema_found(struct arena *a, const struct ynode *n)
{
	if (n->kind == YNODE_SEQ || n->kind == YNODE_MAP || (n->kind == YNODE_NULL && n->text_len == 0))
		return yamldoc_kind_name(n->kind);
	return arena_printf(a, "'%s'", yamldoc_quote(a, n->text, n->text_len));
}

static size_t
jschema_codepoints(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

static bool
jschema_match(const struct jschema *s, const char *source, const char *text, size_t len)
{
	for (size_t i = 0; i < s->nregexes; i++) {
		if (s->regexes[i].source != source)
			continue;
		regmatch_t m[1];
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)len;
		return regexec(&s->regexes[i].re, text, 1, m, REG_STARTEND) == 0;
	}
	return false;
}

static const char *
jschema_title(const json_t *schema)
{
	const json_t *t = json_object_get(schema, "title");
	return json_is_string(t) ? json_string_value(t) : NULL;
}

static void
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
	}
	if (node->kind == YNODE_SEQ || node->kind == YNODE_MAP)
		jschema_push(c, out, node->pos, path,
		    arena_printf(c->a, "expected one of %s, found %s", shown, yamldoc_kind_name(node->kind)));
	else
		jschema_push(c, out, node->pos, path,
		    arena_printf(c->a, "%s is not one of %s%s", jschema_found(c->a, node), shown, hint));
}

static void
jschema_check_string(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct jschema_errs *out)
{
	const json_t *v;
	size_t len = jschema_codepoints(node->text, node->text_len);
	const char *found = jschema_found(c->a, node);

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

static void
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
			    checks[i].words, jschema_number_text(c->a, v), jschema_found(c->a, node)));
	}
}

static const char *
jschema_child_path(struct arena *a, const char *path, const char *key)
{
	const char *k = yamldoc_quote(a, key, strlen(key));
	return *path ? arena_printf(a, "%s.%s", path, k) : k;
}

/*
 * The bounds min_key and max_key set on count, the entries of a mapping or the items of a
 * sequence: one error for each bound broken, counting in one or many.
 */
static void
jschema_check_count(struct jschema_ctx *c, const json_t *schema, const char *min_key,
    const char *max_key, const char *one, const char *many, size_t count, const char *path,
    struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *v;

	if ((v = json_object_get(schema, min_key)) && count < (size_t)json_integer_value(v))
		jschema_push(c, out, anchor, path, arena_printf(c->a,
		    "must have at least %lld %s, found %zu", (long long)json_integer_value(v),
		    json_integer_value(v) == 1 ? one : many, count));
	if ((v = json_object_get(schema, max_key)) && count > (size_t)json_integer_value(v))
		jschema_push(c, out, anchor, path, arena_printf(c->a,
		    "must have at most %lld %s, found %zu", (long long)json_integer_value(v),
		    json_integer_value(v) == 1 ? one : many, count));
}

static void
jschema_check_object(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *props = json_object_get(schema, "properties");
	const json_t *pprops = json_object_get(schema, "patternProperties");
	const json_t *addl = json_object_get(schema, "additionalProperties");
	const json_t *names = json_object_get(schema, "propertyNames");
	const json_t *v;

	for (size_t i = 0; i < node->count; i++) {
		const char *key = node->keys[i];
		const struct ynode *val = node->items[i];
		const char *child = jschema_child_path(c->a, path, key);
		struct diag_pos kpos = node->key_pos[i];
		bool matched = false;

		if (names) {
			struct ynode kn = {.kind = YNODE_STRING, .pos = kpos, .text = key,
			    .text_len = strlen(key), .quoted = true};
			jschema_check(c, names, &kn, path, kpos, out);
		}
		const json_t *sub = props ? json_object_get(props, key) : NULL;
		if (sub) {
			matched = true;
			jschema_check(c, sub, val, child, kpos, out);
		}
		if (pprops) {
			const char *pk;
			json_t *psub;
			json_object_foreach((json_t *)pprops, pk, psub) {
				if (jschema_match(c->s, pk, key, strlen(key))) {
					matched = true;
					jschema_check(c, psub, val, child, kpos, out);
				}
			}
		}
		if (matched || !addl)
			continue;
		if (json_is_false(addl)) {
			const char *hint = "";
			if (props) {
				size_t n = json_object_size(props), k = 0;
				const char **cands = arena_alloc(c->a, (n + 1) * sizeof *cands);
				const char *pk;
				json_t *psub;
				json_object_foreach((json_t *)props, pk, psub)
					cands[k++] = pk;
				const char *best = suggest_best(key, cands, k);
				if (best)
					hint = arena_printf(c->a, " (did you mean '%s'?)", best);
			}
			jschema_push(c, out, kpos, path, arena_printf(c->a, "unknown key '%s'%s",
			    yamldoc_quote(c->a, key, strlen(key)), hint));
		} else {
			jschema_check(c, addl, val, child, kpos, out);
		}
	}
	if ((v = json_object_get(schema, "required"))) {
		size_t i;
		json_t *r;
		json_array_foreach(v, i, r)
			if (!yamldoc_get(node, json_string_value(r)))
				jschema_push(c, out, anchor, path, arena_printf(c->a,
				    "missing required key '%s'", json_string_value(r)));
	}
	jschema_check_count(c, schema, "minProperties", "maxProperties", "entry", "entries", node->count,
	    path, anchor, out);
}

static void
jschema_check_array(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *items = json_object_get(schema, "items");

	for (size_t i = 0; items && i < node->count; i++) {
		const char *child = arena_printf(c->a, "%s[%zu]", path, i);
		jschema_check(c, items, node->items[i], child, node->items[i]->pos, out);
	}
	jschema_check_count(c, schema, "minItems", "maxItems", "item", "items", node->count, path, anchor, out);
}

/* The schema a branch stands for once its $ref chain is followed. */
static const json_t *
jschema_deref(const struct jschema *s, const json_t *schema)
{
	for (int i = 0; i < JSCHEMA_MAX_REF_DEPTH && json_is_object(schema); i++) {
		const json_t *ref = json_object_get(schema, "$ref");
		if (!ref)
			break;
		schema = jschema_resolve(s->root, json_string_value(ref));
	}
	return schema;
}

/* A branch that only says which keys must be present: {"required": ["repo"]}. */
static bool
jschema_required_only(const json_t *schema, const char **key)
{
	const char *k;
	json_t *v;
	const json_t *req = NULL;
	if (!json_is_object(schema))
		return false;
	json_object_foreach((json_t *)schema, k, v) {
		if (strcmp(k, "required") == 0)
			req = v;
		else if (jschema_keyword(k)->shape != KW_ANNOTATION)
			return false;
	}
	if (!req || json_array_size(req) != 1)
		return false;
	*key = json_string_value(json_array_get(req, 0));
	return true;
}

/*
 * anyOf and oneOf. Each branch is checked on its own; when none passes, the message tries to
 * say what was meant rather than listing every branch's complaint.
 */
static void
jschema_check_choice(struct jschema_ctx *c, const json_t *schema, const char *kw,
    const struct ynode *node, const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *list = json_object_get(schema, kw);
	size_t n = json_array_size(list);
	struct jschema_errs *errs = arena_alloc(c->a, n * sizeof *errs);
	size_t passed = 0;

	for (size_t i = 0; i < n; i++) {
		jschema_check(c, json_array_get(list, i), node, path, anchor, &errs[i]);
		passed += errs[i].n == 0;
	}
	bool one = strcmp(kw, "oneOf") == 0;
	if (passed == 1 || (passed > 1 && !one))
		return;
	if (passed > 1) {
		const char *keys = "";
		bool all_required = true;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			const char *key;
			if (errs[i].n)
				continue;
			if (!jschema_required_only(jschema_deref(c->s, json_array_get(list, i)), &key)) {
				all_required = false;
				break;
			}
			keys = arena_printf(c->a, "%s%s'%s'", keys, k++ ? " and " : "", key);
		}
		if (all_required)
			jschema_push(c, out, anchor, path, arena_printf(c->a,
			    "%s exclude each other; give only one", keys));
		else
			jschema_push(c, out, node->pos, path, "matches more than one of the allowed forms");
		return;
	}
	/* Every branch is "required: [one key]": name the keys that would each do
	 * (before the title: a titled object that lacks them is still an object). */
	const char *keys = "";
	bool all_required = true;
	for (size_t i = 0; i < n && all_required; i++) {
		const char *key;
		all_required = jschema_required_only(jschema_deref(c->s, json_array_get(list, i)), &key);
		if (all_required)
			keys = arena_printf(c->a, "%s%s'%s'", keys, i == 0 ? "" : i + 1 == n ? " or " : ", ", key);
	}
	if (all_required) {
		jschema_push(c, out, anchor, path, arena_printf(c->a, "missing required key %s", keys));
		return;
	}
	const char *title = jschema_title(schema);
	if (title) {
		if (node->kind == YNODE_SEQ || node->kind == YNODE_MAP)
			jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s",
			    title, yamldoc_kind_name(node->kind)));
		else
			jschema_push(c, out, node->pos, path, arena_printf(c->a, "%s is not %s",
			    jschema_found(c->a, node), title));
		return;
	}
	/* Otherwise report the branch whose type fits the value and that has the fewest complaints. */
	size_t best = n;
	const char *types = "";
	for (size_t i = 0; i < n; i++) {
		const json_t *b = jschema_deref(c->s, json_array_get(list, i));
		const json_t *t = json_is_object(b) ? json_object_get(b, "type") : NULL;
		if (t && !jschema_type_ok(node, t)) {
			types = arena_printf(c->a, "%s%s%s", types, *types ? " or " : "",
			    jschema_types_text(c->a, t));
			continue;
		}
		if (best == n || errs[i].n < errs[best].n)
			best = i;
	}
	if (best < n) {
		jschema_append(c, out, &errs[best]);
		return;
	}
	jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s", types,
	    yamldoc_describe(c->a, node)));
}

/* yes, no, on, off, y, n: booleans in YAML 1.1, plain strings in 1.2. */
static bool
jschema_yaml11_bool(const struct ynode *n)
{
	static const char *const words[] = {"yes", "no", "on", "off", "y", "n"};
	if (n->kind != YNODE_STRING || n->quoted)
		return false;
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (strcasecmp(n->text, words[i]) == 0)
			return true;
	return false;
}

static bool
jschema_allows(const json_t *type, const char *name)
{
	if (json_is_string(type))
		return strcmp(json_string_value(type), name) == 0;
	size_t i;
	json_t *t;
	json_array_foreach(type, i, t)
		if (strcmp(json_string_value(t), name) == 0)
			return true;
	return false;
}

static void
jschema_check(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct diag_pos anchor, struct jschema_errs *out)
{
	const json_t *v;

	if (json_is_true(schema))
		return;
	if (json_is_false(schema)) {
		jschema_push(c, out, node->pos, path, "no value is allowed here");
		return;
	}
	if (++c->depth > JSCHEMA_MAX_REF_DEPTH) {
		jschema_push(c, out, node->pos, path, "the schema refers to itself without end");
		c->depth--;
		return;
	}
	if ((v = json_object_get(schema, "$ref")))
		jschema_check(c, jschema_resolve(c->s->root, json_string_value(v)), node, path, anchor, out);
	if ((v = json_object_get(schema, "type")) && !jschema_type_ok(node, v)) {
		/* One clear complaint: the other keywords of this schema assume the right type. */
		const char *hint = "";
		if (jschema_yaml11_bool(node) && jschema_allows(v, "boolean"))
			hint = " (YAML 1.2 reads it as a string: write true or false)";
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "expected %s, found %s%s",
		    jschema_types_text(c->a, v), yamldoc_describe(c->a, node), hint));
		c->depth--;
		return;
	}
	if ((v = json_object_get(schema, "const")) && !jschema_equal(v, node))
		jschema_push(c, out, node->pos, path, arena_printf(c->a, "must be '%s', found %s",
		    jschema_value_text(c->a, v), jschema_found(c->a, node)));
	if ((v = json_object_get(schema, "enum")))
		jschema_check_enum(c, v, node, path, out);
	if (node->kind == YNODE_STRING)
		jschema_check_string(c, schema, node, path, out);
	if (node->kind == YNODE_INT || node->kind == YNODE_FLOAT)
		jschema_check_number(c, schema, node, path, out);
	if (node->kind == YNODE_MAP)
		jschema_check_object(c, schema, node, path, anchor, out);
	if (node->kind == YNODE_SEQ)
		jschema_check_array(c, schema, node, path, anchor, out);
	if (json_object_get(schema, "anyOf"))
		jschema_check_choice(c, schema, "anyOf", node, path, anchor, out);
	if (json_object_get(schema, "oneOf"))
		jschema_check_choice(c, schema, "oneOf", node, path, anchor, out);
	c->depth--;
}

static int
jschema_err_cmp(const void *x, const void *y)
{
	const struct jschema_err *a = x, *b = y;
	if (a->pos.line != b->pos.line)
		return a->pos.line < b->pos.line ? -1 : 1;
	if (a->pos.col != b->pos.col)
		return a->pos.col < b->pos.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

unsigned
jschema_validate(const struct jschema *s, struct arena *a, struct diag_sink *diag,
    const struct ynode *doc)
{
	struct jschema_ctx c = {s, a, 0, 0};
	struct jschema_errs errs = {0};
	jschema_check(&c, s->root, doc, "", doc->pos, &errs);
	/* Report in document order; ties keep the order they were found in. */
	struct jschema_err *sorted = arena_alloc(a, (errs.n + 1) * sizeof *sorted);
	if (errs.n)
		memcpy(sorted, errs.v, errs.n * sizeof *sorted);
	qsort(sorted, errs.n, sizeof *sorted, jschema_err_cmp);
	for (size_t i = 0; i < errs.n; i++)
		diag_error(diag, sorted[i].pos, "%s", sorted[i].msg);
	return (unsigned)errs.n;
}
