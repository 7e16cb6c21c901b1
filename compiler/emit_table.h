#ifndef MODELC_EMIT_TABLE_H
#define MODELC_EMIT_TABLE_H

/*
 * generated/switch.table: the catalog as the fixed-layout binary file of common/model_table.h,
 * which switch maps and checks, so that it needs no parser and sees a new build at once.
 */

#include <stdio.h>

#include "plan.h"

/* Write the table to out; 0, or -1 when the stream failed or the table passed 1 GiB. */
int emit_table(FILE *out, const struct plan *p);

#endif
