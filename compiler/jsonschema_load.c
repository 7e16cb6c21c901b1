/*
 * Loading a schema: every keyword must be one the validator implements, every $ref must
 * resolve and every pattern must compile, so that a schema modelc cannot apply exactly is
 * refused instead of half applied.
 */
#include "diag.h"
#include "jsonschema_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	{"anyOf", KW_SCHEMA_LIST}, {"oneOf", KW_SCHEMA_LIST}, {"not", KW_SCHEMA},
};

static const char *const jschema_types[] = {
	"null", "boolean", "object", "array", "number", "integer", "string",
};

static const char *const JSCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema";

struct jschema_loader {
	struct jschema *s;
	struct arena *a;
	struct diag_sink *diag;
};

static void jschema_walk(struct jschema_loader *l, const json_t *schema, const char *ptr);

const struct jschema_keyword *
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
	diag_print(stderr, "out of memory\n");
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

const json_t *
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

bool
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
