#ifndef MODELC_YAMLSCALAR_H
#define MODELC_YAMLSCALAR_H

/* Plain scalars typed by the YAML 1.2 core schema: null, boolean, integer, float or string. */

#include "yamldoc.h"

/* Set n's kind (and boolean, integer, number) from its plain text; a text holding a NUL stays a string. */
void yamlscalar_resolve(struct ynode *n);

#endif
