#ifndef MODELC_JSONSCHEMA_H
#define MODELC_JSONSCHEMA_H

/*
 * A small JSON Schema (draft 2020-12) validator for YAML trees. It implements exactly the
 * keywords schemas/models.schema.json uses and refuses to load a schema with any other, so
 * the schema file stays the single source of truth: editing it changes what modelc accepts.
 * Supported: $ref (local "#/..." pointers), $defs, type, properties, patternProperties,
 * additionalProperties, propertyNames, required, minProperties, maxProperties, enum, const,
 * pattern (POSIX extended regular expressions: keep patterns in the common subset of ERE and
 * ECMA-262), minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 * items, minItems, maxItems, anyOf, oneOf; $schema, $id, $comment, title, description,
 * default, examples and deprecated are annotations. A "title" names what a value should be
 * in messages ("'x' is not a repository id of the form owner/name").
 */

#include <jansson.h>

#include "arena.h"
#include "diag.h"
#include "yamldoc.h"

struct jschema;

/*
 * Load and check the schema at path: JSON syntax, every keyword known, every $ref resolvable,
 * every pattern compilable. Reports each problem to diag; NULL when any was found. Free with
 * jschema_free.
 */
struct jschema *jschema_load(struct arena *a, struct diag_sink *diag, const char *path);

/* The same from a JSON text (for tests); name is used in messages. */
struct jschema *jschema_load_string(struct arena *a, struct diag_sink *diag, const char *name,
    const char *text);

/* Report every violation of the schema by doc at the offending node; returns their number. */
unsigned jschema_validate(const struct jschema *s, struct arena *a, struct diag_sink *diag,
    const struct ynode *doc);

/* The schema as parsed (borrowed; valid until jschema_free), e.g. to read its defaults. */
const json_t *jschema_json(const struct jschema *s);

/* Release the schema and its compiled patterns. */
void jschema_free(struct jschema *s);

#endif
