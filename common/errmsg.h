#ifndef MODELC_ERRMSG_H
#define MODELC_ERRMSG_H

/* The caller-supplied error buffer that parsers and network code fill on failure. libc only. */

#include <stddef.h>

/*
 * Format fmt into err (errlen bytes, truncated; nothing written when errlen is 0) and
 * return -1, so a failing function can end with `return errmsg_fail(err, errlen, ...)`.
 */
int errmsg_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
