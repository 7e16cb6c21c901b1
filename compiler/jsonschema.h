#ifndef MODELC_JSONSCHEMA_H
#define MODELC_JSONSCHEMA_H

/*
 * A small JSON Schema (draft 2020-12) validator for positioned document trees: models.yaml as
 * yamldoc reads it and models.lock as jsondoc reads it, so both files get FILE:LINE:COL
 * errors from the same code. It implements exactly the keywords schemas/models.schema.json
 * and schemas/models.lock.schema.json use and refuses to load a schema with any other, so a
 * schema file stays the single source of truth: editing it changes what modelc accepts.
 * Supported: $ref (local "#/..." pointers), $defs, type, properties, patternProperties,
 * additionalProperties, propertyNames, required, minProperties, maxProperties, enum, const,
 * pattern (POSIX extended regular expressions: keep patterns in the common subset of ERE and
 * ECMA-262), minLength, maxLength, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 * items, minItems, maxItems, anyOf, oneOf, not; $schema, $id, $comment, title, description,
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

/*
 * Report every violation of the schema by doc (read from YAML: messages say mapping and
 * sequence) at the offending node, once each, in document order; returns their number.
 */
unsigned jschema_validate(const struct jschema *s, struct arena *a, struct diag_sink *diag,
    const struct ynode *doc);

/* The same for a document read from JSON: messages say object, array and number. */
unsigned jschema_validate_json(const struct jschema *s, struct arena *a, struct diag_sink *diag,
    const struct ynode *doc);

/*
 * The path of key inside path as messages spell it: "roles.chat", or in brackets when the key
 * is no identifier: models["Qwen/Qwen2.5-7B-Instruct@main"] (quotes and backslashes escaped,
 * control characters as \xNN, cut after 200 bytes). Arena-owned.
 */
const char *jschema_path_key(struct arena *a, const char *path, const char *key);

/* The schema as parsed (borrowed; valid until jschema_free), e.g. to read its defaults. */
const json_t *jschema_json(const struct jschema *s);

/* Release the schema and its compiled patterns. */
void jschema_free(struct jschema *s);

#endif
