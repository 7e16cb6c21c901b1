#ifndef MODELC_OUTDIR_H
#define MODELC_OUTDIR_H

/*
 * The output directory (generated/ by default): every file rendered in memory first, then the
 * whole set swapped in at once, so readers see the old set or the new one, never a mix.
 */

#include <stddef.h>

#include "diag.h"
#include "plan.h"

/* One rendered output: path relative to the directory ("manifests/primary.json"). */
struct outdir_file {
	char *path;
	char *data;
	size_t len;
};

/*
 * Render every output of p and replace dir with them (outdir_replace). Returns 0, or 3 after
 * reporting to diag a message that names the path and strerror; then dir is left as it was.
 */
int outdir_write(const struct plan *p, const char *dir, struct diag_sink *diag);

/*
 * Render every output of p into *files (sorted by path, malloc'ed; free with outdir_free);
 * 0, or 3 after reporting which file could not be rendered.
 */
int outdir_render(const struct plan *p, struct outdir_file **files, size_t *nfiles,
    struct diag_sink *diag);

/*
 * Replace dir with exactly files (plus dir's README.md, copied over): write them into a fresh
 * sibling DIR.tmp.XXXXXX (creating missing parents), sync, then exchange it with dir by rename. Refuses a dir that is a
 * symbolic link, not a directory, or holds anything modelc does not write. 0, or 3 as above.
 */
int outdir_replace(const char *dir, const struct outdir_file *files, size_t nfiles,
    struct diag_sink *diag);

/* Free what outdir_render returned. */
void outdir_free(struct outdir_file *files, size_t nfiles);

#endif
