#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Read text as a lock against the schema in schema_dir; diagnostics, the temp path as "L", to msgs. */
static int
lock_try_in(const char *schema_dir, const char *text, char *msgs, size_t n, struct lock *l, struct arena *a)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct diag_sink d;
	diag_init(&d, m, "modelc");
	const char *path = lock_fixture(text);
	int rc = lock_read(a, &d, path, schema_dir, l);
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

static int
lock_try(const char *text, char *msgs, size_t n, struct lock *l, struct arena *a)
{
	return lock_try_in("schemas", text, msgs, n, l, a);
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
	CU_ASSERT_EQUAL(lock_read(&a, &d, p1, "schemas", &l2), 0);
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

/*
 * The schema (schemas/models.lock.schema.json) reports first, in document order; then the
 * rules no schema can say, entry by entry.
 */
static const struct bad_case bad[] = {
	{"{\"lock_version\": 1, \"models\": {\n  \"a/b@main\": {,}}}\n",
	    "modelc: L:2:16: error: invalid JSON: string or '}' expected near ','\n"},
	{"{\"lock_version\": 1, \"models\": {}, \"models\": {}}",
	    "modelc: L:1:42: error: invalid JSON: duplicate object key near '\"models\"'\n"},
	{"[]", "modelc: L:1:1: error: expected object, found array\n"},
	{"{\"lock_version\": 2, \"models\": {\"a/b@main\": {\"repo\": \"c/d\", \"revision\": \"main\"}}}",
	    "modelc: L:1:18: error: lock_version: this modelc reads version 1, found 2\n"},
	{"{\"lock_version\": \"1\", \"models\": {}}",
	    "modelc: L:1:18: error: lock_version: expected integer, found string '1'\n"},
	{"{\"models\": {}}", "modelc: L:1:1: error: missing required key 'lock_version'\n"},
	{"{\"lock_version\": 1}", "modelc: L:1:1: error: missing required key 'models'\n"},
	{"{\"lock_version\": 1, \"modles\": {}, \"models\": [], \"comment\": 3}",
	    "modelc: L:1:21: error: unknown key 'modles' (did you mean 'models'?)\n"
	    "modelc: L:1:45: error: models: expected object, found array\n"
	    "modelc: L:1:60: error: comment: expected string, found integer '3'\n"},
	{"{\"lock_version\": 1, \"models\": {\"a/b@main\": {\"repo\": \"a/b\", \"revision\": \"main\",\n"
	 "\"files\": [{\"path\": \"x\", \"size\": 1, \"lfs\": 1, \"sha256\": \"xyz\"},\n"
	 "{\"path\": \"../etc/passwd\"}, {\"size\": 3}, {\"path\": \"x\", \"blob_id\": \"ABCDEF0123456789ABCDEF0123456789ABCDEF01\"}]}}}",
	    "modelc: L:2:43: error: models[\"a/b@main\"].files[0].lfs: expected boolean or null, found integer '1'\n"
	    "modelc: L:2:56: error: models[\"a/b@main\"].files[0].sha256: 'xyz' is not a SHA-256 digest (64 lowercase hex digits)\n"
	    "modelc: L:3:10: error: models[\"a/b@main\"].files[1].path: '../etc/passwd' is not a repo-relative path (no leading '/', no empty, '.' or '..' parts)\n"
	    "modelc: L:3:28: error: models[\"a/b@main\"].files[2]: missing required key 'path': give a repo-relative path (no leading '/', no empty, '.' or '..' parts)\n"
	    "modelc: L:3:66: error: models[\"a/b@main\"].files[3].blob_id: 'ABCDEF0123456789ABCDEF0123456789ABCDEF01' is not a git blob id (40 lowercase hex digits)\n"
	    "modelc: L:3:50: error: models[\"a/b@main\"].files: 'x' is listed twice\n"},
	{"{\"lock_version\": 1, \"models\": {\"a/b@main\": {\"repo\": \"a/b\", \"revision\": \"dev\", \"gated\": \"yes\", \"size\": -1,\n"
	 "\"config\": {\"num_hidden_layers\": -1, \"num_attention_heads\": \"32\", \"layers\": 3}, \"weights\": {\"source\": \"guess\", \"bytes\": -1,\n"
	 "\"dtypes\": {\"BF16\": 1.5}}}}}",
	    "modelc: L:1:88: error: models[\"a/b@main\"].gated: 'yes' is not one of false, auto, manual, null\n"
	    "modelc: L:1:95: error: models[\"a/b@main\"]: unknown key 'size'\n"
	    "modelc: L:2:102: error: models[\"a/b@main\"].weights.source: 'guess' is not one of safetensors-index, safetensors-headers, null\n"
	    "modelc: L:2:120: error: models[\"a/b@main\"].weights.bytes: must be at least 0, found '-1'\n"
	    "modelc: L:3:20: error: models[\"a/b@main\"].weights.dtypes.BF16: expected integer or null, found number '1.5'\n"
	    "modelc: L:1:32: error: models[\"a/b@main\"]: the key does not match repo and revision (expected 'a/b@dev')\n"
	    "modelc: L:2:11: error: models[\"a/b@main\"].config: 'num_hidden_layers' is missing or not a positive integer\n"},
	{"{\"lock_version\": 1, \"models\": {\"a--b@main\": {\"repo\": \"a--b\", \"revision\": \"ma in\"},\n"
	 "\"x@y\": {}, \"local:rel\": {\"repo\": \"a/b\"}, \"local:/d\": {\"config_from\": \"z/z@main\", \"sources\": [1]},\n"
	 "\"a/b@main\": [], \"nokey\": {\"repo\": \"a/b\", \"revision\": \"main\"}}}",
	    "modelc: L:1:54: error: models[\"a--b@main\"].repo: 'a--b' is not a Hugging Face repository id: 'owner/name' or 'name', each part up to 96 letters, digits, '-', '_' or '.', starting and ending with a letter, digit or '_'; no '--', '..' or final '.git'\n"
	    "modelc: L:1:74: error: models[\"a--b@main\"].revision: 'ma in' is not a branch, tag or commit (letters, digits, '.', '_', '-' and '/', no '..')\n"
	    "modelc: L:2:1: error: models[\"x@y\"]: missing required key 'repo': give a Hugging Face repository id: 'owner/name' or 'name', each part up to 96 letters, digits, '-', '_' or '.', starting and ending with a letter, digit or '_'; no '--', '..' or final '.git'\n"
	    "modelc: L:2:1: error: models[\"x@y\"]: missing required key 'revision': give a branch, tag or commit (letters, digits, '.', '_', '-' and '/', no '..')\n"
	    "modelc: L:2:12: error: models: 'local:rel' is not an entry key: 'owner/name@revision' or 'local:/absolute/dir'\n"
	    "modelc: L:2:34: error: models[\"local:rel\"].repo: expected null, found string 'a/b'\n"
	    "modelc: L:2:94: error: models[\"local:/d\"].sources[0]: expected string, found integer '1'\n"
	    "modelc: L:3:13: error: models[\"a/b@main\"]: expected object, found array\n"
	    "modelc: L:3:17: error: models: 'nokey' is not an entry key: 'owner/name@revision' or 'local:/absolute/dir'\n"
	    "modelc: L:1:32: error: models[\"a--b@main\"]: the key does not match repo and revision (expected 'a--b@ma in')\n"
	    "modelc: L:3:17: error: models.nokey: the key does not match repo and revision (expected 'a/b@main')\n"
	    "modelc: L:2:70: error: models[\"local:/d\"].config_from: 'z/z@main' names no entry in this lock\n"},
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
	CU_ASSERT_EQUAL(lock_read(&a, &d, "/nonexistent/models.lock", "schemas", &l), -1);
	/* Over the size limit: a sparse file, no real disk used. */
	char big[128];
	snprintf(big, sizeof big, "%s/big.lock", lock_dir);
	FILE *f = fopen(big, "w");
	fseek(f, LOCK_MAX_BYTES, SEEK_SET);
	fputc('}', f);
	fclose(f);
	CU_ASSERT_EQUAL(lock_read(&a, &d, big, "schemas", &l), 1);
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

/* A legacy id without owner is a repository id, as huggingface_hub's validate_repo_id says. */
static void
test_read_legacy_id(void)
{
	struct arena a = {0};
	struct lock l;
	char msgs[1024];
	CU_ASSERT_EQUAL(lock_try("{\"lock_version\": 1, \"models\": {\"gpt2@main\": {\"repo\": \"gpt2\", \"revision\": \"main\"}}}",
	    msgs, sizeof msgs, &l, &a), 0);
	CU_ASSERT_STRING_EQUAL(msgs, "");
	CU_ASSERT_PTR_NOT_NULL(lock_find(&l, "gpt2@main"));
	arena_free(&a);
}

/* A schema someone loosened does not let a hostile repo id through: the code checks it too. */
static void
test_edited_schema(void)
{
	char dir[128], path[256];
	snprintf(dir, sizeof dir, "%s/schemas", lock_dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/models.lock.schema.json", dir);
	json_t *s = json_load_file("schemas/models.lock.schema.json", 0, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_object_set_new(json_object_get(s, "$defs"), "repo", json_pack("{ss}", "type", "string"));
	CU_ASSERT_EQUAL_FATAL(json_dump_file(s, path, 0), 0);
	json_decref(s);
	struct arena a = {0};
	struct lock l;
	char msgs[1024];
	CU_ASSERT_EQUAL(lock_try_in(dir, "{\"lock_version\": 1, \"models\": {\"../x@main\": {\"repo\": \"../x\", \"revision\": \"main\"}}}",
	    msgs, sizeof msgs, &l, &a), 1);
	CU_ASSERT_STRING_EQUAL(msgs, "modelc: L:1:54: error: models[\"../x@main\"].repo: '../x' is not a Hugging Face "
	    "repository id: the owner must start and end with a letter, digit or '_'\n");
	arena_free(&a);
	unlink(path);
	rmdir(dir);
}

/* The schema is part of the reader: without it nothing is read (exit 3 for the commands). */
static void
test_schema_missing(void)
{
	struct arena a = {0};
	struct lock l;
	char msgs[1024];
	CU_ASSERT_EQUAL(lock_try_in("/nonexistent", good, msgs, sizeof msgs, &l, &a), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	CU_ASSERT_STRING_EQUAL(msgs, "modelc: /nonexistent/models.lock.schema.json: error: unable to open "
	    "/nonexistent/models.lock.schema.json: No such file or directory\n");
	char *saved = getenv("MODELC_SCHEMA_DIR") ? strdup(getenv("MODELC_SCHEMA_DIR")) : NULL;
	setenv("MODELC_SCHEMA_DIR", "/nonexistent", 1);
	CU_ASSERT_EQUAL(lock_try_in(NULL, good, msgs, sizeof msgs, &l, &a), -1);
	CU_ASSERT_STRING_EQUAL(msgs, "modelc: L: error: cannot find models.lock.schema.json (looked in /nonexistent); "
	    "set MODELC_SCHEMA_DIR\n");
	if (saved)
		setenv("MODELC_SCHEMA_DIR", saved, 1);
	else
		unsetenv("MODELC_SCHEMA_DIR");
	free(saved);
	arena_free(&a);
}

/* --schema-only: the JSON and the schema, not the rules after it (a key that is not repo@revision). */
static void
test_check_schema(void)
{
	struct arena a = {0};
	struct diag_sink d;
	FILE *null = fopen("/dev/null", "w");
	diag_init(&d, null, "modelc");
	const struct ynode *root;
	CU_ASSERT_EQUAL(lock_check_schema(&a, &d, lock_fixture(good), "schemas", &root), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	CU_ASSERT_EQUAL(root->kind, YNODE_MAP);
	const char *mismatch = "{\"lock_version\": 1, \"models\": {\"a/b@main\": {\"repo\": \"a/b\", \"revision\": \"dev\"}}}";
	CU_ASSERT_EQUAL(lock_check_schema(&a, &d, lock_fixture(mismatch), "schemas", &root), 0);
	CU_ASSERT_EQUAL(lock_check_schema(&a, &d, lock_fixture("{\"lock_version\": 1}"), "schemas", &root), 1);
	CU_ASSERT_PTR_NOT_NULL(root);
	CU_ASSERT_EQUAL(lock_check_schema(&a, &d, lock_fixture("{"), "schemas", &root), 1);
	CU_ASSERT_PTR_NULL(root);
	CU_ASSERT_EQUAL(lock_check_schema(&a, &d, "/nonexistent/x.lock", "schemas", &root), -1);
	CU_ASSERT_EQUAL(d.errors, 3);
	fclose(null);
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
	CU_add_test(s, "an id without owner", test_read_legacy_id);
	CU_add_test(s, "an edited schema lets no bad repo id through", test_edited_schema);
	CU_add_test(s, "no schema, no lock", test_schema_missing);
	CU_add_test(s, "schema only", test_check_schema);
}
