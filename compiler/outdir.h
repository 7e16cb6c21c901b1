#ifndef MODELC_OUTDIR_H
#define MODELC_OUTDIR_H

/*
 * Write every file of generated/ for a plan, all replaced together or not at all: the files
 * go to a fresh temporary directory next to dir, are fsynced, and replace dir in one rename.
 * Owned by the emitters; cmd_build calls only this.
 */

#include "diag.h"
#include "plan.h"

/*
 * Write the plan's outputs to dir (created when missing). Reports failures (naming the path
 * and strerror) to diag; 0 on success, -1 when nothing was replaced.
 */
int outdir_write(const struct plan *p, const char *dir, struct diag_sink *diag);

#endif
