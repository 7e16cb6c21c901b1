#ifndef MODELC_EMIT_MANIFEST_H
#define MODELC_EMIT_MANIFEST_H

/*
 * generated/manifests/<role>.json: what fetch downloads for one role, pinned (docs/outputs.md).
 * JSON with sorted keys and two-space indent; unknown facts are null and named in "unknown".
 */

#include <stdio.h>

#include "plan.h"

/* Write the manifest of role r to out; 0, or -1 with errno (ENOMEM, or EINVAL for non-UTF-8 text). */
int emit_manifest(FILE *out, const struct plan *p, const struct plan_role *r);

#endif
