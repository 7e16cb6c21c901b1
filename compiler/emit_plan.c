/*
 * generated/plan.json and generated/plan.txt for a hosts: catalog: per role the chosen TP, PP
 * and DP and the rule that chose them, each rank's GPU and budget lines, the two lines vLLM
 * should log at start-up, and each node's environment and exact argv (planargv). JSON keys
 * sorted; the text report says the same for people.
 */
#include "emit_plan.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "emit_common.h"
#include "planargv.h"
#include "shquote.h"

/* 1234567 as "1,234,567", as vLLM logs counts (f"{n:,}"). */
static struct emit_num
grouped(uint64_t v)
{
	struct emit_num n;
	char digits[EMIT_NUM_MAX];
	int len = snprintf(digits, sizeof digits, "%llu", (unsigned long long)v), o = 0;
	for (int i = 0; i < len; i++) {
		if (i && (len - i) % 3 == 0)
			n.s[o++] = ',';
		n.s[o++] = digits[i];
	}
	n.s[o] = '\0';
	return n;
}

static void
log_lines(const struct plan_parallel *pl, char *kv, size_t kvn, char *conc, size_t concn)
{
	snprintf(kv, kvn, "GPU KV cache size: %s tokens", grouped(pl->kv_tokens).s);
	snprintf(conc, concn, "Maximum concurrency for %s tokens per request: %.2fx",
	    grouped(pl->max_model_len).s, pl->concurrency);
}

static json_t *
strings(const char **v)
{
	json_t *a = json_array();
	for (size_t i = 0; v && v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *
rank_json(const struct catalog *c, const struct plan_rank *k)
{
	const struct budget_result *r = &k->result;
	const struct catalog_host *h = &c->hosts[k->slot.host];
	json_t *w = json_pack("{s:I,s:I,s:I,s:I,s:I,s:i,s:b}", "sharded", (json_int_t)k->weights.sharded_bytes,
	    "replicated", (json_int_t)k->weights.replicated_bytes, "embed_tokens",
	    (json_int_t)k->weights.embed_bytes, "lm_head", (json_int_t)k->weights.lm_head_bytes,
	    "total", (json_int_t)k->weights.total_bytes, "vocab_rows", (int)k->weights.vocab_rows,
	    "kv_heads_replicated", k->weights.kv_replicated);
	return json_pack("{s:i,s:i,s:i,s:i,s:s,s:i,s:I,s:I,s:i,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
	    "rank", (int)k->rank, "replica", (int)k->replica, "stage", (int)k->stage,
	    "tp_rank", (int)k->tp_rank, "host", h->name, "gpu", (int)h->gpus[k->slot.gpu].index,
	    "gpu_total_bytes", (json_int_t)k->params.gpu_total_bytes,
	    "gpu_used_bytes", (json_int_t)k->params.gpu_used_bytes, "layers", (int)k->layers,
	    "weights_bytes", w, "kv_bytes_per_token", (json_int_t)r->kv_bytes_per_token,
	    "activation_bytes", (json_int_t)r->activation_bytes,
	    "non_torch_bytes", (json_int_t)r->non_torch_bytes,
	    "cuda_graph_bytes", (json_int_t)r->cuda_graph_bytes,
	    "safety_margin_bytes", (json_int_t)r->safety_margin_bytes,
	    "budget_bytes", (json_int_t)r->budget_bytes, "kv_cache_bytes", (json_int_t)r->kv_cache_bytes,
	    "kv_tokens", (json_int_t)r->kv_tokens, "max_model_len_fit", (json_int_t)r->max_model_len_fit);
}

static json_t *
role_json(struct arena *a, const struct plan *p, const struct plan_role *pr)
{
	const struct plan_parallel *pl = pr->par;
	const struct catalog *c = p->catalog;
	char kv[128], conc[160];
	log_lines(pl, kv, sizeof kv, conc, sizeof conc);
	json_t *ranks = json_array(), *nodes = json_array(), *stages = json_array();
	for (size_t k = 0; k < pl->nranks; k++)
		json_array_append_new(ranks, rank_json(c, &pl->ranks[k]));
	for (uint32_t s = 0; s < pl->pp; s++)
		json_array_append_new(stages, json_integer(pl->stage_layers[s]));
	struct planargv_node *nd;
	size_t nn = planargv_nodes(a, p, pr, &nd);
	for (size_t i = 0; i < nn; i++)
		json_array_append_new(nodes, json_pack("{s:i,s:s,s:s*,s:s,s:i,s:i,s:b,s:o,s:o}",
		    "node_rank", (int)nd[i].node_rank, "host", c->hosts[nd[i].host].name,
		    "address", c->hosts[nd[i].host].address, "cuda_visible_devices", nd[i].cuda_visible,
		    "first_rank", (int)nd[i].first_rank, "ranks", (int)nd[i].nranks,
		    "serves_http", nd[i].serves_http, "env", strings(nd[i].env),
		    "argv", strings(nd[i].argv)));
	const struct plan_rank *d = &pl->ranks[pl->deciding];
	const struct planargv_router *rt = planargv_router(a, p, pr, nd, nn);
	json_t *router = rt ? json_pack("{s:s,s:s,s:i,s:o}", "image", PLANARGV_ROUTER_IMAGE,
	    "host", c->hosts[nd[0].host].name, "port", (int)rt->port, "argv", strings(rt->argv)) :
	    json_null();
	return json_pack("{s:i,s:i,s:i,s:i,s:s,s:o,s:b,s:I,s:f,s:o,s:i,s:{s:s,s:s},s:I,s:b,s:b,s:o,s:o,s:o}",
	    "port", (int)planargv_port(p, pr), "tp", (int)pl->tp, "pp", (int)pl->pp, "dp", (int)pl->dp,
	    "rule", pl->rule ? pl->rule : "given in the catalog", "stage_layers", stages,
	    "layer_partition_set", pl->partition_set, "max_model_len", (json_int_t)pl->max_model_len,
	    "gpu_memory_utilization", (double)(uint64_t)(pl->utilization * 10000.0) / 10000.0,
	    "kv_cache_memory_bytes", pl->kv_cache_memory_bytes ?
	    json_integer((json_int_t)pl->kv_cache_memory_bytes) : json_null(),
	    "deciding_rank", (int)d->rank, "predicted_log", "kv_cache", kv, "concurrency", conc,
	    "kv_tokens", (json_int_t)pl->kv_tokens, "expert_parallel", pl->moe && pl->tp * pl->dp > 1,
	    "p2p_disabled", pl->p2p_disable, "ranks", ranks, "nodes", nodes, "router", router);
}

int
emit_plan_json(FILE *out, const struct plan *p)
{
	struct arena a;
	memset(&a, 0, sizeof a);
	json_t *roles = json_object();
	for (size_t i = 0; i < p->nroles; i++)
		if (p->roles[i].par)
			json_object_set_new(roles, p->roles[i].role->name, role_json(&a, p, &p->roles[i]));
	json_t *root = json_pack("{s:s,s:o}", "generated_from",
	    arena_printf(&a, "%s by modelc; do not edit", emit_catalog_name(p).s), "roles", roles);
	int rc = root && json_dumpf(root, out, JSON_INDENT(2) | JSON_SORT_KEYS) == 0 ? 0 : -1;
	if (rc == 0 && fputc('\n', out) == EOF)
		rc = -1;
	json_decref(root);
	arena_free(&a);
	if (rc < 0 && !errno)
		errno = ENOMEM;
	return rc;
}

static void
rank_line(FILE *out, const struct catalog *c, const struct plan_rank *k, int deciding)
{
	const struct budget_result *r = &k->result;
	const struct catalog_host *h = &c->hosts[k->slot.host];
	fprintf(out, "  %4u %7u %5u  %-12s %3u %6u %9s %9s %8s %9s %9s %8s %9s %9s %10llu%s\n",
	    k->rank, k->replica, k->stage, h->name, h->gpus[k->slot.gpu].index, k->layers,
	    emit_gib(k->weights.total_bytes).s, emit_gib(k->weights.embed_bytes + k->weights.lm_head_bytes).s,
	    emit_size(r->kv_bytes_per_token).s, emit_gib(r->activation_bytes).s,
	    emit_gib(r->non_torch_bytes).s, emit_gib(r->cuda_graph_bytes).s,
	    emit_gib(r->budget_bytes).s, emit_gib(r->kv_cache_bytes).s,
	    (unsigned long long)r->kv_tokens, deciding ? "  <- decides" : "");
}

static void
role_txt(FILE *out, struct arena *a, const struct plan *p, const struct plan_role *pr)
{
	const struct plan_parallel *pl = pr->par;
	const struct catalog *c = p->catalog;
	char kv[128], conc[160];
	log_lines(pl, kv, sizeof kv, conc, sizeof conc);
	fprintf(out, "role %s: ", pr->role->name);
	emit_line_text(out, pr->model_id ? pr->model_id : "");
	fprintf(out, "\n  tp %u, pp %u, dp %u: %s\n", pl->tp, pl->pp, pl->dp,
	    pl->rule ? pl->rule : "given in the catalog");
	fprintf(out, "  layers per stage:");
	for (uint32_t s = 0; s < pl->pp; s++)
		fprintf(out, " %u", pl->stage_layers[s]);
	fprintf(out, "%s\n", pl->partition_set ? " (VLLM_PP_LAYER_PARTITION)" : " (vLLM's get_pp_indices)");
	fprintf(out, "  max_model_len %u, gpu_memory_utilization %s on every GPU", pl->max_model_len,
	    emit_util(pl->utilization).s);
	if (pl->kv_cache_memory_bytes)
		fprintf(out, ", --kv-cache-memory-bytes %llu (the GPUs differ)",
		    (unsigned long long)pl->kv_cache_memory_bytes);
	fprintf(out, "\n  rank replica stage  host         gpu layers   weights embed+head KV/token activation non-torch   graphs    budget  KV cache  KV tokens\n");
	for (size_t k = 0; k < pl->nranks; k++)
		rank_line(out, c, &pl->ranks[k], k == pl->deciding);
	fprintf(out, "  vLLM should log: %s\n  vLLM should log: %s\n", kv, conc);
	struct planargv_node *nd;
	size_t nn = planargv_nodes(a, p, pr, &nd);
	for (size_t i = 0; i < nn; i++) {
		fprintf(out, "  node %u (host %s, ranks %u-%u%s):\n    ", nd[i].node_rank,
		    c->hosts[nd[i].host].name, nd[i].first_rank, nd[i].first_rank + nd[i].nranks - 1,
		    nd[i].serves_http ? ", serves HTTP" : ", headless");
		for (size_t e = 0; nd[i].env[e]; e++) {
			const char *eq = strchr(nd[i].env[e], '=');
			fprintf(out, "%.*s=", (int)(eq - nd[i].env[e]), nd[i].env[e]);
			shquote_write(out, eq + 1);
			fputc(' ', out);
		}
		for (size_t k = 0; k < nd[i].argc; k++) {
			if (k)
				fputc(' ', out);
			shquote_write(out, nd[i].argv[k]);
		}
		fputc('\n', out);
	}
	const struct planargv_router *rt = planargv_router(a, p, pr, nd, nn);
	if (rt) {
		fprintf(out, "  router (host %s, port %u, in front of the nodes above):\n    %s",
		    c->hosts[nd[0].host].name, rt->port, PLANARGV_ROUTER_IMAGE);
		for (size_t k = 0; k < rt->argc; k++) {
			fputc(' ', out);
			shquote_write(out, rt->argv[k]);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
}

int
emit_plan_txt(FILE *out, const struct plan *p)
{
	struct arena a;
	memset(&a, 0, sizeof a);
	fprintf(out, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fprintf(out, "GPU ranks per role (GiB = 2^30 bytes; formulas in docs/budget.md, \"Several GPUs\")\n\n");
	for (size_t i = 0; i < p->nroles; i++)
		if (p->roles[i].par)
			role_txt(out, &a, p, &p->roles[i]);
	arena_free(&a);
	return ferror(out) ? -1 : 0;
}
