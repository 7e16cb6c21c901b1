#ifndef MODELC_ENVFILE_H
#define MODELC_ENVFILE_H

/*
 * The .env quoting rule of shared/reference/envfile.md: every value it accepts reads back
 * byte for byte the same in bash, dash, python-dotenv and node dotenv.
 */

#include <stddef.h>
#include <stdio.h>

enum { ENVFILE_MAX_ASSIGNMENT = 131071 };

/* The bytes of the line KEY='value' (quotes, no newline): what ENVFILE_MAX_ASSIGNMENT bounds. */
size_t envfile_assignment_bytes(const char *key, size_t len);

/* NULL when key is a usable name; otherwise a static reason ("is a shell-special name"). */
const char *envfile_check_key(const char *key);

/* NULL when value can be written for key; otherwise a static reason it cannot. */
const char *envfile_check_value(const char *key, const char *value, size_t len);

/* Write KEY='value' or KEY="value" and a newline; the value must have passed envfile_check_value. */
void envfile_write(FILE *out, const char *prefix, const char *key, const char *value);

#endif
