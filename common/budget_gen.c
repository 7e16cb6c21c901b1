/*
 * vLLM generations as data: the version ranges whose profile-run rules differ, the rule each
 * follows, and what the calibration cases cover per generation (common/budget_calibration.h,
 * written by scripts/calibrate-estimator). docs/budget.md, "Generations", gives the sources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budget.h"
#include "budget_calibration.h"

/*
 * The ranges, (major, minor) inclusive. V0 existed up to 0.10.x (removed in 0.11.0) and was the
 * default before 0.8.0; V1 became the default in 0.8.0; v0.21.0 turned on the CUDA graph memory
 * estimate inside the budget (vllm-project/vllm#38284, after #30515 added it switched off; the
 * subtraction read in gpu_worker.py determine_available_memory, docs/budget.md "Generations").
 * The last version of the newest range is the newest seen in the evidence (a v0.31.0 image).
 */
static const struct budget_generation_rule budget_generations[BUDGET_GEN_COUNT] = {
	{BUDGET_GEN_V0, "v0", "0.5", "0.10", BUDGET_ENGINE_V0, false,
	    "vllm/worker/worker.py determine_num_available_blocks; V0 SchedulerConfig"},
	{BUDGET_GEN_V1, "v1", "0.8", "0.20", BUDGET_ENGINE_V1, false,
	    "vllm/v1/worker/gpu_worker.py determine_available_memory; arg_utils _set_default_args"},
	{BUDGET_GEN_V1_GRAPHS_IN_BUDGET, "v1-graphs-in-budget", "0.21", "0.31", BUDGET_ENGINE_V1, true,
	    "vllm/v1/worker/gpu_worker.py determine_available_memory, "
	    "VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS on from v0.21.0"},
};

static const struct budget_evidence budget_evidence_table[BUDGET_GEN_COUNT] = BUDGET_CAL_EVIDENCE;

/* The spread of the kinds the model does not compute, per generation (calibration header). */
static const double budget_spread_multimodal[BUDGET_GEN_COUNT] = BUDGET_CAL_SPREAD_MULTIMODAL;
static const double budget_spread_mla[BUDGET_GEN_COUNT] = BUDGET_CAL_SPREAD_MLA;

/* One set of constants per generation, in enum order (the newest is budget_calibration_default). */
static const struct budget_calibration budget_calibration_gens[BUDGET_GEN_COUNT] =
    BUDGET_CAL_GENERATIONS;

const struct budget_calibration *
budget_calibration_of(enum budget_generation g)
{
	return (unsigned)g < BUDGET_GEN_COUNT ? &budget_calibration_gens[g] : &budget_calibration_default;
}

const struct budget_generation_rule *
budget_generation_rule(enum budget_generation g)
{
	if ((unsigned)g >= BUDGET_GEN_COUNT)
		g = BUDGET_GEN_NEWEST;
	return &budget_generations[g];
}

bool
budget_generation_graphs_in_budget(enum budget_generation g)
{
	return budget_generation_rule(g)->graphs_in_budget;
}

int
budget_generation_named(const char *name, enum budget_generation *g)
{
	for (int i = 0; i < BUDGET_GEN_COUNT; i++)
		if (strcmp(budget_generations[i].name, name) == 0) {
			*g = (enum budget_generation)i;
			return 0;
		}
	return -1;
}

/* "X.Y" of a rule's bound, as major * 1000 + minor. */
static long
bound_of(const char *v)
{
	char *end;
	long major = strtol(v, &end, 10);
	long minor = *end == '.' ? strtol(end + 1, NULL, 10) : 0;
	return major * 1000 + minor;
}

/* Parse "X.Y[.Z][suffix]" (an optional leading 'v'); -1 when it does not start so. */
static int
parse_version(const char *text, long *key)
{
	const char *s = text;
	char *end;
	if (*s == 'v' || *s == 'V')
		s++;
	if (*s < '0' || *s > '9')
		return -1;
	long major = strtol(s, &end, 10);
	if (*end != '.' || end[1] < '0' || end[1] > '9')
		return -1;
	long minor = strtol(end + 1, &end, 10);
	if (major > 99 || minor > 999)
		return -1;
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return -1;
		strtol(end + 1, &end, 10);
	}
	/* A local suffix (.post1, rc1, .dev206+g...) is allowed; anything else is not a version. */
	if (*end && *end != '.' && *end != '+' && *end != '-' && (*end < 'a' || *end > 'z'))
		return -1;
	*key = major * 1000 + minor;
	return 0;
}

int
budget_generation_of_version(const char *text, enum budget_engine engine, bool engine_given,
    enum budget_generation *g, bool *nearest)
{
	long v;
	*nearest = false;
	if (!text || parse_version(text, &v) != 0)
		return -1;
	long v0_first = bound_of(budget_generations[BUDGET_GEN_V0].first);
	long v0_last = bound_of(budget_generations[BUDGET_GEN_V0].last);
	long v1_first = bound_of(budget_generations[BUDGET_GEN_V1].first);
	long newest_first = bound_of(budget_generations[BUDGET_GEN_NEWEST].first);
	long newest_last = bound_of(budget_generations[BUDGET_GEN_NEWEST].last);
	/* Without an engine, the version's default one: V0 before 0.8.0. */
	bool v0 = engine_given ? engine == BUDGET_ENGINE_V0 : v < v1_first;
	if (v0 && v <= v0_last) {
		*g = BUDGET_GEN_V0;
		*nearest = v < v0_first;
		return 0;
	}
	/* V0 asked of a version without it, or V1 before it was the default: the nearest V1 rule. */
	*nearest = v0 || v < v1_first;
	if (v >= newest_first) {
		*g = BUDGET_GEN_NEWEST;
		*nearest = *nearest || v > newest_last;
	} else {
		*g = BUDGET_GEN_V1;
	}
	return 0;
}

const struct budget_evidence *
budget_evidence_of(enum budget_generation g)
{
	if ((unsigned)g >= BUDGET_GEN_COUNT)
		g = BUDGET_GEN_NEWEST;
	return &budget_evidence_table[g];
}

/* Whether name is one word of the space-separated list. */
static bool
listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		const char *sp = strchr(p, ' ');
		size_t len = sp ? (size_t)(sp - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return true;
		p = sp ? sp + 1 : NULL;
	}
	return false;
}

unsigned
budget_evidence_gaps(const struct budget_arch *a, enum budget_generation g, uint64_t weights,
    enum budget_generation *from, double *spread)
{
	unsigned gaps = BUDGET_EVIDENCE_COVERED;
	const struct budget_evidence *e = budget_evidence_of(g);
	*from = g;
	if (!e->cases) {
		/* The nearest generation with cases: the closest index, the older one on a tie. */
		gaps |= BUDGET_EVIDENCE_GENERATION;
		for (int d = 1; d < BUDGET_GEN_COUNT; d++) {
			int lo = (int)g - d, hi = (int)g + d;
			if (lo >= 0 && budget_evidence_table[lo].cases) {
				*from = (enum budget_generation)lo;
				break;
			}
			if (hi < BUDGET_GEN_COUNT && budget_evidence_table[hi].cases) {
				*from = (enum budget_generation)hi;
				break;
			}
		}
		e = budget_evidence_of(*from);
	}
	if (a->family[0] && !listed(e->families, a->family))
		gaps |= BUDGET_EVIDENCE_FAMILY;
	if (e->cases && (weights < e->min_weights_bytes || weights > e->max_weights_bytes))
		gaps |= BUDGET_EVIDENCE_SIZE;
	*spread = gaps ? e->spread : 0.0;
	/* A part the model does not compute: the largest over-prediction seen on such cases of
	 * the plan's generation. */
	unsigned k = (unsigned)g < BUDGET_GEN_COUNT ? (unsigned)g : BUDGET_GEN_NEWEST;
	if (a->multimodal) {
		gaps |= BUDGET_EVIDENCE_MULTIMODAL;
		if (*spread < budget_spread_multimodal[k])
			*spread = budget_spread_multimodal[k];
	}
	if (a->kv_lora_rank) {
		gaps |= BUDGET_EVIDENCE_MLA;
		if (*spread < budget_spread_mla[k])
			*spread = budget_spread_mla[k];
	}
	return gaps;
}

void
budget_evidence_text(const struct budget_result *r, char *buf, size_t size)
{
	const struct budget_evidence *e = budget_evidence_of(r->evidence_from);
	const char *gen = budget_generation_rule(r->generation)->name;
	size_t n = 0;
	if (!size)
		return;
	buf[0] = '\0';
	if (r->evidence_gaps & BUDGET_EVIDENCE_GENERATION)
		n += (size_t)snprintf(buf + n, size - n, "no calibrated case of vLLM generation %s "
		    "(nearest with cases: %s)", gen, budget_generation_rule(r->evidence_from)->name);
	if ((r->evidence_gaps & BUDGET_EVIDENCE_FAMILY) && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%sno calibrated case of this architecture",
		    n ? "; " : "");
	if ((r->evidence_gaps & BUDGET_EVIDENCE_SIZE) && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%sweights %.2f GiB outside the calibrated "
		    "%.2f-%.2f GiB", n ? "; " : "", (double)r->weights_bytes / (1024.0 * 1024 * 1024),
		    (double)e->min_weights_bytes / (1024.0 * 1024 * 1024),
		    (double)e->max_weights_bytes / (1024.0 * 1024 * 1024));
	if ((r->evidence_gaps & BUDGET_EVIDENCE_MULTIMODAL) && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%sthe multimodal encoder's profiling is not "
		    "modelled", n ? "; " : "");
	if ((r->evidence_gaps & BUDGET_EVIDENCE_MLA) && n < size)
		snprintf(buf + n, size - n, "%sthe latent-attention (MLA) profile is not calibrated",
		    n ? "; " : "");
}

/*
 * p, with 16-bit weights from the architecture when it gives none, and the constants of its
 * generation (the given one, else its engine's) when it names none.
 */
static struct budget_params
with_weights(const struct budget_arch *a, const struct budget_params *p)
{
	struct budget_params q = *p;
	if (!q.calibration)
		q.calibration = budget_calibration_of(budget_params_generation(&q));
	if (!q.weights_bytes) {
		q.weights_bytes = budget_weights_bytes(a, NULL);
		q.weights_source = BUDGET_FORMULA;
	}
	return q;
}

void
budget_fit_checked(const struct budget_arch *a, const struct budget_params *p,
    struct budget_result *r)
{
	enum budget_generation from;
	double spread;
	struct budget_params q = with_weights(a, p);
	budget_fit(a, &q, r);
	unsigned gaps = budget_evidence_gaps(a, r->generation, r->weights_bytes, &from, &spread);
	if (!gaps)
		return;
	/* The margin as computed (given, or the default rule) plus spread x the KV cache. */
	q.margin_spread = spread;
	budget_fit(a, &q, r);
	r->evidence_gaps = gaps;
	r->evidence_from = from;
	r->evidence_spread = spread;
}

bool
budget_fit_context_checked(const struct budget_arch *a, const struct budget_params *p,
    uint32_t min_len, struct budget_result *r, struct budget_params *used)
{
	enum budget_generation from;
	double spread;
	struct budget_params q = with_weights(a, p);
	budget_fit(a, &q, r);
	unsigned gaps = budget_evidence_gaps(a, r->generation, r->weights_bytes, &from, &spread);
	/* *used keeps the spread, not its bytes: a re-fit with other memory in use (switch) widens the
	 * margin by the spread of its own KV cache, as modelc build would with that memory in use. */
	q.margin_spread = spread;
	bool fits = budget_fit_context(a, &q, min_len, r, used);
	if (gaps) {
		r->evidence_gaps = gaps;
		r->evidence_from = from;
		r->evidence_spread = spread;
	}
	return fits;
}
