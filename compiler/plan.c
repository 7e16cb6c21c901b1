/*
 * The rules: join each role with its locked (or on-disk) facts, fit it to the GPU
 * (plan_fit.c), and check everything that must hold before anything is written (the .env
 * rules in plan_env.c, the disk budget in plan_rules.c). Every check runs; problems are
 * counted, not fatal. Lookups go through sorted arrays so a catalog of n roles costs
 * O(n log n): the lock is searched by bsearch and .env keys are checked by sorting (plan_env.c).
 */
#include "plan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "localdir.h"
#include "measurements.h"
#include "planparams.h"
#include "plan_together.h"
#include "size.h"
#include "plan_ctx.h"
#include "plan_env.h"
#include "plan_evidence.h"

enum { PLAN_MAX_UNVERIFIED = 16 };

struct diag_pos
plan_pos(const struct plan_ctx *x, const struct ynode *node, const char *key)
{
	if (node && key) {
		const struct ynode *v = yamldoc_get(node, key);
		if (v)
			return v->pos;
	}
	if (node)
		return node->pos;
	return diag_file(x->c->path);
}

void
plan_unverified(struct plan_ctx *x, struct plan_role *pr, const char *what)
{
	if (!pr->unverified)
		pr->unverified = arena_alloc(x->a, PLAN_MAX_UNVERIFIED * sizeof *pr->unverified);
	if (pr->nunverified < PLAN_MAX_UNVERIFIED)
		pr->unverified[pr->nunverified++] = what;
	pr->verified = false;
}

const char *
plan_gpu_advice(void)
{
	return "'switch gpu' measures gpu.memory on the GPU host";
}

/*
 * What verifies a role's missing facts: the lock for the model's, gpu.memory for the card's
 * total (measured on the GPU host by 'switch gpu', written by 'modelc gpu --from FILE').
 */
static const char *
verify_hint(struct arena *a, const struct catalog *c, const struct plan_role *pr)
{
	bool gpu = c->gpu_total_estimated, model = pr->nunverified > (gpu ? 1u : 0u);
	const char *lock = arena_printf(a, "run 'modelc lock %s' on a machine that reaches the Hugging Face Hub",
	    pr->role->name);
	if (model && gpu)
		return arena_printf(a, "%s; %s", lock, plan_gpu_advice());
	if (gpu)
		return plan_gpu_advice();
	return lock;
}

const struct budget_quant *
plan_find_quant(const struct catalog *c, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < c->nquants; i++)
		if (strcmp(c->quants[i].name, name) == 0)
			return &c->quants[i];
	return budget_quant_named(name);
}

bool
plan_is_16bit(const char *quant)
{
	return !quant || strcmp(quant, "none") == 0;
}

/* Formats vLLM applies to a 16-bit checkpoint while loading it (--quantization X). */
static bool
is_in_flight_format(const char *quant)
{
	return quant && (strcmp(quant, "bitsandbytes") == 0 || strcmp(quant, "fp8") == 0);
}

static uint32_t
dtype_bytes(const char *dtype)
{
	if (!dtype || strcmp(dtype, "auto") == 0)
		return 0;
	if (strcmp(dtype, "float32") == 0 || strcmp(dtype, "float") == 0)
		return 4;
	return 2;
}

char *
plan_upper(struct arena *a, const char *s)
{
	char *u = arena_strdup(a, s);
	for (char *p = u; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return u;
}

static bool
is_dir(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool
plan_fits_arch(const struct budget_arch *a)
{
	return a->layers && a->kv_heads && a->head_dim;
}

bool
plan_formula_arch(const struct budget_arch *a)
{
	return a->layers && a->hidden_size && a->intermediate_size && a->vocab_size &&
	    a->attention_heads && a->kv_heads;
}

static void
plan_files(struct plan_ctx *x, struct plan_role *pr, const struct lock_model *m)
{
	pr->download_bytes_complete = plan_collect_files(x, m, &pr->files, &pr->nfiles, &pr->download_bytes);
}

/* Facts from a local directory on this machine: config.json and safetensors headers. */
static bool
read_local(struct plan_ctx *x, struct plan_role *pr, uint64_t *weights, bool *quantized)
{
	struct localdir_facts f;
	const char *dir = pr->local_dir;
	if (localdir_read(x->a, dir, &f) != 0) {
		diag_warning(x->diag, plan_pos(x, pr->role->node, "local"), "roles.%s.local: %s",
		    pr->role->name, f.error);
		return false;
	}
	if (f.has_config)
		pr->arch = f.arch;
	*quantized = f.quantized;
	if (f.weights_known)
		*weights = f.weights_bytes;
	return f.has_config;
}

static void
plan_role(struct plan_ctx *x, struct plan_role *pr)
{
	const struct catalog *c = x->c;
	const struct catalog_role *role = pr->role;
	struct diag_pos rpos = x->role_pos[role - c->roles];
	uint64_t weights = 0;
	bool weights_exact = false;

	pr->verified = true;
	pr->measured_ttft_ms = -1;
	pr->env_prefix = plan_upper(x->a, role->name);
	pr->local_dir = role->local;
	pr->local_present = is_dir(role->local);
	pr->lock_key = role->repo
	    ? arena_printf(x->a, "%s@%s", role->repo, role->revision ? role->revision : "main")
	    : arena_printf(x->a, "local:%s", role->local ? role->local : "");
	pr->lock = lock_find(x->l, pr->lock_key);
	if (pr->lock)
		x->lock_used[pr->lock - x->l->models] = true;
	/*
	 * A role with a repo and a local directory (what 'modelc adopt' writes): the local:DIR entry
	 * describes the checkpoint that is served, so its facts win; the repo stays the download source.
	 */
	pr->facts = pr->lock;
	if (role->repo && role->local) {
		const struct lock_model *lm = lock_find(x->l, arena_printf(x->a, "local:%s", role->local));
		if (lm) {
			x->lock_used[lm - x->l->models] = true;
			pr->facts = lm;
			uint64_t bytes;
			plan_collect_files(x, lm, &pr->local_files, &pr->nlocal_files, &bytes);
		}
	}
	pr->model_id = pr->local_present || !role->repo ? role->local : role->repo;
	pr->kv_cache_dtype = role->kv_cache_dtype ? role->kv_cache_dtype : "auto";
	pr->quant = plan_find_quant(c, role->quantization);

	bool from_disk = false, disk_quantized = false;
	if (pr->local_present)
		from_disk = read_local(x, pr, &weights, &disk_quantized);
	if (weights)
		weights_exact = true;
	if (role->local && !pr->local_present)
		diag_note(x->diag, plan_pos(x, role->node, "local"),
		    "roles.%s.local: '%s' does not exist on this machine; facts come from %s", role->name,
		    role->local, x->l->path ? x->l->path : "models.lock");
	if (!pr->facts && !from_disk) {
		diag_error(x->diag, rpos, "roles.%s: %s has no entry for '%s'; run 'modelc lock %s'",
		    role->name, x->l->path ? x->l->path : "models.lock", pr->lock_key, role->name);
		return;
	}

	const struct lock_model *m = pr->facts;
	if (m && !from_disk) {
		if (m->has_config) {
			pr->arch = m->arch;
		} else if (m->config_from && lock_find(x->l, m->config_from)) {
			const struct lock_model *base = lock_find(x->l, m->config_from);
			x->lock_used[base - x->l->models] = true;
			pr->arch = base->arch;
			plan_unverified(x, pr, arena_printf(x->a, "config.json of this repo (assumed the same as '%s')",
			    m->config_from));
		} else {
			plan_unverified(x, pr, "config.json (architecture unknown)");
		}
	}
	/* Numbers the lock records but marks as inferred or conflicting ("config.X (...)"). */
	const struct lock_model *cm = m && !m->has_config && m->config_from ? lock_find(x->l, m->config_from) : m;
	for (size_t i = 0; cm && !from_disk && i < cm->nunknown; i++)
		if (strncmp(cm->unknown[i], "config.", 7) == 0)
			plan_unverified(x, pr, cm->unknown[i]);
	if (pr->lock)
		plan_files(x, pr, pr->lock);
	if ((pr->lock || role->repo) && !pr->download_bytes_complete && !pr->local_present)
		plan_unverified(x, pr, "the complete file list (download size)");

	/* Does the checkpoint carry its quantization, or does vLLM apply it while loading? */
	bool carries = from_disk ? disk_quantized : m && m->quantization_config;
	pr->weights_in_flight = is_in_flight_format(role->quantization) && !carries &&
	    !(!from_disk && m && m->config_from);
	/* vLLM quantizes the 16-bit checkpoint while loading: its exact size is not what loads. */
	if (pr->weights_in_flight && weights_exact) {
		weights = 0;
		weights_exact = false;
	}
	pr->quantization_flag = pr->weights_in_flight ? role->quantization : NULL;
	if (!pr->quant && !plan_is_16bit(role->quantization))
		plan_unverified(x, pr, arena_printf(x->a, "the weight format of quantization '%s'",
		    role->quantization));

	if (role->dtype && strcmp(role->dtype, "auto") != 0)
		pr->dtype = role->dtype;
	else if (role->quantization && strcmp(role->quantization, "awq") == 0)
		pr->dtype = "half";
	else
		pr->dtype = "auto";
	uint32_t db = dtype_bytes(pr->dtype);
	if (db)
		pr->arch.dtype_bytes = db;
	if (!pr->arch.dtype_bytes && plan_fits_arch(&pr->arch)) {
		pr->arch.dtype_bytes = 2;
		plan_unverified(x, pr, "torch_dtype (16-bit assumed)");
	}

	if (!weights_exact && m && m->weights_bytes.known && !pr->weights_in_flight) {
		weights = m->weights_bytes.value;
		weights_exact = true;
	}
	if (!weights_exact) {
		const struct budget_quant *q = pr->quant;
		if (!q && plan_is_16bit(role->quantization))
			q = budget_quant_named("none");
		if (q && plan_formula_arch(&pr->arch)) {
			weights = budget_weights_bytes(&pr->arch, q);
			if (!pr->weights_in_flight)
				plan_unverified(x, pr, "exact weight bytes (computed from the architecture)");
		} else {
			plan_unverified(x, pr, "the weight size (no exact bytes, no architecture to compute them)");
		}
	}
	if (c->gpu_total_estimated)
		plan_unverified(x, pr, arena_printf(x->a, "the GPU's total (profile '%s' is an estimate; give gpu.memory)",
		    c->gpu_profile ? c->gpu_profile : "?"));

	plan_fit(x, pr, weights, weights_exact, rpos);
}

/*
 * bench's results beside the catalog (measurements/<role>.csv): the time to first token at the
 * final context, and a warning when it is over the role's ttft_threshold_ms.
 */
static void
measured(struct plan_ctx *x, struct plan_role *pr)
{
	const struct catalog_role *role = pr->role;
	char *dir = measurements_dir_for(x->c->path);
	double t;
	if (!dir)
		abort();
	errno = 0;
	if (!pr->max_model_len) {
		/* nothing to interpolate at */
	} else if (measurements_ttft_at(dir, role->name, pr->max_model_len, &t) == 0) {
		pr->measured_ttft_ms = t;
		if (role->ttft_threshold_ms > 0 && t > role->ttft_threshold_ms)
			diag_warning(x->diag, plan_pos(x, role->node, "ttft_threshold_ms"),
			    "roles.%s: the first token takes %.0f ms at max_model_len %u (measured in %s/%s.csv), "
			    "more than ttft_threshold_ms %.0f", role->name, t, pr->max_model_len, dir, role->name,
			    role->ttft_threshold_ms);
	} else if (errno == EINVAL) {
		diag_warning(x->diag, diag_file(arena_printf(x->a, "%s/%s.csv", dir, role->name)),
		    "no rows at concurrency 1 with prompt_tokens and ttft_ms; measurements ignored");
	}
	free(dir);
}

static const char *
join(struct arena *a, const char **items, size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(items[i]) + 2;
	char *s = arena_alloc(a, len), *p = s;
	for (size_t i = 0; i < n; i++) {
		if (i) {
			memcpy(p, "; ", 2);
			p += 2;
		}
		size_t k = strlen(items[i]);
		memcpy(p, items[i], k);
		p += k;
	}
	*p = 0;
	return s;
}

int
plan_build(struct arena *a, struct diag_sink *diag, const struct catalog *c,
    const struct lock *l, struct plan *out)
{
	static const struct lock empty;
	unsigned errors0 = diag->errors;
	struct plan_ctx x = {a, diag, c, l ? l : &empty, NULL, NULL};

	memset(out, 0, sizeof *out);
	out->catalog = c;
	out->lock = x.l;
	out->nroles = c->nroles;
	out->roles = arena_alloc(a, (c->nroles + 1) * sizeof *out->roles);
	x.lock_used = arena_alloc(a, (x.l->nmodels + 1) * sizeof *x.lock_used);
	/*
	 * A role's errors point at its name. The catalog keeps roles in document order, so the
	 * roles mapping's keys line up with them; checking the name keeps this O(n) and safe.
	 */
	x.role_pos = arena_alloc(a, (c->nroles + 1) * sizeof *x.role_pos);
	const struct ynode *rmap = c->root ? yamldoc_get(c->root, "roles") : NULL;
	for (size_t r = 0; r < c->nroles; r++) {
		if (rmap && rmap->kind == YNODE_MAP && r < rmap->count && rmap->keys && rmap->key_pos &&
		    strcmp(rmap->keys[r], c->roles[r].name) == 0)
			x.role_pos[r] = rmap->key_pos[r];
		else
			x.role_pos[r] = plan_pos(&x, c->roles[r].node, NULL);
	}
	for (size_t r = 0; r < c->nroles; r++) {
		out->roles[r].role = &c->roles[r];
		plan_role(&x, &out->roles[r]);
		struct plan_role *pr = &out->roles[r];
		measured(&x, pr);
		if (!pr->verified)
			diag_warning(diag, x.role_pos[r], "roles.%s: unverified: %s; %s", pr->role->name,
			    join(a, pr->unverified, pr->nunverified), verify_hint(a, c, pr));
	}
	for (size_t i = 0; i < x.l->nmodels; i++)
		if (!x.lock_used[i])
			diag_warning(diag, diag_file(x.l->path ? x.l->path : "models.lock"),
			    "entry '%s' is used by no role; run 'modelc lock' to drop it", x.l->models[i].key);
	plan_evidence_notes(diag, c, out, x.role_pos);
	plan_together(a, diag, out);
	planpar_check_shared(diag, out, x.role_pos);
	plan_env_check(a, diag, out, x.role_pos);
	plan_check_disk(&x, out);
	return diag->errors > errors0 ? 1 : 0;
}
