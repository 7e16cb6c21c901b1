#ifndef MODELC_ACTIVEFILE_H
#define MODELC_ACTIVEFILE_H

/*
 * The .active_model file that records which role is active, as the seed's switcher did. Format
 * (docs/switch.1): a comment line, then "role=ROLE" and "model_id=ID", one per line, nothing else.
 * Writers take an exclusive flock on "<file>.lock", write "<file>.tmp.<pid>" and rename it over
 * the file, so readers always see one whole file however many writers race. A file that
 * already says the same is left alone.
 */

#include <stddef.h>

#include "model_table.h"

enum { ACTIVEFILE_PATH_MAX = 4096, ACTIVEFILE_VALUE_MAX = 4096 };

struct activefile {
	char role[ACTIVEFILE_VALUE_MAX];
	char model_id[ACTIVEFILE_VALUE_MAX];
};

/* The file to use: option (when not NULL), else $MODELC_ACTIVE_FILE, else ".active_model". */
const char *activefile_path(const char *option);

/*
 * Record e as active in path under model_id (what switch --set exports: swtable_model_id(e)).
 * Returns 0, or -1 with errno set and *what naming the failed step.
 */
int activefile_write(const char *path, const struct model_entry *e, const char *model_id, const char **what);

/*
 * Read path into af. Returns 0; -1 when it cannot be read (errno set; ENOENT when absent);
 * -2 when it is not in the format above (*line is the 1-based line at fault).
 */
int activefile_read(const char *path, struct activefile *af, unsigned *line);

#endif
