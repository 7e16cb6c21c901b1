#ifndef MODELC_SWPATH_H
#define MODELC_SWPATH_H

/*
 * Finding a command on PATH, for running nvidia-smi and the server with execve (a smaller
 * static binary than with execvp, which also has a fallback to /bin/sh that switch never wants).
 */

#include <stddef.h>

enum { SWPATH_MAX = 4096 };

/*
 * fork for a process with one thread that execs at once: _Fork (POSIX.1-2024, musl 1.2.2,
 * glibc 2.34) skips the atfork handlers and thread locks that fork takes, and with them 2 KiB of
 * libc (a read-write lock, timed waits, clock_gettime's vDSO lookup) in the static binary.
 * Needs _GNU_SOURCE where it is used.
 */
#if defined(__linux__)
#define SWFORK() _Fork()
#else
#define SWFORK() fork()
#endif

/*
 * The file that running name would execute: name itself when it contains '/', else the first
 * regular executable file called name in PATH's folders. Returns 0 with it in buf, or -1 with
 * errno ENOENT (nowhere) or ENAMETOOLONG.
 */
int swpath_which(const char *name, char *buf, size_t cap);

#endif
