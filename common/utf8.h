#ifndef MODELC_UTF8_H
#define MODELC_UTF8_H

/* UTF-8 decoding for the checks and writers that must pass only valid text. libc only. */

#include <stddef.h>

enum { UTF8_MAX_LEN = 4 };

/*
 * The length (1 to 4) of the valid UTF-8 sequence at s, which has at most n bytes, storing
 * its code point in *cp when cp is not NULL; 0 when the sequence is invalid, truncated,
 * overlong, a surrogate or above U+10FFFF. A byte below 0x80 (NUL included) is a sequence
 * of length 1 whatever n is.
 */
size_t utf8_decode(const char *s, size_t n, unsigned *cp);

#endif
