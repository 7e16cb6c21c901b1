/*
 * generated/.env and .env.example. Every assignment goes through the envfile rule
 * (shared/reference/envfile.md), so bash, dash, python-dotenv and node dotenv read the same
 * bytes; comments say how each limit was derived, with the numbers that decided it.
 */
#include "emit_env.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "envfile.h"
#include "planparams.h"
#include "fileio.h"

const char *const emit_env_global_keys[] = {
	"HF_HOME", "HF_HUB_CACHE", "TRANSFORMERS_CACHE", "HF_DATASETS_CACHE",
	"VLLM_MODEL_ID", "VLLM_QUANTIZATION", "VLLM_MAX_MODEL_LEN",
	"VLLM_GPU_MEMORY_UTILIZATION", "VLLM_KV_CACHE_DTYPE", "VLLM_MAX_NUM_SEQS", "VLLM_MAX_NUM_BATCHED_TOKENS",
	"VLLM_DTYPE", "VLLM_ENFORCE_EAGER", "MODELC_ACTIVE_ROLE", NULL,
};

const char *const emit_env_role_suffixes[] = {
	"_MODEL_ID", "_MODEL_LOCAL", "_MAX_MODEL_LEN", "_QUANTIZATION", "_KV_CACHE_DTYPE",
	"_GPU_MEMORY_UTILIZATION", "_REVISION", "_MAX_NUM_SEQS", "_MAX_NUM_BATCHED_TOKENS", "_DTYPE",
	"_ENFORCE_EAGER", NULL,
};

const char *const emit_env_group_suffixes[] = {"_GPU_MEMORY_UTILIZATION", "_MAX_MODEL_LEN", NULL};

/* The state of one file being written: the stream and whether a value was refused. */
struct env_out {
	FILE *f;
	int refused;
};

static void
put(struct env_out *o, const char *key, const char *value)
{
	if (!value)
		value = "";
	/* plan_env.c rejects these at their lines; refusing here keeps a bug from writing a bad file. */
	if (envfile_check_key(key) || envfile_check_value(key, value, strlen(value))) {
		o->refused = 1;
		return;
	}
	envfile_write(o->f, NULL, key, value);
}

static void
put_u32(struct env_out *o, const char *key, uint32_t v)
{
	char buf[16];
	snprintf(buf, sizeof buf, "%u", (unsigned)v);
	put(o, key, buf);
}

/* key = upper-cased role name + suffix */
static void
role_key(char *buf, size_t n, const char *role, const char *suffix)
{
	size_t i = 0;
	for (; role[i] && i + 1 < n; i++)
		buf[i] = (role[i] >= 'a' && role[i] <= 'z') ? (char)(role[i] - 'a' + 'A') : role[i];
	buf[i] = '\0';
	snprintf(buf + i, n - i, "%s", suffix);
}

static const char *
kv_dtype(const struct plan_role *r)
{
	if (r->kv_cache_dtype)
		return r->kv_cache_dtype;
	return r->role->kv_cache_dtype ? r->role->kv_cache_dtype : "auto";
}

static const char *
local_dir(const struct plan_role *r)
{
	return r->local_dir ? r->local_dir : r->role->local;
}

/* --dtype as switch serve passes it (AWQ forces half). */
static const char *
dtype(const struct plan_role *r)
{
	const char *d = r->dtype ? r->dtype : r->role->dtype;
	return d ? d : "auto";
}

/*
 * The fit's other inputs, as the table gives them to switch serve: the catalog's value, else the
 * one the budget used (vLLM's default); empty when no budget was computed. Eager: "1" or empty.
 */
static void
put_limits(struct env_out *o, const struct plan_role *r, const char *const key[4])
{
	uint32_t seqs = r->params.max_num_seqs ? r->params.max_num_seqs : r->result.max_num_seqs;
	uint32_t batched = r->params.max_num_batched_tokens ? r->params.max_num_batched_tokens :
	    r->result.max_num_batched_tokens;
	if (seqs)
		put_u32(o, key[0], seqs);
	else
		put(o, key[0], "");
	if (batched)
		put_u32(o, key[1], batched);
	else
		put(o, key[1], "");
	put(o, key[2], dtype(r));
	put(o, key[3], r->params.enforce_eager ? "1" : "");
}

/* The commit when locked, else the catalog's revision; empty for local-only roles. */
static const char *
revision(const struct plan_role *r)
{
	if (r->lock && r->lock->commit)
		return r->lock->commit;
	return r->role->repo ? r->role->revision : NULL;
}

/* "# max_model_len N (...): verdict: the numbers" on one comment line. */
static void
explain_len(FILE *f, const struct plan *p, const struct plan_role *r)
{
	const struct budget_result *b = &r->result;
	const char *mode = "configured";
	int graphs_in = emit_graphs_inside_budget(r);

	if (!emit_budget_known(r)) {
		if (r->max_model_len)
			fprintf(f, "# max_model_len %u (configured): not checked, the budget needs facts that "
			    "are missing (below)\n", (unsigned)r->max_model_len);
		else
			fputs("# max_model_len not computed: the budget needs facts that are missing (below); "
			    "left empty, so vLLM's default (the model's own limit) applies\n", f);
		return;
	}
	if (r->role->max_model_len_auto)
		mode = r->arch.max_position_embeddings && r->max_model_len == r->arch.max_position_embeddings &&
		    r->max_model_len < r->max_model_len_memory ? "auto, the model's limit; memory would allow more" :
		    "auto, the largest that fits";
	fprintf(f, "# max_model_len %u (%s): ", (unsigned)r->max_model_len, mode);
	if (!b->fits)
		fputs("does not fit: ", f);
	else if (!r->verified)
		fputs("fits on the known facts (unverified): ", f);
	else
		fputs("fits: ", f);
	fprintf(f, "KV %s for %u tokens (%s/token), %s %s left after weights %s, activation %s, "
	    "non-torch %s", emit_gib(emit_kv_at_len(r)).s, (unsigned)r->max_model_len,
	    emit_size(b->kv_bytes_per_token).s, b->fits ? "of" : "but only",
	    emit_gib(emit_kv_after_margin(r)).s, emit_gib(b->weights_bytes).s,
	    emit_gib(b->activation_bytes).s, emit_gib(b->non_torch_bytes).s);
	if (graphs_in)
		fprintf(f, ", CUDA graphs %s", emit_gib(b->cuda_graph_bytes).s);
	fprintf(f, " and margin %s from budget %s (%s x %s)", emit_gib(b->safety_margin_bytes).s,
	    emit_gib(b->budget_bytes).s, emit_gib(p->catalog->gpu_total_bytes).s,
	    emit_util(b->utilization).s);
	if (!graphs_in)
		fprintf(f, "; CUDA graphs %s come on top of the budget", emit_gib(b->cuda_graph_bytes).s);
	fprintf(f, "; the largest that fits is %u\n", (unsigned)b->max_model_len_fit);
}

/* Comment lines that say where a role's values come from. */
static void
explain_role(FILE *f, const struct plan *p, const struct plan_role *r)
{
	const struct catalog_role *c = r->role;

	fputs("# role ", f);
	emit_line_text(f, c->name);
	fputs(": ", f);
	if (c->repo) {
		emit_line_text(f, c->repo);
		if (r->lock && r->lock->commit) {
			fputs(" at ", f);
			emit_line_text(f, r->lock->commit);
		} else {
			fputs(" revision ", f);
			emit_line_text(f, c->revision ? c->revision : "main");
			fputs(" (not locked)", f);
		}
	}
	if (local_dir(r)) {
		fputs(c->repo ? "; local " : "local ", f);
		emit_line_text(f, local_dir(r));
		fputs(r->local_present ? " (present)" : " (absent on this machine)", f);
	}
	fprintf(f, "; quantization %s, KV cache dtype %s\n", c->quantization ? c->quantization : "none",
	    kv_dtype(r));
	if (c->rationale) {
		fputs("# why: ", f);
		emit_line_text(f, c->rationale);
		fputc('\n', f);
	}
	explain_len(f, p, r);
	if (r->result.utilization_lowered) {
		char why[320];
		budget_lowering_text(&r->result, why, sizeof why);
		fprintf(f, "# gpu_memory_utilization %s: %s\n", emit_util(r->result.utilization).s, why);
	}
	if (!r->verified && r->nunverified) {
		fputs("# unverified: missing ", f);
		for (size_t i = 0; i < r->nunverified; i++) {
			if (i)
				fputs(", ", f);
			emit_line_text(f, r->unverified[i]);
		}
		fputc('\n', f);
		int gpu = p->catalog->gpu_total_estimated;
		if (c->repo && r->nunverified > (gpu ? 1u : 0u)) {
			fputs("# to verify: run 'modelc lock ", f);
			emit_line_text(f, c->name);
			fputs("' on a machine that reaches the Hugging Face Hub\n", f);
		}
		if (gpu)
			fprintf(f, "# to verify the GPU total: %s\n", plan_gpu_advice());
	}
	if (r->measured_ttft_ms >= 0)
		fprintf(f, "# measured time to first token at %u tokens: %.0f ms\n",
		    (unsigned)r->max_model_len, r->measured_ttft_ms);
}

static void
role_values(struct env_out *o, const struct plan *p, const struct plan_role *r)
{
	char key[EMIT_ENV_KEY_MAX];
	const char *name = r->role->name;

	role_key(key, sizeof key, name, "_MODEL_ID");
	put(o, key, r->model_id);
	role_key(key, sizeof key, name, "_MODEL_LOCAL");
	put(o, key, local_dir(r));
	role_key(key, sizeof key, name, "_MAX_MODEL_LEN");
	if (r->max_model_len)
		put_u32(o, key, r->max_model_len);
	else
		put(o, key, "");
	role_key(key, sizeof key, name, "_QUANTIZATION");
	put(o, key, r->role->quantization);
	role_key(key, sizeof key, name, "_KV_CACHE_DTYPE");
	put(o, key, kv_dtype(r));
	role_key(key, sizeof key, name, "_GPU_MEMORY_UTILIZATION");
	put(o, key, emit_util(emit_role_utilization(p, r)).s);
	role_key(key, sizeof key, name, "_REVISION");
	put(o, key, revision(r));
	char lim[4][EMIT_ENV_KEY_MAX];
	const char *keys[4];
	for (int i = 0; i < 4; i++) {
		role_key(lim[i], sizeof lim[i], name, emit_env_role_suffixes[7 + i]);
		keys[i] = lim[i];
	}
	put_limits(o, r, keys);
}

/* The four cache variables; doc adds the .env.example explanations. */
static int
storage(struct env_out *o, const struct catalog *c, int doc)
{
	FILE *f = o->f;
	if (!c->hf_home) {
		fputs("# the catalog sets no hf_home: huggingface_hub's default (~/.cache/huggingface) "
		    "applies\n", f);
		return 0;
	}
	char *hub = emit_hub_cache(c);
	char *datasets = fileio_join(NULL, c->hf_home, "datasets");
	if (!hub || !datasets) {
		free(hub);
		free(datasets);
		return -1;
	}
	if (doc)
		fputs("# HF_HOME: root of the Hugging Face cache (hub downloads, datasets, token).\n"
		    "# Set by storage.hf_home in the catalog: put it on a volume with room for the downloads.\n", f);
	put(o, "HF_HOME", c->hf_home);
	if (doc)
		fputs("# HF_HUB_CACHE: where models are cached as models--owner--name/{blobs,refs,snapshots};\n"
		    "# fetch downloads there and vLLM reads from there.\n", f);
	put(o, "HF_HUB_CACHE", hub);
	fputs("# TRANSFORMERS_CACHE is read only by transformers 4 (transformers 5 uses HF_HUB_CACHE);\n"
	    "# kept, equal to HF_HUB_CACHE, for tools that still read it\n", f);
	put(o, "TRANSFORMERS_CACHE", hub);
	if (doc)
		fputs("# HF_DATASETS_CACHE: cache of the datasets library, under HF_HOME.\n", f);
	put(o, "HF_DATASETS_CACHE", datasets);
	free(hub);
	free(datasets);
	return 0;
}

static void
active(struct env_out *o, const struct plan *p, int doc)
{
	FILE *f = o->f;
	const struct plan_role *r = emit_primary(p);
	if (!r) {
		fputs("# the catalog has no roles: no VLLM_* settings\n", f);
		return;
	}
	fputs("# the active model: role ", f);
	emit_line_text(f, r->role->name);
	fputs(" (eval \"$(switch --set ROLE)\" exports another role's values;\n"
	    "# a shell that sources this file after that gets the role back with eval \"$(switch env)\")\n", f);
	if (doc)
		fputs("# VLLM_MODEL_ID: what vLLM serves: the role's local directory when it exists,\n"
		    "# else its repo id, as modelc saw it when it built; switch --set decides again where it runs.\n", f);
	put(o, "VLLM_MODEL_ID", r->model_id);
	fputs("# VLLM_QUANTIZATION is a hint: vLLM detects pre-quantized checkpoints itself;\n"
	    "# switch serve passes --quantization only for in-flight formats (bitsandbytes, fp8)\n", f);
	put(o, "VLLM_QUANTIZATION", r->role->quantization);
	if (doc)
		fputs("# VLLM_MAX_MODEL_LEN: context length in tokens that the VRAM budget allows;\n"
		    "# lower it if you see out-of-memory errors. Empty when modelc could not compute\n"
		    "# it (facts missing): vLLM decides (the model's own limit).\n", f);
	if (r->max_model_len)
		put_u32(o, "VLLM_MAX_MODEL_LEN", r->max_model_len);
	else
		put(o, "VLLM_MAX_MODEL_LEN", "");
	if (doc)
		fputs("# VLLM_GPU_MEMORY_UTILIZATION: fraction of CUDA's total memory vLLM may use;\n"
		    "# modelc lowers it when other processes already hold memory, or so that the CUDA\n"
		    "# context and CUDA graphs fit beside it on the GPU.\n", f);
	put(o, "VLLM_GPU_MEMORY_UTILIZATION", emit_util(emit_role_utilization(p, r)).s);
	if (doc)
		fputs("# VLLM_KV_CACHE_DTYPE: auto (the model's dtype) or fp8 (half the bytes per token).\n", f);
	put(o, "VLLM_KV_CACHE_DTYPE", kv_dtype(r));
	if (doc)
		fputs("# The other settings VLLM_MAX_MODEL_LEN was fitted with, which it fits only with\n"
		    "# (switch serve passes them; so must a server started by hand):\n"
		    "# VLLM_MAX_NUM_SEQS: --max-num-seqs, sequences at once (empty: no budget computed).\n"
		    "# VLLM_MAX_NUM_BATCHED_TOKENS: --max-num-batched-tokens, tokens per step.\n"
		    "# VLLM_DTYPE: --dtype (half for AWQ, whose kernels are fp16).\n"
		    "# VLLM_ENFORCE_EAGER: 1 for --enforce-eager (no CUDA graphs), else empty.\n", f);
	static const char *const keys[4] = { "VLLM_MAX_NUM_SEQS", "VLLM_MAX_NUM_BATCHED_TOKENS", "VLLM_DTYPE",
		"VLLM_ENFORCE_EAGER" };
	put_limits(o, r, keys);
	if (doc)
		fputs("# MODELC_ACTIVE_ROLE: the role the VLLM_* values above come from.\n", f);
	put(o, "MODELC_ACTIVE_ROLE", r->role->name);
}

void
emit_env_group_key(char buf[EMIT_ENV_KEY_MAX], const char *group, const char *role, const char *suffix)
{
	snprintf(buf, EMIT_ENV_KEY_MAX, "GROUP_%s_%s%s", group, role, suffix);
	for (char *q = buf; *q; q++)
		*q = *q == '+' ? '_' : (*q >= 'a' && *q <= 'z') ? (char)(*q - 'a' + 'A') : *q;
}

/* The limits each member of a fitting group gets there; switch and the proxy read the table. */
static void
group_values(struct env_out *o, const struct plan *p)
{
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct plan_group *g = &p->groups[i];
		char key[EMIT_ENV_KEY_MAX];
		if (!g->fits)
			continue;
		fputs("\n# group ", o->f);
		emit_line_text(o->f, g->group->name);
		fprintf(o->f, ": %zu roles resident together, %s of the GPU at the peak (budget.txt, modelc explain)\n",
		    g->nmembers, emit_gib(g->gpu_bytes).s);
		for (size_t k = 0; k < g->nmembers; k++) {
			const struct plan_group_member *m = &g->members[k];
			const char *role = p->roles[m->role].role->name;
			emit_env_group_key(key, g->group->name, role, emit_env_group_suffixes[0]);
			put(o, key, emit_util(m->utilization).s);
			emit_env_group_key(key, g->group->name, role, emit_env_group_suffixes[1]);
			put_u32(o, key, m->max_model_len);
		}
	}
}

static int
finish(struct env_out *o)
{
	if (o->refused) {
		errno = EINVAL;
		return -1;
	}
	return ferror(o->f) ? -1 : 0;
}

int
emit_env(FILE *out, const struct plan *p)
{
	struct env_out o = {out, 0};

	fprintf(out, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fputs("# load in a shell with: set -a; . ./generated/.env; set +a\n", out);
	fputs("# how each limit was derived: generated/budget.txt; every variable: .env.example\n\n", out);
	if (storage(&o, p->catalog, 0) < 0)
		return -1;
	fputc('\n', out);
	active(&o, p, 0);
	for (size_t i = 0; i < p->nroles; i++) {
		fputc('\n', out);
		explain_role(out, p, &p->roles[i]);
		role_values(&o, p, &p->roles[i]);
	}
	group_values(&o, p);
	return finish(&o);
}

int
emit_env_example(FILE *out, const struct plan *p)
{
	struct env_out o = {out, 0};

	fprintf(out, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fputs("# Every variable that generated/.env sets, with what it means and the values this\n"
	    "# catalog gives it. To change a value, edit the catalog and run make config.\n"
	    "# Load in a shell with: set -a; . ./generated/.env; set +a\n"
	    "#\n"
	    "# ======================================================================\n"
	    "# LOCAL MODEL STORAGE & INFERENCE\n"
	    "# ======================================================================\n\n", out);
	if (storage(&o, p->catalog, 1) < 0)
		return -1;
	fputc('\n', out);
	active(&o, p, 1);
	fputs("\n# Per role, with ROLE the role's name in upper case:\n"
	    "#   ROLE_MODEL_ID                 what VLLM_MODEL_ID becomes for the role\n"
	    "#   ROLE_MODEL_LOCAL              the role's local directory (empty: none); put a\n"
	    "#                                 quantized directory there and name it in the catalog\n"
	    "#   ROLE_MAX_MODEL_LEN            context length that fits the budget; empty when it\n"
	    "#                                 could not be computed: vLLM decides\n"
	    "#   ROLE_QUANTIZATION             weight format: awq, gptq, bitsandbytes, fp8, none\n"
	    "#   ROLE_KV_CACHE_DTYPE           KV cache dtype: auto or fp8\n"
	    "#   ROLE_GPU_MEMORY_UTILIZATION   fraction of CUDA's total memory vLLM may use\n"
	    "#   ROLE_REVISION                 the pinned commit (or the revision when not locked)\n"
	    "#   ROLE_MAX_NUM_SEQS             sequences at once the context was fitted for\n"
	    "#   ROLE_MAX_NUM_BATCHED_TOKENS   tokens per step the context was fitted for\n"
	    "#   ROLE_DTYPE                    --dtype: auto, or half for AWQ\n"
	    "#   ROLE_ENFORCE_EAGER            1: --enforce-eager (no CUDA graphs); empty: graphs\n", out);
	for (size_t i = 0; i < p->nroles; i++) {
		const struct plan_role *r = &p->roles[i];
		fputs("\n# role ", out);
		emit_line_text(out, r->role->name);
		if (r->role->rationale) {
			fputs(": ", out);
			emit_line_text(out, r->role->rationale);
		}
		fputc('\n', out);
		role_values(&o, p, r);
	}
	if (p->ngroups)
		fputs("\n# Per together: group that fits, with GROUP and ROLE in upper case ('+' as '_'):\n"
		    "#   GROUP_GROUP_ROLE_GPU_MEMORY_UTILIZATION   the member's share when the group is resident\n"
		    "#   GROUP_GROUP_ROLE_MAX_MODEL_LEN            the context that share holds\n", out);
	group_values(&o, p);
	return finish(&o);
}
