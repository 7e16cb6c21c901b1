#ifndef MODELC_PXGROUP_H
#define MODELC_PXGROUP_H

/*
 * Which roles may stay resident together: the table's together: groups (modelc planned each to
 * fit side by side, with each member's limits there). A role asked for joins the group that
 * keeps the most recently used residents (px_group_choose); what is not started with that
 * group's limits is in its way. The memory each start or wake needs comes from the same plan.
 */

#include <stdint.h>

#include "px.h"

/*
 * The group t is to be resident in: among the groups that hold t and another member awake now,
 * the one whose awake members were used most recently (compared newest first, then the next;
 * keeping more wins a tie), ties in catalog order; with none awake, the one with the most other
 * members waiting to start, so that they start together; -1: none, t starts alone.
 */
int px_group_choose(const struct px_inst *t);

/* Whether o must be put away (or finish a transition) before t is resident in group g. */
int px_group_in_the_way(const struct px_inst *o, const struct px_inst *t, int g);

/* Role index role's member record in group g into *m; 0, or -1 when it is no member. */
int px_group_member(int g, size_t role, struct model_group_member *m);

/* Group g's name. */
const char *px_group_name(int g);

/* The free GPU memory member t needs now to start in group g (waking 0) or to wake (1) there;
 * 0 when t starts alone (the re-fit decides) or the table has no figure. */
uint64_t px_group_need_bytes(const struct px_inst *t, int g, int waking);

/* Host memory in's level-1 sleep takes: the table's figure, else its weights. */
uint64_t px_sleep_host_bytes(const struct px_inst *in);

/* The weights' bytes of in (the manifest's total, else the budget's). */
uint64_t px_weights_bytes(const struct px_inst *in);

#endif
