#ifndef MODELC_BENCH_ROLE_H
#define MODELC_BENCH_ROLE_H

/*
 * What modelc's generated/ says about a role: generated/.env (<ROLE>_MAX_MODEL_LEN,
 * <ROLE>_MODEL_ID, <ROLE>_QUANTIZATION, <ROLE>_KV_CACHE_DTYPE, <ROLE>_GPU_MEMORY_UTILIZATION,
 * MODELC_ACTIVE_ROLE) and generated/manifests/<role>.json ("commit"). Missing files are not
 * errors: bench then relies on what the server reports.
 */

#include <stdint.h>

enum { BENCH_ROLE_STR = 512 };

struct bench_role_info {
	int found;                          /* the .env had keys for this role */
	char active_role[BENCH_ROLE_STR];   /* MODELC_ACTIVE_ROLE, "" when absent */
	char model_id[BENCH_ROLE_STR];
	char quantization[64];
	char kv_cache_dtype[64];
	char gpu_memory_utilization[32];
	char commit[64];
	uint32_t max_model_len;             /* 0 when unknown */
};

/*
 * Read gendir/.env and gendir/manifests/<role>.json for role (NULL: only MODELC_ACTIVE_ROLE).
 * Never fails; what it cannot read stays empty.
 */
void bench_role_read(const char *gendir, const char *role, struct bench_role_info *out);

/* Read one KEY from a .env file into out (quotes removed); 1 when found, else 0. */
int bench_role_env_get(const char *path, const char *key, char *out, size_t outlen);

/* The vLLM flags that matter for latency, from what is known ("" when nothing is). */
void bench_role_flags(const struct bench_role_info *ri, uint32_t max_model_len, char *out, size_t outlen);

#endif
