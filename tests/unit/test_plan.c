/*
 * plan_build on hand-built catalogs and locks: every rule's diagnostic, checked with
 * fnmatch patterns so that a recalibrated estimator changes numbers, not these tests.
 */
#include <CUnit/CUnit.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit_common.h"
#include "plan.h"
#include "size.h"

void suite_plan(void);

static const struct budget_arch llama = {.layers = 32, .attention_heads = 32, .kv_heads = 8,
	.head_dim = 128, .hidden_size = 4096, .intermediate_size = 14336, .vocab_size = 128256,
	.max_position_embeddings = 131072, .dtype_bytes = 2};

static const struct budget_arch qwen = {.layers = 28, .attention_heads = 28, .kv_heads = 4,
	.head_dim = 128, .hidden_size = 3584, .intermediate_size = 18944, .vocab_size = 152064,
	.max_position_embeddings = 32768, .dtype_bytes = 2};

static void
base_catalog(struct catalog *c, struct catalog_role *roles, size_t n)
{
	memset(c, 0, sizeof *c);
	c->path = "models.yaml";
	c->gpu_profile = "test-8gb";
	c->gpu_total_bytes = 8 * SIZE_GIB;
	c->gpu_memory_utilization = 0.9;
	c->max_num_seqs = 4;
	c->enforce_eager = true;
	c->engine = BUDGET_ENGINE_V1;
	c->generation = BUDGET_GEN_V1;      /* the rules of the calibrated V1 cases (graphs on top) */
	c->hf_home = "/mnt/f/hf_cache";
	c->hub_cache = "/mnt/f/hf_cache/hub";
	c->roles = roles;
	c->nroles = n;
	for (size_t i = 0; i < n; i++) {
		if (!roles[i].revision && roles[i].repo)
			roles[i].revision = "main";
		if (!roles[i].kv_cache_dtype)
			roles[i].kv_cache_dtype = "auto";
		if (!roles[i].quantization)
			roles[i].quantization = "none";
	}
}

static struct lock_model
entry(const char *key, const char *repo, const struct budget_arch *arch, uint64_t weights)
{
	struct lock_model m;
	memset(&m, 0, sizeof m);
	m.key = key;
	m.repo = repo;
	m.revision = repo ? "main" : NULL;
	if (arch) {
		m.has_config = true;
		m.arch = *arch;
	}
	m.weights_bytes.known = weights != 0;
	m.weights_bytes.value = weights;
	return m;
}

static int
cmp_model(const void *a, const void *b)
{
	return strcmp(((const struct lock_model *)a)->key, ((const struct lock_model *)b)->key);
}

/* Run plan_build and return its diagnostics (a static buffer). */
static const char *
plan_try(const struct catalog *c, struct lock_model *models, size_t n, struct plan *p, struct arena *a,
    int *rc)
{
	static char out[8192];
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, m, "modelc");
	if (n)
		qsort(models, n, sizeof *models, cmp_model);
	struct lock l = {.path = "models.lock", .models = models, .nmodels = n};
	*rc = plan_build(a, &d, c, &l, p);
	fclose(m);
	snprintf(out, sizeof out, "%s", buf ? buf : "");
	free(buf);
	return out;
}

/* Each line of got matches the fnmatch pattern on the same line of want. */
static int
lines_match(const char *got, const char *want)
{
	char g[1024], w[1024];
	for (;;) {
		size_t gn = strcspn(got, "\n"), wn = strcspn(want, "\n");
		if (!*got && !*want)
			return 1;
		if (!*got || !*want || gn >= sizeof g || wn >= sizeof w)
			break;
		memcpy(g, got, gn);
		g[gn] = 0;
		memcpy(w, want, wn);
		w[wn] = 0;
		if (fnmatch(w, g, FNM_NOESCAPE) != 0)
			break;
		got += gn + (got[gn] == '\n');
		want += wn + (want[wn] == '\n');
	}
	return 0;
}

static void
expect(const char *got, const char *want)
{
	if (!lines_match(got, want))
		fprintf(stderr, "\n--- got:\n%s--- want:\n%s", got, want);
	CU_ASSERT(lines_match(got, want));
}

/* A 4-bit role with exact weights from the lock fits with an automatic context. */
static void
test_fits_auto(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {{.name = "secondary", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ",
		.quantization = "awq", .max_model_len_auto = true}};
	struct catalog c;
	base_catalog(&c, roles, 1);
	struct lock_model m[] = {entry("Qwen/Qwen2.5-7B-Instruct-AWQ@main", "Qwen/Qwen2.5-7B-Instruct-AWQ",
		&qwen, 5600000000ULL)};
	m[0].quantization_config = "{\"quant_method\":\"awq\"}";
	m[0].files_complete = true;
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 1, &p, &a, &rc);
	expect(out, "");
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(p.roles[0].verified);
	CU_ASSERT(p.roles[0].result.fits);
	CU_ASSERT(p.roles[0].max_model_len > 0 && p.roles[0].max_model_len <= 32768);
	CU_ASSERT_STRING_EQUAL(p.roles[0].env_prefix, "SECONDARY");
	CU_ASSERT_STRING_EQUAL(p.roles[0].dtype, "half");
	CU_ASSERT_EQUAL(p.roles[0].result.weights_source, BUDGET_EXACT);
	arena_free(&a);
}

/* The seed's facts: bf16 Llama 3.1 8B does not fit 8 GB at all; the ways out are named. */
static void
test_does_not_fit(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {
		{.name = "primary", .repo = "meta-llama/Llama-3.1-8B-Instruct", .max_model_len_auto = true},
		{.name = "secondary", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ", .quantization = "awq",
		    .max_model_len = 32768},
		{.name = "tiny", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ", .quantization = "awq",
		    .max_model_len = 65536},
	};
	struct catalog c;
	base_catalog(&c, roles, 3);
	c.max_num_seqs = 0; /* vLLM's default for the GPU size */
	struct lock_model m[] = {
		entry("meta-llama/Llama-3.1-8B-Instruct@main", "meta-llama/Llama-3.1-8B-Instruct", &llama,
		    16060522496ULL),
		entry("Qwen/Qwen2.5-7B-Instruct-AWQ@main", "Qwen/Qwen2.5-7B-Instruct-AWQ", &qwen, 5600000000ULL),
	};
	m[0].files_complete = m[1].files_complete = true;
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 2, &p, &a, &rc);
	expect(out,
	    "modelc: models.yaml: error: roles.primary: does not fit at any context: needs * GiB before the KV cache, budget is * GiB\n"
	    "modelc: models.yaml: note: a 4-bit AWQ checkpoint of this model fits * tokens\n"
	    "modelc: models.yaml: error: roles.secondary: needs * GiB at max_model_len 32768, budget is * GiB\n"
	    "modelc: models.yaml: note: the largest context that fits is * tokens\n"
	    "modelc: models.yaml: note: kv_cache_dtype: fp8 fits * tokens\n"
	    "modelc: models.yaml: note: max_num_seqs: 1 fits * tokens\n"
	    "modelc: models.yaml: error: roles.tiny.max_model_len: 65536 is more than the model's max_position_embeddings 32768\n");
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_FALSE(p.roles[0].result.fits);
	arena_free(&a);
}

/* Stale lock both ways, a missing local directory, and facts that are only assumed. */
static void
test_stale_and_unverified(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {
		{.name = "primary", .repo = "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4",
		    .local = "/nonexistent/llama-awq", .quantization = "awq", .max_model_len_auto = true},
		{.name = "math", .repo = "mistralai/Mathstral-7B-v0.1", .revision = "v2", .max_model_len = 4096},
		{.name = "code", .local = "/nonexistent/starcoder2-7b", .quantization = "bitsandbytes",
		    .max_model_len = 4096},
	};
	struct catalog c;
	base_catalog(&c, roles, 3);
	c.gpu_total_estimated = true;
	struct lock_model m[] = {
		entry("meta-llama/Llama-3.1-8B-Instruct@main", "meta-llama/Llama-3.1-8B-Instruct", &llama,
		    16060522496ULL),
		entry("hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4@main",
		    "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4", NULL, 0),
		entry("mistralai/Mathstral-7B-v0.1@main", "mistralai/Mathstral-7B-v0.1", NULL, 0),
		entry("local:/nonexistent/starcoder2-7b", NULL, NULL, 0),
	};
	m[1].config_from = "meta-llama/Llama-3.1-8B-Instruct@main";
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 4, &p, &a, &rc);
	expect(out,
	    "modelc: models.yaml: note: roles.primary.local: '/nonexistent/llama-awq' does not exist on this machine; facts come from models.lock\n"
	    "modelc: models.yaml: warning: roles.primary: unverified: config.json of this repo (assumed the same as 'meta-llama/Llama-3.1-8B-Instruct@main'); the complete file list (download size); exact weight bytes (computed from the architecture); the GPU's total (profile 'test-8gb' is an estimate; give gpu.memory); run 'modelc lock primary' on a machine that reaches the Hugging Face Hub; 'switch gpu' measures gpu.memory on the GPU host\n"
	    "modelc: models.yaml: error: roles.math: models.lock has no entry for 'mistralai/Mathstral-7B-v0.1@v2'; run 'modelc lock math'\n"
	    "modelc: models.yaml: note: roles.code.local: '/nonexistent/starcoder2-7b' does not exist on this machine; facts come from models.lock\n"
	    "modelc: models.yaml: warning: roles.code: unverified: config.json (architecture unknown); the complete file list (download size); the weight size (no exact bytes, no architecture to compute them); the GPU's total (profile 'test-8gb' is an estimate; give gpu.memory); run 'modelc lock code' on a machine that reaches the Hugging Face Hub; 'switch gpu' measures gpu.memory on the GPU host\n"
	    "modelc: models.lock: warning: entry 'mistralai/Mathstral-7B-v0.1@main' is used by no role; run 'modelc lock' to drop it\n");
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT_FALSE(p.roles[0].verified);
	CU_ASSERT_STRING_EQUAL(p.roles[0].model_id, "hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4");
	CU_ASSERT_EQUAL(p.roles[0].result.weights_source, BUDGET_FORMULA);
	CU_ASSERT(p.roles[0].result.fits);
	CU_ASSERT_STRING_EQUAL(p.roles[2].quantization_flag, "bitsandbytes");
	CU_ASSERT_EQUAL(p.roles[2].max_model_len, 4096);
	arena_free(&a);
}

/*
 * One utilization rule for every role: memory in use lowers it for a role whose budget cannot
 * be computed (no config.json) exactly as vLLM's start-up check would, not only for the fitted
 * ones (the math role used to keep 0.9 beside others lowered to 0.82, and vLLM refused it).
 */
static void
test_utilization_rule(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {
		{.name = "primary", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ", .quantization = "awq",
		    .max_model_len_auto = true},
		{.name = "math", .repo = "mistralai/Mathstral-7B-v0.1", .quantization = "bitsandbytes",
		    .max_model_len_auto = true},
		{.name = "own", .repo = "mistralai/Mathstral-7B-v0.1", .quantization = "bitsandbytes",
		    .max_model_len_auto = true, .gpu_memory_utilization = 0.5},
	};
	struct catalog c;
	base_catalog(&c, roles, 3);
	c.gpu_used_bytes = SIZE_GIB;
	struct lock_model m[] = {
		entry("Qwen/Qwen2.5-7B-Instruct-AWQ@main", "Qwen/Qwen2.5-7B-Instruct-AWQ", &qwen, 5600000000ULL),
		entry("mistralai/Mathstral-7B-v0.1@main", "mistralai/Mathstral-7B-v0.1", NULL, 0),
	};
	m[0].files_complete = m[1].files_complete = true;
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 2, &p, &a, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	/* (8 GiB - 1 GiB in use - 640 MiB of CUDA context) / 8 GiB = 0.796875, down to 4 decimals. */
	CU_ASSERT_DOUBLE_EQUAL(p.roles[0].result.utilization, 0.7968, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(p.roles[1].result.utilization, 0.7968, 1e-9);
	CU_ASSERT_EQUAL(p.roles[1].result.utilization_reason, BUDGET_LOWERED_IN_USE);
	CU_ASSERT_EQUAL(p.roles[1].max_model_len, 0);
	CU_ASSERT_DOUBLE_EQUAL(emit_role_utilization(&p, &p.roles[1]), 0.7968, 1e-9);
	/* A role's own utilization is its input, and needs no lowering here. */
	CU_ASSERT_DOUBLE_EQUAL(p.roles[2].result.utilization, 0.5, 1e-9);
	CU_ASSERT_FALSE(p.roles[2].result.utilization_lowered);
	CU_ASSERT(strstr(out, "modelc: models.yaml: note: roles.math: gpu_memory_utilization lowered from 0.9 to "
	    "0.7968 because 1.00 GiB in use by other processes and the CUDA context (0.62 GiB) take their "
	    "memory first, and vLLM refuses to start when free memory is below total x utilization\n") != NULL);
	CU_ASSERT(strstr(out, "roles.own: gpu_memory_utilization") == NULL);
	arena_free(&a);
}

/* One list of KV cache dtypes: float32 is no vLLM choice, refused as the schema refuses it. */
static void
test_kv_cache_dtype(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {{.name = "primary", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ",
		.quantization = "awq", .max_model_len = 4096, .kv_cache_dtype = "float32"}};
	struct catalog c;
	base_catalog(&c, roles, 1);
	struct lock_model m[] = {entry("Qwen/Qwen2.5-7B-Instruct-AWQ@main", "Qwen/Qwen2.5-7B-Instruct-AWQ", &qwen,
		5600000000ULL)};
	m[0].files_complete = true;
	struct plan p;
	int rc;
	expect(plan_try(&c, m, 1, &p, &a, &rc), "modelc: models.yaml: error: roles.primary.kv_cache_dtype: 'float32' "
	    "is not one of auto, bfloat16, float16, fp8, fp8_e4m3, fp8_e5m2, fp8_inc\n");
	CU_ASSERT_EQUAL(rc, 1);
	roles[0].kv_cache_dtype = "fp8_e5m2";
	expect(plan_try(&c, m, 1, &p, &a, &rc), "");
	CU_ASSERT_EQUAL(p.roles[0].params.kv_dtype_bytes, 1);
	arena_free(&a);
}

/* .env: a role whose keys collide with global ones, values the rule cannot write, the disk rule. */
static void
test_env_and_disk(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {
		{.name = "vllm", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ", .quantization = "awq",
		    .max_model_len = 4096},
		{.name = "other", .repo = "Qwen/Qwen2.5-7B-Instruct-AWQ", .quantization = "awq",
		    .local = "/mnt/${USER}/models", .max_model_len = 4096},
	};
	struct catalog c;
	base_catalog(&c, roles, 2);
	c.hf_home = "/mnt/f/it's \"here\"";
	c.disk_budget_bytes = SIZE_GIB;
	c.gpu_used_bytes = SIZE_GIB;
	struct lock_model m[] = {
		entry("Qwen/Qwen2.5-7B-Instruct-AWQ@main", "Qwen/Qwen2.5-7B-Instruct-AWQ", &qwen, 5600000000ULL),
	};
	struct lock_file files[] = {
		{"model.safetensors", {true, 5600000000ULL}, 1, NULL, NULL},
		{"README.md", {true, 6000}, 0, NULL, NULL},
		{"original/consolidated.00.pth", {true, 16000000000ULL}, 1, NULL, NULL},
		{"pytorch_model.bin", {true, 16000000000ULL}, 1, NULL, NULL},
		{"config.json", {true, 663}, 0, NULL, NULL},
	};
	m[0].files = files;
	m[0].nfiles = 5;
	m[0].files_complete = true;
	m[0].quantization_config = "{\"quant_method\":\"awq\"}";
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 1, &p, &a, &rc);
	expect(out,
	    "modelc: models.yaml: note: roles.vllm: gpu_memory_utilization lowered from 0.9 to * because 1.00 GiB in use by other processes and the CUDA context (0.62 GiB) take their memory first, and vLLM refuses to start when free memory is below total x utilization\n"
	    "modelc: models.yaml: note: roles.other.local: '/mnt/${USER}/models' does not exist on this machine; facts come from models.lock\n"
	    "modelc: models.yaml: note: roles.other: gpu_memory_utilization lowered from 0.9 to * because 1.00 GiB in use by other processes and the CUDA context (0.62 GiB) take their memory first, and vLLM refuses to start when free memory is below total x utilization\n"
	    "modelc: models.yaml: error: roles.vllm: .env key 'VLLM_*' collides with a global key\n"
	    "modelc: models.yaml: error: storage.hf_home: cannot be written to .env as HF_HOME: mixes a single quote with '\"', '\\', '$' or '`', which no quoting reads the same everywhere\n"
	    "modelc: models.yaml: error: roles.other.local: cannot be written to .env as OTHER_MODEL_LOCAL: contains '${', which python-dotenv expands even inside quotes\n"
	    "modelc: models.yaml: error: storage.disk_budget: the roles download 5.22 GiB, more than the disk budget of 1.00 GiB\n");
	CU_ASSERT_EQUAL(rc, 1);
	/* The manifest keeps what serving needs only. */
	CU_ASSERT_EQUAL(p.roles[0].nfiles, 2);
	CU_ASSERT_STRING_EQUAL(p.roles[0].files[0].path, "model.safetensors");
	CU_ASSERT_STRING_EQUAL(p.roles[0].files[1].path, "config.json");
	CU_ASSERT(p.roles[0].download_bytes_complete);
	CU_ASSERT_EQUAL(p.download_bytes, 5600000663ULL); /* one repo, counted once */
	arena_free(&a);
}

/* A local directory that exists is read from disk; a broken one is a warning, not a guess. */
static void
test_local_dir(void)
{
	struct arena a = {0};
	char dir[] = "/tmp/modelc-plan-XXXXXX";
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof path, "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"num_hidden_layers\": 28, \"num_attention_heads\": 28}", f);
	fclose(f);
	struct catalog_role roles[] = {{.name = "local", .local = dir, .max_model_len = 4096}};
	struct catalog c;
	base_catalog(&c, roles, 1);
	struct plan p;
	int rc;
	const char *out = plan_try(&c, NULL, 0, &p, &a, &rc);
	char want[1024];
	snprintf(want, sizeof want,
	    "modelc: models.yaml: warning: roles.local.local: %s/config.json: 'hidden_size' is missing or not a positive integer\n"
	    "modelc: models.yaml: error: roles.local: models.lock has no entry for 'local:%s'; run 'modelc lock local'\n",
	    dir, dir);
	expect(out, want);
	CU_ASSERT_EQUAL(rc, 1);
	CU_ASSERT(p.roles[0].local_present);
	unlink(path);
	rmdir(dir);
	arena_free(&a);
}

/* A present directory with config.json and a safetensors shard needs no lock entry: exact bytes. */
static void
test_local_dir_read(void)
{
	struct arena a = {0};
	char dir[] = "/tmp/modelc-plan-XXXXXX";
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	char path[128], shard[128];
	snprintf(path, sizeof path, "%s/config.json", dir);
	FILE *f = fopen(path, "w");
	fputs("{\"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
	    " \"hidden_size\": 256, \"intermediate_size\": 512, \"vocab_size\": 1000,"
	    " \"max_position_embeddings\": 4096, \"torch_dtype\": \"bfloat16\"}", f);
	fclose(f);
	snprintf(shard, sizeof shard, "%s/model.safetensors", dir);
	f = fopen(shard, "wb");
	static const char hdr[] = "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,8]}}";
	unsigned char len[8] = {sizeof hdr - 1, 0, 0, 0, 0, 0, 0, 0};
	fwrite(len, 1, 8, f);
	fwrite(hdr, 1, sizeof hdr - 1, f);
	fwrite("\0\0\0\0\0\0\0\0", 1, 8, f);
	fclose(f);
	struct catalog_role roles[] = {{.name = "tiny", .local = dir, .max_model_len_auto = true}};
	struct catalog c;
	base_catalog(&c, roles, 1);
	struct plan p;
	int rc;
	const char *out = plan_try(&c, NULL, 0, &p, &a, &rc);
	/* 8 bytes of weights: far below any calibrated case, so the margin widens. */
	expect(out, "modelc: models.yaml: note: roles.tiny: outside the calibrated evidence (weights "
	    "0.00 GiB outside the calibrated *-* GiB): the margin widens by *% of the KV cache\n");
	CU_ASSERT(p.roles[0].result.evidence_gaps == BUDGET_EVIDENCE_SIZE);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(p.roles[0].local_present);
	CU_ASSERT_STRING_EQUAL(p.roles[0].model_id, dir);
	CU_ASSERT_EQUAL(p.roles[0].result.weights_bytes, 8);
	CU_ASSERT_EQUAL(p.roles[0].result.weights_source, BUDGET_EXACT);
	CU_ASSERT_EQUAL(p.roles[0].max_model_len, 4096);
	/* NF4 applied by vLLM while loading: the 16-bit shard's exact size is not what loads. */
	roles[0].quantization = "bitsandbytes";
	out = plan_try(&c, NULL, 0, &p, &a, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(p.roles[0].weights_in_flight);
	CU_ASSERT_STRING_EQUAL(p.roles[0].quantization_flag, "bitsandbytes");
	CU_ASSERT_EQUAL(p.roles[0].result.weights_source, BUDGET_FORMULA);
	CU_ASSERT_NOT_EQUAL(p.roles[0].result.weights_bytes, 8);
	unlink(path);
	unlink(shard);
	rmdir(dir);
	arena_free(&a);
}

/*
 * An adopted role (repo + local, what 'modelc adopt' writes) on a machine without the directory:
 * the local:DIR entry's config, exact weights and files win; the repo stays the download source.
 */
static void
test_adopted_local_entry(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {{.name = "primary", .repo = "meta-llama/Llama-3.1-8B-Instruct",
		.local = "/nonexistent/llama-awq", .quantization = "awq", .max_model_len = 4096}};
	struct catalog c;
	base_catalog(&c, roles, 1);
	struct lock_file repo_files[] = {
		{.path = "config.json", .size = {true, 855}, .lfs = 0},
		{.path = "model-00001-of-00004.safetensors", .size = {true, 4976698672ULL}, .lfs = 1},
	};
	struct lock_file local_files[] = {
		{.path = "config.json", .size = {true, 900}, .lfs = -1},
		{.path = "model.safetensors", .size = {true, 5727854592ULL + 4096}, .lfs = -1},
		{.path = "tokenizer.json", .size = {true, 9085657}, .lfs = -1},
	};
	struct lock_model m[] = {
		entry("meta-llama/Llama-3.1-8B-Instruct@main", "meta-llama/Llama-3.1-8B-Instruct", &llama,
		    16060522496ULL),
		entry("local:/nonexistent/llama-awq", NULL, &llama, 5727854592ULL),
	};
	m[0].files = repo_files;
	m[0].nfiles = 2;
	m[0].files_complete = true;
	m[1].files = local_files;
	m[1].nfiles = 3;
	m[1].files_complete = true;
	m[1].quantization_config = "{\"quant_method\":\"awq\"}";
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 2, &p, &a, &rc);
	expect(out,
	    "modelc: models.yaml: note: roles.primary.local: '/nonexistent/llama-awq' does not exist on this machine; facts come from models.lock\n");
	CU_ASSERT_EQUAL(rc, 0);
	const struct plan_role *r = &p.roles[0];
	CU_ASSERT(r->verified);
	CU_ASSERT(r->result.fits);
	CU_ASSERT_FALSE(r->weights_in_flight);
	CU_ASSERT_PTR_NULL(r->quantization_flag);
	CU_ASSERT_EQUAL(r->result.weights_source, BUDGET_EXACT);
	CU_ASSERT_EQUAL(r->result.weights_bytes, 5727854592ULL);
	CU_ASSERT_STRING_EQUAL(r->lock->key, "meta-llama/Llama-3.1-8B-Instruct@main");
	CU_ASSERT_STRING_EQUAL(r->facts->key, "local:/nonexistent/llama-awq");
	CU_ASSERT_EQUAL(r->nfiles, 2);          /* the download source's files */
	CU_ASSERT_EQUAL(r->download_bytes, 855 + 4976698672ULL);
	CU_ASSERT_EQUAL(r->nlocal_files, 3);    /* the directory's, for switch's presence check */
	/* Without the local entry: the repo's 16-bit facts, as before (plan_try sorted m by key). */
	CU_ASSERT_STRING_EQUAL_FATAL(m[0].key, "local:/nonexistent/llama-awq");
	m[0].key = "local:/elsewhere";
	out = plan_try(&c, m, 2, &p, &a, &rc);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "entry 'local:/elsewhere' is used by no role"));
	CU_ASSERT_STRING_EQUAL(p.roles[0].facts->key, "meta-llama/Llama-3.1-8B-Instruct@main");
	CU_ASSERT_EQUAL(p.roles[0].nlocal_files, 0);
	arena_free(&a);
}

/*
 * compressed-tensors (what llm-compressor writes, so every adopted role): a known format, from
 * the catalog's quant-formats.json entry when loaded, else the built-in one; never unverified.
 */
static void
test_compressed_tensors(void)
{
	struct arena a = {0};
	struct catalog_role roles[] = {{.name = "primary", .repo = "meta-llama/Llama-3.1-8B-Instruct",
		.quantization = "compressed-tensors", .max_model_len = 4096}};
	struct catalog c;
	base_catalog(&c, roles, 1);
	struct lock_model m[] = {entry("meta-llama/Llama-3.1-8B-Instruct@main",
		"meta-llama/Llama-3.1-8B-Instruct", &llama, 0)};
	m[0].files_complete = true;
	m[0].quantization_config = "{\"quant_method\":\"compressed-tensors\"}";
	struct plan p;
	int rc;
	const char *out = plan_try(&c, m, 1, &p, &a, &rc);
	expect(out, "modelc: models.yaml: warning: roles.primary: unverified: exact weight bytes (computed from the architecture); run 'modelc lock primary' on a machine that reaches the Hugging Face Hub\n");
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_EQUAL(p.roles[0].quant, budget_quant_named("compressed-tensors"));
	CU_ASSERT_EQUAL(p.roles[0].result.weights_bytes,
	    budget_weights_bytes(&llama, budget_quant_named("compressed-tensors")));
	/* The catalog's table (quant-formats.json) wins over the built-in numbers. */
	struct budget_quant g32 = {.name = "compressed-tensors", .bits = 4, .group_size = 32,
		.scale_bytes = 2, .embeddings_16bit = true};
	c.quants = &g32;
	c.nquants = 1;
	out = plan_try(&c, m, 1, &p, &a, &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_EQUAL(p.roles[0].quant, &g32);
	CU_ASSERT_EQUAL(p.roles[0].result.weights_bytes, budget_weights_bytes(&llama, &g32));
	CU_ASSERT_NOT_EQUAL(budget_weights_bytes(&llama, &g32),
	    budget_weights_bytes(&llama, budget_quant_named("compressed-tensors")));
	/* With the checkpoint's exact bytes the role is verified. */
	m[0].weights_bytes.known = true;
	m[0].weights_bytes.value = 5700000000ULL;
	out = plan_try(&c, m, 1, &p, &a, &rc);
	expect(out, "");
	CU_ASSERT(p.roles[0].verified);
	arena_free(&a);
}

void
suite_plan(void)
{
	CU_pSuite s = CU_add_suite("plan", NULL, NULL);
	CU_add_test(s, "a 4-bit role fits with an automatic context", test_fits_auto);
	CU_add_test(s, "roles that do not fit, with the ways out", test_does_not_fit);
	CU_add_test(s, "one utilization rule, sized or not", test_utilization_rule);
	CU_add_test(s, "kv_cache_dtype names", test_kv_cache_dtype);
	CU_add_test(s, "stale lock, missing local dirs, unverified facts", test_stale_and_unverified);
	CU_add_test(s, ".env collisions and values, manifest filter, disk budget", test_env_and_disk);
	CU_add_test(s, "a local directory on disk", test_local_dir);
	CU_add_test(s, "facts read from a local directory", test_local_dir_read);
	CU_add_test(s, "an adopted role's local:DIR entry wins over its repo's", test_adopted_local_entry);
	CU_add_test(s, "compressed-tensors is a known weight format", test_compressed_tensors);
}
