#ifndef MODELC_PASSPHRASE_H
#define MODELC_PASSPHRASE_H

/*
 * Where a secret key's passphrase comes from: the terminal (/dev/tty, echo off), the first
 * line of a file only its owner may read (--passphrase-file), or an inherited descriptor
 * (--passphrase-fd). Never argv, never the environment. The passphrase is held in
 * sodium_malloc memory and read as minisign reads it: one line, without its "\n" and "\r".
 */

#include <stdbool.h>
#include <stddef.h>

enum passphrase_source { PASSPHRASE_TTY, PASSPHRASE_FILE, PASSPHRASE_FD };

struct passphrase_opts {
	enum passphrase_source source;
	const char *file;               /* PASSPHRASE_FILE */
	int fd;                         /* PASSPHRASE_FD */
};

/*
 * Read one passphrase into *out (sodium_malloc'd, NUL-terminated; free with
 * passphrase_free), *len its length. On a terminal, prompt on it and, with confirm, ask a
 * second time and refuse a mismatch. 0, or -1 with err.
 */
int passphrase_read(const struct passphrase_opts *o, const char *prompt, bool confirm, char **out, size_t *len,
    char *err, size_t errlen);

/* Wipe and free a passphrase; NULL is ignored. */
void passphrase_free(char *p);

/*
 * Take --passphrase-file FILE or --passphrase-fd N at argv[*i] (advancing *i past the value)
 * into o. 1 when argv[*i] was one of them, 0 when not, -1 with err on a bad or repeated value.
 */
int passphrase_option(int argc, char **argv, int *i, struct passphrase_opts *o, char *err, size_t errlen);

#endif
