/*
 * The runtime table's writer: the plan laid out as common/model_table.h describes, built in
 * memory (records and string pool apart, so that a string never moves a record being filled),
 * then written in one go. Only the header's build time and the catalog's sources depend on
 * anything but the plan; a plan built in code has neither.
 */
#include "emit_table.h"

#include "diag.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "emit_common.h"
#include "model_table.h"
#include "planparams.h"

/* A growing byte buffer; failed: it passed what 32-bit offsets can address. */
struct tbuf {
	unsigned char *b;
	size_t len, cap;
	bool failed;
};

/* n zeroed bytes appended to t; the pointer is valid until t grows again. Out of memory aborts, as the arena does. */
static unsigned char *
grow(struct tbuf *t, size_t n)
{
	if (t->len + n > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + n)
			cap *= 2;
		unsigned char *b = realloc(t->b, cap);
		if (!b) {
			diag_print(stderr, "modelc: out of memory\n");
			abort();
		}
		t->b = b;
		t->cap = cap;
	}
	if (t->len + n > MODEL_TABLE_MAX_BYTES)
		t->failed = true;
	unsigned char *p = t->b + t->len;
	memset(p, 0, n);
	t->len += n;
	return p;
}

/* The string s into the pool, its reference at ref (NULL: MODEL_TABLE_NO_STRING). */
static void
str(struct tbuf *pool, unsigned char *ref, const char *s)
{
	if (!s) {
		model_table_put_u32(ref, MODEL_TABLE_NO_STRING);
		model_table_put_u32(ref + 4, 0);
		return;
	}
	size_t n = strlen(s);
	model_table_put_u32(ref, (uint32_t)pool->len);
	model_table_put_u32(ref + 4, (uint32_t)n);
	memcpy(grow(pool, n + 1), s, n);    /* grow zeroed the NUL */
}

/* files[0..n), sorted like the manifest, into the files section; the index of the first. */
static size_t
put_files(struct tbuf *files, struct tbuf *pool, const struct plan_file *list, size_t n)
{
	size_t first = files->len / MT_FILE_SIZE_OF;
	const struct plan_file **v = n ? malloc(n * sizeof *v) : NULL;
	if (n && !v) {
		diag_print(stderr, "modelc: out of memory\n");
		abort();
	}
	for (size_t i = 0; i < n; i++)
		v[i] = &list[i];
	emit_sort_files(v, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char *f = grow(files, MT_FILE_SIZE_OF);
		str(pool, f + MT_FILE_PATH, v[i]->path);
		model_table_put_u64(f + MT_FILE_SIZE, v[i]->size_known ? v[i]->size : 0);
	}
	free(v);
	return first;
}

/* A utilization as .env prints it (rounded down to 4 decimals), so that set exports the same. */
static double
as_exported(double u)
{
	return strtod(emit_util(u).s, NULL);
}

/*
 * The role's budget inputs as fitted, the GPU state aside. A plan built in code may leave
 * some at 0; they get what the result was computed with, or the defaults budget_fit applies.
 */
static struct budget_params
inputs(const struct plan *p, const struct plan_role *r)
{
	struct budget_params q = r->params;
	if (!q.max_num_seqs)
		q.max_num_seqs = r->result.max_num_seqs;
	if (!q.max_num_batched_tokens)
		q.max_num_batched_tokens = r->result.max_num_batched_tokens;
	if (!q.weights_bytes && emit_budget_known(r))
		q.weights_bytes = r->result.weights_bytes;
	if (q.utilization <= 0)
		q.utilization = planparams_utilization(p->catalog, r->role);
	if (!q.max_model_len)
		q.max_model_len = r->max_model_len;
	q.gpu_total_bytes = p->catalog->gpu_total_bytes;
	budget_defaults(&q);
	return q;
}

static void
put_role(struct tbuf *roles, struct tbuf *files, struct tbuf *pool, const struct plan *p,
    const struct plan_role *r)
{
	const struct catalog_role *cr = r->role;
	size_t first = put_files(files, pool, r->files, r->nfiles);
	size_t local = put_files(files, pool, r->local_files, r->nlocal_files);
	struct budget_params q = inputs(p, r);
	bool budget = emit_budget_known(r) && r->max_model_len && q.weights_bytes;
	const struct budget_arch *a = &r->arch;
	const uint32_t arch[MT_ROLE_A_NUMBERS] = {
		a->layers, a->attention_heads, a->kv_heads, a->head_dim, a->hidden_size, a->intermediate_size,
		a->vocab_size, a->max_position_embeddings, a->sliding_window, a->sliding_layers, a->dtype_bytes,
	};

	unsigned char *e = grow(roles, MT_ROLE_SIZE);
	str(pool, e + MT_ROLE_NAME, cr->name);
	str(pool, e + MT_ROLE_MODEL_ID, r->model_id);
	str(pool, e + MT_ROLE_REPO, cr->repo);
	str(pool, e + MT_ROLE_REVISION, cr->repo ? cr->revision : NULL);
	str(pool, e + MT_ROLE_COMMIT, r->lock ? r->lock->commit : NULL);
	str(pool, e + MT_ROLE_LOCAL_DIR, r->local_dir ? r->local_dir : cr->local);
	str(pool, e + MT_ROLE_QUANTIZATION, cr->quantization);
	str(pool, e + MT_ROLE_QUANTIZATION_FLAG, r->quantization_flag);
	str(pool, e + MT_ROLE_DTYPE, r->dtype);
	str(pool, e + MT_ROLE_KV_CACHE_DTYPE, r->kv_cache_dtype ? r->kv_cache_dtype : cr->kv_cache_dtype);
	str(pool, e + MT_ROLE_VERDICT, r->verified && r->result.fits ? "fits" : "unverified");
	model_table_put_u32(e + MT_ROLE_FILES_FIRST, (uint32_t)first);
	model_table_put_u32(e + MT_ROLE_FILES_COUNT, (uint32_t)r->nfiles);
	model_table_put_u32(e + MT_ROLE_LOCAL_FIRST, (uint32_t)local);
	model_table_put_u32(e + MT_ROLE_LOCAL_COUNT, (uint32_t)r->nlocal_files);
	model_table_put_u64(e + MT_ROLE_TOTAL_BYTES, r->download_bytes);
	model_table_put_u32(e + MT_ROLE_MAX_MODEL_LEN, r->max_model_len);
	model_table_put_u32(e + MT_ROLE_FLAGS, (budget ? MT_ROLE_F_BUDGET : 0) |
	    (q.enforce_eager ? MT_ROLE_F_ENFORCE_EAGER : 0) | (q.safety_margin_set ? MT_ROLE_F_MARGIN_SET : 0) |
	    (q.keep_utilization ? MT_ROLE_F_KEEP_UTILIZATION : 0) |
	    (q.generation_set ? MT_ROLE_F_GENERATION : 0));
	model_table_put_u32(e + MT_ROLE_P_GENERATION, (uint32_t)q.generation);
	model_table_put_u32(e + MT_ROLE_P_SPREAD, (uint32_t)(q.margin_spread * MT_SPREAD_UNIT + 0.5));
	model_table_put_f64(e + MT_ROLE_UTILIZATION, as_exported(emit_role_utilization(p, r)));
	model_table_put_f64(e + MT_ROLE_P_UTILIZATION, q.utilization);
	model_table_put_u32(e + MT_ROLE_P_MAX_MODEL_LEN, q.max_model_len);
	model_table_put_u32(e + MT_ROLE_P_MAX_NUM_SEQS, q.max_num_seqs);
	model_table_put_u32(e + MT_ROLE_P_BATCHED, q.max_num_batched_tokens);
	model_table_put_u32(e + MT_ROLE_P_KV_DTYPE_BYTES, q.kv_dtype_bytes);
	model_table_put_u32(e + MT_ROLE_P_TENSOR_PARALLEL, q.tensor_parallel);
	model_table_put_u32(e + MT_ROLE_P_BLOCK_SIZE, q.block_size);
	model_table_put_u32(e + MT_ROLE_P_ENGINE, (uint32_t)q.engine);
	model_table_put_u32(e + MT_ROLE_P_WEIGHTS_SOURCE, (uint32_t)q.weights_source);
	model_table_put_u64(e + MT_ROLE_P_WEIGHTS, q.weights_bytes);
	model_table_put_u64(e + MT_ROLE_P_MARGIN, q.safety_margin_bytes);
	for (int k = 0; k < MT_ROLE_A_NUMBERS; k++)
		model_table_put_u32(e + MT_ROLE_A_LAYERS + 4 * k, arch[k]);
	model_table_put_u32(e + MT_ROLE_A_FLAGS, (a->tie_word_embeddings ? MT_ARCH_F_TIE : 0) |
	    (a->qkv_bias ? MT_ARCH_F_QKV_BIAS : 0) | (a->o_bias ? MT_ARCH_F_O_BIAS : 0) |
	    (a->mlp_bias ? MT_ARCH_F_MLP_BIAS : 0) | (a->norm_bias ? MT_ARCH_F_NORM_BIAS : 0) |
	    (a->mlp_ungated ? MT_ARCH_F_MLP_UNGATED : 0));
}

/* The role's serving record, its aliases appended to the aliases section. */
static void
put_serve(struct tbuf *serve, struct tbuf *aliases, struct tbuf *pool, const struct plan_role *r)
{
	const struct catalog_role *cr = r->role;
	unsigned char *e = grow(serve, MT_RS_SIZE);
	model_table_put_u32(e + MT_RS_TTL, cr->ttl_seconds);
	model_table_put_u32(e + MT_RS_SLEEP_LEVEL, cr->sleep_level);
	model_table_put_u32(e + MT_RS_ALIASES_FIRST, (uint32_t)(aliases->len / MT_ARG_SIZE_OF));
	model_table_put_u32(e + MT_RS_ALIASES_COUNT, (uint32_t)cr->naliases);
	model_table_put_u64(e + MT_RS_SLEEP_GPU_BYTES, cr->sleep_level ? r->sleep_gpu_bytes : 0);
	model_table_put_u64(e + MT_RS_SLEEP_HOST_BYTES, cr->sleep_level == 1 ? r->sleep_host_bytes : 0);
	model_table_put_u64(e + MT_RS_AWAKE_GPU_BYTES, r->awake_gpu_bytes);
	model_table_put_u32(e + MT_RS_LOAD_TIMEOUT, r->load_timeout_seconds);
	for (size_t k = 0; k < cr->naliases; k++)
		str(pool, grow(aliases, MT_ARG_SIZE_OF) + MT_ARG_STRING, cr->aliases[k]);
}

/* A planned group and its members; groups that do not fit never reach an emitter. */
static void
put_group(struct tbuf *groups, struct tbuf *members, struct tbuf *pool, const struct plan_group *g)
{
	unsigned char *e = grow(groups, MT_GRP_SIZE);
	str(pool, e + MT_GRP_NAME, g->group->name);
	model_table_put_u32(e + MT_GRP_MEMBERS_FIRST, (uint32_t)(members->len / MT_GM_SIZE));
	model_table_put_u32(e + MT_GRP_MEMBERS_COUNT, (uint32_t)g->nmembers);
	model_table_put_u32(e + MT_GRP_FLAGS, g->group->all_pairs ? MT_GRP_F_ALL_PAIRS : 0);
	model_table_put_u64(e + MT_GRP_GPU_BYTES, g->gpu_bytes);
	model_table_put_u64(e + MT_GRP_SLEEP_HOST_BYTES, g->sleep_host_bytes);
	for (size_t k = 0; k < g->nmembers; k++) {
		const struct plan_group_member *m = &g->members[k];
		unsigned char *r = grow(members, MT_GM_SIZE);
		model_table_put_u32(r + MT_GM_ROLE, (uint32_t)m->role);
		model_table_put_u32(r + MT_GM_START_ORDER, m->start_order);
		model_table_put_f64(r + MT_GM_UTILIZATION, m->utilization);
		model_table_put_u64(r + MT_GM_KV_CACHE_BYTES, m->kv_cache_bytes);
		model_table_put_u32(r + MT_GM_MAX_MODEL_LEN, m->max_model_len);
		model_table_put_u32(r + MT_GM_FLAGS, m->use_kv_cache_bytes ? MT_GM_F_KV_BYTES : 0);
		model_table_put_u64(r + MT_GM_GPU_BYTES, m->gpu_bytes);
		model_table_put_u64(r + MT_GM_FREE_AT_START, m->free_at_start);
		model_table_put_u64(r + MT_GM_SLEEP_GPU_BYTES, m->sleep_gpu_bytes);
		model_table_put_u64(r + MT_GM_SLEEP_HOST_BYTES, m->sleep_host_bytes);
	}
}

/*
 * A role split over GPUs: its sizes and knobs as planargv passes them, and each rank's GPU and
 * weights, so that switch starts the same command and re-fits every rank (planpar's fit_shape).
 */
static void
put_placement(struct tbuf *places, struct tbuf *ranks, struct tbuf *pool, const struct plan *p, size_t role)
{
	const struct catalog *c = p->catalog;
	const struct plan_role *r = &p->roles[role];
	const struct plan_parallel *pl = r->par;
	const struct catalog_host *h = &c->hosts[pl->ranks[0].slot.host];
	uint32_t node = 0;
	unsigned char *e = grow(places, MT_PL_SIZE);
	model_table_put_u32(e + MT_PL_ROLE, (uint32_t)role);
	model_table_put_u32(e + MT_PL_TP, pl->tp);
	model_table_put_u32(e + MT_PL_PP, pl->pp);
	model_table_put_u32(e + MT_PL_DP, pl->dp);
	model_table_put_u32(e + MT_PL_FLAGS, (pl->p2p_disable ? MT_PL_F_P2P_DISABLE : 0) | (h->nvlink ? MT_PL_F_NVLINK : 0) |
	    (pl->partition_set ? MT_PL_F_PARTITION : 0) | (pl->moe && pl->tp * pl->dp > 1 ? MT_PL_F_EXPERT : 0) |
	    (c->backend_ray ? MT_PL_F_RAY : 0));
	str(pool, e + MT_PL_HOST, h->name);
	str(pool, e + MT_PL_INTERFACE, h->interface);
	model_table_put_f64(e + MT_PL_UTILIZATION, r->role->gpu_memory_utilization > 0 ?
	    r->role->gpu_memory_utilization : h->utilization);
	model_table_put_u64(e + MT_PL_KV_CACHE_BYTES, pl->kv_cache_memory_bytes);
	model_table_put_u32(e + MT_PL_RANKS_FIRST, (uint32_t)(ranks->len / MT_RK_SIZE));
	model_table_put_u32(e + MT_PL_RANKS_COUNT, (uint32_t)pl->nranks);
	for (size_t k = 0; k < pl->nranks; k++) {
		const struct plan_rank *rk = &pl->ranks[k];
		const struct catalog_gpu *g = &c->hosts[rk->slot.host].gpus[rk->slot.gpu];
		unsigned char *q = grow(ranks, MT_RK_SIZE);
		node += k && rk->slot.host != pl->ranks[k - 1].slot.host;
		model_table_put_u32(q + MT_RK_GPU, g->index);
		model_table_put_u32(q + MT_RK_NODE, node);
		model_table_put_u32(q + MT_RK_STAGE, rk->stage);
		model_table_put_u32(q + MT_RK_LAYERS, rk->layers);
		model_table_put_u64(q + MT_RK_WEIGHTS, rk->weights.total_bytes);
		model_table_put_u64(q + MT_RK_GPU_TOTAL, g->total_bytes);
	}
	model_table_put_u32(e + MT_PL_NODES, node + 1);
}

static void
put_settings(unsigned char *s, struct tbuf *pool, const struct plan *p, const char *hub)
{
	const struct catalog *c = p->catalog;
	const struct plan_role *primary = emit_primary(p);
	/* The constants of the catalog's generation, which its roles were fitted with. */
	const struct budget_calibration *cal = budget_calibration_of(c->generation);

	str(pool, s + MT_SET_GPU_PROFILE, c->gpu_profile);
	str(pool, s + MT_SET_HF_HOME, c->hf_home);
	str(pool, s + MT_SET_HUB_CACHE, hub);
	str(pool, s + MT_SET_MODELS_DIR, c->models_dir);
	str(pool, s + MT_SET_HOST, c->host);
	str(pool, s + MT_SET_PRIMARY_ROLE, primary ? primary->role->name : NULL);
	model_table_put_u64(s + MT_SET_GPU_TOTAL, c->gpu_total_bytes);
	model_table_put_u64(s + MT_SET_GPU_USED, c->gpu_used_bytes);
	model_table_put_f64(s + MT_SET_UTILIZATION, c->gpu_memory_utilization);
	model_table_put_u64(s + MT_SET_DISK_BUDGET, c->disk_budget_bytes);
	model_table_put_u32(s + MT_SET_PORT, c->port);
	model_table_put_u32(s + MT_SET_ENGINE, (uint32_t)c->engine);
	model_table_put_f64(s + MT_SET_CAL_FORWARD, cal->forward_factor);
	model_table_put_f64(s + MT_SET_CAL_SAMPLER, cal->sampler_bytes_per_logit);
	model_table_put_u64(s + MT_SET_CAL_NON_TORCH, cal->non_torch_bytes);
	model_table_put_u64(s + MT_SET_CAL_NON_TORCH_TP, cal->non_torch_tp_bytes);
	model_table_put_u64(s + MT_SET_CAL_GRAPH, cal->cuda_graph_bytes);
	model_table_put_f64(s + MT_SET_CAL_GRAPH_UNIT, cal->cuda_graph_bytes_per_unit);
	model_table_put_f64(s + MT_SET_CAL_GRAPH_SIZE, cal->cuda_graph_bytes_per_size);
}

static void
put_source(unsigned char *s, struct tbuf *pool, const struct plan_source *src)
{
	str(pool, s + MT_SRC_PATH, src->path);
	if (!src->path)
		return;
	model_table_put_u64(s + MT_SRC_SIZE, src->size);
	model_table_put_u64(s + MT_SRC_MTIME_SEC, (uint64_t)src->mtime_sec);
	model_table_put_u32(s + MT_SRC_MTIME_NSEC, src->mtime_nsec);
	model_table_put_u32(s + MT_SRC_PRESENT, 1);
}

/* Sections start at multiples of 8, so that a hex dump lines up. */
static size_t
align8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

int
emit_table(FILE *f, const struct plan *p)
{
	enum { NSECTIONS = 11 };
	const struct catalog *c = p->catalog;
	struct tbuf roles = {0}, files = {0}, args = {0}, pool = {0};
	struct tbuf groups = {0}, members = {0}, serve = {0}, aliases = {0}, places = {0}, ranks = {0};
	unsigned char settings[MT_SET_SIZE] = {0}, header[MT_HDR_SIZE] = {0};
	char *hub = emit_hub_cache(c);
	int rc = -1;

	for (size_t i = 0; i < p->nroles; i++)
		put_role(&roles, &files, &pool, p, &p->roles[i]);
	for (size_t i = 0; i < p->nroles; i++)
		put_serve(&serve, &aliases, &pool, &p->roles[i]);
	for (size_t i = 0; i < p->ngroups; i++)
		if (p->groups[i].fits)
			put_group(&groups, &members, &pool, &p->groups[i]);
	for (size_t i = 0; i < p->nroles; i++)
		if (p->roles[i].par)
			put_placement(&places, &ranks, &pool, p, i);
	for (size_t k = 0; c->server_command && c->server_command[k]; k++)
		str(&pool, grow(&args, MT_ARG_SIZE_OF) + MT_ARG_STRING, c->server_command[k]);
	put_settings(settings, &pool, p, hub);

	const struct plan_origin *o = &p->origin;
	memcpy(header + MT_HDR_MAGIC, MODEL_TABLE_MAGIC, 8);
	model_table_put_u32(header + MT_HDR_VERSION, MODEL_TABLE_VERSION);
	model_table_put_u32(header + MT_HDR_HEADER_SIZE, MT_HDR_SIZE);
	model_table_put_u32(header + MT_HDR_SECTIONS, MT_HDR_SIZE);
	model_table_put_u64(header + MT_HDR_BUILD_TIME, o->build_time);
	str(&pool, header + MT_HDR_CATALOG_PATH, c->path);
	/* Formatted here, so that switch needs no calendar arithmetic. */
	char built[32];
	time_t when = (time_t)o->build_time;
	struct tm tm;
	if (!gmtime_r(&when, &tm) || !strftime(built, sizeof built, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(built, sizeof built, "%llu", (unsigned long long)o->build_time);
	str(&pool, header + MT_HDR_BUILT, built);
	if (o->known) {
		model_table_put_u32(header + MT_HDR_FLAGS, MT_HDR_F_DIGEST);
		memcpy(header + MT_HDR_DIGEST, o->digest, MODEL_TABLE_DIGEST_BYTES);
		put_source(header + MT_HDR_CATALOG, &pool, &o->catalog);
		put_source(header + MT_HDR_LOCK, &pool, &o->lock);
	} else {
		put_source(header + MT_HDR_CATALOG, &pool, &(struct plan_source){0});
		put_source(header + MT_HDR_LOCK, &pool, &(struct plan_source){0});
	}
	if (roles.failed || files.failed || args.failed || pool.failed || groups.failed || members.failed ||
	    serve.failed || aliases.failed || places.failed || ranks.failed)
		goto out;
	/* A catalog without hosts: has no placements: its table stays as it was before they existed. */
	int nsec = places.len ? NSECTIONS : NSECTIONS - 2;
	model_table_put_u32(header + MT_HDR_NSECTIONS, (uint32_t)nsec);

	/* The directory, then each section, the string pool last. */
	struct {
		uint32_t type;
		const unsigned char *data;
		size_t len, rec;
	} sec[NSECTIONS] = {
		{MT_SECTION_SETTINGS, settings, sizeof settings, MT_SET_SIZE},
		{MT_SECTION_ROLES, roles.b, roles.len, MT_ROLE_SIZE},
		{MT_SECTION_FILES, files.b, files.len, MT_FILE_SIZE_OF},
		{MT_SECTION_ARGS, args.b, args.len, MT_ARG_SIZE_OF},
		{MT_SECTION_GROUPS, groups.b, groups.len, MT_GRP_SIZE},
		{MT_SECTION_GROUP_MEMBERS, members.b, members.len, MT_GM_SIZE},
		{MT_SECTION_ROLE_SERVE, serve.b, serve.len, MT_RS_SIZE},
		{MT_SECTION_ALIASES, aliases.b, aliases.len, MT_ARG_SIZE_OF},
		{MT_SECTION_PLACEMENTS, places.b, places.len, MT_PL_SIZE},
		{MT_SECTION_RANKS, ranks.b, ranks.len, MT_RK_SIZE},
		{MT_SECTION_STRINGS, pool.b, pool.len, 1},
	};
	sec[nsec - 1] = sec[NSECTIONS - 1];
	unsigned char dir[NSECTIONS * MT_DIR_SIZE] = {0};
	size_t dirlen = (size_t)nsec * MT_DIR_SIZE, at = align8(MT_HDR_SIZE + dirlen), offsets[NSECTIONS];
	for (int i = 0; i < nsec; i++) {
		offsets[i] = at;
		model_table_put_u32(dir + i * MT_DIR_SIZE + MT_DIR_TYPE, sec[i].type);
		model_table_put_u32(dir + i * MT_DIR_SIZE + MT_DIR_OFFSET, (uint32_t)at);
		model_table_put_u32(dir + i * MT_DIR_SIZE + MT_DIR_COUNT, (uint32_t)(sec[i].len / sec[i].rec));
		model_table_put_u32(dir + i * MT_DIR_SIZE + MT_DIR_RECORD_SIZE, (uint32_t)sec[i].rec);
		at = align8(at + sec[i].len);
	}
	size_t total = offsets[nsec - 1] + pool.len;
	if (total > MODEL_TABLE_MAX_BYTES)
		goto out;
	model_table_put_u64(header + MT_HDR_TOTAL_SIZE, total);
	static const unsigned char zeros[8];
	size_t end = MT_HDR_SIZE + dirlen;          /* where the previous part ended */
	fwrite(header, 1, sizeof header, f);
	fwrite(dir, 1, dirlen, f);
	for (int i = 0; i < nsec; i++) {
		fwrite(zeros, 1, offsets[i] - end, f);  /* < 8 by align8 */
		if (sec[i].len)
			fwrite(sec[i].data, 1, sec[i].len, f);
		end = offsets[i] + sec[i].len;
	}
	rc = ferror(f) ? -1 : 0;
out:
	free(roles.b);
	free(files.b);
	free(args.b);
	free(pool.b);
	free(groups.b);
	free(members.b);
	free(serve.b);
	free(aliases.b);
	free(places.b);
	free(ranks.b);
	free(hub);
	return rc;
}
