#ifndef MODELC_FTRUST_H
#define MODELC_FTRUST_H

/*
 * The catalog's trust: list as fetch reads it. fetch takes the keys it trusts from the
 * catalog itself (or its command line), never from generated/: a list that came with the
 * manifests would vouch only for whoever wrote them. This reads nothing else of models.yaml
 * and, like modelc, refuses anchors, aliases, tags and a repeated trust: key, so both read
 * the same list.
 */

#include <stddef.h>

#include "mskey.h"
#include "size.h"

enum { FTRUST_MAX_BYTES = 16 * SIZE_MIB, FTRUST_MAX_DEPTH = 64, FTRUST_MAX_KEYS = 1024 };

/*
 * Read path's trust: list into *keys (malloc'd; free it), *n keys (0 when the catalog has no
 * trust:). 0, or -1 with "PATH:LINE:COL: why" (or "PATH: why") in err.
 */
int ftrust_read(const char *path, struct mskey_public **keys, size_t *n, char *err, size_t errlen);

/* The same from text (len bytes) that came from path. */
int ftrust_parse(const char *path, const char *text, size_t len, struct mskey_public **keys, size_t *n, char *err,
    size_t errlen);

#endif
