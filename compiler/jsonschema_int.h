#ifndef MODELC_JSONSCHEMA_INT_H
#define MODELC_JSONSCHEMA_INT_H

/*
 * What the validator's three files share; not part of its interface (jsonschema.h is).
 * jsonschema_load.c loads and checks a schema, jsonschema_scalar.c holds the keywords on
 * scalars and the words messages use, jsonschema.c walks a document and collects errors.
 */

#include <regex.h>
#include <stdbool.h>

#include "jsonschema.h"

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

/* One violation found, before they are sorted into document order. */
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

/* One validation run. */
struct jschema_ctx {
	const struct jschema *s;
	struct arena *a;
	bool json;              /* name kinds as JSON does (object, array), else as YAML (mapping, sequence) */
	int depth;
	size_t seq;
};

/* The keyword called name, or NULL when the validator does not know it. */
const struct jschema_keyword *jschema_keyword(const char *name);

/* Resolve a local reference "#", "#/$defs/x" inside root; NULL when it points nowhere. */
const json_t *jschema_resolve(const json_t *root, const char *ref);

/* Whether the compiled pattern whose text is source matches text (len bytes, may hold NUL). */
bool jschema_match(const struct jschema *s, const char *source, const char *text, size_t len);

/* Record the error msg about the value at path (no prefix when path is empty). */
void jschema_push(struct jschema_ctx *c, struct jschema_errs *out, struct diag_pos pos,
    const char *path, const char *msg);

/* A schema's title (what a value should be, for messages), or NULL. */
const char *jschema_title(const json_t *schema);

/* The word for a JSON Schema type name: "object" is a "mapping" in YAML. */
const char *jschema_type_word(const struct jschema_ctx *c, const char *type);

/* The word for a node's kind: "mapping" or "object", "float" or "number", ... */
const char *jschema_kind_word(const struct jschema_ctx *c, enum ynode_kind kind);

/* A node's kind and value for "found ..." parts: "string 'abc'", "mapping"; arena-owned. */
const char *jschema_describe(const struct jschema_ctx *c, const struct ynode *n);

/* The node's value in quotes ("'abc'"), or its kind for collections and empty nulls. */
const char *jschema_found(const struct jschema_ctx *c, const struct ynode *n);

/* "integer", "integer or string", "null, integer or string" from a type keyword. */
const char *jschema_types_text(const struct jschema_ctx *c, const json_t *type);

/* Whether n has one of the types the type keyword names. */
bool jschema_type_ok(const struct ynode *n, const json_t *type);

/* Whether a JSON value equals a node under JSON Schema's equality. */
bool jschema_equal(const json_t *v, const struct ynode *n);

/* A JSON value as a message shows it: strings bare, everything else as compact JSON. */
const char *jschema_value_text(struct arena *a, const json_t *v);

/* enum, when list holds no value equal to node. */
void jschema_check_enum(struct jschema_ctx *c, const json_t *list, const struct ynode *node,
    const char *path, struct jschema_errs *out);

/* minLength, maxLength and pattern on a string node. */
void jschema_check_string(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct jschema_errs *out);

/* minimum, maximum, exclusiveMinimum and exclusiveMaximum on a number node. */
void jschema_check_number(struct jschema_ctx *c, const json_t *schema, const struct ynode *node,
    const char *path, struct jschema_errs *out);

#endif
