#ifndef MODELC_OUTDIR_INT_H
#define MODELC_OUTDIR_INT_H

/* What the outdir files share among themselves; outdir.h is the interface. */

#include "outdir.h"

/* a/b, malloc'ed; aborts when out of memory. */
char *outdir_join(const char *a, const char *b);

/* Report "PATH: cannot WHAT: strerror(errno)" as an error. */
void outdir_sys_error(struct diag_sink *diag, const char *path, const char *what);

/*
 * Check that dir holds only what modelc writes (files, and the fixed names), so replacing it
 * loses nothing of the user's; *exists says whether dir is there at all. 0, or -1 reported.
 */
int outdir_check_existing(const char *dir, const struct outdir_file *files, size_t nfiles, int *exists,
    struct diag_sink *diag);

/* Write one file under tmp, creating its parent directories (fsynced unless syncfs will be). */
int outdir_put_file(const char *tmp, const char *rel, const char *data, size_t len,
    struct diag_sink *diag);

/* Make everything written under tmp durable (files come sorted by path); 0, or -1 reported. */
int outdir_sync_tree(const char *tmp, const struct outdir_file *files, size_t nfiles,
    struct diag_sink *diag);

/* fsync path opened with flags (O_DIRECTORY for a folder); 0 or -1 with errno. */
int outdir_fsync_path(const char *path, int flags);

/* Read dir/README.md into memory; *data NULL when there is none. 0, or -1 reported. */
int outdir_read_readme(const char *dir, char **data, size_t *len, struct diag_sink *diag);

#endif
