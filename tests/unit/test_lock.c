#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"

void suite_lock(void);

static char lock_dir[64];

/* Write text to a fresh file in the suite's directory; the name is static. */
static const char *
lock_fixture(const char *text)
{
	static char path[128];
	static int n;
	snprintf(path, sizeof path, "%s/l%d.lock", lock_dir, n++);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

/* Read text as a lock; the diagnostics, with the temp path replaced by "L", go to msgs. */
static int
lock_try(const char *text, char *msgs, size_t n, struct lock *l, struct arena *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, m, "modelc");
	const char *path = lock_fixture(text);
	int rc = lock_read(a, &d, path, l);
	fclose(m);
	/* Replace the temp path by "L" so expectations stay readable. */
	msgs[0] = 0;
	size_t plen = strlen(path), o = 0;
	for (const char *p = buf; *p && o + 1 < n;) {
		if (strncmp(p, path, plen) == 0) {
			msgs[o++] = 'L';
			p += plen;
		} else {
			msgs[o++] = *p++;
		}
	}
	msgs[o] = 0;
	free(buf);
	return rc;
}

static const char good[] =
    "{\"lock_version\": 1, \"models\": {\n"
    " \"Qwen/Qwen2.5-7B-Instruct@main\": {\"repo\": \"Qwen/Qwen2.5-7B-Instruct\", \"revision\": \"main\",\n"
    "  \"commit\": \"a09a35458c702b33eeacc393d103063234e8bc28\", \"gated\": null,\n"
    "  \"config\": {\"num_hidden_layers\": 28, \"num_attention_heads\": 28, \"num_key_value_heads\": 4,\n"
    "   \"hidden_size\": 3584, \"torch_dtype\": \"bfloat16\", \"quantization_config\": null},\n"
    "  \"weights\": {\"bytes\": 15231233024, \"source\": \"safetensors-index\", \"dtypes\": {\"BF16\": 15231233024}},\n"
    "  \"files\": [{\"path\": \"model.safetensors\", \"size\": 10, \"lfs\": true,\n"
    "    \"sha256\": \"a1333e6293854747c481288ea83b348226af178dd565c49b6f9495ba1966aba7\", \"blob_id\": null},\n"
    "   {\"path\": \"config.json\", \"size\": 663, \"lfs\": false, \"sha256\": null,\n"
    "    \"blob_id\": \"0178295f88afc3c7f279ed284f961f8c1be00654\"}],\n"
    "  \"files_complete\": true, \"sources\": [\"seed-models.md\"], \"unknown\": [\"gated\"]},\n"
    " \"local:/mnt/f/models/x\": {\"config_from\": \"Qwen/Qwen2.5-7B-Instruct@main\"}\n"
    "}}\n";

static void
test_read_good(void)
{
	struct arena a = {0};
	struct lock l;
	char msgs[2048];
	CU_ASSERT_EQUAL(lock_try(good, msgs, sizeof msgs, &l, &a), 0);
	CU_ASSERT_STRING_EQUAL(msgs, "");
	CU_ASSERT_EQUAL(l.nmodels, 2);
	const struct lock_model *m = lock_find(&l, "Qwen/Qwen2.5-7B-Instruct@main");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->arch.layers, 28);
	CU_ASSERT_EQUAL(m->arch.head_dim, 128); /* derived: hidden / heads */
	CU_ASSERT_EQUAL(m->arch.dtype_bytes, 2);
	CU_ASSERT(m->weights_bytes.known);
	CU_ASSERT_EQUAL(m->weights_bytes.value, 15231233024ULL);
	CU_ASSERT_EQUAL(m->nfiles, 2);
	CU_ASSERT_STRING_EQUAL(m->files[0].path, "config.json"); /* sorted */
	CU_ASSERT_EQUAL(m->files[0].lfs, 0);
	CU_ASSERT_PTR_NULL(m->files[0].sha256);
	CU_ASSERT(m->files_complete);
	CU_ASSERT_PTR_NULL(m->quantization_config);
	CU_ASSERT_PTR_NULL(lock_find(&l, "nope@main"));
	const struct lock_model *loc = lock_find(&l, "local:/mnt/f/models/x");
	CU_ASSERT_PTR_NOT_NULL_FATAL(loc);
	CU_ASSERT_FALSE(loc->has_config);
	CU_ASSERT_STRING_EQUAL(loc->config_from, "Qwen/Qwen2.5-7B-Instruct@main");
	arena_free(&a);
}

/* Writing what was read and reading it again gives the same bytes: sorted and deterministic. */
static void
test_write_roundtrip(void)
{
	struct arena a = {0};
	struct lock l, l2;
	char msgs[2048];
	CU_ASSERT_EQUAL_FATAL(lock_try(good, msgs, sizeof msgs, &l, &a), 0);
	char p1[128], p2[128];
	snprintf(p1, sizeof p1, "%s/w1.lock", lock_dir);
	snprintf(p2, sizeof p2, "%s/w2.lock", lock_dir);
	CU_ASSERT_EQUAL(lock_write(&l, p1), 0);
	struct diag_sink d;
	diag_init(&d, stderr, "modelc");
	CU_ASSERT_EQUAL(lock_read(&a, &d, p1, &l2), 0);
	CU_ASSERT_EQUAL(lock_write(&l2, p2), 0);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "cmp -s %s %s", p1, p2);
	CU_ASSERT_EQUAL(system(cmd), 0);
	const struct lock_model *m = lock_find(&l2, "Qwen/Qwen2.5-7B-Instruct@main");
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(m->weights_bytes.value, 15231233024ULL);
	CU_ASSERT_EQUAL(m->ndtypes, 1);
	/* No temp file is left next to the lock. */
	snprintf(cmd, sizeof cmd, "ls %s | grep -q tmp", lock_dir);
	CU_ASSERT_NOT_EQUAL(system(cmd), 0);
	snprintf(p1, sizeof p1, "%s/no/such/dir/x.lock", lock_dir);
	CU_ASSERT_EQUAL(lock_write(&l, p1), -1);
	arena_free(&a);
}

struct bad_case {
	const char *text;
	const char *msgs;
};

static const struct bad_case bad[] = {
	{"{\"lock_version\": 1, \"models\": {\n  \"a/b@main\": {,}}}\n",
	    "modelc: L:2:16: error: invalid JSON: string or '}' expected near ','\n"},
	{"{\"lock_version\": 1, \"models\": {}, \"models\": {}}",
	    "modelc: L:1:42: error: invalid JSON: duplicate object key near '\"models\"'\n"},
	{"[]", "modelc: L: error: (top level): expected an object, found an array\n"},
	{"{\"lock_version\": 2, \"models\": {}}", "modelc: L:1:2: error: lock_version: this modelc reads version 1, found 2\n"},
	{"{\"models\": {}}", "modelc: L: error: lock_version: required key is missing\n"},
	{"{\"lock_version\": 1}", "modelc: L: error: models: required key is missing\n"},
	{"{\"lock_version\": 1, \"modles\": {}, \"models\": []}",
	    "modelc: L:1:21: error: (top level): unknown key 'modles'\n"
	    "modelc: L:1:35: error: models: expected an object, found an array\n"},
	{"{\"lock_version\": 1, \"models\": {\"a/b@main\": {\"repo\": \"a/b\", \"revision\": \"main\",\n"
	 "\"files\": [{\"path\": \"x\", \"size\": 1, \"lfs\": 1, \"sha256\": \"xyz\"},\n"
	 "{\"path\": \"../etc/passwd\"}, {\"size\": 3}, {\"path\": \"x\", \"blob_id\": \"ABCDEF0123456789ABCDEF0123456789ABCDEF01\"}]}}}",
	    "modelc: L:1:32: error: models[\"a/b@main\"].files[0].lfs: expected a boolean or null, found an integer\n"
	    "modelc: L:2:56: error: models[\"a/b@main\"].files[0].sha256: expected 64 lowercase hex digits, found 'xyz'\n"
	    "modelc: L:3:10: error: models[\"a/b@main\"].files[1].path: '../etc/passwd' is not a repo-relative path (no leading '/', no empty, '.' or '..' parts)\n"
	    "modelc: L:1:32: error: models[\"a/b@main\"].files[2].path: required key is missing\n"
	    "modelc: L:3:66: error: models[\"a/b@main\"].files[3].blob_id: expected 40 lowercase hex digits, found 'ABCDEF0123456789ABCDEF0123456789ABCDEF01'\n"
	    "modelc: L:2:20: error: models[\"a/b@main\"].files: 'x' is listed twice\n"},
	{"{\"lock_version\": 1, \"models\": {\"a/b@main\": {\"repo\": \"a/b\", \"revision\": \"dev\", \"gated\": \"yes\", \"size\": -1,\n"
	 "\"config\": {\"num_hidden_layers\": -1, \"num_attention_heads\": \"32\", \"layers\": 3}, \"weights\": {\"source\": \"guess\", \"bytes\": -1}}}}",
	    "modelc: L:1:95: error: models[\"a/b@main\"]: unknown key 'size'\n"
	    "modelc: L:1:32: error: models[\"a/b@main\"]: the key does not match repo and revision (expected 'a/b@dev')\n"
	    "modelc: L:1:79: error: models[\"a/b@main\"].gated: 'yes' is not one of false, auto, manual\n"
	    "modelc: L:2:1: error: models[\"a/b@main\"].config: 'num_hidden_layers' is missing or not a positive integer\n"
	    "modelc: L:2:111: error: models[\"a/b@main\"].weights.bytes: -1 is out of range 0..9223372036854775807\n"
	    "modelc: L:2:102: error: models[\"a/b@main\"].weights.source: 'guess' is not one of safetensors-index, safetensors-headers\n"},
	{"{\"lock_version\": 1, \"models\": {\"ab@main\": {\"repo\": \"ab\", \"revision\": \"ma in\"},\n"
	 "\"x@y\": {}, \"local:rel\": {\"repo\": \"a/b\"}, \"local:/d\": {\"config_from\": \"z/z@main\", \"sources\": [1]},\n"
	 "\"a/b@main\": []}}",
	    "modelc: L:1:44: error: models[\"ab@main\"].repo: 'ab' is not a Hugging Face repo id 'owner/name'\n"
	    "modelc: L:1:58: error: models[\"ab@main\"].revision: 'ma in' is not a branch, tag or commit\n"
	    "modelc: L:1:32: error: models[\"ab@main\"]: the key does not match repo and revision (expected 'ab@ma in')\n"
	    "modelc: L:2:1: error: models[\"x@y\"]: needs repo and revision (or a key 'local:/dir')\n"
	    "modelc: L:2:12: error: models[\"local:rel\"]: a local directory must be absolute, found 'rel'\n"
	    "modelc: L:2:12: error: models[\"local:rel\"]: a local entry has no repo or revision\n"
	    "modelc: L:2:42: error: models[\"local:/d\"].sources[0]: expected a string, found an integer\n"
	    "modelc: L:3:1: error: models[\"a/b@main\"]: expected an object, found an array\n"
	    "modelc: L:2:55: error: models[\"local:/d\"].config_from: 'z/z@main' names no entry in this lock\n"},
};

static void
test_read_bad(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct arena a = {0};
		struct lock l;
		char msgs[4096];
		CU_ASSERT_EQUAL(lock_try(bad[i].text, msgs, sizeof msgs, &l, &a), 1);
		if (strcmp(msgs, bad[i].msgs) != 0)
			fprintf(stderr, "\ncase %zu:\n%s--- expected:\n%s", i, msgs, bad[i].msgs);
		CU_ASSERT_STRING_EQUAL(msgs, bad[i].msgs);
		arena_free(&a);
	}
}

static void
test_read_system(void)
{
	struct arena a = {0};
	struct lock l;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, m, "modelc");
	CU_ASSERT_EQUAL(lock_read(&a, &d, "/nonexistent/models.lock", &l), -1);
	/* Over the size limit: a sparse file, no real disk used. */
	char big[128];
	snprintf(big, sizeof big, "%s/big.lock", lock_dir);
	FILE *f = fopen(big, "w");
	fseek(f, LOCK_MAX_BYTES, SEEK_SET);
	fputc('}', f);
	fclose(f);
	CU_ASSERT_EQUAL(lock_read(&a, &d, big, &l), 1);
	fclose(m);
	char expect[512];
	snprintf(expect, sizeof expect,
	    "modelc: /nonexistent/models.lock: error: cannot read: No such file or directory\n"
	    "modelc: %s: error: is 67108865 bytes, more than the limit of 67108864 bytes\n", big);
	CU_ASSERT_STRING_EQUAL(buf, expect);
	unlink(big);
	free(buf);
	arena_free(&a);
}

static int
lock_setup(void)
{
	snprintf(lock_dir, sizeof lock_dir, "/tmp/modelc-lock-XXXXXX");
	return mkdtemp(lock_dir) ? 0 : -1;
}

static int
lock_teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", lock_dir);
	return system(cmd) == 0 ? 0 : -1;
}

void
suite_lock(void)
{
	CU_pSuite s = CU_add_suite("lock", lock_setup, lock_teardown);
	CU_add_test(s, "read a valid lock", test_read_good);
	CU_add_test(s, "write is sorted and deterministic", test_write_roundtrip);
	CU_add_test(s, "structural errors name the JSON path", test_read_bad);
	CU_add_test(s, "missing and oversized files", test_read_system);
}
