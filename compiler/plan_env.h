#ifndef MODELC_PLAN_ENV_H
#define MODELC_PLAN_ENV_H

/*
 * The rules for generated/.env, run on a finished plan before anything is written: no role's
 * key may collide with another's or with a global key, and every value .env will hold,
 * derived ones (hf_home/datasets) included, must pass the envfile rule and its length limit.
 * Each problem is reported at the catalog value it comes from.
 */

#include "arena.h"
#include "diag.h"
#include "plan.h"

/* Report every .env problem of p to diag; role_pos[i] is where role i's name stands. */
void plan_env_check(struct arena *a, struct diag_sink *diag, const struct plan *p,
    const struct diag_pos *role_pos);

#endif
