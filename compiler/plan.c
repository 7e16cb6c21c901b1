/*
 * The rules: join each role with its locked (or on-disk) facts, fit it to the GPU, and check
 * everything that must hold before anything is written. Every check runs; problems are
 * counted, not fatal. Lookups go through sorted arrays so a catalog of n roles costs
 * O(n log n): the lock is searched by bsearch and .env keys are checked by sorting (plan_env.c).
 */
#include "plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "emit_common.h"
#include "localdir.h"
#include "measurements.h"
#include "plan_env.h"
#include "plan_evidence.h"

enum { PLAN_MAX_UNVERIFIED = 16 };

static const double GIB = 1073741824.0;

struct plan_ctx {
	struct arena *a;
	struct diag_sink *diag;
	const struct catalog *c;
	const struct lock *l;
	bool *lock_used;                /* per lock entry, for the unused-entry warning */
	struct diag_pos *role_pos;      /* per role: where its name stands under roles: */
};

/* Where key's value sits in node, else where node sits, else the whole catalog file. */
static struct diag_pos
pos_of(const struct plan_ctx *x, const struct ynode *node, const char *key)
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

static void
unverified(struct plan_ctx *x, struct plan_role *pr, const char *what)
{
	if (!pr->unverified)
		pr->unverified = arena_alloc(x->a, PLAN_MAX_UNVERIFIED * sizeof *pr->unverified);
	if (pr->nunverified < PLAN_MAX_UNVERIFIED)
		pr->unverified[pr->nunverified++] = what;
	pr->verified = false;
}

static const struct budget_quant *
find_quant(const struct catalog *c, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < c->nquants; i++)
		if (strcmp(c->quants[i].name, name) == 0)
			return &c->quants[i];
	return budget_quant_named(name);
}

static bool
is_16bit(const char *quant)
{
	return !quant || strcmp(quant, "none") == 0;
}

/* Formats vLLM applies to a 16-bit checkpoint while loading it (--quantization X). */
static bool
is_in_flight_format(const char *quant)
{
	return quant && (strcmp(quant, "bitsandbytes") == 0 || strcmp(quant, "fp8") == 0);
}

/* Bytes per KV element for a kv_cache_dtype; 0 for "auto" (the model dtype). */
static uint32_t
kv_bytes(const char *kv)
{
	if (!kv || strcmp(kv, "auto") == 0)
		return 0;
	if (strncmp(kv, "fp8", 3) == 0)
		return 1;
	if (strcmp(kv, "float32") == 0)
		return 4;
	return 2;
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

static char *
upper(struct arena *a, const char *s)
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

static bool
fits_arch(const struct budget_arch *a)
{
	return a->layers && a->kv_heads && a->head_dim;
}

static bool
formula_arch(const struct budget_arch *a)
{
	return a->layers && a->hidden_size && a->intermediate_size && a->vocab_size &&
	    a->attention_heads && a->kv_heads;
}

/* Files serving does not need: docs, git metadata, the original/ checkpoint, pickles next to safetensors. */
static bool
skip_file(const char *path, bool have_safetensors)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(path, "original/", 9) == 0)
		return true;
	if (strcmp(base, ".gitattributes") == 0 || strncmp(base, "README", 6) == 0 ||
	    strncmp(base, "LICENSE", 7) == 0)
		return true;
	size_t n = strlen(base);
	if (have_safetensors && ((n > 4 && strcmp(base + n - 4, ".bin") == 0) ||
	    (n > 4 && strcmp(base + n - 4, ".pth") == 0) || (n > 3 && strcmp(base + n - 3, ".pt") == 0)))
		return true;
	return false;
}

/* m's files that serving needs into *out; the sum of known sizes into *bytes; false when a size is unknown. */
static bool
collect_files(struct plan_ctx *x, const struct lock_model *m, struct plan_file **out, size_t *n,
    uint64_t *bytes)
{
	bool have_st = false, complete = m->files_complete;
	for (size_t i = 0; i < m->nfiles; i++) {
		size_t k = strlen(m->files[i].path);
		if (k > 12 && strcmp(m->files[i].path + k - 12, ".safetensors") == 0)
			have_st = true;
	}
	*out = arena_alloc(x->a, (m->nfiles + 1) * sizeof **out);
	*n = 0;
	*bytes = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct lock_file *f = &m->files[i];
		if (skip_file(f->path, have_st))
			continue;
		struct plan_file *pf = &(*out)[(*n)++];
		pf->path = f->path;
		pf->size = f->size.value;
		pf->size_known = f->size.known;
		pf->lfs = f->lfs;
		pf->sha256 = f->sha256;
		pf->blob_id = f->blob_id;
		if (f->size.known)
			*bytes += f->size.value;
		else
			complete = false;
	}
	return complete;
}

static void
plan_files(struct plan_ctx *x, struct plan_role *pr, const struct lock_model *m)
{
	pr->download_bytes_complete = collect_files(x, m, &pr->files, &pr->nfiles, &pr->download_bytes);
}

/* Fill params from catalog and role, then fit at max_model_len. */
static void
fit(const struct plan_ctx *x, struct plan_role *pr, uint32_t max_model_len, uint32_t kvb,
    uint64_t weights, uint32_t max_num_seqs, struct budget_result *r)
{
	const struct catalog *c = x->c;
	const struct catalog_role *role = pr->role;
	struct budget_params p;
	memset(&p, 0, sizeof p);
	p.gpu_total_bytes = c->gpu_total_bytes;
	p.gpu_used_bytes = c->gpu_used_bytes;
	p.utilization = role->gpu_memory_utilization > 0 ? role->gpu_memory_utilization
	    : c->gpu_memory_utilization;
	p.max_model_len = max_model_len;
	p.max_num_seqs = max_num_seqs;
	p.max_num_batched_tokens = role->max_num_batched_tokens ? role->max_num_batched_tokens
	    : c->max_num_batched_tokens;
	p.kv_dtype_bytes = kvb;
	p.tensor_parallel = 1;
	p.enforce_eager = c->enforce_eager;
	p.engine = c->engine;
	p.generation_set = true;
	p.generation = c->generation;
	p.weights_bytes = weights;
	p.safety_margin_bytes = c->safety_margin_bytes;
	p.safety_margin_set = c->safety_margin_bytes != 0;
	p.weights_source = pr->result.weights_source;
	budget_defaults(&p);
	memset(r, 0, sizeof *r);
	budget_fit_checked(&pr->arch, &p, r);
	if (r == &pr->result)
		pr->params = p;
}

/* What the budget must hold besides the KV cache; CUDA graphs only when budget.c counts them inside. */
static uint64_t
before_kv(const struct plan_role *pr)
{
	const struct budget_result *r = &pr->result;
	return r->weights_bytes + r->activation_bytes + r->non_torch_bytes + r->safety_margin_bytes +
	    (emit_graphs_inside_budget(pr) ? r->cuda_graph_bytes : 0);
}

/* The ways out of a role that does not fit, each as a note with its number. */
static void
ways_out(struct plan_ctx *x, struct plan_role *pr, struct diag_pos pos, uint32_t len, uint32_t kvb,
    uint32_t seqs)
{
	struct budget_result alt;
	if (pr->result.max_model_len_fit > 0)
		diag_note(x->diag, pos, "the largest context that fits is %u tokens",
		    pr->result.max_model_len_fit);
	if (kvb != 1) {
		fit(x, pr, len, 1, pr->params.weights_bytes, seqs, &alt);
		if (alt.max_model_len_fit > 0)
			diag_note(x->diag, pos, "kv_cache_dtype: fp8 fits %u tokens", alt.max_model_len_fit);
	}
	const struct budget_quant *q4 = find_quant(x->c, "awq");
	if ((is_16bit(pr->role->quantization) || pr->weights_in_flight) && q4 &&
	    formula_arch(&pr->arch)) {
		fit(x, pr, len, kvb, budget_weights_bytes(&pr->arch, q4), seqs, &alt);
		if (alt.max_model_len_fit > 0)
			diag_note(x->diag, pos, "a 4-bit AWQ checkpoint of this model fits %u tokens",
			    alt.max_model_len_fit);
	}
	if (pr->params.max_num_seqs > 1) {
		fit(x, pr, len, kvb, pr->params.weights_bytes, 1, &alt);
		if (alt.max_model_len_fit > pr->result.max_model_len_fit)
			diag_note(x->diag, pos, "max_num_seqs: 1 fits %u tokens", alt.max_model_len_fit);
	}
}

/* Facts from a local directory on this machine: config.json and safetensors headers. */
static bool
read_local(struct plan_ctx *x, struct plan_role *pr, uint64_t *weights, bool *quantized)
{
	struct localdir_facts f;
	const char *dir = pr->local_dir;
	if (localdir_read(x->a, dir, &f) != 0) {
		diag_warning(x->diag, pos_of(x, pr->role->node, "local"), "roles.%s.local: %s",
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
	pr->env_prefix = upper(x->a, role->name);
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
			collect_files(x, lm, &pr->local_files, &pr->nlocal_files, &bytes);
		}
	}
	pr->model_id = pr->local_present || !role->repo ? role->local : role->repo;
	pr->kv_cache_dtype = role->kv_cache_dtype ? role->kv_cache_dtype : "auto";
	pr->quant = find_quant(c, role->quantization);

	bool from_disk = false, disk_quantized = false;
	if (pr->local_present)
		from_disk = read_local(x, pr, &weights, &disk_quantized);
	if (weights)
		weights_exact = true;
	if (role->local && !pr->local_present)
		diag_note(x->diag, pos_of(x, role->node, "local"),
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
			unverified(x, pr, arena_printf(x->a, "config.json of this repo (assumed the same as '%s')",
			    m->config_from));
		} else {
			unverified(x, pr, "config.json (architecture unknown)");
		}
	}
	/* Numbers the lock records but marks as inferred or conflicting ("config.X (...)"). */
	const struct lock_model *cm = m && !m->has_config && m->config_from ? lock_find(x->l, m->config_from) : m;
	for (size_t i = 0; cm && !from_disk && i < cm->nunknown; i++)
		if (strncmp(cm->unknown[i], "config.", 7) == 0)
			unverified(x, pr, cm->unknown[i]);
	if (pr->lock)
		plan_files(x, pr, pr->lock);
	if ((pr->lock || role->repo) && !pr->download_bytes_complete && !pr->local_present)
		unverified(x, pr, "the complete file list (download size)");

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
	if (!pr->quant && !is_16bit(role->quantization))
		unverified(x, pr, arena_printf(x->a, "the weight format of quantization '%s'",
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
	if (!pr->arch.dtype_bytes && fits_arch(&pr->arch)) {
		pr->arch.dtype_bytes = 2;
		unverified(x, pr, "torch_dtype (16-bit assumed)");
	}

	if (!weights_exact && m && m->weights_bytes.known && !pr->weights_in_flight) {
		weights = m->weights_bytes.value;
		weights_exact = true;
	}
	if (!weights_exact) {
		const struct budget_quant *q = pr->quant;
		if (!q && is_16bit(role->quantization))
			q = budget_quant_named("none");
		if (q && formula_arch(&pr->arch)) {
			weights = budget_weights_bytes(&pr->arch, q);
			if (!pr->weights_in_flight)
				unverified(x, pr, "exact weight bytes (computed from the architecture)");
		} else {
			unverified(x, pr, "the weight size (no exact bytes, no architecture to compute them)");
		}
	}
	if (c->gpu_total_estimated)
		unverified(x, pr, arena_printf(x->a, "a measured memory size of GPU profile '%s' (estimated)",
		    c->gpu_profile ? c->gpu_profile : "?"));

	uint32_t cap = pr->arch.max_position_embeddings;
	uint32_t kvb = kv_bytes(pr->kv_cache_dtype);
	uint32_t seqs = role->max_num_seqs ? role->max_num_seqs : c->max_num_seqs;
	if (!fits_arch(&pr->arch) || !weights) {
		/* Nothing to fit: keep the settings as asked; 0 leaves the context to vLLM (the model's limit). */
		pr->max_model_len = role->max_model_len_auto ? 0 : role->max_model_len;
		pr->params.gpu_total_bytes = c->gpu_total_bytes;
		pr->params.gpu_used_bytes = c->gpu_used_bytes;
		pr->params.utilization = role->gpu_memory_utilization > 0 ? role->gpu_memory_utilization
		    : c->gpu_memory_utilization;
		pr->params.max_model_len = pr->max_model_len;
		pr->params.max_num_seqs = seqs;
		pr->params.kv_dtype_bytes = kvb;
		pr->params.enforce_eager = c->enforce_eager;
		pr->params.engine = c->engine;
		pr->params.generation_set = true;
		pr->params.generation = c->generation;
		budget_defaults(&pr->params);
		pr->result.utilization = pr->params.utilization;
		pr->result.max_num_seqs = pr->params.max_num_seqs;
		pr->result.max_num_batched_tokens = pr->params.max_num_batched_tokens;
		if (pr->verified)
			unverified(x, pr, "the architecture numbers the KV cache needs");
		return;
	}
	if (!role->max_model_len_auto && cap && role->max_model_len > cap) {
		diag_error(x->diag, pos_of(x, role->node, "max_model_len"),
		    "roles.%s.max_model_len: %u is more than the model's max_position_embeddings %u",
		    role->name, role->max_model_len, cap);
		return;
	}
	uint32_t want = role->max_model_len_auto ? (cap ? cap : UINT32_MAX / 2) : role->max_model_len;
	if (role->max_model_len_auto && !cap)
		unverified(x, pr, "max_position_embeddings (context capped only by memory)");
	pr->result.weights_source = weights_exact ? BUDGET_EXACT : BUDGET_FORMULA;
	fit(x, pr, want, kvb, weights, seqs, &pr->result);
	pr->result.weights_source = weights_exact ? BUDGET_EXACT : BUDGET_FORMULA;
	if (role->max_model_len_auto && !pr->result.fits && pr->result.max_model_len_fit > 0) {
		want = pr->result.max_model_len_fit;
		fit(x, pr, want, kvb, weights, seqs, &pr->result);
		pr->result.weights_source = weights_exact ? BUDGET_EXACT : BUDGET_FORMULA;
	}
	pr->max_model_len = want;
	if (pr->result.utilization_reason == BUDGET_LOWERED_PEAK) {
		char why[256];
		budget_lowering_text(&pr->result, why, sizeof why);
		diag_note(x->diag, rpos, "roles.%s: gpu_memory_%s", role->name, why);
	} else if (pr->result.utilization_lowered)
		diag_note(x->diag, rpos,
		    "roles.%s: gpu_memory_utilization lowered from %.4g to %.4g because %.2f GiB is already in use",
		    role->name, pr->params.utilization, pr->result.utilization, (double)c->gpu_used_bytes / GIB);
	if (!pr->result.fits) {
		if (pr->result.max_model_len_fit == 0)
			diag_error(x->diag, rpos,
			    "roles.%s: does not fit at any context: needs %.2f GiB before the KV cache, budget is %.2f GiB",
			    role->name, (double)before_kv(pr) / GIB,
			    (double)pr->result.budget_bytes / GIB);
		else
			diag_error(x->diag, rpos, "roles.%s: needs %.2f GiB at max_model_len %u, budget is %.2f GiB",
			    role->name,
			    (double)(before_kv(pr) + pr->result.kv_bytes_per_token * (uint64_t)want) / GIB,
			    want, (double)pr->result.budget_bytes / GIB);
		ways_out(x, pr, rpos, want, kvb, seqs);
	}
}

/* Sum what the roles download, counting a repo that several roles share once. */
static void
check_disk(struct plan_ctx *x, struct plan *out)
{
	bool *counted = calloc(x->l->nmodels + 1, sizeof *counted);
	if (!counted)
		abort();
	for (size_t r = 0; r < out->nroles; r++) {
		const struct plan_role *pr = &out->roles[r];
		if (!pr->lock || pr->local_present)
			continue;
		size_t i = (size_t)(pr->lock - x->l->models);
		if (counted[i])
			continue;
		counted[i] = true;
		out->download_bytes += pr->download_bytes;
	}
	free(counted);
	const struct catalog *c = x->c;
	if (c->disk_budget_bytes && out->download_bytes > c->disk_budget_bytes) {
		const struct ynode *storage = c->root ? yamldoc_get(c->root, "storage") : NULL;
		diag_error(x->diag, pos_of(x, storage, "disk_budget"),
		    "storage.disk_budget: the roles download %.2f GiB, more than the disk budget of %.2f GiB",
		    (double)out->download_bytes / GIB, (double)c->disk_budget_bytes / GIB);
	}
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
			diag_warning(x->diag, pos_of(x, role->node, "ttft_threshold_ms"),
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
			x.role_pos[r] = pos_of(&x, c->roles[r].node, NULL);
	}
	for (size_t r = 0; r < c->nroles; r++) {
		out->roles[r].role = &c->roles[r];
		plan_role(&x, &out->roles[r]);
		struct plan_role *pr = &out->roles[r];
		measured(&x, pr);
		if (!pr->verified)
			diag_warning(diag, x.role_pos[r], "roles.%s: unverified: %s",
			    pr->role->name, join(a, pr->unverified, pr->nunverified));
	}
	for (size_t i = 0; i < x.l->nmodels; i++)
		if (!x.lock_used[i])
			diag_warning(diag, diag_file(x.l->path ? x.l->path : "models.lock"),
			    "entry '%s' is used by no role; run 'modelc lock' to drop it", x.l->models[i].key);
	plan_evidence_notes(diag, c, out, x.role_pos);
	plan_env_check(a, diag, out, x.role_pos);
	check_disk(&x, out);
	return diag->errors > errors0 ? 1 : 0;
}
