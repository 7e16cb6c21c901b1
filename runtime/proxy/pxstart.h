#ifndef MODELC_PXSTART_H
#define MODELC_PXSTART_H

/*
 * Starting a role's server: its limits (alone, switch serve's re-fit against nvidia-smi; in a
 * together: group, the member's limits, after checking that the free memory holds what vLLM's
 * start-up check wants), the command line with every name a client may use, and the fork.
 */

#include "px.h"

/* Start t, in group g (-1: alone). When memory is short a sleeper may be stopped first (the
 * next turn tries again); a refusal answers t's waiting requests. */
void px_start(struct px_inst *t, int g, double now);

/* Whether the GPU has room to wake t now: 1; 0 when a sleeper (or t) was stopped instead. */
int px_start_wake_room(struct px_inst *t, double now);

#endif
