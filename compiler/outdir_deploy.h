#ifndef MODELC_OUTDIR_DEPLOY_H
#define MODELC_OUTDIR_DEPLOY_H

/* The compose/ and k8s/ files of a plan, rendered in memory for outdir (docs/outputs.md). */

#include <stddef.h>

#include "diag.h"
#include "outdir.h"
#include "plan.h"

/* The most files outdir_deploy_render appends (0 deploy files for a one-GPU catalog's plan). */
size_t outdir_deploy_max(const struct plan *p);

/* Render them at v[*n], advancing *n; 0, or -1 after an error on diag (v[*n - 1] may be partial). */
int outdir_deploy_render(struct outdir_file *v, size_t *n, const struct plan *p, struct diag_sink *diag);

#endif
