/*
 * modelc explain ROLE: one role's VRAM budget for people, each term with its bytes and where
 * it came from (exact, formula, calibrated, uncalibrated), and how utilization and
 * max_model_len were derived. --json gives the same as one object for scripts.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "budgetjson.h"
#include "cliopt.h"
#include "commands.h"
#include "compile.h"
#include "diag.h"
#include "emit_common.h"
#include "emit_report.h"
#include "cli.h"
#include "levers.h"
#include "exitcode.h"
#include "plan_together.h"
#include "planparams.h"
#include "size.h"
#include "suggest.h"

static void explain_generation(FILE *out, const struct catalog *c, const struct budget_result *r);

static void
usage(FILE *out)
{
	fputs("usage: modelc explain ROLE|GROUP [FILE] [--lock FILE] [--want N] [--json]\n"
	      "  ROLE        a role of the catalog\n"
	      "  GROUP       a together: group (a pair of all_pairs as ROLE+ROLE)\n"
	      "  FILE        the catalog (default models.yaml)\n"
	      "  --lock FILE the resolved facts (default models.lock next to FILE)\n"
	      "  --want N    the context to reach with the levers (default: the configured max_model_len,\n"
	      "              for auto none: only what each lever buys)\n"
	      "  --json      print the breakdown as one JSON object on stdout\n", out);
}

static struct emit_num
count_text(uint32_t n)
{
	struct emit_num t;
	snprintf(t.s, sizeof t.s, "%u", n);
	return t;
}

static void
row(FILE *out, const char *term, uint64_t bytes, const char *source)
{
	fprintf(out, "  %-22s %16llu B %9.2f GiB  %s\n", term, (unsigned long long)bytes,
	    size_gib(bytes), source);
}

static void
explain_text(FILE *out, const struct compile_run *run, const struct plan_role *pr, const struct levers *lv)
{
	const struct catalog *c = &run->catalog;
	const struct catalog_role *role = pr->role;
	const struct budget_result *r = &pr->result;
	const struct budget_params *p = &pr->params;
	const struct budget_arch *a = &pr->arch;

	fprintf(out, "role %s: %s", role->name, pr->lock_key ? pr->lock_key : "?");
	if (pr->local_dir)
		fprintf(out, " (local %s, %s)", pr->local_dir, pr->local_present ? "present" : "absent");
	fputc('\n', out);
	fprintf(out, "  model id %s; quantization %s%s; dtype %s; kv_cache_dtype %s\n",
	    pr->model_id ? pr->model_id : "?", role->quantization ? role->quantization : "none",
	    pr->weights_in_flight ? " (applied by vLLM while loading)" : "", pr->dtype ? pr->dtype : "auto",
	    pr->kv_cache_dtype ? pr->kv_cache_dtype : "auto");
	fprintf(out, "  GPU %s: %llu B (%.2f GiB) CUDA total%s; %.2f GiB in use by other processes\n",
	    c->gpu_profile ? c->gpu_profile : "(explicit memory)", (unsigned long long)c->gpu_total_bytes,
	    size_gib(c->gpu_total_bytes), c->gpu_total_estimated ? " (estimated from the card's nominal size; set gpu.memory for an exact budget)"
	    : c->gpu_memory_given && c->gpu_profile ? " (gpu.memory, over the profile's number)" : "",
	    size_gib(c->gpu_used_bytes));
	if (!a->layers || !a->kv_heads || !a->head_dim || !r->budget_bytes) {
		fputs("  no budget: the architecture or the weight size is unknown\n", out);
		goto verdict;
	}
	int graphs_in = emit_graphs_inside_budget(pr);
	fprintf(out, "\n  %-22s %18s %13s  %s\n", "term", "bytes", "GiB", "source");
	row(out, "weights", r->weights_bytes, emit_source_name(r->weights_source));
	row(out, "activation peak", r->activation_bytes, emit_source_name(r->activation_source));
	row(out, "non-torch memory", r->non_torch_bytes, emit_source_name(r->non_torch_source));
	char note[320];
	snprintf(note, sizeof note, "%s, %u captured sizes up to %u%s",
	    emit_source_name(r->cuda_graph_source), (unsigned)r->cuda_graph_sizes,
	    (unsigned)r->cuda_graph_max_size, graphs_in ? ", inside the budget" :
	    ", on top of the budget");
	row(out, "CUDA graphs", r->cuda_graph_bytes, c->enforce_eager ? "none (enforce_eager)" : note);
	row(out, "CUDA context", r->cuda_context_bytes,
	    "outside the budget; estimated: it varies with GPU, driver and CUDA");
	row(out, "budget", r->budget_bytes, "CUDA total x utilization");
	snprintf(note, sizeof note, "in use + CUDA context + budget%s, %s the CUDA total",
	    graphs_in ? "" : " + CUDA graphs", r->peak_bytes <= c->gpu_total_bytes ? "within" : "OVER");
	row(out, "physical peak", r->peak_bytes, note);
	row(out, "KV cache", r->kv_cache_bytes, graphs_in
	    ? "what vLLM allocates: budget - weights - activation - non-torch - CUDA graphs"
	    : "what vLLM allocates: budget - weights - activation - non-torch");
	row(out, "safety margin", r->safety_margin_bytes, emit_margin_note(note, sizeof note, r));
	row(out, "KV after the margin", emit_kv_after_margin(pr), "what max_model_len may use");
	fprintf(out, "  %-22s %16llu B %13s  formula: 2 x %u layers x %u KV heads x %u head_dim x %u bytes%s\n",
	    "KV per token", (unsigned long long)r->kv_bytes_per_token, "", a->layers, a->kv_heads, a->head_dim,
	    p->kv_dtype_bytes ? p->kv_dtype_bytes : a->dtype_bytes,
	    a->sliding_window ? " (sliding-window layers hold at most the window)" : "");
	fprintf(out, "  %-22s %16llu tokens\n", "KV tokens", (unsigned long long)r->kv_tokens);
	fputc('\n', out);
	if (r->utilization_lowered) {
		budget_lowering_text(r, note, sizeof note);
		fprintf(out, "  %s\n", note);
	} else
		fprintf(out, "  utilization: %s (%s)\n", emit_util(r->utilization).s,
		    role->gpu_memory_utilization > 0 ? "the role's" : "the GPU's");
	fprintf(out, "  max_num_seqs %u, max_num_batched_tokens %u, engine %s%s\n", r->max_num_seqs,
	    r->max_num_batched_tokens, emit_engine_name(p->engine), c->enforce_eager ? ", enforce_eager" : "");
	explain_generation(out, c, r);
	if (role->max_model_len_auto)
		fprintf(out, "  max_model_len: auto = min(largest that fits %s, max_position_embeddings %u) = %u (%s decides)\n",
		    pr->max_model_len_memory >= PLANPARAMS_UNCAPPED ? "any length (the sliding window bounds the KV cache)"
		    : count_text(pr->max_model_len_memory ? pr->max_model_len_memory : r->max_model_len_fit).s,
		    a->max_position_embeddings,
		    pr->max_model_len, a->max_position_embeddings && pr->max_model_len == a->max_position_embeddings &&
		    pr->max_model_len_memory > a->max_position_embeddings ? "the model's limit" : "memory");
	else
		fprintf(out, "  max_model_len: %u as configured; the largest that fits is %u\n", pr->max_model_len,
		    r->max_model_len_fit);
	if (lv)
		levers_print(out, lv);
verdict:
	fprintf(out, "  verdict: %s", emit_verdict(pr));
	for (size_t i = 0; i < pr->nunverified; i++)
		fprintf(out, "%s%s", i ? "; " : " (missing: ", pr->unverified[i]);
	fputs(pr->nunverified ? ")\n" : "\n", out);
	if (pr->measured_ttft_ms >= 0) {
		fprintf(out, "  measured time to first token: %.0f ms at %u tokens (bench, measurements/)",
		    pr->measured_ttft_ms, pr->max_model_len);
		if (pr->role->ttft_threshold_ms > 0)
			fprintf(out, "; threshold %.0f ms%s", pr->role->ttft_threshold_ms,
			    pr->measured_ttft_ms > pr->role->ttft_threshold_ms ? ", exceeded" : "");
		fputc('\n', out);
	}
}

/* The vLLM generation whose rules were used, and whether calibrated cases stand behind it. */
static void
explain_generation(FILE *out, const struct catalog *c, const struct budget_result *r)
{
	const struct budget_generation_rule *g = budget_generation_rule(r->generation);
	char ev[256];
	if (c->vllm_version)
		fprintf(out, "  vLLM %s: generation %s (versions %s to %s; %s)\n", c->vllm_version,
		    g->name, g->first, g->last, g->source);
	else
		fprintf(out, "  vLLM generation %s, the newest modelled (versions %s to %s; %s); "
		    "set server.vllm_version for another\n", g->name, g->first, g->last, g->source);
	budget_evidence_text(r, ev, sizeof ev);
	if (r->evidence_gaps)
		fprintf(out, "  evidence: outside the calibrated cases (%s): margin widened by %.1f%% "
		    "of the KV cache, the spread seen on %s\n", ev, 100 * r->evidence_spread,
		    budget_generation_rule(r->evidence_from)->name);
	else
		fprintf(out, "  evidence: inside the calibrated cases (%u of generation %s)\n",
		    (unsigned)budget_evidence_of(r->evidence_from)->cases, g->name);
}

static void
explain_json(FILE *out, const struct compile_run *run, const struct plan_role *pr, const struct levers *lv)
{
	const struct budget_result *r = &pr->result;
	json_t *o = json_object();
	json_object_set_new(o, "role", json_string(pr->role->name));
	json_object_set_new(o, "lock_key", pr->lock_key ? json_string(pr->lock_key) : json_null());
	json_object_set_new(o, "model_id", pr->model_id ? json_string(pr->model_id) : json_null());
	json_object_set_new(o, "gpu_total_bytes", json_integer((json_int_t)run->catalog.gpu_total_bytes));
	json_object_set_new(o, "gpu_used_bytes", json_integer((json_int_t)run->catalog.gpu_used_bytes));
	budgetjson_terms(o, r);
	json_object_set_new(o, "max_model_len", json_integer(pr->max_model_len));
	json_object_set_new(o, "max_model_len_auto", json_boolean(pr->role->max_model_len_auto));
	json_object_set_new(o, "max_position_embeddings", json_integer(pr->arch.max_position_embeddings));
	const struct budget_generation_rule *g = budget_generation_rule(r->generation);
	json_object_set_new(o, "vllm_version", run->catalog.vllm_version ?
	    json_string(run->catalog.vllm_version) : json_null());
	json_object_set_new(o, "vllm_generation", json_string(g->name));
	char ev[256];
	budget_evidence_text(r, ev, sizeof ev);
	json_object_set_new(o, "evidence_covered", json_boolean(r->evidence_gaps == 0));
	json_object_set_new(o, "evidence_text", json_string(ev));
	json_object_set_new(o, "margin_widened_by", json_real(r->evidence_spread));
	budgetjson_lowering(o, r);
	json_object_set_new(o, "cuda_context_bytes", json_integer((json_int_t)r->cuda_context_bytes));
	json_object_set_new(o, "cuda_graph_sizes", json_integer(r->cuda_graph_sizes));
	json_object_set_new(o, "peak_bytes", json_integer((json_int_t)r->peak_bytes));
	json_t *src = json_object();
	json_object_set_new(src, "weights_bytes", json_string(emit_source_name(r->weights_source)));
	json_object_set_new(src, "activation_bytes", json_string(emit_source_name(r->activation_source)));
	json_object_set_new(src, "non_torch_bytes", json_string(emit_source_name(r->non_torch_source)));
	json_object_set_new(src, "cuda_graph_bytes", json_string(emit_source_name(r->cuda_graph_source)));
	json_object_set_new(src, "kv_bytes_per_token", json_string("formula"));
	json_object_set_new(o, "sources", src);
	json_object_set_new(o, "verdict", json_string(emit_verdict(pr)));
	json_t *u = json_array();
	for (size_t i = 0; i < pr->nunverified; i++)
		json_array_append_new(u, json_string(pr->unverified[i]));
	json_object_set_new(o, "unverified", u);
	json_object_set_new(o, "levers", lv ? levers_json(lv) : json_null());
	/* Only when bench has measured the role, so other outputs stay as they were. */
	if (pr->measured_ttft_ms >= 0) {
		json_object_set_new(o, "measured_ttft_ms", json_real(pr->measured_ttft_ms));
		if (pr->role->ttft_threshold_ms > 0)
			json_object_set_new(o, "ttft_threshold_ms", json_real(pr->role->ttft_threshold_ms));
	}
	json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	fputc('\n', out);
	json_decref(o);
}

/* A group's derivation as one object: the limits and bytes of each member. */
static void
explain_group_json(FILE *out, const struct plan *p, const struct plan_group *g)
{
	json_t *o = json_object(), *members = json_array();
	json_object_set_new(o, "group", json_string(g->group->name));
	json_object_set_new(o, "fits", json_boolean(g->fits));
	json_object_set_new(o, "gpu_bytes", json_integer((json_int_t)g->gpu_bytes));
	json_object_set_new(o, "gpu_total_bytes", json_integer((json_int_t)p->catalog->gpu_total_bytes));
	json_object_set_new(o, "sleep_host_bytes", json_integer((json_int_t)g->sleep_host_bytes));
	for (size_t k = 0; g->fits && k < g->nmembers; k++) {
		const struct plan_group_member *m = &g->members[k];
		json_t *j = json_object();
		json_object_set_new(j, "role", json_string(p->roles[m->role].role->name));
		json_object_set_new(j, "start_order", json_integer(m->start_order));
		json_object_set_new(j, "gpu_memory_utilization", json_real(m->utilization));
		json_object_set_new(j, "max_model_len", json_integer(m->max_model_len));
		json_object_set_new(j, "kv_cache_bytes", json_integer((json_int_t)m->kv_cache_bytes));
		json_object_set_new(j, "gpu_bytes", json_integer((json_int_t)m->gpu_bytes));
		json_object_set_new(j, "free_at_start", json_integer((json_int_t)m->free_at_start));
		json_object_set_new(j, "sleep_gpu_bytes", json_integer((json_int_t)m->sleep_gpu_bytes));
		json_object_set_new(j, "sleep_host_bytes", json_integer((json_int_t)m->sleep_host_bytes));
		json_t *b = json_object();
		budgetjson_terms(b, &m->result);
		json_object_set_new(j, "budget", b);
		json_array_append_new(members, j);
	}
	json_object_set_new(o, "members", members);
	json_dumpf(o, out, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(6));
	fputc('\n', out);
	json_decref(o);
}

/* A name that is no role or group: the nearest of them (did you mean), else all of them. */
static void
no_such_role(const struct plan *p, const char *catalog, const char *name)
{
	size_t n = p->nroles + p->ngroups, k = 0;
	const char **names = calloc(n ? n : 1, sizeof *names);
	for (size_t i = 0; names && i < p->nroles; i++)
		names[k++] = p->roles[i].role->name;
	for (size_t i = 0; names && i < p->ngroups; i++)
		names[k++] = p->groups[i].group->name;
	const char *best = suggest_best(name, names, k);
	if (best)
		diag_print(stderr, "modelc: explain: %s has no role or group '%s'; did you mean '%s'?\n", catalog,
		    name, best);
	else {
		diag_print(stderr, "modelc: explain: %s has no role or group '%s'; it has:", catalog, name);
		for (size_t i = 0; i < k; i++)
			diag_print(stderr, "%s %s", i ? "," : "", names[i]);
		diag_print(stderr, "\n");
	}
	free(names);
}

int
cmd_explain(int argc, char **argv)
{
	struct compile_args args;
	const char *name = NULL;
	bool json = false;
	uint32_t want = 0;

	static const struct option longopts[] = {
		{"help", 0, NULL, 'h'}, {"version", 0, NULL, 'V'}, {"lock", 1, NULL, 'l'}, {"json", 0, NULL, 'j'},
		{"want", 1, NULL, 'w'}, {NULL, 0, NULL, 0}};
	const char *arg;
	compile_args_init(&args);
	for (int c; (c = cliopt_next(argc, argv, "+:h", longopts, &arg)) != -1;) {
		switch (c) {
		case 'h': usage(stdout); return EXITCODE_OK;
		case 'V': printf("modelc %s\n", MODELC_VERSION); return EXITCODE_OK;
		case 'l': args.lock = optarg; continue;
		case 'j': json = true; continue;
		case 'w':
			if (cli_parse_u32(optarg, UINT32_MAX, &want) == 0)
				continue;
			diag_print(stderr, "modelc: explain: --want: '%s' is not a positive number of tokens\n", optarg);
			break;
		case 1:
			if (!name) {
				name = optarg;
				continue;
			} else if (!args.catalog_set) {
				args.catalog = optarg;
				args.catalog_set = true;
				continue;
			}
			diag_print(stderr, "modelc: explain: unexpected argument '%s'\n", arg);
			break;
		case ':': diag_print(stderr, "modelc: explain: %s needs an argument\n", arg); break;
		default: diag_print(stderr, "modelc: explain: unknown option '%s'\n", arg); break;
		}
		usage(stderr);
		return EXITCODE_USAGE;
	}
	if (!name) {
		usage(stderr);
		return EXITCODE_USAGE;
	}

	/* Other roles' findings are build's business; explain shows this role's numbers. */
	FILE *devnull = fopen("/dev/null", "w");
	if (!devnull) {
		diag_print(stderr, "modelc: explain: /dev/null: %s\n", strerror(errno));
		return EXITCODE_SYSTEM;
	}
	args.plan_diag = devnull;
	struct compile_run run;
	int rc = compile_run(&run, &args, stderr);
	fclose(devnull);
	/* Errors in the catalog or the lock (not the plan's, which explain shows) stop here. */
	if (rc != 0 || !run.have_plan) {
		compile_done(&run);
		return rc ? rc : EXITCODE_REJECTED;
	}
	const struct plan_role *pr = NULL;
	for (size_t i = 0; i < run.plan.nroles; i++)
		if (strcmp(run.plan.roles[i].role->name, name) == 0)
			pr = &run.plan.roles[i];
	const struct plan_group *g = pr ? NULL : plan_together_find(&run.plan, name);
	if (g) {
		if (json)
			explain_group_json(stdout, &run.plan, g);
		else
			plan_together_describe(stdout, &run.plan, g);
		compile_done(&run);
		return 0;
	}
	if (!pr) {
		no_such_role(&run.plan, args.catalog, name);
		compile_done(&run);
		return EXITCODE_REJECTED;
	}
	struct levers lv;
	bool have = levers_compute(&run.arena, &run.catalog, pr, want, &lv);
	if (json)
		explain_json(stdout, &run, pr, have ? &lv : NULL);
	else
		explain_text(stdout, &run, pr, have ? &lv : NULL);
	compile_done(&run);
	return EXITCODE_OK;
}
