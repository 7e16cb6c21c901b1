#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bench_role.h"

int bench_role_env_get(const char *path, const char *key, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char *line = NULL;
	size_t cap = 0, klen = strlen(key);
	int found = 0;
	while (getline(&line, &cap, f) > 0) {
		if (strncmp(line, key, klen) != 0 || line[klen] != '=')
			continue;
		char *v = line + klen + 1;
		size_t n = strcspn(v, "\n");
		v[n] = '\0';
		if (n >= 2 && (v[0] == '\'' || v[0] == '"') && v[n - 1] == v[0]) {
			v[n - 1] = '\0';
			v++;
		}
		snprintf(out, outlen, "%s", v);
		found = 1;
	}
	free(line);
	fclose(f);
	return found;
}

static void role_key(char *buf, size_t n, const char *role, const char *suffix)
{
	size_t i = 0;
	for (; role[i] && i + 1 < n; i++)
		buf[i] = (char)toupper((unsigned char)role[i]);
	buf[i] = '\0';
	snprintf(buf + i, n - i, "%s", suffix);
}

void bench_role_read(const char *gendir, const char *role, struct bench_role_info *out)
{
	memset(out, 0, sizeof *out);
	char env[4096], key[128], val[BENCH_ROLE_STR];
	snprintf(env, sizeof env, "%s/.env", gendir);
	bench_role_env_get(env, "MODELC_ACTIVE_ROLE", out->active_role, sizeof out->active_role);
	if (!role)
		return;
	role_key(key, sizeof key, role, "_MAX_MODEL_LEN");
	if (bench_role_env_get(env, key, val, sizeof val)) {
		out->found = 1;
		out->max_model_len = (uint32_t)strtoul(val, NULL, 10);
	}
	role_key(key, sizeof key, role, "_MODEL_ID");
	out->found |= bench_role_env_get(env, key, out->model_id, sizeof out->model_id);
	role_key(key, sizeof key, role, "_QUANTIZATION");
	bench_role_env_get(env, key, out->quantization, sizeof out->quantization);
	role_key(key, sizeof key, role, "_KV_CACHE_DTYPE");
	bench_role_env_get(env, key, out->kv_cache_dtype, sizeof out->kv_cache_dtype);
	role_key(key, sizeof key, role, "_GPU_MEMORY_UTILIZATION");
	bench_role_env_get(env, key, out->gpu_memory_utilization, sizeof out->gpu_memory_utilization);

	char man[4096];
	snprintf(man, sizeof man, "%s/manifests/%s.json", gendir, role);
	json_error_t je;
	json_t *m = json_load_file(man, 0, &je);
	const char *commit = m ? json_string_value(json_object_get(m, "commit")) : NULL;
	if (commit)
		snprintf(out->commit, sizeof out->commit, "%s", commit);
	json_decref(m);
}

void bench_role_flags(const struct bench_role_info *ri, uint32_t max_model_len, char *out, size_t outlen)
{
	size_t n = 0;
	out[0] = '\0';
	if (max_model_len)
		n += (size_t)snprintf(out + n, outlen - n, "--max-model-len %u", max_model_len);
	if (n < outlen && ri->gpu_memory_utilization[0])
		n += (size_t)snprintf(out + n, outlen - n, "%s--gpu-memory-utilization %s", n ? " " : "",
		    ri->gpu_memory_utilization);
	if (n < outlen && ri->kv_cache_dtype[0])
		n += (size_t)snprintf(out + n, outlen - n, "%s--kv-cache-dtype %s", n ? " " : "", ri->kv_cache_dtype);
	/* Only in-flight formats are passed to vLLM (switch's rule); others it detects itself. */
	if (n < outlen && (strcmp(ri->quantization, "bitsandbytes") == 0 || strcmp(ri->quantization, "fp8") == 0))
		snprintf(out + n, outlen - n, "%s--quantization %s", n ? " " : "", ri->quantization);
}
