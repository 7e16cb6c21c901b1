#ifndef MODELC_EMIT_TABLE_H
#define MODELC_EMIT_TABLE_H

/*
 * generated/model_table.c: the catalog as static const data of common/model_table.h, so
 * switch needs no parser. Compiles warning-free with the strict flags under gcc and musl-gcc.
 */

#include <stdio.h>

#include "plan.h"

/* Write the C source to out; 0, or -1 when the stream failed. */
int emit_table(FILE *out, const struct plan *p);

/*
 * Write s as a C string literal (with its quotes) that means exactly the bytes of s: ASCII
 * printable characters as themselves, '"', '\\' and '?' escaped (so no trigraph can form),
 * everything else as a three-digit octal escape. NULL is written as NULL.
 */
void emit_table_cstring(FILE *out, const char *s);

#endif
