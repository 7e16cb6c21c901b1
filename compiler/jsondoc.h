#ifndef MODELC_JSONDOC_H
#define MODELC_JSONDOC_H

/*
 * A JSON file (models.lock) as the tree of positioned nodes that yamldoc builds for YAML, so
 * that one validator (jsonschema) reports FILE:LINE:COL for both input files. jansson parses
 * the text with its usual rules (duplicate keys rejected) and keeps no positions; this module
 * then walks the text beside jansson's tree and records where each key and value starts.
 * libyaml is no JSON reader: it refuses valid JSON (a ':' on the line after its key, keys
 * over 1024 characters, escaped surrogate pairs) and folds a U+0085 inside a string.
 */

#include <jansson.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "srcfile.h"
#include "yamldoc.h"

/*
 * Parse text (len bytes) from path: *root is the positioned tree (arena-owned, independent of
 * *json), *json the same document as jansson holds it (release with json_decref). A syntax error is reported as
 * "invalid JSON: ..." at jansson's line and column; -1 then, and both are NULL.
 */
int jsondoc_parse(struct arena *a, struct diag_sink *diag, const char *path, const char *text,
    size_t len, struct ynode **root, json_t **json);

/*
 * Read the regular file path (at most max bytes) and parse it as jsondoc_parse does. 0 on
 * success; 1 when it is too large or no JSON (reported); -1 when it cannot be read (reported,
 * errno kept: ENOENT when it does not exist). src, when not NULL, gets the bytes read and the
 * file's size and modification time.
 */
int jsondoc_load(struct arena *a, struct diag_sink *diag, const char *path, size_t max,
    struct ynode **root, json_t **json, struct srcfile *src);

#endif
