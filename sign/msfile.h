#ifndef MODELC_MSFILE_H
#define MODELC_MSFILE_H

/*
 * Reading the small line-oriented files of minisign (keys, signatures) and of modelc's
 * signed set: whole files with a size limit, secrets into locked memory, and lines cut as
 * minisign's trim() cuts them (one "\n", then one "\r"; a "\r" anywhere else is refused).
 * Writing them is common/fileio.c's atomic replacement (fileio_write_atomic).
 */

#include <stdbool.h>
#include <stddef.h>

/*
 * Read path whole (at most max bytes) into *out, NUL-terminated, *len its length. With
 * secret, the buffer is sodium_malloc'd (free with sodium_free) and the file must be a
 * regular file that neither group nor others may read: err then says so with the chmod
 * command; else it is malloc'd. 0, or -1 with "PATH: why" in err.
 */
int msfile_read(const char *path, size_t max, bool secret, char **out, size_t *len, char *err, size_t errlen);

/*
 * The next line of text (len bytes) from *pos: *line and *linelen without its "\n" and a
 * "\r" before it; *pos moves past it. Returns 1 for a line, 0 at the end of the text, -1 when
 * the line holds a "\r" or a NUL byte elsewhere.
 */
int msfile_line(const char *text, size_t len, size_t *pos, const char **line, size_t *linelen);

/* Decode exactly n bytes of padded original-alphabet base64 (minisign's encoding); 0 or -1. */
int msfile_b64_exact(const char *b64, size_t len, unsigned char *bin, size_t n);

/* Whether the rest of the text from pos is only line ends (what may follow the last line). */
bool msfile_rest_blank(const char *text, size_t len, size_t pos);

#endif
