/*
 * A role's budget: the inputs from the catalog (planparams.c), the fit with max_model_len: auto
 * lowered to the largest context that fits (budget_fit_context), the start-up check's note, and
 * when it does not fit, the error with its numbers and the ways out.
 */
#include <string.h>

#include "emit_common.h"
#include "plan_ctx.h"
#include "planparams.h"
#include "size.h"

/*
 * The role's fitted parameters with one setting changed, fitted at the same context into *r,
 * from the catalog's margin: where the role is outside the evidence, the fit widens it again
 * for the changed setting's own KV cache.
 */
static void
fit_alt(const struct catalog *c, const struct plan_role *pr, struct budget_params p,
    struct budget_result *r)
{
	memset(r, 0, sizeof *r);
	p.safety_margin_bytes = c->safety_margin_bytes;
	p.safety_margin_set = c->safety_margin_bytes != 0;
	budget_fit_context_checked(&pr->arch, &p, UINT32_MAX, r, NULL);
}

/* What the budget must hold besides the KV cache; CUDA graphs only when budget.c counts them inside. */
static uint64_t
before_kv(const struct plan_role *pr)
{
	return budget_before_kv_bytes(&pr->result);
}

/* The ways out of a role that does not fit, each as a note with its number. */
static void
ways_out(struct plan_ctx *x, struct plan_role *pr, struct diag_pos pos)
{
	struct budget_result alt;
	struct budget_params p;
	if (pr->result.max_model_len_fit > 0)
		diag_note(x->diag, pos, "the largest context that fits is %u tokens",
		    pr->result.max_model_len_fit);
	if (pr->params.kv_dtype_bytes != 1) {
		p = pr->params;
		p.kv_dtype_bytes = 1;
		fit_alt(x->c, pr, p, &alt);
		if (alt.max_model_len_fit > 0)
			diag_note(x->diag, pos, "kv_cache_dtype: fp8 fits %u tokens", alt.max_model_len_fit);
	}
	const struct budget_quant *q4 = plan_find_quant(x->c, "awq");
	if ((plan_is_16bit(pr->role->quantization) || pr->weights_in_flight) && q4 &&
	    plan_formula_arch(&pr->arch)) {
		p = pr->params;
		p.weights_bytes = budget_weights_bytes(&pr->arch, q4);
		fit_alt(x->c, pr, p, &alt);
		if (alt.max_model_len_fit > 0)
			diag_note(x->diag, pos, "a 4-bit AWQ checkpoint of this model fits %u tokens",
			    alt.max_model_len_fit);
	}
	if (pr->params.max_num_seqs > 1) {
		p = pr->params;
		p.max_num_seqs = 1;
		fit_alt(x->c, pr, p, &alt);
		if (alt.max_model_len_fit > pr->result.max_model_len_fit)
			diag_note(x->diag, pos, "max_num_seqs: 1 fits %u tokens", alt.max_model_len_fit);
	}
}

/* Why the utilization is lower than asked, as a note at the role: the one wording for every role. */
static void
note_lowering(struct plan_ctx *x, const struct plan_role *pr, struct diag_pos rpos)
{
	const char *name = pr->role->name;
	if (pr->result.utilization_lowered) {
		char why[320];
		budget_lowering_text(&pr->result, why, sizeof why);
		diag_note(x->diag, rpos, "roles.%s: gpu_memory_%s", name, why);
	}
}

/* A role of a hosts: catalog: split over its GPUs; the deciding rank stands for the role. */
static void
fit_parallel(struct plan_ctx *x, struct plan_role *pr, const struct budget_params *p,
    uint64_t exact, struct diag_pos rpos)
{
	const struct lock_model *m = pr->facts;
	struct planpar_model pm = {&pr->arch, pr->quant ? pr->quant : budget_quant_named("none"),
	    exact, m ? m->architecture : NULL, m ? m->config_json : NULL};
	pr->par = planpar_role(x->a, x->diag, x->c, pr->role, rpos, &pm, p);
	if (!pr->par)
		return;
	const struct plan_rank *d = &pr->par->ranks[pr->par->deciding];
	pr->params = d->params;
	pr->result = d->result;
	pr->max_model_len = pr->par->max_model_len;
}

void
plan_fit(struct plan_ctx *x, struct plan_role *pr, uint64_t weights, bool weights_exact, struct diag_pos rpos)
{
	const struct catalog *c = x->c;
	const struct catalog_role *role = pr->role;
	uint32_t cap = pr->arch.max_position_embeddings;
	struct budget_params p;
	if (!planparams_role(c, role, &p, x->diag))
		return;
	p.weights_bytes = weights;
	p.weights_source = weights_exact ? BUDGET_EXACT : BUDGET_FORMULA;
	if (!plan_fits_arch(&pr->arch) || !weights) {
		/*
		 * Nothing to fit: keep the settings as asked; 0 leaves the context to vLLM (the model's
		 * limit). vLLM's start-up check still applies: memory in use lowers the utilization as
		 * it does for every other role (graphs unknown: none counted).
		 */
		pr->max_model_len = role->max_model_len_auto ? 0 : role->max_model_len;
		pr->params = p;
		pr->params.weights_bytes = 0;
		pr->params.max_model_len = pr->max_model_len;
		budget_defaults(&pr->params);
		budget_check_start(&pr->params, 0, &pr->result);
		pr->result.max_num_seqs = pr->params.max_num_seqs;
		pr->result.max_num_batched_tokens = pr->params.max_num_batched_tokens;
		note_lowering(x, pr, rpos);
		if (pr->verified)
			plan_unverified(x, pr, "the architecture numbers the KV cache needs");
		return;
	}
	if (!role->max_model_len_auto && cap && role->max_model_len > cap) {
		diag_error(x->diag, plan_pos(x, role->node, "max_model_len"),
		    "roles.%s.max_model_len: %u is more than the model's max_position_embeddings %u",
		    role->name, role->max_model_len, cap);
		return;
	}
	if (role->max_model_len_auto && !cap)
		plan_unverified(x, pr, "max_position_embeddings (context capped only by memory)");
	if (c->nhosts) {
		fit_parallel(x, pr, &p, weights_exact ? weights : 0, rpos);
		return;
	}
	p.max_model_len = planparams_len(role, &pr->arch);
	budget_fit_context_checked(&pr->arch, &p, planparams_min_len(role), &pr->result, &pr->params);
	pr->max_model_len_memory = planparams_memory_len(&pr->arch, &p);
	uint32_t want = pr->params.max_model_len;
	pr->max_model_len = want;
	note_lowering(x, pr, rpos);
	if (!pr->result.fits) {
		if (pr->result.max_model_len_fit == 0)
			diag_error(x->diag, rpos,
			    "roles.%s: does not fit at any context: needs %.2f GiB before the KV cache, budget is %.2f GiB",
			    role->name, size_gib(before_kv(pr)),
			    size_gib(pr->result.budget_bytes));
		else
			diag_error(x->diag, rpos, "roles.%s: needs %.2f GiB at max_model_len %u, budget is %.2f GiB",
			    role->name,
			    size_gib(before_kv(pr) + pr->result.kv_bytes_per_token * (uint64_t)want),
			    want, size_gib(pr->result.budget_bytes));
		ways_out(x, pr, rpos);
	}
}
