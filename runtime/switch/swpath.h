#ifndef MODELC_SWPATH_H
#define MODELC_SWPATH_H

/*
 * Finding a command on PATH, for running nvidia-smi and the server with execve (a smaller
 * static binary than with execvp, which also has a fallback to /bin/sh that switch never wants).
 */

#include <stddef.h>

enum { SWPATH_MAX = 4096 };

/*
 * The file that running name would execute: name itself when it contains '/', else the first
 * regular executable file called name in PATH's folders. Returns 0 with it in buf, or -1 with
 * errno ENOENT (nowhere) or ENAMETOOLONG.
 */
int swpath_which(const char *name, char *buf, size_t cap);

#endif
