/*
 * switch's modules on the runtime table modelc builds from tests/fixtures/switch/ (compiled
 * here in-process and written to a scratch file, which swtable_load maps as switch does).
 */
#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compile.h"
#include "emit_table.h"
#include "exitcode.h"
#include "size.h"

#include "activefile.h"
#include "../../runtime/switch/launch.h"
#include "../../runtime/switch/refit.h"
#include "../../runtime/switch/swjson.h"
#include "../../runtime/switch/swstr.h"
#include "../../runtime/switch/swtable.h"
#include "size.h"

void suite_switch(void);

static char scratch[256];

/* The entry for role, which the table must have (a static copy per call site is not needed). */
static struct model_entry *
role(const char *name)
{
	static struct model_entry slots[4];
	static unsigned next;
	struct model_entry *e = &slots[next++ % 4];
	if (!swtable_role(name, e))
		CU_FAIL_FATAL("no such role in the test table");
	return e;
}

/* Build the fixture catalog's table with modelc's own front half and emitter, and load it. */
static int
setup(void)
{
	char path[300];
	struct compile_args args;
	struct compile_run run;
	FILE *devnull = fopen("/dev/null", "w");

	snprintf(scratch, sizeof scratch, "/tmp/modelc-switch-unit.XXXXXX");
	if (!mkdtemp(scratch) || !devnull)
		return 1;
	compile_args_init(&args);
	args.catalog = "tests/fixtures/switch/models.yaml";
	int rc = compile_run(&run, &args, devnull);
	snprintf(path, sizeof path, "%s/switch.table", scratch);
	FILE *f = rc == 0 ? fopen(path, "wb") : NULL;
	if (f && emit_table(f, &run.plan) != 0)
		rc = -1;
	if (f && fclose(f) != 0)
		rc = -1;
	compile_done(&run);
	fclose(devnull);
	return rc == 0 && f && swtable_load(path, true) == EXITCODE_OK ? 0 : 1;
}

static int
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", scratch);
	return system(cmd) == 0 ? 0 : 1;
}

static void
test_find(void)
{
	struct model_entry e;
	CU_ASSERT(swtable_find("primary", &e) && strcmp(e.role, "primary") == 0);
	CU_ASSERT(swtable_find("/mnt/f/models/starcoder2-7b", &e) && strcmp(e.role, "code") == 0);
	CU_ASSERT(swtable_find("/mnt/f/models/starcoder2-7b/", &e) && strcmp(e.role, "code") == 0);
	CU_ASSERT(swtable_find("bigcode/starcoder2-7b", &e) && strcmp(e.role, "code") == 0);
	CU_ASSERT(swtable_find("Qwen/Qwen2.5-7B-Instruct-AWQ", &e) && strcmp(e.role, "secondary") == 0);
	CU_ASSERT_FALSE(swtable_find("prim", &e));
	CU_ASSERT_FALSE(swtable_find("qwen/qwen2.5-7b-instruct-awq", &e));
}

static void
test_unknown_report(void)
{
	char buf[2048];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	swtable_report_unknown(f, "secundary");
	fclose(f);
	static const char want[] = "switch: error: unknown role, path or repo 'secundary' (did you mean 'secondary'?)\n"
	    "switch: note: known roles: code, fallback, math, primary, secondary, unsized, weird, unexportable\n";
	CU_ASSERT(strncmp(buf, want, sizeof want - 1) == 0);
	f = fmemopen(buf, sizeof buf, "w");
	swtable_report_unknown(f, "zzzzzzzzzzzz");
	fclose(f);
	CU_ASSERT(strncmp(buf, "switch: error: unknown role, path or repo 'zzzzzzzzzzzz'\n", 57) == 0);
}

static void
test_snapshot(void)
{
	char path[SWTABLE_PATH_MAX], dir[1024];
	setenv("MODELC_HF_HOME", scratch, 1);
	CU_ASSERT_EQUAL(swtable_snapshot(role("primary"), path, sizeof path), 0);
	snprintf(dir, sizeof dir, "%s/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/"
	    "0123456789abcdef0123456789abcdef01234567", scratch);
	CU_ASSERT_STRING_EQUAL(path, dir);
	CU_ASSERT_STRING_EQUAL(swtable_hf_home(), scratch);
	/* Not locked: the commit comes from refs/main, once that exists. */
	CU_ASSERT_EQUAL(swtable_snapshot(role("secondary"), path, sizeof path), -1);
	snprintf(dir, sizeof dir, "mkdir -p '%s/hub/models--Qwen--Qwen2.5-7B-Instruct-AWQ/refs' && printf "
	    "b25037543e9394b818fdfca67ab2a00ecc7dd641 > '%s/hub/models--Qwen--Qwen2.5-7B-Instruct-AWQ/refs/main'",
	    scratch, scratch);
	CU_ASSERT_EQUAL(system(dir), 0);
	CU_ASSERT_EQUAL(swtable_snapshot(role("secondary"), path, sizeof path), 0);
	CU_ASSERT(strstr(path, "/snapshots/b25037543e9394b818fdfca67ab2a00ecc7dd641") != NULL);
	CU_ASSERT_EQUAL(swtable_snapshot(role("weird"), path, sizeof path), -1);

	struct swtable_files f;
	swtable_files(role("primary"), &f);
	CU_ASSERT_STRING_EQUAL(swtable_files_word(&f), "missing");
	snprintf(dir, sizeof dir, "d='%s/hub/models--hugging-quants--Meta-Llama-3.1-8B-Instruct-AWQ-INT4/snapshots/"
	    "0123456789abcdef0123456789abcdef01234567' && mkdir -p \"$d\" && printf 123456789012 > \"$d/config.json\"",
	    scratch);
	CU_ASSERT_EQUAL(system(dir), 0);
	swtable_files(role("primary"), &f);
	CU_ASSERT_STRING_EQUAL(swtable_files_word(&f), "partial");
	CU_ASSERT_EQUAL(f.present, 1);
	CU_ASSERT_EQUAL(f.total, 2);
	CU_ASSERT_EQUAL(f.present_bytes, 12);
	unsetenv("MODELC_HF_HOME");
}

static void
test_activefile(void)
{
	char path[600];
	const char *what;
	struct activefile af;
	unsigned line;

	snprintf(path, sizeof path, "%s/.active_model", scratch);
	errno = 0;
	CU_ASSERT_EQUAL(activefile_read(path, &af, &line), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_EQUAL(activefile_write(path, role("weird"), role("weird")->model_id, &what), 0);
	CU_ASSERT_EQUAL(activefile_read(path, &af, &line), 0);
	CU_ASSERT_STRING_EQUAL(af.role, "weird");
	CU_ASSERT_STRING_EQUAL(af.model_id, "/mnt/f/my models/it's 7b");

	FILE *f = fopen(path, "w");
	fputs("role=primary\nmodel_id=x\nextra=1\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(activefile_read(path, &af, &line), -2);
	CU_ASSERT_EQUAL(line, 3);
	f = fopen(path, "w");
	fputs("role=primary\nmodel_id=x", f);
	fclose(f);
	CU_ASSERT_EQUAL(activefile_read(path, &af, &line), -2);
	CU_ASSERT_EQUAL(line, 2);
	f = fopen(path, "w");
	fputs("# only a comment\n", f);
	fclose(f);
	CU_ASSERT_EQUAL(activefile_read(path, &af, &line), -2);

	CU_ASSERT_STRING_EQUAL(activefile_path("x"), "x");
	setenv("MODELC_ACTIVE_FILE", "/tmp/elsewhere", 1);
	CU_ASSERT_STRING_EQUAL(activefile_path(NULL), "/tmp/elsewhere");
	unsetenv("MODELC_ACTIVE_FILE");
	CU_ASSERT_STRING_EQUAL(activefile_path(NULL), ".active_model");

	snprintf(path, sizeof path, "%s/no/such/dir/.active_model", scratch);
	CU_ASSERT_EQUAL(activefile_write(path, role("primary"), role("primary")->model_id, &what), -1);
	CU_ASSERT_STRING_EQUAL(what, "open lock file");
}

/* The argv of a launch as one string, for comparisons. */
static const char *
joined(const struct launch_cmd *cmd)
{
	static char buf[4096];
	size_t len = 0;
	for (size_t i = 0; i < cmd->nenv; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s ", cmd->env[i]);
	for (size_t i = 0; i < cmd->argc; i++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? " " : "", cmd->argv[i]);
	return buf;
}

static void
test_launch_build(void)
{
	static struct launch_cmd cmd;
	struct refit plan;
	char warn[1024];
	FILE *w;

	setenv("MODELC_HF_HOME", "/h", 1);
	refit_plan(role("primary"), NULL, 0, &plan);
	CU_ASSERT_EQUAL(plan.outcome, REFIT_UNCHECKED);
	w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(role("primary"), &plan, "127.0.0.1", 8000, w, &cmd), 0);
	fclose(w);
	/* AWQ: no --quantization (vLLM picks awq_marlin itself) and --dtype half. */
	CU_ASSERT_STRING_EQUAL(joined(&cmd), "HF_HOME=/h vllm serve hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 "
	    "--revision 0123456789abcdef0123456789abcdef01234567 --served-model-name "
	    "primary hugging-quants/Meta-Llama-3.1-8B-Instruct-AWQ-INT4 --max-model-len 8192 --gpu-memory-utilization 0.9 "
	    "--dtype half --max-num-seqs 16 --max-num-batched-tokens 2048 --host 127.0.0.1 --port 8000");
	CU_ASSERT_STRING_EQUAL(warn, "switch: warning: 'primary' is not in the cache '/h/hub'; the server will download it\n");

	refit_plan(role("math"), NULL, 0, &plan);
	w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(role("math"), &plan, "::1", 9000, w, &cmd), 0);
	fclose(w);
	/* fp8 is in-flight quantization: named. */
	CU_ASSERT_STRING_EQUAL(joined(&cmd), "HF_HOME=/h vllm serve mistralai/Mathstral-7B-v0.1 --served-model-name "
	    "math mistralai/Mathstral-7B-v0.1 /mnt/f/models/mathstral-7b --max-model-len 8192 --gpu-memory-utilization 0.9 --kv-cache-dtype fp8 "
	    "--quantization fp8 --max-num-seqs 8 --max-num-batched-tokens 2048 --host ::1 --port 9000");
	/* The flag comes from the budget inputs modelc stored (the catalog's server.enforce_eager). */
	static struct model_entry eager;
	eager = *role("math");
	eager.params.enforce_eager = true;
	w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(&eager, &plan, "::1", 9000, w, &cmd), 0);
	fclose(w);
	CU_ASSERT(strstr(joined(&cmd), " --max-num-batched-tokens 2048 --enforce-eager --host ::1 ") != NULL);

	refit_plan(role("fallback"), NULL, 4096, &plan);
	w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(role("fallback"), &plan, "0.0.0.0", 8000, w, &cmd), 0);
	fclose(w);
	CU_ASSERT(strstr(joined(&cmd), " --max-model-len 4096 ") != NULL);
	CU_ASSERT(strstr(joined(&cmd), " --quantization bitsandbytes ") != NULL);

	/* No context in the table (modelc could not compute one): no --max-model-len, and a warning. */
	plan.max_model_len = 0;
	w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(role("fallback"), &plan, "127.0.0.1", 8000, w, &cmd), 0);
	fclose(w);
	CU_ASSERT(strstr(joined(&cmd), "--max-model-len") == NULL);
	CU_ASSERT(strstr(warn, "switch: warning: the catalog gives 'fallback' no max_model_len; the server will use "
	    "the model's own limit\n") != NULL);
	plan.max_model_len = 4096;

	/* A local directory that exists is served offline. */
	char dir[600];
	snprintf(dir, sizeof dir, "%s/hub/models--microsoft--Phi-3.5-mini-instruct/snapshots/"
	    "3333333333333333333333333333333333333333", scratch);
	char mk[700];
	snprintf(mk, sizeof mk, "mkdir -p '%s'", dir);
	CU_ASSERT_EQUAL(system(mk), 0);
	setenv("MODELC_HF_HOME", scratch, 1);
	w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(role("fallback"), &plan, "127.0.0.1", 8000, w, &cmd), 0);
	fclose(w);
	CU_ASSERT_EQUAL(cmd.local, 1);
	CU_ASSERT_STRING_EQUAL(cmd.model_path, dir);
	CU_ASSERT_STRING_EQUAL(cmd.env[1], "HF_HUB_OFFLINE=1");
	CU_ASSERT(strstr(joined(&cmd), "--revision") == NULL);
	unsetenv("MODELC_HF_HOME");
}

static void
test_launch_limits(void)
{
	static struct launch_cmd cmd;
	static char huge[LAUNCH_STR_MAX];
	static struct model_entry e;
	struct refit plan;
	char warn[1024];

	memset(huge, 'a', sizeof huge - 1);
	huge[0] = '/';
	e = *role("weird");
	e.model_id = huge;
	refit_plan(&e, NULL, 0, &plan);
	FILE *w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(&e, &plan, "127.0.0.1", 8000, w, &cmd), -1);
	fclose(w);
	CU_ASSERT(strstr(warn, "switch: error: the server's command line is longer than 16384 bytes or 63 words\n") != NULL);
}

static void
test_launch_local_partial(void)
{
	static struct launch_cmd cmd;
	static struct model_entry e;
	struct refit plan;
	char warn[1024], want[1024], dir[600], mk[1400];

	/* weird with primary's two files (config.json of 12 bytes, model.safetensors of 64). */
	snprintf(dir, sizeof dir, "%s/local-only", scratch);
	snprintf(mk, sizeof mk, "mkdir -p '%s' && printf 123456789012 > '%s/config.json'", dir, dir);
	CU_ASSERT_EQUAL(system(mk), 0);
	e = *role("weird");
	e.local_dir = dir;
	e.model_id = dir;
	e.files_first = role("primary")->files_first;
	e.nfiles = 2;
	refit_plan(&e, NULL, 0, &plan);
	FILE *w = fmemopen(warn, sizeof warn, "w");
	CU_ASSERT_EQUAL(launch_build(&e, &plan, "127.0.0.1", 8000, w, &cmd), 0);
	fclose(w);
	snprintf(want, sizeof want, "switch: warning: 1 of 2 files of 'weird' are missing from '%s'\n", dir);
	CU_ASSERT_STRING_EQUAL(warn, want);
	CU_ASSERT_STRING_EQUAL(cmd.model_path, dir);
	CU_ASSERT_EQUAL(cmd.local, 0);
}

/* The id is decided at run time; an existing local directory is checked against its own list. */
static void
test_local_dir_at_run_time(void)
{
	static struct model_entry e;
	struct swtable_files f;
	char dir[600], mk[2000];

	/* code with secondary's files as the repo's (10 and 32 bytes), primary's as the directory's own (12, 64). */
	snprintf(dir, sizeof dir, "%s/adopted", scratch);
	e = *role("code");
	e.local_dir = dir;
	e.files_first = role("secondary")->files_first;
	e.nfiles = 2;
	e.local_first = role("primary")->files_first;
	e.nlocal = 2;
	CU_ASSERT_STRING_EQUAL(swtable_model_id(&e), "bigcode/starcoder2-7b");
	snprintf(mk, sizeof mk, "mkdir -p '%s' && printf 123456789012 > '%s/config.json' && head -c 64 /dev/zero > '%s/model.safetensors'",
	    dir, dir, dir);
	CU_ASSERT_EQUAL(system(mk), 0);
	CU_ASSERT_STRING_EQUAL(swtable_model_id(&e), dir);
	swtable_files(&e, &f);
	CU_ASSERT_STRING_EQUAL(f.dir, dir);
	CU_ASSERT_EQUAL(f.total, 2);
	CU_ASSERT_EQUAL(f.present, 2);
	CU_ASSERT_STRING_EQUAL(swtable_files_word(&f), "present");
	/* Without its own list, the directory is checked against the manifest's files. */
	e.nlocal = 0;
	swtable_files(&e, &f);
	CU_ASSERT_EQUAL(f.total, 2);
	CU_ASSERT_EQUAL(f.present, 0);
	CU_ASSERT_STRING_EQUAL(swtable_files_word(&f), "missing");
	/* A local-only role keeps its table id. */
	CU_ASSERT_STRING_EQUAL(swtable_model_id(role("weird")), "/mnt/f/my models/it's 7b");
}

static void
test_refit(void)
{
	struct nvsmi_gpu idle = { 0, "H100", 81559, 0, 81079, 480 };
	struct nvsmi_gpu full = { 0, "RTX 3070", 8192, 7700, 291, -1 };
	struct refit plan;

	refit_plan(role("primary"), &idle, 0, &plan);
	CU_ASSERT_EQUAL(plan.outcome, REFIT_AS_PLANNED);
	CU_ASSERT_EQUAL(plan.max_model_len, 8192);
	CU_ASSERT_EQUAL(plan.gpu_total_bytes, 81079 * SIZE_MIB);
	refit_plan(role("primary"), &full, 0, &plan);
	CU_ASSERT_EQUAL(plan.outcome, REFIT_REFUSED);
	CU_ASSERT_EQUAL(plan.gpu_used_bytes, 7700 * SIZE_MIB);
}

static void
test_small_helpers(void)
{
	char buf[64];
	CU_ASSERT_EQUAL(swjson_escape(buf, sizeof buf, "a\"b\\c\n\x01"), 0);
	CU_ASSERT_STRING_EQUAL(buf, "\"a\\\"b\\\\c\\n\\u0001\"");
	CU_ASSERT_EQUAL(swjson_escape(buf, 4, "abcd"), -1);
	CU_ASSERT(swstr_contains("torch.OutOfMemoryError: CUDA out of memory.", "CUDA out of memory"));
	CU_ASSERT(!swstr_contains("CUDA out of", "CUDA out of memory"));
	CU_ASSERT(launch_is_oom("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"));
	CU_ASSERT(launch_is_oom("ValueError: No available memory for the cache blocks. Try increasing "
	    "`gpu_memory_utilization` when initializing the engine."));
	CU_ASSERT(!launch_is_oom("INFO: Started server process"));
	CU_ASSERT_EQUAL(launch_exit_code(0), 0);
	CU_ASSERT_EQUAL(launch_exit_code(15), 128 + 15);   /* killed by SIGTERM */
	CU_ASSERT_EQUAL(launch_exit_code(3 << 8), 3);
}

void
suite_switch(void)
{
	CU_pSuite s = CU_add_suite("switch", setup, teardown);
	CU_add_test(s, "find by role, path, repo", test_find);
	CU_add_test(s, "unknown role report", test_unknown_report);
	CU_add_test(s, "snapshot path and files", test_snapshot);
	CU_add_test(s, "active file", test_activefile);
	CU_add_test(s, "server argv", test_launch_build);
	CU_add_test(s, "server argv limits", test_launch_limits);
	CU_add_test(s, "local directory, partial", test_launch_local_partial);
	CU_add_test(s, "local directory decided at run time", test_local_dir_at_run_time);
	CU_add_test(s, "re-fit", test_refit);
	CU_add_test(s, "helpers", test_small_helpers);
}
