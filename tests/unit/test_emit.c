/* The emitters and outdir, on hand-built plans (tests/unit/emit_fixture.h). */
#define _DEFAULT_SOURCE /* mkdtemp, setrlimit helpers come from POSIX; symlink too */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "emit_common.h"
#include "emit_env.h"
#include "emit_fixture.h"
#include "emit_manifest.h"
#include "emit_report.h"
#include "emit_table.h"
#include "model_table.h"
#include "outdir.h"

void suite_emit(void);

/* Run an emitter into a malloc'ed string. */
static char *
render(int (*fn)(FILE *, const struct plan *), const struct plan *p, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	*rc = fn(m, p);
	fclose(m);
	return buf;
}

static char *
render_manifest(const struct plan *p, size_t role)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	CU_ASSERT_EQUAL(emit_manifest(m, p, &p->roles[role]), 0);
	fclose(m);
	return buf;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_numbers(void)
{
	CU_ASSERT_STRING_EQUAL(emit_gib((uint64_t)7 * FIX_GIB + FIX_GIB / 2).s, "7.50 GiB");
	CU_ASSERT_STRING_EQUAL(emit_gib(0).s, "0.00 GiB");
	CU_ASSERT_STRING_EQUAL(emit_size(512).s, "512 B");
	CU_ASSERT_STRING_EQUAL(emit_size(131072).s, "128.0 KiB");
	CU_ASSERT_STRING_EQUAL(emit_size(300 * FIX_MIB).s, "300.0 MiB");
	CU_ASSERT_STRING_EQUAL(emit_size((uint64_t)3 * FIX_GIB).s, "3.00 GiB");
	CU_ASSERT_STRING_EQUAL(emit_util(0.9).s, "0.9");
	CU_ASSERT_STRING_EQUAL(emit_util(0.29).s, "0.29");
	CU_ASSERT_STRING_EQUAL(emit_util(0.84759).s, "0.8475");
	CU_ASSERT_STRING_EQUAL(emit_util(1.0).s, "1.0");
	CU_ASSERT_STRING_EQUAL(emit_util(0.00001).s, "0.0");
}

static void
test_line_text(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	emit_line_text(m, "a\nb\tc\x7f" "d \xe2\x80\xa8 e \xc2\x85 f \xc3\xa9 \xff g");
	fclose(m);
	CU_ASSERT_STRING_EQUAL(buf, "a b c d   e   f \xc3\xa9 ? g");
	free(buf);

	struct fix_seed s;
	fix_seed_init(&s);
	s.cat.path = "/home/me/my catalog*/.yaml";
	CU_ASSERT_STRING_EQUAL(emit_catalog_name(&s.plan).s, ".yaml");
	s.cat.path = "dir/cat?" "?/.x*/?.yaml";
	CU_ASSERT_STRING_EQUAL(emit_catalog_name(&s.plan).s, "_.yaml");
	s.cat.path = "tests/my-cat+1.yaml";
	CU_ASSERT_STRING_EQUAL(emit_catalog_name(&s.plan).s, "my-cat+1.yaml");
}

static void
test_env(void)
{
	struct fix_seed s;
	int rc;
	fix_seed_init(&s);
	char *env = render(emit_env, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "# generated from models.yaml by modelc; do not edit\n"));
	CU_ASSERT_EQUAL(strncmp(env, "# generated from models.yaml by modelc; do not edit\n", 52), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nHF_HOME='/mnt/f/hf_cache'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nHF_HUB_CACHE='/mnt/f/hf_cache/hub'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# TRANSFORMERS_CACHE is read only by transformers 4"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nTRANSFORMERS_CACHE='/mnt/f/hf_cache/hub'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nHF_DATASETS_CACHE='/mnt/f/hf_cache/datasets'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nVLLM_MODEL_ID='hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nVLLM_QUANTIZATION='awq'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nVLLM_MAX_MODEL_LEN='8192'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nVLLM_GPU_MEMORY_UTILIZATION='0.9'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nVLLM_KV_CACHE_DTYPE='auto'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nMODELC_ACTIVE_ROLE='primary'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nPRIMARY_MODEL_LOCAL='/mnt/f/models/llama3.1-8b-instruct-awq'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nPRIMARY_REVISION='0123456789abcdef0123456789abcdef01234567'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nLIGHTWEIGHT_REVISION='main'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nLIGHTWEIGHT_GPU_MEMORY_UTILIZATION='0.8475'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nCODE_MODEL_ID='/mnt/f/models/starcoder2-7b'\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\nCODE_REVISION=''\n"));
	/* The numbers that decided each limit. */
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# max_model_len 8192 (configured): fits: KV 1.00 GiB for 8192 "
	    "tokens (128.0 KiB/token), of 1.21 GiB left after weights 5.32 GiB, activation 0.29 GiB, "
	    "non-torch 0.12 GiB and margin 0.25 GiB from budget 7.20 GiB (7.76 GiB x 0.9); CUDA graphs "
	    "0.48 GiB come on top of the budget; the largest that fits is 9872\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# max_model_len 23120 (auto, the largest that fits): fits on the "
	    "known facts (unverified): KV 4.23 GiB for 23120 tokens (192.0 KiB/token), of 4.23 GiB left"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# gpu_memory_utilization 0.8475: utilization lowered from 0.95 to "
	    "0.8475 because 0.68 GiB in use by other processes and the CUDA context (0.62 GiB) take their memory "
	    "first, and vLLM refuses to start when free memory is below total x utilization\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# unverified: missing config.json, the weight bytes\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# measured time to first token at 8192 tokens: 412 ms\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# role code: local /mnt/f/models/starcoder2-7b (absent on this "
	    "machine); quantization awq, KV cache dtype auto\n"));
	/* Deterministic: the same plan gives the same bytes. */
	char *again = render(emit_env, &s.plan, &rc);
	CU_ASSERT_STRING_EQUAL(env, again);
	free(again);
	free(env);
}

static void
test_env_hostile_text(void)
{
	struct fix_seed s;
	int rc;
	fix_seed_init(&s);
	s.roles[0].rationale = "ok\nEVIL='1'\r\n# \xe2\x80\xa8OTHER='2'";
	char *env = render(emit_env, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "\n# why: ok EVIL='1'  #  OTHER='2'\n"));
	CU_ASSERT_PTR_NULL(strstr(env, "\nEVIL="));
	free(env);

	/* A value the rule refuses is never written (plan.c reports it at its line first). */
	s.cat.hf_home = "/mnt/${HOME}";
	errno = 0;
	env = render(emit_env, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_PTR_NULL(strstr(env, "${HOME}'"));
	free(env);

	s.cat.hf_home = NULL;
	env = render(emit_env, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NULL(strstr(env, "HF_HOME="));
	CU_ASSERT_PTR_NOT_NULL(strstr(env, "# the catalog sets no hf_home: huggingface_hub's default"));
	free(env);
}

static void
test_env_example(void)
{
	struct fix_seed s;
	int rc;
	fix_seed_init(&s);
	char *ex = render(emit_env_example, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ex, "# LOCAL MODEL STORAGE & INFERENCE\n"));
	/* Every key is documented by name. */
	for (size_t i = 0; emit_env_global_keys[i]; i++) {
		char doc[64];
		snprintf(doc, sizeof doc, "# %s", emit_env_global_keys[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(ex, doc));
	}
	for (size_t i = 0; emit_env_role_suffixes[i]; i++) {
		char doc[64];
		snprintf(doc, sizeof doc, "#   ROLE%s ", emit_env_role_suffixes[i]);
		CU_ASSERT_PTR_NOT_NULL(strstr(ex, doc));
	}
	CU_ASSERT_PTR_NOT_NULL(strstr(ex, "\n# role primary: Strong balanced reasoning, broad ecosystem\n"
	    "PRIMARY_MODEL_ID='hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4'\n"));
	free(ex);
}

static void
test_manifest(void)
{
	struct fix_seed s;
	fix_seed_init(&s);
	char *m = render_manifest(&s.plan, 0);
	/* Sorted keys, two-space indent, files by path, cache names and destinations. */
	CU_ASSERT(starts_with(m, "{\n  \"_generated\": \"generated from models.yaml by modelc; do not edit\",\n"
	    "  \"commit\": \"0123456789abcdef0123456789abcdef01234567\",\n  \"complete\": false,\n"
	    "  \"download\": true,\n  \"files\": [\n    {\n"
	    "      \"blob\": \"0178295f88afc3c7f279ed284f961f8c1be00654\",\n"
	    "      \"blob_id\": \"0178295f88afc3c7f279ed284f961f8c1be00654\",\n"
	    "      \"destination\": \"snapshots/0123456789abcdef0123456789abcdef01234567/config.json\",\n"
	    "      \"lfs\": false,\n      \"path\": \"config.json\",\n      \"sha256\": null,\n"
	    "      \"size\": 1047\n    },\n    {\n"
	    "      \"blob\": \"b2333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7\",\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"repo_folder\": \"models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4\",\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"total_bytes\": 5702155287,\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"unknown\": [\n    \"tokenizer.json: size\",\n    \"tokenizer.json: lfs\"\n  ]\n}\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "      \"blob\": null,\n      \"blob_id\": null,\n"
	    "      \"destination\": \"snapshots/0123456789abcdef0123456789abcdef01234567/tokenizer.json\",\n"
	    "      \"lfs\": null,\n      \"path\": \"tokenizer.json\",\n      \"sha256\": null,\n"
	    "      \"size\": null\n"));
	free(m);

	m = render_manifest(&s.plan, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"commit\": null,\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "\"destination\": null,"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"unknown\": [\n    \"commit\",\n"
	    "    \"files: the lock records a partial list\",\n    \"model.safetensors: sha256\"\n  ]\n"));
	free(m);

	m = render_manifest(&s.plan, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"download\": false,\n  \"files\": [],\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"note\": \"local-only role: nothing to download; the model is read from local_dir\",\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"complete\": true,\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(m, "  \"repo\": null,\n  \"repo_folder\": null,\n"));
	free(m);

	/* Text that is not UTF-8 cannot be JSON: an error, not a corrupt manifest. */
	s.files0[1].path = "bad\xff.json";
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	errno = 0;
	CU_ASSERT_EQUAL(emit_manifest(f, &s.plan, &s.pr[0]), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	fclose(f);
	free(buf);
}

static void
test_budget_txt(void)
{
	struct fix_seed s;
	int rc;
	fix_seed_init(&s);
	char *t = render(emit_budget_txt, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(strncmp(t, "# generated from models.yaml by modelc; do not edit\n", 52), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\nrole primary: hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 at "
	    "0123456789abcdef0123456789abcdef01234567 (quantization awq, KV cache dtype auto)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  weights                     5.32      5714739200  exact\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  KV per token                              131072  formula (128.0 KiB)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  CUDA graphs                 0.48       514850816  calibrated, on top of the budget\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  budget                      7.20      7725907968  CUDA total 7.76 GiB x utilization 0.9\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  max_model_len                               8192  configured; the largest that fits is 9872\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  verdict                                           unverified (missing config.json, the weight bytes)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  download                    5.31      5702155287  4 files, some sizes unknown: at least this\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  measured TTFT                                     412 ms at 8192 tokens\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\n  download                                          nothing (local-only role)\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\ndisk: downloads of all roles at least 12.43 GiB (13344314391 bytes) "
	    "against the disk budget 200.00 GiB (214748364800 bytes): within so far\n"
	    "disk: download sizes not known for primary (modelc lock records them on a machine that "
	    "reaches the Hugging Face Hub)\n"));
	s.cat.disk_budget_bytes = 0;
	free(t);
	t = render(emit_budget_txt, &s.plan, &rc);
	CU_ASSERT_PTR_NOT_NULL(strstr(t, "\ndisk: downloads of all roles at least 12.43 GiB (13344314391 bytes); "
	    "no disk budget set\n"));
	free(t);
}

static void
test_budget_svg(void)
{
	struct fix_seed s;
	int rc;
	fix_seed_init(&s);
	char *svg = render(emit_budget_svg, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">budget 7.20 GiB</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">GPU total 7.76 GiB</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "<title>weights 5.32 GiB</title>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">fits: 8192 tokens (up to 9872 fit); peak "));
	/* The GPU as vLLM fills it: the CUDA context is drawn, the total is on the axis. */
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">CUDA context (outside the budget)</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "font-weight=\"bold\">7.76</text>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "</svg>\n"));
	free(svg);

	/* Names are escaped; different budgets get one line per role. */
	s.cat.gpu_profile = "<a&b \"c\">";
	s.pr[2].result.budget_bytes -= FIX_GIB;
	svg = render(emit_budget_svg, &s.plan, &rc);
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, "&lt;a&amp;b &quot;c&quot;&gt;"));
	CU_ASSERT_PTR_NULL(strstr(svg, ">budget 7.20 GiB</text>"));
	free(svg);

	s.plan.nroles = 0;
	svg = render(emit_budget_svg, &s.plan, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(svg, ">the catalog has no roles</text>"));
	free(svg);
}

/* The plan rendered as a runtime table, then read back by the reader switch uses. */
static char *
render_table(const struct plan *p, size_t *len, struct model_table *t)
{
	char *buf = NULL;
	char why[MODEL_TABLE_WHY_MAX];
	FILE *m = open_memstream(&buf, len);
	CU_ASSERT_EQUAL(emit_table(m, p), 0);
	fclose(m);
	if (model_table_parse(buf, *len, t, why) != 0) {
		fprintf(stderr, "\nthe table: %s\n", why);
		CU_FAIL("the emitted table does not parse");
	}
	return buf;
}

static void
test_table(void)
{
	struct fix_seed s;
	struct model_table t;
	struct model_entry e;
	struct model_file f;
	size_t len;
	fix_seed_init(&s);
	char *bytes = render_table(&s.plan, &len, &t);
	CU_ASSERT_EQUAL(memcmp(bytes, "MODELCTB", 8), 0);
	CU_ASSERT_EQUAL(t.count, 3);
	CU_ASSERT_STRING_EQUAL(t.primary_role, "primary");
	CU_ASSERT_STRING_EQUAL(t.catalog_path, "models.yaml");
	CU_ASSERT_FALSE(t.have_digest);       /* a plan built in code: no sources */
	CU_ASSERT_PTR_NULL(t.catalog.path);
	CU_ASSERT_EQUAL(t.nargs, 2);
	CU_ASSERT_STRING_EQUAL(model_table_arg(&t, 0), "vllm");
	CU_ASSERT_STRING_EQUAL(model_table_arg(&t, 1), "serve");
	CU_ASSERT_STRING_EQUAL(t.hub_cache, "/mnt/f/hf_cache/hub");
	model_table_entry(&t, 0, &e);
	CU_ASSERT_STRING_EQUAL(e.role, "primary");
	model_table_file(&t, e.files_first, &f);
	CU_ASSERT_STRING_EQUAL(f.path, "config.json");
	CU_ASSERT_EQUAL(f.size, 1047);
	bool tokenizer = false;
	for (uint32_t k = 0; k < e.nfiles; k++) {
		model_table_file(&t, e.files_first + k, &f);
		tokenizer |= strcmp(f.path, "tokenizer.json") == 0 && f.size == 0;
	}
	CU_ASSERT(tokenizer);
	CU_ASSERT(e.budget_known);
	CU_ASSERT_EQUAL(e.params.max_num_seqs, 256);
	CU_ASSERT_EQUAL(e.params.max_num_batched_tokens, 2048);
	/* Blob names and hashes stay in the manifests: switch needs only path and size. */
	bool blob = false;
	for (size_t k = 0; k + 40 <= len; k++)
		blob |= memcmp(bytes + k, "0178295f88afc3c7f279ed284f961f8c1be00654", 40) == 0;
	CU_ASSERT_FALSE(blob);
	model_table_entry(&t, 1, &e);
	CU_ASSERT_STRING_EQUAL(e.verdict, "unverified");
	CU_ASSERT_STRING_EQUAL(e.quantization_flag, "bitsandbytes");
	model_table_entry(&t, 2, &e);
	CU_ASSERT_EQUAL(e.nfiles, 0);
	free(bytes);

	/* Strings of any length and any bytes but NUL survive as they are. */
	char *longdir = malloc(5001);
	memset(longdir, 'a', 5000);
	longdir[5000] = '\0';
	longdir[0] = '/';
	longdir[7] = '\n';
	s.roles[2].local = longdir;
	s.pr[2].local_dir = longdir;
	bytes = render_table(&s.plan, &len, &t);
	model_table_entry(&t, 2, &e);
	CU_ASSERT_STRING_EQUAL(e.local_dir, longdir);
	free(bytes);
	free(longdir);
}

/* outdir */

static char scratch[64];

static void
put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", scratch, rel);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static size_t slurp_len;               /* bytes the last slurp read */

static char *
slurp(const char *rel)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", scratch, rel);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	static char buf[65536];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	slurp_len = n;
	fclose(f);
	return buf;
}

/* Entries of scratch (other than "gen"), for checking that temp directories are gone. */
static int
siblings(void)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls -A %s | grep -v '^gen$' | wc -l", scratch);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (fscanf(p, "%d", &n) != 1)
		n = -1;
	pclose(p);
	return n;
}

static char *
diag_text(void (*fn)(struct diag_sink *, void *), void *arg, unsigned *errors)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, m, "modelc");
	fn(&d, arg);
	fclose(m);
	*errors = d.errors;
	return buf;
}

struct write_arg {
	const struct plan *p;
	const char *dir;
	int rc;
};

static void
do_write(struct diag_sink *d, void *arg)
{
	struct write_arg *w = arg;
	w->rc = outdir_write(w->p, w->dir, d);
}

static void
setup_scratch(void)
{
	snprintf(scratch, sizeof scratch, "/tmp/test_emit.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(scratch));
	char cmd[128];
	snprintf(cmd, sizeof cmd, "cd %s && mkdir gen && echo keep me > gen/README.md", scratch);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void
cleanup_scratch(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void
test_outdir_replace(void)
{
	struct fix_seed s;
	char dir[128];
	unsigned errors;
	fix_seed_init(&s);
	setup_scratch();
	snprintf(dir, sizeof dir, "%s/gen/", scratch);  /* a trailing slash is fine */
	put("gen/budget.txt", "old\n");
	CU_ASSERT_EQUAL(mkdir(strcat(strcpy((char[256]){0}, scratch), "/gen/manifests"), 0755), 0);
	put("gen/manifests/removed_role.json", "{}\n");

	struct write_arg w = {&s.plan, dir, -1};
	char *msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
	free(msg);
	CU_ASSERT_STRING_EQUAL(slurp("gen/README.md"), "keep me\n");
	CU_ASSERT_EQUAL(strncmp(slurp("gen/budget.txt"), "# generated from", 16), 0);
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/.env"));
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/.env.example"));
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/budget.svg"));
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/switch.table"));
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/manifests/primary.json"));
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/manifests/lightweight.json"));
	CU_ASSERT_PTR_NOT_NULL(slurp("gen/manifests/code.json"));
	/* The old set is gone as a whole: a role removed from the catalog loses its manifest. */
	CU_ASSERT_PTR_NULL(slurp("gen/manifests/removed_role.json"));
	CU_ASSERT_EQUAL(siblings(), 0);

	/* Same plan, same bytes (a plan built in code has no build time). */
	static char first[65536];
	size_t first_len = slurp_len, table_len;
	memcpy(first, slurp("gen/switch.table"), sizeof first);
	first_len = slurp_len;
	w.rc = -1;
	msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_EQUAL(w.rc, 0);
	free(msg);
	const char *again = slurp("gen/switch.table");
	table_len = slurp_len;
	CU_ASSERT(first_len > 0 && first_len == table_len && memcmp(first, again, table_len) == 0);

	/* What a killed build left next to the directory is removed; look-alikes are not. */
	char cmd[512];
	snprintf(cmd, sizeof cmd, "cd %s && mkdir -p gen.tmp.abc123/manifests gen.old.zzzzzz "
	    "gen.tmp.notours && touch gen.tmp.abc123/.env gen.tmp.abc123/manifests/x.json", scratch);
	CU_ASSERT_EQUAL(system(cmd), 0);
	w.rc = -1;
	msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT_STRING_EQUAL(msg, "");
	free(msg);
	CU_ASSERT_EQUAL(siblings(), 1);
	snprintf(cmd, sizeof cmd, "test -d %s/gen.tmp.notours && rmdir %s/gen.tmp.notours", scratch, scratch);
	CU_ASSERT_EQUAL(system(cmd), 0);

	/* A directory that does not exist yet is created. */
	snprintf(dir, sizeof dir, "%s/fresh", scratch);
	w.rc = -1;
	msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_EQUAL(w.rc, 0);
	free(msg);
	CU_ASSERT_PTR_NOT_NULL(slurp("fresh/.env"));
	CU_ASSERT_PTR_NULL(slurp("fresh/README.md"));
	cleanup_scratch();
}

static void
test_outdir_refuses(void)
{
	struct fix_seed s;
	char dir[128], want[512];
	unsigned errors;
	fix_seed_init(&s);
	setup_scratch();
	snprintf(dir, sizeof dir, "%s/gen", scratch);
	struct write_arg w = {&s.plan, dir, -1};

	put("gen/notes.txt", "mine\n");
	char *msg = diag_text(do_write, &w, &errors);
	snprintf(want, sizeof want, "modelc: %s: error: holds 'notes.txt', which modelc does not write; "
	    "refusing to replace it (move it away or choose another -o)\n", dir);
	CU_ASSERT_EQUAL(w.rc, 3);
	CU_ASSERT_STRING_EQUAL(msg, want);
	CU_ASSERT_STRING_EQUAL(slurp("gen/notes.txt"), "mine\n");
	CU_ASSERT_EQUAL(siblings(), 0);
	free(msg);
	unlink(strcat(strcpy((char[256]){0}, dir), "/notes.txt"));

	CU_ASSERT_EQUAL(mkdir(strcat(strcpy((char[256]){0}, dir), "/manifests"), 0755), 0);
	put("gen/manifests/x.txt", "mine\n");
	msg = diag_text(do_write, &w, &errors);
	snprintf(want, sizeof want, "modelc: %s: error: holds 'manifests/x.txt', which modelc does not "
	    "write; refusing to replace it (move it away or choose another -o)\n", dir);
	CU_ASSERT_EQUAL(w.rc, 3);
	CU_ASSERT_STRING_EQUAL(msg, want);
	free(msg);

	/* A symbolic link, a regular file, the current directory. */
	char link[128];
	snprintf(link, sizeof link, "%s/link", scratch);
	CU_ASSERT_EQUAL(symlink("gen", link), 0);
	w.dir = link;
	msg = diag_text(do_write, &w, &errors);
	snprintf(want, sizeof want, "modelc: %s: error: is a symbolic link; modelc replaces the directory "
	    "itself, so give -o the directory it points to\n", link);
	CU_ASSERT_STRING_EQUAL(msg, want);
	CU_ASSERT_EQUAL(w.rc, 3);
	free(msg);

	snprintf(link, sizeof link, "%s/gen/README.md", scratch);
	w.dir = link;
	msg = diag_text(do_write, &w, &errors);
	snprintf(want, sizeof want, "modelc: %s: error: exists and is not a directory\n", link);
	CU_ASSERT_STRING_EQUAL(msg, want);
	free(msg);

	w.dir = ".";
	msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_STRING_EQUAL(msg, "modelc: .: error: cannot be the output directory: modelc replaces "
	    "it as a whole, so it needs a directory of its own\n");
	CU_ASSERT_EQUAL(w.rc, 3);
	free(msg);

	/* Missing parents are created; a parent that is a file stops it. */
	snprintf(link, sizeof link, "%s/new/parents/gen", scratch);
	w.dir = link;
	msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_STRING_EQUAL(msg, "");
	CU_ASSERT_EQUAL(w.rc, 0);
	CU_ASSERT_PTR_NOT_NULL(slurp("new/parents/gen/.env"));
	free(msg);
	snprintf(link, sizeof link, "%s/gen/README.md/sub/gen", scratch);
	msg = diag_text(do_write, &w, &errors);
	snprintf(want, sizeof want, "modelc: %s/gen/README.md/sub: error: cannot create the directory: "
	    "Not a directory\n", scratch);
	CU_ASSERT_STRING_EQUAL(msg, want);
	CU_ASSERT_EQUAL(w.rc, 3);
	free(msg);
	/* mkdtemp's own failure names the template, not the random name it tried. */
	char longname[400];
	int k = snprintf(longname, sizeof longname, "%s/", scratch);
	memset(longname + k, 'g', 250);
	longname[k + 250] = '\0';
	w.dir = longname;
	msg = diag_text(do_write, &w, &errors);
	snprintf(want, sizeof want, "modelc: %s.tmp.XXXXXX: error: cannot create the directory: File "
	    "name too long\n", longname);
	CU_ASSERT_STRING_EQUAL(msg, want);
	CU_ASSERT_EQUAL(w.rc, 3);
	free(msg);

	/* A value the .env rule refuses: nothing rendered, nothing replaced. */
	s.cat.hf_home = "/x/${HOME}";
	w.dir = dir;
	msg = diag_text(do_write, &w, &errors);
	CU_ASSERT_STRING_EQUAL(msg, "modelc: .env: error: cannot render: Invalid argument\n");
	CU_ASSERT_EQUAL(w.rc, 3);
	free(msg);
	cleanup_scratch();
}

/* A write that fails halfway (file size limit) leaves the old set and no temporary directory. */
static void
test_outdir_write_fails(void)
{
	struct fix_seed s;
	char dir[128], want[512];
	unsigned errors;
	fix_seed_init(&s);
	setup_scratch();
	snprintf(dir, sizeof dir, "%s/gen", scratch);
	put("gen/.env", "OLD='1'\n");
	struct write_arg w = {&s.plan, dir, -1};

	struct rlimit saved, lim;
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &saved), 0);
	lim = saved;
	lim.rlim_cur = 2000;
	void (*old)(int) = signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	char *msg = diag_text(do_write, &w, &errors);
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, old);

	CU_ASSERT_EQUAL(w.rc, 3);
	CU_ASSERT_EQUAL(errors, 1);
	/* The first file over 2000 bytes, in path order, is .env; its temp path is reported. */
	snprintf(want, sizeof want, "modelc: %s.tmp.", dir);
	CU_ASSERT_EQUAL(strncmp(msg, want, strlen(want)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "/.env: error: cannot write: File too large\n"));
	free(msg);
	CU_ASSERT_STRING_EQUAL(slurp("gen/.env"), "OLD='1'\n");
	CU_ASSERT_STRING_EQUAL(slurp("gen/README.md"), "keep me\n");
	CU_ASSERT_EQUAL(siblings(), 0);
	cleanup_scratch();
}

/* Read all of dirfd/name into buf; its length, or -1 (ENOENT when the set was just removed). */
static ssize_t
read_at(int dirfd, const char *name, char *buf, size_t cap)
{
	int fd = openat(dirfd, name, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r;
	while (n < cap && (r = read(fd, buf + n, cap - n)) > 0)
		n += (size_t)r;
	close(fd);
	return (ssize_t)n;
}

/*
 * While a child replaces the set again and again with two different plans, a reader that
 * opens the directory once and then reads two files from it never gets one file of each.
 */
static void
test_outdir_readers(void)
{
	struct fix_seed s;
	char dir[128];
	static char env[65536], table[65536];
	fix_seed_init(&s);
	setup_scratch();
	snprintf(dir, sizeof dir, "%s/gen", scratch);
	struct diag_sink d;
	diag_init(&d, stderr, "modelc");
	CU_ASSERT_EQUAL_FATAL(outdir_write(&s.plan, dir, &d), 0);

	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		int bad = 0;
		for (int i = 0; i < 60 && !bad; i++) {
			s.cat.hf_home = i % 2 ? "/gen/odd" : "/gen/even";
			bad = outdir_write(&s.plan, dir, &d) != 0;
		}
		_exit(bad);
	}
	int status, reads = 0, mixed = 0, partial = 0;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);
		if (dfd < 0)
			continue;
		ssize_t ne = read_at(dfd, ".env", env, sizeof env - 1);
		ssize_t nt = read_at(dfd, "switch.table", table, sizeof table);
		close(dfd);
		if (ne < 0 || nt < 0)
			continue;
		env[ne] = '\0';
		reads++;
		struct model_table t;
		char why[MODEL_TABLE_WHY_MAX];
		if (!strstr(env, "CODE_REVISION=''\n") || model_table_parse(table, (size_t)nt, &t, why) != 0 ||
		    t.count != 3) {
			partial++;
			continue;
		}
		int env_odd = strstr(env, "HF_HOME='/gen/odd'") != NULL;
		int table_odd = strcmp(t.hf_home, "/gen/odd") == 0;
		if (env_odd != table_odd)
			mixed++;
	}
	CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CU_ASSERT(reads > 0);
	CU_ASSERT_EQUAL(partial, 0);
	CU_ASSERT_EQUAL(mixed, 0);
	CU_ASSERT_EQUAL(siblings(), 0);
	cleanup_scratch();
}

void
suite_emit(void)
{
	CU_pSuite s = CU_add_suite("emit", NULL, NULL);
	CU_add_test(s, "numbers", test_numbers);
	CU_add_test(s, "line_text", test_line_text);
	CU_add_test(s, "env", test_env);
	CU_add_test(s, "env_hostile_text", test_env_hostile_text);
	CU_add_test(s, "env_example", test_env_example);
	CU_add_test(s, "manifest", test_manifest);
	CU_add_test(s, "budget_txt", test_budget_txt);
	CU_add_test(s, "budget_svg", test_budget_svg);
	CU_add_test(s, "table", test_table);
	CU_add_test(s, "outdir_replace", test_outdir_replace);
	CU_add_test(s, "outdir_refuses", test_outdir_refuses);
	CU_add_test(s, "outdir_write_fails", test_outdir_write_fails);
	CU_add_test(s, "outdir_readers", test_outdir_readers);
}
