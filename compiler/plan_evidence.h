#ifndef MODELC_PLAN_EVIDENCE_H
#define MODELC_PLAN_EVIDENCE_H

#include "catalog.h"
#include "diag.h"
#include "plan.h"

/*
 * Say where the plan rests on no calibrated case: one note for the catalog when its vLLM
 * generation has none, and one per role whose architecture, size or kind (multimodal, MLA)
 * has none, with how much its margin widened. role_pos[r] is where role r's notes point.
 */
void plan_evidence_notes(struct diag_sink *diag, const struct catalog *c, const struct plan *p,
    const struct diag_pos *role_pos);

#endif
