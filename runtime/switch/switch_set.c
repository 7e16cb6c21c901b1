#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "activefile.h"
#include "envfile.h"
#include "exitcode.h"
#include "swcmd.h"
#include "swtable.h"

static const char set_usage[] = "switch set ROLE|PATH|REPO [--active-file FILE]";

enum { SET_VARS = 6, SET_NUM_MAX = 32 };

int
swcmd_set(int argc, char **argv)
{
	const char *file = NULL, *target = NULL;
	char len[SET_NUM_MAX], util[SET_NUM_MAX];
	const char *what;

	for (int i = 1; i < argc; i++) {
		int m = swcmd_option(argc, argv, &i, "--active-file", &file);
		if (m < 0)
			return EXITCODE_USAGE;
		if (m)
			continue;
		if (strcmp(argv[i], "--help") == 0)
			return swcmd_usage(stdout, set_usage);
		if (argv[i][0] == '-' && argv[i][1] != '\0')
			return swcmd_unknown_option(argv[0], argv[i], set_usage);
		if (target) {
			swcmd_error("set: expected one ROLE, PATH or REPO, got '%s' and '%s'\n"
			    "usage: %s\n", target, argv[i], set_usage);
			return EXITCODE_USAGE;
		}
		target = argv[i];
	}
	if (!target) {
		swcmd_error("set: missing ROLE, PATH or REPO\nusage: %s\n", set_usage);
		return EXITCODE_USAGE;
	}
	struct model_entry entry, *e = &entry;
	if (!swtable_find(target, e)) {
		swtable_report_unknown(stderr, target);
		return EXITCODE_REJECTED;
	}
	snprintf(len, sizeof len, "%u", (unsigned)e->max_model_len);
	snprintf(util, sizeof util, "%.4g", e->gpu_memory_utilization);
	const char *keys[SET_VARS] = { "VLLM_MODEL_ID", "VLLM_MAX_MODEL_LEN", "VLLM_QUANTIZATION",
		"VLLM_GPU_MEMORY_UTILIZATION", "VLLM_KV_CACHE_DTYPE", "MODELC_ACTIVE_ROLE" };
	/*
	 * NULL is a value the table does not know (max_model_len 0: modelc could not compute the
	 * budget): it is unset, so that a stale value in the caller's shell does not survive, and
	 * vLLM decides (serve leaves the flag out too).
	 */
	const char *vals[SET_VARS] = { swtable_model_id(e), e->max_model_len ? len : NULL,
		e->quantization ? e->quantization : "none", e->gpu_memory_utilization > 0 ? util : NULL,
		e->kv_cache_dtype ? e->kv_cache_dtype : "auto", e->role };
	/* Refuse before writing anything: a value the quoting rule rejects would not read back. */
	for (int k = 0; k < SET_VARS; k++) {
		if (!vals[k])
			continue;
		const char *why = envfile_check_value(keys[k], vals[k], strlen(vals[k]));
		if (why) {
			swcmd_error("%s of '%s' cannot be exported: it %s\n", keys[k], e->role, why);
			return EXITCODE_REJECTED;
		}
	}
	const char *path = activefile_path(file);
	if (activefile_write(path, e, vals[0], &what) != 0) {
		swcmd_error("%s: %s: %s\n", path, what, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	for (int k = 0; k < SET_VARS; k++) {
		if (vals[k])
			envfile_write(stdout, "export ", keys[k], vals[k]);
		else
			printf("unset %s\n", keys[k]);
	}
	return fflush(stdout) == 0 ? EXITCODE_OK : EXITCODE_SYSTEM;
}
