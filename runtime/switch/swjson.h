#ifndef MODELC_SWJSON_H
#define MODELC_SWJSON_H

/* JSON string output for switch (list --json, the warm-up request), without a library. */

#include <stddef.h>
#include <stdio.h>

/* Write s as a JSON string literal, quotes included. */
void swjson_write_string(FILE *out, const char *s);

/* The same into buf; returns 0, or -1 when it does not fit in cap bytes. */
int swjson_escape(char *buf, size_t cap, const char *s);

#endif
