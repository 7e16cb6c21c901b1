#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "frontend.h"
#include "jsonschema.h"
#include "size.h"

void suite_catalog(void);

struct cat_run {
	struct arena a;
	struct catalog c;
	int rc;
	char *buf;
	size_t len;
	char out[4096];
};

/* Parse yaml and convert it with the tables in schema_dir; collect the diagnostics. */
static void
cat_load(struct cat_run *r, const char *schema_dir, const char *yaml)
{
	struct diag_sink d;
	struct ynode *root;
	memset(&r->a, 0, sizeof r->a);
	FILE *f = open_memstream(&r->buf, &r->len);
	diag_init(&d, f, "m");
	CU_ASSERT_EQUAL_FATAL(yamldoc_parse(&r->a, &d, "t.yaml", yaml, strlen(yaml), &root), 0);
	r->rc = catalog_from_yaml(&r->a, &d, schema_dir, root, "t.yaml", &r->c);
	fclose(f);
	snprintf(r->out, sizeof r->out, "%s", r->buf ? r->buf : "");
	free(r->buf);
}

static const char *const cat_base =
    "storage:\n  hf_home: /h/\n  disk_budget: 1.5 GB\n"
    "gpu:\n  profile: rtx3070-8gb\n"
    "roles:\n  primary:\n    repo: o/n\n    quantization: awq\n";

static void
test_defaults(void)
{
	struct cat_run r;
	cat_load(&r, "schemas", cat_base);
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	const struct catalog *c = &r.c;
	CU_ASSERT_STRING_EQUAL(c->hf_home, "/h/");
	CU_ASSERT_STRING_EQUAL(c->hub_cache, "/h/hub");
	CU_ASSERT_PTR_NULL(c->models_dir);
	CU_ASSERT_EQUAL(c->disk_budget_bytes, 1500000000ULL);
	CU_ASSERT_STRING_EQUAL(c->gpu_profile, "rtx3070-8gb");
	CU_ASSERT_EQUAL(c->gpu_total_bytes, 8086618112ULL);
	CU_ASSERT(c->gpu_total_estimated);
	CU_ASSERT_EQUAL(c->gpu_used_bytes, 0);
	CU_ASSERT_DOUBLE_EQUAL(c->gpu_memory_utilization, 0.9, 1e-12);
	CU_ASSERT_EQUAL(c->safety_margin_bytes, 256 * SIZE_MIB);
	CU_ASSERT_STRING_EQUAL(c->server_command[0], "vllm");
	CU_ASSERT_STRING_EQUAL(c->server_command[1], "serve");
	CU_ASSERT_PTR_NULL(c->server_command[2]);
	CU_ASSERT_STRING_EQUAL(c->host, "127.0.0.1");
	CU_ASSERT_EQUAL(c->port, 8000);
	CU_ASSERT_EQUAL(c->max_num_seqs, 0);
	CU_ASSERT(!c->enforce_eager);
	CU_ASSERT_EQUAL(c->engine, BUDGET_ENGINE_V1);
	CU_ASSERT_EQUAL(c->nroles, 1);
	const struct catalog_role *p = catalog_role(c, "primary");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p->repo, "o/n");
	CU_ASSERT_STRING_EQUAL(p->revision, "main");
	CU_ASSERT_PTR_NULL(p->local);
	CU_ASSERT_STRING_EQUAL(p->dtype, "auto");
	CU_ASSERT_STRING_EQUAL(p->kv_cache_dtype, "auto");
	CU_ASSERT(p->max_model_len_auto);
	CU_ASSERT_STRING_EQUAL(p->served_model_name, "primary");
	CU_ASSERT_PTR_NULL(p->rationale);
	CU_ASSERT_EQUAL(p->ttft_threshold_ms, 0);
	CU_ASSERT_PTR_NULL(catalog_role(c, "secondary"));
	CU_ASSERT_EQUAL(c->nquants, 6);
	const struct budget_quant *q = catalog_quant(c, "awq");
	CU_ASSERT_PTR_NOT_NULL_FATAL(q);
	CU_ASSERT_EQUAL(q->bits, 4);
	CU_ASSERT_EQUAL(q->group_size, 128);
	CU_ASSERT(q->zero_point);
	CU_ASSERT_EQUAL(q->scale_bytes, 2);
	CU_ASSERT(q->embeddings_16bit);
	CU_ASSERT_EQUAL(catalog_quant(c, "none")->bits, 16);
	CU_ASSERT_PTR_NULL(catalog_quant(c, "awk"));
	arena_free(&r.a);
}

static void
test_everything_set(void)
{
	struct cat_run r;
	cat_load(&r, "schemas",
	    "storage: {hf_home: /h, hub_cache: /c, models_dir: /m, disk_budget: \"1000\"}\n"
	    "gpu: {memory: 1e10, memory_in_use: 1 GiB, utilization: 0.8, safety_margin: 0.5 GiB}\n"
	    "server: {command: [a, b, c], host: 0.0.0.0, port: 0x1F90, max_num_seqs: 8,\n"
	    "  max_num_batched_tokens: 1e3, enforce_eager: true, engine: v0}\n"
	    "defaults: {dtype: half, kv_cache_dtype: fp8, max_model_len: 4096}\n"
	    "roles:\n"
	    "  a: {local: /m/a, quantization: none}\n"
	    "  b: {repo: o/b, revision: v1, quantization: gptq, dtype: float16, kv_cache_dtype: auto,\n"
	    "      max_model_len: auto, max_num_seqs: 2, max_num_batched_tokens: 512,\n"
	    "      gpu_memory_utilization: 0.7, served_model_name: bee, rationale: why,\n"
	    "      ttft_threshold_ms: 250}\n"
	    "excluded:\n  - {model: big, reason: too big}\n");
	CU_ASSERT_EQUAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	const struct catalog *c = &r.c;
	CU_ASSERT_STRING_EQUAL(c->hub_cache, "/c");
	CU_ASSERT_STRING_EQUAL(c->models_dir, "/m");
	CU_ASSERT_EQUAL(c->disk_budget_bytes, 1000);
	CU_ASSERT_PTR_NULL(c->gpu_profile);
	CU_ASSERT_EQUAL(c->gpu_total_bytes, 10000000000ULL);
	CU_ASSERT(!c->gpu_total_estimated);
	CU_ASSERT_EQUAL(c->gpu_used_bytes, SIZE_GIB);
	CU_ASSERT_DOUBLE_EQUAL(c->gpu_memory_utilization, 0.8, 1e-12);
	CU_ASSERT_EQUAL(c->safety_margin_bytes, 1ULL << 29);
	CU_ASSERT_STRING_EQUAL(c->server_command[2], "c");
	CU_ASSERT_PTR_NULL(c->server_command[3]);
	CU_ASSERT_STRING_EQUAL(c->host, "0.0.0.0");
	CU_ASSERT_EQUAL(c->port, 8080);
	CU_ASSERT_EQUAL(c->max_num_seqs, 8);
	CU_ASSERT_EQUAL(c->max_num_batched_tokens, 1000);
	CU_ASSERT(c->enforce_eager);
	CU_ASSERT_EQUAL(c->engine, BUDGET_ENGINE_V0);
	const struct catalog_role *a = &c->roles[0], *b = &c->roles[1];
	CU_ASSERT_STRING_EQUAL(a->name, "a");
	CU_ASSERT_PTR_NULL(a->repo);
	CU_ASSERT_PTR_NULL(a->revision);
	CU_ASSERT_STRING_EQUAL(a->local, "/m/a");
	CU_ASSERT_STRING_EQUAL(a->dtype, "half");
	CU_ASSERT_STRING_EQUAL(a->kv_cache_dtype, "fp8");
	CU_ASSERT(!a->max_model_len_auto);
	CU_ASSERT_EQUAL(a->max_model_len, 4096);
	CU_ASSERT_EQUAL(a->node->pos.line, 7);
	CU_ASSERT_STRING_EQUAL(b->revision, "v1");
	CU_ASSERT_STRING_EQUAL(b->quantization, "gptq");
	CU_ASSERT_STRING_EQUAL(b->dtype, "float16");
	CU_ASSERT_STRING_EQUAL(b->kv_cache_dtype, "auto");
	CU_ASSERT(b->max_model_len_auto);
	CU_ASSERT_EQUAL(b->max_num_seqs, 2);
	CU_ASSERT_EQUAL(b->max_num_batched_tokens, 512);
	CU_ASSERT_DOUBLE_EQUAL(b->gpu_memory_utilization, 0.7, 1e-12);
	CU_ASSERT_STRING_EQUAL(b->served_model_name, "bee");
	CU_ASSERT_STRING_EQUAL(b->rationale, "why");
	CU_ASSERT_DOUBLE_EQUAL(b->ttft_threshold_ms, 250, 1e-12);
	CU_ASSERT_EQUAL(c->nexcluded, 1);
	CU_ASSERT_STRING_EQUAL(c->excluded[0].model, "big");
	CU_ASSERT_STRING_EQUAL(c->excluded[0].reason, "too big");
	CU_ASSERT_EQUAL(c->excluded[0].node->pos.line, 13);
	arena_free(&r.a);
}

static void
test_problems(void)
{
	struct cat_run r;
	cat_load(&r, "schemas",
	    "storage: {hf_home: /h, disk_budget: 99999999 TiB}\n"
	    "gpu: {profile: rtx3070}\nroles:\n  a: {local: /a, quantization: none, revision: v1}\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "m: t.yaml:1:37: error: storage.disk_budget: '99999999 TiB' is too large\n"
	    "m: t.yaml:2:16: error: gpu.profile: 'rtx3070' is not a known GPU profile (did you mean 'rtx3070-8gb'?)\n"
	    "m: t.yaml:2:16: note: known profiles: a100-80gb, h100-80gb, l4-24gb, rtx3060-12gb, rtx3060ti-8gb, "
	    "rtx3070-8gb, rtx3070-laptop-8gb, rtx3080-10gb, rtx3080-12gb, "
	    "rtx3090-24gb, rtx4060-8gb, rtx4060-laptop-8gb, rtx4060ti-16gb, "
	    "rtx4060ti-8gb, rtx4070-12gb, rtx4070-laptop-8gb, rtx4070ti-12gb, "
	    "rtx4080-16gb, rtx4090-24gb (in schemas/gpu-profiles.json); or give gpu.memory instead\n"
	    "m: t.yaml:4:48: warning: roles.a.revision: ignored: the role has no repo\n");
	arena_free(&r.a);

	cat_load(&r, "schemas", "storage: {hf_home: /h}\ngpu: {profile: quadro}\nroles: {a: {local: /a, quantization: none}}\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "m: t.yaml:2:16: error: gpu.profile: 'quadro' is not a known GPU profile\n"
	    "m: t.yaml:2:16: note: known profiles: a100-80gb, h100-80gb, l4-24gb, rtx3060-12gb, rtx3060ti-8gb, "
	    "rtx3070-8gb, rtx3070-laptop-8gb, rtx3080-10gb, rtx3080-12gb, "
	    "rtx3090-24gb, rtx4060-8gb, rtx4060-laptop-8gb, rtx4060ti-16gb, "
	    "rtx4060ti-8gb, rtx4070-12gb, rtx4070-laptop-8gb, rtx4070ti-12gb, "
	    "rtx4080-16gb, rtx4090-24gb (in schemas/gpu-profiles.json); or give gpu.memory instead\n");
	arena_free(&r.a);

	cat_load(&r, "schemas", "storage: {hf_home: /h}\ngpu: {memory: 8 GiB, memory_in_use: 8192 MiB}\n"
	    "roles: {a: {local: /a, quantization: none}}\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "m: t.yaml:2:37: error: gpu.memory_in_use: '8192 MiB' leaves nothing of the GPU's 8.00 GiB\n");
	arena_free(&r.a);

	/* A repo id an edited schema let through is still refused: it would become URLs and folders. */
	cat_load(&r, "schemas", "storage: {hf_home: /h}\ngpu: {profile: rtx3070-8gb}\n"
	    "roles: {a: {repo: ../../x, quantization: none}}\n");
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out,
	    "m: t.yaml:3:19: error: roles.a.repo: '../../x' is not a Hugging Face repository id: has more than one '/'\n");
	arena_free(&r.a);
}

static void
cat_write(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static void
cat_unlink(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	unlink(path);
}

static void
test_broken_tables(void)
{
	char dir[] = "/tmp/modelc-catalog-XXXXXX";
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	const char *doc = "storage: {hf_home: /h}\ngpu: {profile: x}\nroles: {a: {local: /a, quantization: none}}\n";
	struct cat_run r;
	char expect[2048];

	cat_load(&r, dir, doc);
	snprintf(expect, sizeof expect,
	    "m: %s/gpu-profiles.json: error: unable to open %s/gpu-profiles.json: No such file or directory\n"
	    "m: %s/quant-formats.json: error: unable to open %s/quant-formats.json: No such file or directory\n",
	    dir, dir, dir, dir);
	CU_ASSERT_EQUAL(r.rc, -1);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	cat_write(dir, "gpu-profiles.json", "{\"profiles\": [{\"name\": \"x\", \"cuda_total_bytes\": \"8\"}]}");
	cat_write(dir, "quant-formats.json", "{\"formats\": [{\"name\": \"none\", \"bits\": 16}]}");
	cat_load(&r, dir, doc);
	snprintf(expect, sizeof expect,
	    "m: %s/gpu-profiles.json: error: profile 'x': needs a positive cuda_total_bytes and estimated true or false\n"
	    "m: %s/quant-formats.json: error: formats[0]: needs name, bits, group_size, zero_point, scale_bytes and embeddings_16bit\n",
	    dir, dir);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	cat_write(dir, "gpu-profiles.json", "{\"profiles\": {}}");
	cat_write(dir, "quant-formats.json", "{\"formats\": [}");
	cat_load(&r, dir, doc);
	snprintf(expect, sizeof expect,
	    "m: %s/gpu-profiles.json: error: expected an object with an array 'profiles'\n"
	    "m: %s/quant-formats.json:1:14: error: unexpected token near '}'\n", dir, dir);
	CU_ASSERT_STRING_EQUAL(r.out, expect);
	arena_free(&r.a);

	cat_unlink(dir, "gpu-profiles.json");
	cat_unlink(dir, "quant-formats.json");
	rmdir(dir);
}

static const char *const serve_base =
    "storage:\n  hf_home: /h\n"
    "gpu:\n  memory: 8 GiB\n"
    "server:\n  sleep_mode: 1\n  disk_read_rate: 2 GB\n"
    "roles:\n"
    "  chat:\n    repo: o/chat\n    quantization: awq\n    ttl: 300\n    aliases: [qwen, o/chat]\n"
    "  code:\n    repo: o/code\n    quantization: awq\n    sleep_mode: 'off'\n    served_model_name: coder\n"
    "  math:\n    repo: o/math\n    quantization: awq\n    sleep_mode: 2\n";

static void
test_serving_keys(void)
{
	struct cat_run r;
	char yaml[1024];
	snprintf(yaml, sizeof yaml, "%s%s", serve_base,
	    "together:\n  groups:\n    work: [code, chat]\n  all_pairs: true\n");
	cat_load(&r, "schemas", yaml);
	CU_ASSERT_STRING_EQUAL(r.out, "");
	CU_ASSERT_EQUAL(r.rc, 0);
	const struct catalog *c = &r.c;
	CU_ASSERT_EQUAL(c->sleep_level, 1);
	CU_ASSERT_EQUAL(c->disk_read_rate, 2000000000ull);
	CU_ASSERT_EQUAL(c->roles[0].ttl_seconds, 300);
	CU_ASSERT_EQUAL(c->roles[0].sleep_level, 1);
	CU_ASSERT_EQUAL(c->roles[1].sleep_level, 0);
	CU_ASSERT_EQUAL(c->roles[2].sleep_level, 2);
	CU_ASSERT_EQUAL_FATAL(c->roles[0].naliases, 2);
	CU_ASSERT_STRING_EQUAL(c->roles[0].aliases[1], "o/chat");
	CU_ASSERT_EQUAL_FATAL(c->ngroups, 4);
	CU_ASSERT_STRING_EQUAL(c->groups[0].name, "work");
	CU_ASSERT_PTR_EQUAL(c->groups[0].roles[0], &c->roles[1]);
	CU_ASSERT(!c->groups[0].all_pairs);
	CU_ASSERT_STRING_EQUAL(c->groups[1].name, "chat+code");
	CU_ASSERT_STRING_EQUAL(c->groups[3].name, "code+math");
	CU_ASSERT(c->groups[3].all_pairs);
	arena_free(&r.a);
	/* The defaults: no groups, sleep off, 100 MB/s. */
	cat_load(&r, "schemas", cat_base);
	CU_ASSERT_EQUAL(r.c.ngroups, 0);
	CU_ASSERT_EQUAL(r.c.sleep_level, 0);
	CU_ASSERT_EQUAL(r.c.disk_read_rate, 100000000ull);
	CU_ASSERT_EQUAL(r.c.roles[0].ttl_seconds, 0);
	arena_free(&r.a);
}

static void
test_serving_errors(void)
{
	static const struct {
		const char *tail, *want;
	} cases[] = {
		{"together:\n  groups:\n    work: [code, chta]\n",
		    "m: t.yaml:25:18: error: together.groups.work[1]: 'chta' is not a role (did you mean 'chat'?)\n"},
		{"together:\n  groups:\n    work: [code, zzzzzzzz]\n",
		    "m: t.yaml:25:18: error: together.groups.work[1]: 'zzzzzzzz' is not a role\n"},
		{"together:\n  groups:\n    work: [code, math, code]\n",
		    "m: t.yaml:25:24: error: together.groups.work[2]: 'code' is listed twice; one server serves a role\n"},
		{"  other:\n    repo: o/x\n    quantization: awq\n    aliases: [qwen]\n",
		    "m: t.yaml:26:15: error: roles.other.aliases[0]: 'qwen' is already a name of role 'chat'; a request's model must lead to one role\n"},
		{"  other:\n    repo: o/x\n    quantization: awq\n    aliases: [coder]\n",
		    "m: t.yaml:26:15: error: roles.other.aliases[0]: 'coder' is already a name of role 'code'; a request's model must lead to one role\n"},
		{"  other:\n    repo: o/x\n    quantization: awq\n    aliases: [x, x]\n",
		    "m: t.yaml:26:18: error: roles.other.aliases[1]: 'x' is listed twice\n"},
		{"  other:\n    repo: o/x\n    quantization: awq\n    aliases: [other]\n",
		    "m: t.yaml:26:15: error: roles.other.aliases[0]: 'other' is already the role's name or served_model_name\n"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cat_run r;
		char yaml[1024];
		snprintf(yaml, sizeof yaml, "%s%s", serve_base, cases[i].tail);
		cat_load(&r, "schemas", yaml);
		if (strcmp(r.out, cases[i].want))
			fprintf(stderr, "\n  got:  %s  want: %s", r.out, cases[i].want);
		CU_ASSERT_STRING_EQUAL(r.out, cases[i].want);
		CU_ASSERT_EQUAL(r.rc, -1);
		arena_free(&r.a);
	}
	/* all_pairs over more roles than it may pair up; a disk read rate of 0. */
	char *yaml = malloc(64 * 1024);
	size_t n = (size_t)snprintf(yaml, 64 * 1024, "storage:\n  hf_home: /h\ngpu:\n  memory: 8 GiB\n"
	    "server:\n  disk_read_rate: 0\nroles:\n");
	for (int i = 0; i < 65; i++)
		n += (size_t)snprintf(yaml + n, 64 * 1024 - n, "  r%d:\n    repo: o/r%d\n    quantization: awq\n", i, i);
	snprintf(yaml + n, 64 * 1024 - n, "together:\n  all_pairs: true\n");
	struct cat_run r;
	cat_load(&r, "schemas", yaml);
	CU_ASSERT_STRING_EQUAL(r.out, "m: t.yaml:6:19: error: server.disk_read_rate: expected more than 0 bytes per second, found '0'\n"
	    "m: t.yaml:204:14: error: together.all_pairs: 65 roles make 2080 pairs; the most is 64 roles: list the groups you want under together.groups instead\n");
	CU_ASSERT_EQUAL(r.c.ngroups, 0);
	arena_free(&r.a);
	free(yaml);
}

/* The defaults catalog.c applies are the ones the schema documents for editors. */
static void
test_defaults_match_schema(void)
{
	json_error_t err;
	json_t *s = json_load_file("schemas/models.schema.json", 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *props = json_object_get(s, "properties");
#define PROP(section, key) json_object_get(json_object_get(json_object_get( \
	json_object_get(props, section), "properties"), key), "default")
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(PROP("gpu", "utilization")), 0.9, 1e-12);
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("gpu", "safety_margin")), "256 MiB");
	CU_ASSERT_EQUAL(json_integer_value(PROP("gpu", "memory_in_use")), 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("server", "host")), "127.0.0.1");
	CU_ASSERT_EQUAL(json_integer_value(PROP("server", "port")), 8000);
	CU_ASSERT(json_is_false(PROP("server", "enforce_eager")));
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("server", "engine")), "v1");
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("server", "sleep_mode")), "off");
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("server", "disk_read_rate")), "100 MB");
	json_t *cmd = PROP("server", "command");
	CU_ASSERT_EQUAL(json_array_size(cmd), 2);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(cmd, 0)), "vllm");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(cmd, 1)), "serve");
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("defaults", "dtype")), "auto");
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("defaults", "kv_cache_dtype")), "auto");
	CU_ASSERT_STRING_EQUAL(json_string_value(PROP("defaults", "max_model_len")), "auto");
#undef PROP
	json_t *role = json_object_get(json_object_get(json_object_get(s, "$defs"), "role"), "properties");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(role, "revision"), "default")), "main");

	/* The schema's quantization enum and profile examples match the data tables. */
	json_t *qenum = json_object_get(json_object_get(json_object_get(s, "$defs"), "quantization"), "enum");
	json_t *qf = json_load_file("schemas/quant-formats.json", 0, &err);
	json_t *gp = json_load_file("schemas/gpu-profiles.json", 0, &err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(qf);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gp);
	json_t *formats = json_object_get(qf, "formats");
	CU_ASSERT_EQUAL(json_array_size(qenum), json_array_size(formats));
	size_t i, j;
	json_t *v, *w;
	json_array_foreach(qenum, i, v) {
		bool found = false;
		json_array_foreach(formats, j, w)
			found |= json_equal(v, json_object_get(w, "name"));
		CU_ASSERT(found);
	}
	json_t *examples = json_object_get(json_object_get(json_object_get(json_object_get(props, "gpu"),
	    "properties"), "profile"), "examples");
	json_t *profiles = json_object_get(gp, "profiles");
	CU_ASSERT_EQUAL(json_array_size(examples), json_array_size(profiles));
	json_array_foreach(profiles, i, v) {
		bool found = false;
		json_array_foreach(examples, j, w)
			found |= json_equal(w, json_object_get(v, "name"));
		CU_ASSERT(found);
		/* Every number has a source, or says it is estimated and why. */
		CU_ASSERT(json_is_true(json_object_get(v, "estimated")) ?
		    json_is_string(json_object_get(v, "note")) : json_is_string(json_object_get(v, "source")));
	}
	json_decref(qf);
	json_decref(gp);
	json_decref(s);
}

void
suite_catalog(void)
{
	CU_pSuite s = CU_add_suite("catalog", NULL, NULL);
	CU_add_test(s, "defaults applied", test_defaults);
	CU_add_test(s, "serving keys and together: groups", test_serving_keys);
	CU_add_test(s, "serving keys: names, groups, pairs, rate", test_serving_errors);
	CU_add_test(s, "every key converted", test_everything_set);
	CU_add_test(s, "problems the schema cannot see", test_problems);
	CU_add_test(s, "broken data tables", test_broken_tables);
	CU_add_test(s, "defaults and tables match the schema", test_defaults_match_schema);
}
