#ifndef MODELC_FRONTEND_H
#define MODELC_FRONTEND_H

/*
 * The compiler's front end: read models.yaml, parse it (yamldoc), check it against
 * schemas/models.schema.json (jsonschema) and turn it into a catalog (catalog). Every
 * problem is reported with its place; nothing is written.
 */

#include "arena.h"
#include "catalog.h"
#include "diag.h"
#include "exitcode.h"
#include "yamldoc.h"

/* Return values are the process exit codes of common/exitcode.h. */

/*
 * The folder holding models.schema.json and the data tables: $MODELC_SCHEMA_DIR when set,
 * else schemas/ next to the catalog, else ../../schemas from the executable (a build tree),
 * else ../share/modelc from the executable (a relocated install), else the installed
 * MODELC_DATADIR. NULL when none has models.schema.json. Arena-owned.
 */
const char *frontend_schema_dir(struct arena *a, const char *catalog_path);

/* The folders frontend_schema_dir looks in, comma-separated, for error messages. */
const char *frontend_schema_search(struct arena *a, const char *catalog_path);

/*
 * Read and parse path and check it against the schema in schema_dir (NULL: search for it).
 * *root is the tree whenever the YAML could be read, even if the schema rejected it; *src
 * (when not NULL) what was read of the file. Returns EXITCODE_OK, EXITCODE_REJECTED (errors
 * reported) or EXITCODE_SYSTEM (a file could not be read).
 */
int frontend_parse(struct arena *a, struct diag_sink *diag, const char *path,
    const char *schema_dir, const struct ynode **root, struct srcfile *src);

/* frontend_parse, then catalog_from_yaml into *out. Same return values. */
int frontend_load(struct arena *a, struct diag_sink *diag, const char *path,
    const char *schema_dir, struct catalog *out);

#endif
