#ifndef MODELC_EMIT_PLAN_H
#define MODELC_EMIT_PLAN_H

/*
 * generated/plan.json and generated/plan.txt (hosts: catalogs only): each role's split over
 * GPUs, rank by rank, with the lines vLLM should log and every node's argv (docs/outputs.md).
 */

#include <stdio.h>

#include "plan.h"

/* Write plan.json to out; 0, or -1 with errno. */
int emit_plan_json(FILE *out, const struct plan *p);

/* Write plan.txt to out; 0, or -1 when the stream failed. */
int emit_plan_txt(FILE *out, const struct plan *p);

#endif
