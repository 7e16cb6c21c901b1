/*
 * The verdict where the evidence ends (issue 15): budget.c widens the margin of a role that no
 * calibrated case covers by the spread seen on the nearest cases; this says so, once for the
 * catalog's vLLM generation and once per role for what is particular to it.
 */
#include <string.h>

#include "budget.h"
#include "plan_evidence.h"
#include "yamldoc.h"

void
plan_evidence_notes(struct diag_sink *diag, const struct catalog *c, const struct plan *p,
    const struct diag_pos *role_pos)
{
	const struct budget_result *gen = NULL;
	for (size_t r = 0; r < p->nroles; r++) {
		const struct budget_result *res = &p->roles[r].result;
		if (!res->budget_bytes || !res->evidence_gaps)
			continue;
		if (res->evidence_gaps & BUDGET_EVIDENCE_GENERATION && !gen)
			gen = res;
		if (!(res->evidence_gaps & ~(unsigned)BUDGET_EVIDENCE_GENERATION))
			continue;
		/* The role's own gaps; the generation's is said once below. */
		struct budget_result own = *res;
		char ev[256];
		own.evidence_gaps &= ~(unsigned)BUDGET_EVIDENCE_GENERATION;
		budget_evidence_text(&own, ev, sizeof ev);
		diag_note(diag, role_pos[r], "roles.%s: outside the calibrated evidence (%s): the margin "
		    "widens by %.1f%% of the KV cache", p->roles[r].role->name, ev,
		    100 * res->evidence_spread);
	}
	if (!gen)
		return;
	const struct ynode *server = c->root ? yamldoc_get(c->root, "server") : NULL;
	const struct ynode *v = yamldoc_get(server, "vllm_version");
	diag_note(diag, v ? v->pos : server ? server->pos : diag_file(c->path),
	    "server: no calibrated case of vLLM generation %s (%s; nearest with cases: %s): every "
	    "role's margin widens by %.1f%% of its KV cache", budget_generation_rule(gen->generation)->name,
	    c->vllm_version ? "from server.vllm_version" : "the default, the newest modelled",
	    budget_generation_rule(gen->evidence_from)->name, 100 * budget_evidence_of(gen->evidence_from)->spread);
}
