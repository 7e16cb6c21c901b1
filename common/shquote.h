#ifndef MODELC_SHQUOTE_H
#define MODELC_SHQUOTE_H

/*
 * POSIX shell quoting for printing command lines a user can paste (switch serve --dry-run).
 * Words made only of characters no shell treats specially are written as they are; anything
 * else goes in single quotes, with each ' written as '\''.
 */

#include <stdio.h>

/* Write s to out, quoted when a shell would otherwise split or expand it. */
void shquote_write(FILE *out, const char *s);

/* Nonzero when s needs no quoting. */
int shquote_is_plain(const char *s);

#endif
