/*
 * Roles side by side. Each member is its own vLLM process, so each brings its own CUDA context
 * and CUDA graph pool beside its --gpu-memory-utilization share (vllm-memory.md §1, §3): on top
 * of the share up to v0.20, inside it from v0.21, as the catalog's generation says
 * (budget_graphs_on_top, the rule the single-role budget follows), and each checks
 * at its start that the free memory, after its context, holds its share. A member's share is the
 * least that fits its context (the configured max_model_len; for auto, the smaller of
 * PLAN_GROUP_MIN_AUTO_LEN and what it gets alone); what is left of the GPU is shared out among
 * the auto members in whole steps of 1/PLAN_SHARE_STEPS, which then get the largest context
 * their share holds. Every byte count is an integer: a share of t steps is ceil(total x t /
 * PLAN_SHARE_STEPS), so the peak check compares exact sums.
 *
 * Asleep (vLLM's sleep mode), a process keeps what is not in its CuMemAllocator pool: the pool
 * holds only the allocations tagged "weights" (load_model) and "kv_cache" (initialize_from_config,
 * vllm/v1/worker/gpu_worker.py@0012cf691b7e); sleep unmaps every pool allocation, copying the
 * "weights" ones to pinned host memory at level 1 (vllm/device_allocator/cumem.py@010c211270c0).
 * CUDA graphs, captured after the KV cache outside the pool, the non-torch memory (NCCL, cuBLAS
 * workspaces) and the CUDA context stay. So a sleeping member keeps context + non-torch + graphs:
 * an estimate made of the budget's own terms (none of it measured on a sleeping vLLM), and
 * level 1 takes its weights in host memory.
 */
#include "plan_together.h"

#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "planparams.h"
#include "size.h"

static uint64_t
sub0(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

/* What a process holds awake beyond the memory in use before it: context + budget + graphs on top. */
static uint64_t
awake_bytes(const struct budget_result *r)
{
	return r->cuda_context_bytes + r->budget_bytes + budget_graphs_on_top(r);
}

/* What a sleeping process keeps on the GPU: an estimate from the budget's terms (above). */
static uint64_t
sleep_gpu(const struct budget_result *r)
{
	return r->cuda_context_bytes + r->non_torch_bytes + r->cuda_graph_bytes;
}

/* Bytes of a share of steps/PLAN_SHARE_STEPS of total, rounded up: what vLLM's start check asks. */
static uint64_t
share_bytes(uint64_t total, uint32_t steps)
{
	return total / PLAN_SHARE_STEPS * steps + (total % PLAN_SHARE_STEPS * steps + PLAN_SHARE_STEPS - 1) /
	    PLAN_SHARE_STEPS;
}

/* What member m at steps holds awake, in exact bytes: context + share + graphs on top. */
static uint64_t
member_bytes(uint64_t total, const struct plan_group_member *m, uint32_t steps)
{
	return m->result.cuda_context_bytes + share_bytes(total, steps) + budget_graphs_on_top(&m->result);
}

static void
serving_numbers(const struct catalog *c, struct plan_role *pr)
{
	uint64_t weights = pr->params.weights_bytes ? pr->params.weights_bytes : pr->result.weights_bytes;
	uint64_t bytes = pr->download_bytes > weights ? pr->download_bytes : weights;
	uint64_t rate = c->disk_read_rate ? c->disk_read_rate : 1;
	uint64_t t = PLAN_START_ALLOWANCE_S + (bytes + rate - 1) / rate;
	pr->load_timeout_seconds = (uint32_t)(t < PLAN_MIN_TIMEOUT_S ? PLAN_MIN_TIMEOUT_S : t > UINT32_MAX / 2 ?
	    UINT32_MAX / 2 : t);
	if (!emit_budget_known(pr))
		return;
	pr->awake_gpu_bytes = awake_bytes(&pr->result);
	pr->sleep_gpu_bytes = sleep_gpu(&pr->result);
	pr->sleep_host_bytes = pr->result.weights_bytes;
}

/* Member m of a group fitted at steps/PLAN_SHARE_STEPS of the GPU and length len (or the largest
 * context from min_len up); false when it does not fit. */
static bool
fit_at(const struct plan_role *pr, uint32_t steps, uint32_t len, uint32_t min_len,
    struct plan_group_member *m)
{
	struct budget_params p = pr->params;
	p.gpu_used_bytes = 0;
	p.utilization = steps / (double)PLAN_SHARE_STEPS;
	p.keep_utilization = true;      /* the group decides the share; the start check is ours */
	p.max_model_len = len;
	/* A member starts from the role's margin as widened alone, in bytes, and the checked fit
	 * widens it for the member's KV cache: the shares groups were planned with before the
	 * spread was kept apart (margin_spread) for switch's re-fit. */
	if (p.margin_spread > 0) {
		p.safety_margin_set = true;
		p.safety_margin_bytes = pr->result.safety_margin_bytes;
		p.margin_spread = 0;
	}
	m->params = p;
	return budget_fit_context_checked(&pr->arch, &p, min_len, &m->result, &m->params);
}

/* The least share, in steps, at which pr fits len tokens, m fitted at it; 0 when none does. */
static uint32_t
least_share(const struct plan_role *pr, uint32_t len, struct plan_group_member *m)
{
	struct plan_group_member trial = *m;
	uint32_t lo = 0, hi = PLAN_SHARE_STEPS;    /* !fits(lo), fits(hi), m fitted at hi */
	if (!fit_at(pr, hi, len, UINT32_MAX, m))
		return 0;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (fit_at(pr, mid, len, UINT32_MAX, &trial)) {
			hi = mid;
			*m = trial;
		} else {
			lo = mid;
		}
	}
	return hi;
}

/* The context a member must have in the group. */
static uint32_t
wanted_len(const struct plan_role *pr)
{
	if (!pr->role->max_model_len_auto)
		return pr->max_model_len;
	return pr->max_model_len < PLAN_GROUP_MIN_AUTO_LEN ? pr->max_model_len : PLAN_GROUP_MIN_AUTO_LEN;
}

struct diag_pos
plan_together_pos(const struct catalog *c, const struct catalog_group *g)
{
	const struct ynode *groups = yamldoc_get(yamldoc_get(c->root, "together"), "groups");
	if (groups && !g->all_pairs)
		return yamldoc_key_pos(groups, g->name);
	return g->node ? g->node->pos : diag_file(c->path);
}

static int
by_share(const void *a, const void *b)
{
	const struct plan_group_member *const *x = a, *const *y = b;
	uint64_t p = (*x)->free_at_start, q = (*y)->free_at_start;
	if (p != q)
		return p < q ? 1 : -1;
	return (*x)->role > (*y)->role ? 1 : -1;
}

/* The members' least shares and what they hold at them, summed with the memory in use into
 * *need; false when a member is unknown or alone does not fit. */
static bool
least_shares(struct plan *p, struct plan_group *pg, uint32_t *steps, uint64_t *need)
{
	uint64_t total = p->catalog->gpu_total_bytes;
	*need = p->catalog->gpu_used_bytes;
	for (size_t k = 0; k < pg->nmembers; k++) {
		struct plan_group_member *m = &pg->members[k];
		const struct plan_role *pr = &p->roles[m->role];
		if (!emit_budget_known(pr) || !pr->result.fits || !pr->max_model_len) {
			pg->unplanned = pr;
			return false;
		}
		steps[k] = least_share(pr, wanted_len(pr), m);
		if (!steps[k])
			return false;
		*need += member_bytes(total, m, steps[k]);
	}
	return true;
}

/*
 * What could close the gap of a group that does not fit: each lever only when what it frees
 * (the KV caches, half of them with fp8, the CUDA graphs) could cover the gap; when even the
 * terms no setting of the group changes (memory in use, contexts, weights, non-torch,
 * activation) exceed the GPU, only fewer or smaller roles or a larger GPU can.
 */
static void
levers(struct diag_sink *diag, struct diag_pos pos, const struct plan *p, const struct plan_group *pg,
    uint64_t need, uint64_t graphs)
{
	const struct catalog *c = p->catalog;
	uint64_t gap = sub0(need, c->gpu_total_bytes), weights = 0, fixed = c->gpu_used_bytes, kv = 0, kv16 = 0;
	for (size_t k = 0; k < pg->nmembers; k++) {
		const struct budget_result *r = &pg->members[k].result;
		weights += r->weights_bytes;
		fixed += r->cuda_context_bytes + r->weights_bytes + r->non_torch_bytes + r->activation_bytes;
		kv += r->kv_cache_bytes;
		if (pg->members[k].params.kv_dtype_bytes != 1)
			kv16 += r->kv_cache_bytes;
	}
	const char *g = pg->group->name;
	if (fixed >= c->gpu_total_bytes) {
		diag_note(diag, pos, "together.groups.%s: before any KV cache or CUDA graph the members need %.2f "
		    "GiB (weights %.2f GiB, plus the memory in use, CUDA contexts, non-torch and activation memory), "
		    "more than the GPU's %.2f GiB: no max_model_len, kv_cache_dtype or enforce_eager can close that; "
		    "fewer or smaller roles in the group (quantized checkpoints) or a larger GPU can", g,
		    size_gib(fixed), size_gib(weights), size_gib(c->gpu_total_bytes));
		return;
	}
	char list[320] = "";
	size_t n = 0;
	if (kv >= gap)
		n += (size_t)snprintf(list + n, sizeof list - n, "shorter max_model_len (the KV caches hold %.2f GiB), ",
		    size_gib(kv));
	if (kv16 / 2 >= gap && n < sizeof list)
		n += (size_t)snprintf(list + n, sizeof list - n, "kv_cache_dtype: fp8 (halves %.2f GiB of KV cache), ",
		    size_gib(kv16));
	if (graphs >= gap && n < sizeof list)
		n += (size_t)snprintf(list + n, sizeof list - n, "server.enforce_eager (no CUDA graphs: %.2f GiB), ",
		    size_gib(graphs));
	if (!n)
		snprintf(list, sizeof list, "no one setting frees that much (KV caches %.2f GiB, CUDA graphs %.2f "
		    "GiB): a shorter max_model_len, kv_cache_dtype: fp8 and server.enforce_eager together, ",
		    size_gib(kv), size_gib(graphs));
	diag_note(diag, pos, "together.groups.%s: it fits with %.2f GiB less: %sor fewer or smaller roles in "
	    "the group", g, size_gib(gap), list);
}

static void
refuse(struct diag_sink *diag, const struct plan *p, const struct plan_group *pg, const uint32_t *steps,
    uint64_t need)
{
	const struct catalog *c = p->catalog;
	struct diag_pos pos = plan_together_pos(c, pg->group);
	uint64_t graphs = 0;
	diag_error(diag, pos, "together.groups.%s: its %zu roles need %.2f GiB side by side (%llu bytes), the GPU "
	    "has %.2f GiB (%llu bytes, %.2f GiB of it in use by others)", pg->group->name, pg->nmembers,
	    size_gib(need), (unsigned long long)need, size_gib(c->gpu_total_bytes),
	    (unsigned long long)c->gpu_total_bytes, size_gib(c->gpu_used_bytes));
	for (size_t k = 0; k < pg->nmembers; k++) {
		const struct plan_group_member *m = &pg->members[k];
		const struct budget_result *r = &m->result;
		graphs += r->cuda_graph_bytes;
		diag_note(diag, pos, "together.groups.%s: '%s' needs %.2f GiB: CUDA context %.2f, share %.2f "
		    "(gpu_memory_utilization %s: weights %.2f and KV cache for %u tokens), CUDA graphs %.2f %s "
		    "(vLLM generation %s)", pg->group->name, p->roles[m->role].role->name,
		    size_gib(member_bytes(c->gpu_total_bytes, m, steps[k])), size_gib(r->cuda_context_bytes),
		    size_gib(share_bytes(c->gpu_total_bytes, steps[k])), emit_util(steps[k] / (double)PLAN_SHARE_STEPS).s,
		    size_gib(r->weights_bytes), m->params.max_model_len, size_gib(r->cuda_graph_bytes),
		    budget_graphs_on_top(r) ? "on top" : "inside the share", budget_generation_rule(r->generation)->name);
	}
	levers(diag, pos, p, pg, need, graphs);
}

/* Auto member m at least + extra steps, with the largest context that share holds (capped as
 * alone); at least, as fitted, when the larger share holds none. */
static void
grow(const struct plan_role *pr, struct plan_group_member *m, uint32_t least, uint32_t extra, uint32_t *steps)
{
	struct plan_group_member wider = *m;
	uint32_t t = least + extra > PLAN_SHARE_STEPS ? PLAN_SHARE_STEPS : least + extra;
	if (t != least && fit_at(pr, t, pr->max_model_len, 1, &wider)) {
		*m = wider;
		*steps = t;
	}
}

/*
 * What is left over the least shares goes to the auto members in whole steps, split evenly,
 * the remainder one step each to the first auto members in the group's listed order. A share's
 * bytes round up, so k more steps on a share cost less than total x k / PLAN_SHARE_STEPS + 1
 * bytes: with the steps counted from what is left less one byte per auto member, the exact sum
 * stays within the total.
 */
static void
spread(struct plan *p, struct plan_group *pg, uint32_t *steps, uint64_t need)
{
	uint64_t total = p->catalog->gpu_total_bytes;
	size_t nauto = 0;
	for (size_t k = 0; k < pg->nmembers; k++)
		nauto += p->roles[pg->members[k].role].role->max_model_len_auto;
	if (!nauto || !total)
		return;
	uint64_t left = sub0(sub0(total, need), nauto);
	uint64_t spare = left / total * PLAN_SHARE_STEPS + left % total * PLAN_SHARE_STEPS / total;
	size_t a = 0;
	for (size_t k = 0; k < pg->nmembers; k++) {
		const struct plan_role *pr = &p->roles[pg->members[k].role];
		if (!pr->role->max_model_len_auto)
			continue;
		uint64_t e = spare / nauto + (a++ < spare % nauto);
		grow(pr, &pg->members[k], steps[k], e > PLAN_SHARE_STEPS ? PLAN_SHARE_STEPS : (uint32_t)e, &steps[k]);
	}
}

/* The members' limits at steps, then the start-ups in order, each checked against what it finds. */
static void
order_starts(struct plan *p, struct plan_group *pg, const uint32_t *steps)
{
	const struct catalog *c = p->catalog;
	for (size_t k = 0; k < pg->nmembers; k++) {
		struct plan_group_member *m = &pg->members[k];
		const struct plan_role *pr = &p->roles[m->role];
		m->utilization = steps[k] / (double)PLAN_SHARE_STEPS;
		m->max_model_len = m->params.max_model_len;
		m->kv_cache_bytes = m->result.kv_cache_bytes;
		m->gpu_bytes = member_bytes(c->gpu_total_bytes, m, steps[k]);
		m->free_at_start = share_bytes(c->gpu_total_bytes, steps[k]) + m->result.cuda_context_bytes;
		uint32_t level = pr->role->sleep_level;
		m->sleep_gpu_bytes = level ? sleep_gpu(&m->result) : 0;
		m->sleep_host_bytes = level == 1 ? m->result.weights_bytes : 0;
		pg->sleep_host_bytes += m->sleep_host_bytes;
	}
	/*
	 * The largest share starts first: each start is checked against the free memory it will
	 * find, and the total bounds every check, so the order only decides who meets an estimate's
	 * error first; the biggest share meets the most free memory.
	 */
	struct plan_group_member **order = malloc(pg->nmembers * sizeof *order);
	if (!order)
		abort();
	for (size_t k = 0; k < pg->nmembers; k++)
		order[k] = &pg->members[k];
	qsort(order, pg->nmembers, sizeof *order, by_share);
	uint64_t used = c->gpu_used_bytes;
	pg->fits = true;
	for (size_t k = 0; k < pg->nmembers; k++) {
		order[k]->start_order = (uint32_t)k;
		order[k]->params.gpu_used_bytes = used;
		pg->fits &= used + order[k]->free_at_start <= c->gpu_total_bytes;
		used += order[k]->gpu_bytes;
	}
	free(order);
	pg->fits &= used <= c->gpu_total_bytes;
	pg->gpu_bytes = used;
}

static void
plan_group(struct arena *a, struct diag_sink *diag, struct plan *p, const struct catalog_group *g,
    struct plan_group *pg)
{
	pg->group = g;
	pg->nmembers = g->nroles;
	pg->members = arena_alloc(a, (g->nroles + 1) * sizeof *pg->members);
	uint32_t *steps = arena_alloc(a, (g->nroles + 1) * sizeof *steps);
	for (size_t k = 0; k < g->nroles; k++)
		pg->members[k].role = (size_t)(g->roles[k] - p->catalog->roles);
	uint64_t need;
	if (!least_shares(p, pg, steps, &need)) {
		/* One that does not fit alone has its own error; one with no budget gets a warning here. */
		pg->fits = false;
		if (!g->all_pairs && pg->unplanned && !emit_budget_known(pg->unplanned))
			diag_warning(diag, plan_together_pos(p->catalog, g), "together.groups.%s: not checked: the budget "
			    "of '%s' is unknown (its facts are missing); the group is left out of the table",
			    g->name, pg->unplanned->role->name);
		return;
	}
	if (need > p->catalog->gpu_total_bytes) {
		pg->fits = false;
		pg->gpu_bytes = need;
		if (!g->all_pairs)
			refuse(diag, p, pg, steps, need);
		return;
	}
	spread(p, pg, steps, need);
	order_starts(p, pg, steps);
	/* The spread keeps the sum within the total; should a start check still fail, say so. */
	if (!pg->fits && !g->all_pairs)
		refuse(diag, p, pg, steps, pg->gpu_bytes);
}

void
plan_together(struct arena *a, struct diag_sink *diag, struct plan *out)
{
	const struct catalog *c = out->catalog;
	for (size_t i = 0; i < out->nroles; i++)
		serving_numbers(c, &out->roles[i]);
	out->ngroups = c->ngroups;
	out->groups = arena_alloc(a, (c->ngroups + 1) * sizeof *out->groups);
	for (size_t i = 0; i < c->ngroups; i++)
		plan_group(a, diag, out, &c->groups[i], &out->groups[i]);
}

const struct plan_group *
plan_together_find(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->ngroups; i++)
		if (strcmp(p->groups[i].group->name, name) == 0)
			return &p->groups[i];
	return NULL;
}

void
plan_together_describe(FILE *f, const struct plan *p, const struct plan_group *g)
{
	const struct catalog *c = p->catalog;
	if (g->unplanned) {
		fprintf(f, "group %s: not checked: '%s' %s\n", g->group->name, g->unplanned->role->name,
		    emit_budget_known(g->unplanned) ? "does not fit alone" : "has no budget (facts missing)");
		return;
	}
	if (!g->fits) {
		fprintf(f, "group %s: does not fit: needs %.2f GiB side by side of %.2f GiB\n", g->group->name,
		    size_gib(g->gpu_bytes), size_gib(c->gpu_total_bytes));
		return;
	}
	fprintf(f, "group %s: fits: %.2f GiB of %.2f GiB at the peak (%.2f GiB in use by others), %.2f GiB free\n",
	    g->group->name, size_gib(g->gpu_bytes), size_gib(c->gpu_total_bytes), size_gib(c->gpu_used_bytes),
	    size_gib(sub0(c->gpu_total_bytes, g->gpu_bytes)));
	for (uint32_t order = 0; order < g->nmembers; order++)
		for (size_t k = 0; k < g->nmembers; k++) {
			const struct plan_group_member *m = &g->members[k];
			const struct budget_result *r = &m->result;
			if (m->start_order != order)
				continue;
			fprintf(f, "  %u. %s: gpu_memory_utilization %s, max_model_len %u; starts with %.2f GiB free, "
			    "needs %.2f (share %.2f + CUDA context %.2f)\n", order + 1, p->roles[m->role].role->name,
			    emit_util(m->utilization).s, m->max_model_len,
			    size_gib(c->gpu_total_bytes - m->params.gpu_used_bytes), size_gib(m->free_at_start),
			    size_gib(r->budget_bytes), size_gib(r->cuda_context_bytes));
			fprintf(f, "     share: weights %.2f, activation %.2f, non-torch %.2f, KV cache %.2f "
			    "(%llu tokens); CUDA graphs %.2f %s; holds %.2f awake\n", size_gib(r->weights_bytes),
			    size_gib(r->activation_bytes), size_gib(r->non_torch_bytes), size_gib(r->kv_cache_bytes),
			    (unsigned long long)r->kv_tokens, size_gib(r->cuda_graph_bytes), budget_graphs_on_top(r) ?
			    "on top" : "inside the share", size_gib(m->gpu_bytes));
			if (m->sleep_gpu_bytes)
				fprintf(f, "     asleep (level %u): keeps %.2f GiB, an estimate from the budget's terms, not "
				    "measured asleep: CUDA context %.2f + non-torch %.2f + CUDA graphs %.2f, what vLLM's "
				    "sleep pool leaves (docs/budget.md); %.2f GiB to wake, %s\n", m->sleep_host_bytes ? 1u : 2u,
				    size_gib(m->sleep_gpu_bytes), size_gib(r->cuda_context_bytes), size_gib(r->non_torch_bytes),
				    size_gib(r->cuda_graph_bytes), size_gib(m->gpu_bytes - m->sleep_gpu_bytes),
				    m->sleep_host_bytes ? "its weights kept in host memory" : "its weights read again");
		}
	if (g->sleep_host_bytes)
		fprintf(f, "  level-1 sleep of every member takes %.2f GiB of host memory (switch checks MemAvailable)\n",
		    size_gib(g->sleep_host_bytes));
}
