#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "activefile.h"
#include "envfile.h"
#include "exitcode.h"
#include "swcmd.h"
#include "swfolder.h"
#include "swtable.h"

static const char set_usage[] = "switch set ROLE|PATH|REPO [--active-file FILE]";
static const char env_usage[] = "switch env [--active-file FILE]";

enum { SET_VARS = 10, SET_NUM_MAX = 32 };

/* .env's names (compiler/emit_env.c): every setting serve passes that the fitted context depends on. */
static const char *const set_keys[SET_VARS] = { "VLLM_MODEL_ID", "VLLM_MAX_MODEL_LEN", "VLLM_QUANTIZATION",
	"VLLM_GPU_MEMORY_UTILIZATION", "VLLM_KV_CACHE_DTYPE", "VLLM_MAX_NUM_SEQS", "VLLM_MAX_NUM_BATCHED_TOKENS",
	"VLLM_DTYPE", "VLLM_ENFORCE_EAGER", "MODELC_ACTIVE_ROLE" };

/* Print the exports; NULL values are unset, so that a stale value in the caller's shell does not survive. */
static int
print_exports(const char *const vals[SET_VARS])
{
	for (int k = 0; k < SET_VARS; k++) {
		if (vals[k])
			envfile_write(stdout, "export ", set_keys[k], vals[k]);
		else
			printf("unset %s\n", set_keys[k]);
	}
	return fflush(stdout) == 0 ? EXITCODE_OK : EXITCODE_SYSTEM;
}

/* A model folder outside the catalog: VLLM_MODEL_ID is its absolute path and every limit is unset. */
static int
set_directory(const char *dir)
{
	static char abs[SWTABLE_PATH_MAX];
	int has = swfolder_check(dir, abs);

	if (has != SWFOLDER_MODEL) {
		swtable_report_unknown(stderr, dir);
		swcmd_note("'%s' has no %s\n", dir, has ? (has & SWFOLDER_CONFIG ? "*.safetensors file" : "config.json") :
		    "config.json and no *.safetensors file");
		return EXITCODE_REJECTED;
	}
	const char *why = envfile_check_value(set_keys[0], abs, strlen(abs));
	if (why) {
		swcmd_error("VLLM_MODEL_ID '%s' cannot be exported: it %s\n", abs, why);
		return EXITCODE_REJECTED;
	}
	swfolder_warn_unsized(abs);
	swcmd_note(".active_model unchanged; switch serve (no role) serves $VLLM_MODEL_ID\n");
	const char *vals[SET_VARS] = { abs };
	return print_exports(vals);
}

/* Export e's values; record it as the active role in the active file (file, else the default) when record. */
static int
export_entry(const struct model_entry *e, const char *file, bool record)
{
	char len[SET_NUM_MAX], util[SET_NUM_MAX], seqs[SET_NUM_MAX], batched[SET_NUM_MAX];
	const char *what;

	snprintf(len, sizeof len, "%u", (unsigned)e->max_model_len);
	snprintf(util, sizeof util, "%.4g", e->gpu_memory_utilization);
	snprintf(seqs, sizeof seqs, "%u", (unsigned)e->params.max_num_seqs);
	snprintf(batched, sizeof batched, "%u", (unsigned)e->params.max_num_batched_tokens);
	/* NULL: max_model_len 0 (modelc could not compute the budget); serve leaves the flag out too. */
	const char *vals[SET_VARS] = { swtable_model_id(e), e->max_model_len ? len : NULL,
		e->quantization ? e->quantization : "none", e->gpu_memory_utilization > 0 ? util : NULL,
		e->kv_cache_dtype ? e->kv_cache_dtype : "auto", e->params.max_num_seqs ? seqs : NULL,
		e->params.max_num_batched_tokens ? batched : NULL, e->dtype, e->params.enforce_eager ? "1" : NULL, e->role };
	/* Refuse before writing anything: a value the quoting rule rejects would not read back. */
	for (int k = 0; k < SET_VARS; k++) {
		const char *why = vals[k] ? envfile_check_value(set_keys[k], vals[k], strlen(vals[k])) : NULL;
		if (why) {
			swcmd_error("%s of '%s' cannot be exported: it %s\n", set_keys[k], e->role, why);
			return EXITCODE_REJECTED;
		}
	}
	const char *path = activefile_path(file);
	if (record && activefile_write(path, e, vals[0], &what) != 0) {
		swcmd_error("%s: %s: %s\n", path, what, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	return print_exports(vals);
}

int
swcmd_set(int argc, char **argv)
{
	const char *file = NULL, *target = NULL;
	struct stat st;

	int rc = swcmd_parse_active(argc, argv, set_usage, &file, &target);
	if (rc >= 0)
		return rc;
	struct model_entry entry;
	if (swtable_find(target, &entry)) {
		/* The role's local directory, absent here: vLLM gets the repo id and loads it from the Hub cache. */
		if (strchr(target, '/') && entry.local_dir && entry.repo && strcmp(swtable_model_id(&entry), entry.repo) == 0 &&
		    strcmp(target, entry.repo) != 0)
			swcmd_note("'%s' does not exist here; VLLM_MODEL_ID is '%s's repo id (fetch %s downloads it)\n",
			    entry.local_dir, entry.role, entry.role);
		return export_entry(&entry, file, true);
	}
	if (stat(target, &st) == 0 && S_ISDIR(st.st_mode))
		return set_directory(target);
	swtable_report_unknown(stderr, target);
	return EXITCODE_REJECTED;
}

/* The exports of the active role (else the primary), for a shell rc after sourcing .env. */
int
swcmd_env(int argc, char **argv)
{
	const char *file = NULL;
	struct model_entry entry;

	int rc = swcmd_parse_active(argc, argv, env_usage, &file, NULL);
	if (rc >= 0)
		return rc;
	if (!swcmd_pick_entry(NULL, file, false, &entry, &rc, NULL))
		return rc;
	return export_entry(&entry, file, false);
}
