/*
 * modelc quantize: plan a 4-bit (or 8-bit) quantization of a role before running anything,
 * then write a ready-to-run llm-compressor script for the GPU host. Exit 0 planned (and
 * written), 1 the plan is refused (unknown model, GPU too small), 2 usage, 3 a file could not
 * be read or written.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "budget.h"
#include "catalog.h"
#include "cli.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fileio.h"
#include "frontend.h"
#include "lock.h"
#include "planparams.h"
#include "quantplan.h"
#include "shquote.h"
#include "size.h"

static const char quantize_usage[] =
    "usage: modelc quantize ROLE [FILE] [--lock FILE] [--method awq|gptq] [--bits 4|8]\n"
    "                       [--group-size 32|64|128] [--dataset ID] [--split NAME] [--samples N]\n"
    "                       [--seq-len N] [--output-dir DIR] [-o SCRIPT] [--plan-only] [--json]\n"
    "FILE is the catalog (default models.yaml); -f FILE still works but is deprecated.\n"
    "Plans the quantization of ROLE's 16-bit checkpoint: the predicted size and the context it then\n"
    "fits, and the disk, host memory and GPU memory the quantization needs. Unless --plan-only,\n"
    "writes SCRIPT (default quantize-ROLE.py), an llm-compressor script to run on the GPU host.\n"
    "Defaults: awq, 4 bits, groups of 128, HuggingFaceH4/ultrachat_200k, 256 samples of 512 tokens.\n";

struct quantize_args {
	const char *catalog;
	const char *lock;
	const char *role;
	const char *script;
	const char *output_dir;
	struct quantplan_opts opts;
	bool plan_only;
	bool json;
};

static int
quantize_bad(const char *fmt, const char *arg)
{
	return cli_usage_error("quantize", quantize_usage, fmt, arg);
}

/* 0 parsed, 1 --help/--version answered, 2 usage error (printed). */
static int
parse_args(int argc, char **argv, struct quantize_args *q)
{
	memset(q, 0, sizeof *q);
	q->catalog = "models.yaml";
	bool catalog_set = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			fputs(quantize_usage, stdout);
			return 1;
		}
		if (!strcmp(a, "--version")) {
			printf("modelc %s\n", MODELC_VERSION);
			return 1;
		}
		if (!strcmp(a, "--plan-only")) {
			q->plan_only = true;
			continue;
		}
		if (!strcmp(a, "--json")) {
			q->json = true;
			continue;
		}
		static const char *const with_value[] = {"-f", "--catalog", "--lock", "--method", "--bits",
			"--group-size", "--dataset", "--split", "--samples", "--seq-len", "--output-dir", "-o", NULL};
		bool takes = false;
		for (size_t k = 0; with_value[k]; k++)
			takes |= strcmp(a, with_value[k]) == 0;
		if (takes) {
			if (!v)
				return quantize_bad("option '%s' needs a value", a);
			i++;
			if (!strcmp(a, "-f") || !strcmp(a, "--catalog")) {
				diag_print(stderr, "modelc: quantize: warning: '%s FILE' is deprecated; give the catalog "
				    "after the role: modelc quantize ROLE FILE\n", a);
				q->catalog = v;
				catalog_set = true;
			}
			else if (!strcmp(a, "--lock"))
				q->lock = v;
			else if (!strcmp(a, "--method")) {
				if (strcmp(v, "awq") && strcmp(v, "gptq"))
					return quantize_bad("--method: '%s' is not awq or gptq", v);
				q->opts.method = v;
			} else if (!strcmp(a, "--bits")) {
				if (cli_parse_u32(v, 8, &q->opts.bits) || (q->opts.bits != 4 && q->opts.bits != 8))
					return quantize_bad("--bits: '%s' is not 4 or 8", v);
			} else if (!strcmp(a, "--group-size")) {
				if (cli_parse_u32(v, 128, &q->opts.group_size) ||
				    (q->opts.group_size != 32 && q->opts.group_size != 64 && q->opts.group_size != 128))
					return quantize_bad("--group-size: '%s' is not 32, 64 or 128", v);
			} else if (!strcmp(a, "--dataset"))
				q->opts.dataset = v;
			else if (!strcmp(a, "--split"))
				q->opts.dataset_split = v;
			else if (!strcmp(a, "--samples")) {
				if (cli_parse_u32(v, QUANTPLAN_MAX_SAMPLES, &q->opts.samples))
					return quantize_bad("--samples: '%s' is not an integer from 1 to 65536", v);
			} else if (!strcmp(a, "--seq-len")) {
				if (cli_parse_u32(v, QUANTPLAN_MAX_SEQ_LEN, &q->opts.seq_len))
					return quantize_bad("--seq-len: '%s' is not an integer from 1 to 1048576", v);
			} else if (!strcmp(a, "--output-dir")) {
				if (v[0] != '/')
					return quantize_bad("--output-dir: '%s' is not an absolute path", v);
				q->output_dir = v;
			} else if (!strcmp(a, "-o"))
				q->script = v;
			continue;
		}
		if (a[0] == '-' && a[1])
			return quantize_bad("unknown option '%s'", a);
		if (!q->role) {
			q->role = a;
		} else if (!catalog_set) {
			q->catalog = a;
			catalog_set = true;
		} else {
			return quantize_bad("unexpected argument '%s'", a);
		}
	}
	if (!q->role)
		return quantize_bad("%s", "expected ROLE");
	if (q->plan_only && q->script)
		return quantize_bad("%s", "--plan-only writes nothing; -o does not apply");
	return 0;
}

static const char *
lock_path_of(struct arena *a, const struct quantize_args *q)
{
	if (q->lock)
		return q->lock;
	const char *slash = strrchr(q->catalog, '/');
	return slash ? arena_printf(a, "%.*s/models.lock", (int)(slash - q->catalog), q->catalog) : "models.lock";
}


static double
gb(uint64_t b)
{
	return (double)b / 1e9;
}

static void
print_plan(const struct quantize_args *q, const struct catalog *c, const struct budget_arch *served, const char *key,
    const struct quantplan *p, const char *outdir)
{
	const struct quantplan_opts *o = &p->opts;
	bool awq = strcmp(o->method, "awq") == 0;
	printf("plan: quantize %s (%s) with %s, %u-bit, group size %u\n", q->role, key, awq ? "AWQ" : "GPTQ",
	    o->bits, o->group_size);
	printf("result:\n");
	printf("  weights      %.2f GB predicted (%llu bytes); the 16-bit source is %.2f GB (%llu bytes, %s)\n",
	    gb(p->predicted_bytes), (unsigned long long)p->predicted_bytes, gb(p->source_bytes),
	    (unsigned long long)p->source_bytes, p->source_exact ? "exact, models.lock" : "computed from the architecture");
	const char *gpu = c->gpu_profile ? c->gpu_profile : "the catalog's GPU";
	if (p->fit.fits)
		printf("  serving      fits max_model_len %u on %s; the largest context that fits is %u tokens\n",
		    p->serve.max_model_len, gpu, p->fit.max_model_len_fit);
	else if (p->fit.max_model_len_fit)
		printf("  serving      does not fit max_model_len %u on %s; the largest context that fits is %u tokens\n",
		    p->serve.max_model_len, gpu, p->fit.max_model_len_fit);
	else
		printf("  serving      does not fit %s at any context\n", gpu);
	const struct budget_result *f = &p->fit;
	printf("               budget %.2f GiB - weights %.2f - activation %.2f - non-torch %.2f = KV cache %.2f GiB, "
	       "before the %.2f GiB margin (max_num_seqs %u)\n", size_gib(f->budget_bytes), size_gib(f->weights_bytes),
	    size_gib(f->activation_bytes), size_gib(f->non_torch_bytes), size_gib(f->kv_cache_bytes), size_gib(f->safety_margin_bytes),
	    f->max_num_seqs);
	if (!f->fits && f->max_num_seqs > 1) {
		struct budget_params one = p->serve;
		struct budget_result alt;
		struct budget_arch arch = *served;
		one.max_num_seqs = 1;
		memset(&alt, 0, sizeof alt);
		budget_fit_checked(&arch, &one, &alt);
		if (alt.max_model_len_fit)
			printf("               with max_num_seqs 1 the largest context that fits is %u tokens\n",
			    alt.max_model_len_fit);
	}
	printf("quantization job (llm-compressor >= 0.6 for sequential onloading: one decoder layer on the GPU at a time):\n");
	printf("  GPU memory   %.2f GiB needed, %.2f GiB free: %s\n", size_gib(p->gpu_need_bytes), size_gib(p->gpu_free_bytes),
	    p->gpu_ok ? "ok" : "too small");
	printf("               = max(layer %.2f, embeddings %.2f) + activations %.2f + %s %.2f%s + CUDA context 0.50\n",
	    size_gib(p->layer_bytes), size_gib(p->embed_bytes), size_gib(p->activation_bytes), awq ? "AWQ cache" : "GPTQ Hessians",
	    size_gib(p->method_bytes), awq && p->awq_offload ? " (offloaded to CPU)" : "");
	printf("  host memory  %.2f GiB (16-bit weights in CPU memory + calibration inputs%s)\n", size_gib(p->host_ram_bytes),
	    awq && p->awq_offload ? " + AWQ cache" : "");
	printf("  disk         %.2f GB (16-bit source in the HF cache + output)\n", gb(p->disk_bytes));
	printf("  calibration  %s [%s], %u samples x %u tokens\n", o->dataset, o->dataset_split, o->samples, o->seq_len);
	if (outdir)
		printf("  output       %s\n", outdir);
}

static void
print_json(const struct quantize_args *q, const char *key, const struct quantplan *p, const char *outdir,
    const char *script)
{
	json_t *j = json_object();
	json_object_set_new(j, "role", json_string(q->role));
	json_object_set_new(j, "model", json_string(key));
	json_object_set_new(j, "method", json_string(p->opts.method));
	json_object_set_new(j, "bits", json_integer(p->opts.bits));
	json_object_set_new(j, "group_size", json_integer(p->opts.group_size));
	json_object_set_new(j, "predicted_bytes", json_integer((json_int_t)p->predicted_bytes));
	json_object_set_new(j, "source_bytes", json_integer((json_int_t)p->source_bytes));
	json_object_set_new(j, "source_exact", json_boolean(p->source_exact));
	json_object_set_new(j, "max_model_len", json_integer(p->serve.max_model_len));
	json_object_set_new(j, "fits", json_boolean(p->fit.fits));
	json_object_set_new(j, "max_model_len_fit", json_integer(p->fit.max_model_len_fit));
	json_object_set_new(j, "gpu_need_bytes", json_integer((json_int_t)p->gpu_need_bytes));
	json_object_set_new(j, "gpu_free_bytes", json_integer((json_int_t)p->gpu_free_bytes));
	json_object_set_new(j, "gpu_ok", json_boolean(p->gpu_ok));
	json_object_set_new(j, "layer_bytes", json_integer((json_int_t)p->layer_bytes));
	json_object_set_new(j, "embed_bytes", json_integer((json_int_t)p->embed_bytes));
	json_object_set_new(j, "activation_bytes", json_integer((json_int_t)p->activation_bytes));
	json_object_set_new(j, "method_bytes", json_integer((json_int_t)p->method_bytes));
	json_object_set_new(j, "awq_offload", json_boolean(p->awq_offload));
	json_object_set_new(j, "host_ram_bytes", json_integer((json_int_t)p->host_ram_bytes));
	json_object_set_new(j, "disk_bytes", json_integer((json_int_t)p->disk_bytes));
	json_object_set_new(j, "dataset", json_string(p->opts.dataset));
	json_object_set_new(j, "dataset_split", json_string(p->opts.dataset_split));
	json_object_set_new(j, "samples", json_integer(p->opts.samples));
	json_object_set_new(j, "seq_len", json_integer(p->opts.seq_len));
	json_object_set_new(j, "output_dir", outdir ? json_string(outdir) : json_null());
	json_object_set_new(j, "script", script ? json_string(script) : json_null());
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(j);
}

int
cmd_quantize(int argc, char **argv)
{
	struct quantize_args q;
	int prc = parse_args(argc, argv, &q);
	if (prc)
		return prc == 1 ? EXITCODE_OK : EXITCODE_USAGE;

	struct arena a = {0};
	struct diag_sink diag;
	diag_init(&diag, stderr, "modelc");
	int rc = EXITCODE_REJECTED;
	struct catalog c;
	int frc = frontend_load(&a, &diag, q.catalog, NULL, &c);
	if (frc != EXITCODE_OK) {
		rc = frc;
		goto out;
	}
	const struct catalog_role *r = catalog_role(&c, q.role);
	if (!r) {
		diag_error(&diag, diag_file(q.catalog), "no role '%s' in the catalog", q.role);
		goto out;
	}
	struct diag_pos rpos = r->node ? r->node->pos : diag_file(q.catalog);
	if (!r->repo) {
		diag_error(&diag, rpos, "roles.%s: has no repo; quantize starts from the 16-bit checkpoint on the Hub",
		    q.role);
		goto out;
	}

	const char *lock_path = lock_path_of(&a, &q);
	const char *key = arena_printf(&a, "%s@%s", r->repo, r->revision ? r->revision : "main");
	struct lock lock = {0};
	if (access(lock_path, F_OK) != 0) {
		diag_error(&diag, rpos, "roles.%s: %s does not exist; run 'modelc lock %s' first", q.role, lock_path, q.role);
		goto out;
	}
	if (lock_read(&a, &diag, lock_path, frontend_schema_dir(&a, q.catalog), &lock) != 0)
		goto out;
	const struct lock_model *m = lock_find(&lock, key);
	const struct lock_model *cfg = m && !m->has_config && m->config_from ? lock_find(&lock, m->config_from) : m;
	if (!cfg || !cfg->has_config) {
		diag_error(&diag, rpos, "roles.%s: %s has no config.json for '%s'; run 'modelc lock %s' first", q.role,
		    lock_path, key, q.role);
		goto out;
	}
	if (m->quantization_config) {
		diag_error(&diag, rpos, "roles.%s: '%s' is already quantized (%s); quantize a 16-bit checkpoint",
		    q.role, key, m->quantization_config);
		goto out;
	}
	struct budget_arch arch = cfg->arch;
	const char *why = quantplan_check(&arch, &q.opts);
	if (why) {
		diag_error(&diag, rpos, "roles.%s: cannot quantize '%s': %s", q.role, key, why);
		goto out;
	}

	struct budget_params serve;
	struct budget_arch served = arch;
	served.dtype_bytes = 2;        /* 4-bit checkpoints run in half */
	/* Served as modelc build would serve the adopted checkpoint: the same inputs, the same auto. */
	if (!planparams_role(&c, r, &serve, &diag))
		goto out;
	serve.max_model_len = planparams_len(r, &served);
	budget_defaults(&serve);
	uint64_t used = c.gpu_used_bytes < c.gpu_total_bytes ? c.gpu_used_bytes : c.gpu_total_bytes;
	struct quantplan p;
	quantplan_compute(&served, &q.opts, &serve, m->weights_bytes.known ? m->weights_bytes.value : 0,
	    c.gpu_total_bytes - used, &p);
	budget_fit_context_checked(&served, &p.serve, planparams_min_len(r), &p.fit, &p.serve);

	char name[192];
	const char *outdir = q.output_dir;
	if (!outdir && c.models_dir)
		outdir = arena_printf(&a, "%s/%s", c.models_dir, quantplan_dir_name(r->repo, &p, name, sizeof name));
	const char *script = q.plan_only ? NULL : q.script ? q.script : arena_printf(&a, "quantize-%s.py", q.role);

	if (q.json)
		print_json(&q, key, &p, outdir, p.gpu_ok ? script : NULL);
	else
		print_plan(&q, &c, &served, key, &p, outdir);

	if (!p.gpu_ok) {
		diag_error(&diag, rpos, "roles.%s: quantizing needs %.2f GiB of GPU memory, %s has %.2f GiB free",
		    q.role, size_gib(p.gpu_need_bytes), c.gpu_profile ? c.gpu_profile : "the GPU", size_gib(p.gpu_free_bytes));
		uint64_t onload = p.layer_bytes > p.embed_bytes ? p.layer_bytes : p.embed_bytes;
		if (p.activation_bytes + p.method_bytes > onload && p.opts.seq_len > 128)
			diag_note(&diag, rpos, "fewer tokens per sample lower the activations: --seq-len %u",
			    p.opts.seq_len / 2);
		else
			diag_note(&diag, rpos, "the largest part, %.2f GiB of 16-bit weights onloaded at once, cannot be split: "
			    "quantize on a larger GPU and copy the result here", size_gib(onload));
		goto out;
	}
	if (!p.fit.fits && p.fit.max_model_len_fit)
		diag_warning(&diag, rpos, "roles.%s: the quantized model does not fit max_model_len %u; set max_model_len "
		    "to at most %u after adopting it", q.role, p.serve.max_model_len, p.fit.max_model_len_fit);
	else if (!p.fit.fits)
		diag_warning(&diag, rpos, "roles.%s: the quantized model does not fit at any context with these server "
		    "settings; see the budget line above", q.role);
	if (c.disk_budget_bytes && p.disk_bytes > c.disk_budget_bytes)
		diag_warning(&diag, diag_file(q.catalog), "quantizing %s needs %.2f GB of disk, storage.disk_budget is %.2f GB",
		    q.role, gb(p.disk_bytes), gb(c.disk_budget_bytes));
	if (q.plan_only) {
		rc = EXITCODE_OK;
		goto out;
	}
	if (!outdir) {
		diag_error(&diag, diag_file(q.catalog),
		    "storage.models_dir is not set; set it or pass --output-dir for the quantized checkpoint");
		goto out;
	}

	char *buf = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&buf, &len);
	if (!mem) {
		diag_print(stderr, "modelc: %s\n", strerror(errno));
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	struct quantplan_target t = {q.role, q.catalog, r->repo, m->commit ? m->commit : r->revision ? r->revision : "main",
		outdir, c.hf_home};
	int wrc = quantplan_write_script(mem, &p, &t);
	if (fclose(mem) != 0 || wrc != 0 || fileio_write_atomic(script, buf, len, 0755, FILEIO_EXACT_MODE, NULL, 0) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", script, strerror(errno));
		free(buf);
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	free(buf);
	if (!q.json) {
		printf("wrote %s\nrun it on the GPU host (pip install \"llmcompressor>=0.6\" there):\n  ", script);
		if (c.hf_home) {
			fputs("HF_HOME=", stdout);
			shquote_write(stdout, c.hf_home);
			fputc(' ', stdout);
		}
		fputs("python3 ", stdout);
		shquote_write(stdout, script);
		printf("\nthen here: modelc adopt %s%s%s ", q.role, strcmp(p.opts.method, "awq") ? " --method " : "",
		    strcmp(p.opts.method, "awq") ? p.opts.method : "");
		if (p.opts.bits != QUANTPLAN_DEFAULT_BITS)
			printf("--bits %u ", p.opts.bits);
		if (p.opts.group_size != QUANTPLAN_DEFAULT_GROUP)
			printf("--group-size %u ", p.opts.group_size);
		shquote_write(stdout, outdir);
		putchar('\n');
	}
	rc = EXITCODE_OK;
out:
	arena_free(&a);
	return rc;
}
