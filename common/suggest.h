#ifndef MODELC_SUGGEST_H
#define MODELC_SUGGEST_H

/* "did you mean ...?" for misspelt keys, enum values and profile names. */

#include <stddef.h>

/* Edit distance between a and b: insertions, deletions, substitutions, adjacent swaps. */
size_t suggest_distance(const char *a, const char *b);

/* The candidate closest to word when it is close enough to be a likely typo, else NULL. */
const char *suggest_best(const char *word, const char *const *candidates, size_t n);

#endif
