/*
 * Values for the production-stack chart (vllm-project/production-stack, chart vllm-stack
 * 0.1.12). The chart renders its own `vllm serve` line from these keys, so they carry what
 * plan.json's argv says: TP only through vllmConfig.tensorParallelSize (which also mounts
 * /dev/shm), requestGPU = TP x PP, PP and the other flags in extraArgs, DP as replicaCount behind
 * the chart's router (plain replicas, as vLLM's docs advise for models without experts), the
 * token by Secret reference. A role whose replica spans hosts is left out (the chart's
 * multi-node path needs Ray); the file names it. Replicas that each fit one host are the
 * chart's own model: replicaCount pods behind its router.
 */
#include "emit_stack.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "planargv.h"
#include "size.h"

enum { STACK_CPU = 8, STACK_MIN_PVC_GIB = 20 };

/* Flags the chart's keys do not carry, with their values, from the node's argv. */
static bool
extra_flag(const char *f)
{
	static const char *const keep[] = {"--pipeline-parallel-size", "--max-num-batched-tokens",
		"--distributed-executor-backend", "--kv-cache-memory-bytes", "--kv-cache-dtype",
		"--quantization", "--revision", "--served-model-name", "--enforce-eager",
		"--disable-custom-all-reduce", "--enable-expert-parallel"};
	for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (strcmp(f, keep[i]) == 0)
			return true;
	return false;
}

static void
model_spec(FILE *out, struct arena *a, const struct plan *p, const struct plan_role *pr,
    const struct planargv_node *nd)
{
	const struct catalog *c = p->catalog;
	const struct plan_parallel *pl = pr->par;
	const char *colon = strrchr(c->image, ':');
	uint64_t total = 0;
	for (size_t k = 0; k < pl->nranks; k++)
		total += pl->ranks[k].weights.total_bytes / pl->dp;
	uint64_t gib = total / SIZE_GIB * 5 / 4 + 1;
	char *name = arena_strdup(a, pr->role->name);
	for (char *s = name; *s; s++)
		if (*s == '_')
			*s = '-';
	fprintf(out, "    - name: \"%s\"\n      repository: ", name);
	emit_yaml_string(out, arena_strndup(a, c->image, (size_t)(colon - c->image)));
	fputs("\n      tag: ", out);
	emit_yaml_string(out, colon + 1);
	fputs("\n      modelURL: ", out);
	emit_yaml_string(out, pr->model_id ? pr->model_id : pr->role->name);
	fprintf(out, "\n      replicaCount: %u\n      requestCPU: %d\n      requestMemory: \"%lluGi\"\n"
	    "      requestGPU: %u\n      pvcStorage: \"%lluGi\"\n      shmSize: \"16Gi\"\n",
	    pl->dp, STACK_CPU, (unsigned long long)(total / SIZE_GIB + 16), pl->tp * pl->pp,
	    (unsigned long long)(gib < STACK_MIN_PVC_GIB ? STACK_MIN_PVC_GIB : gib));
	fputs("      hf_token:\n        secretName: \"hf-token\"\n        secretKey: \"token\"\n", out);
	bool env = false;
	for (size_t e = 0; nd->env[e]; e++) {
		const char *eq = strchr(nd->env[e], '=');
		if (strncmp(nd->env[e], "CUDA_VISIBLE_DEVICES=", 21) == 0 ||
		    strncmp(nd->env[e], "VLLM_HOST_IP=", 13) == 0 || strstr(nd->env[e], "_SOCKET_IFNAME="))
			continue;
		if (!env)
			fputs("      env:\n", out);
		env = true;
		fputs("        - name: ", out);
		emit_yaml_string(out, arena_strndup(a, nd->env[e], (size_t)(eq - nd->env[e])));
		fputs("\n          value: ", out);
		emit_yaml_string(out, eq + 1);
		fputc('\n', out);
	}
	fprintf(out, "      vllmConfig:\n        tensorParallelSize: %u\n        maxModelLen: %u\n"
	    "        gpuMemoryUtilization: %s\n        maxNumSeqs: %u\n", pl->tp, pl->max_model_len,
	    emit_util(pl->utilization).s, pr->params.max_num_seqs);
	if (pr->dtype && strcmp(pr->dtype, "auto") != 0) {
		fputs("        dtype: ", out);
		emit_yaml_string(out, pr->dtype);
		fputc('\n', out);
	}
	fputs("        extraArgs:\n", out);
	for (size_t k = 0; k < nd->argc; k++) {
		if (!extra_flag(nd->argv[k]))
			continue;
		fputs("          - ", out);
		emit_yaml_string(out, nd->argv[k]);
		fputc('\n', out);
		/* Its values: --served-model-name has several. */
		while (k + 1 < nd->argc && strncmp(nd->argv[k + 1], "--", 2) != 0) {
			fputs("          - ", out);
			emit_yaml_string(out, nd->argv[++k]);
			fputc('\n', out);
		}
	}
}

int
emit_stack_values(FILE *out, const struct plan *p)
{
	struct arena a = {0};
	fprintf(out, "# generated from %s by modelc; do not edit\n# helm install vllm "
	    "vllm/vllm-stack -f THIS_FILE (chart vllm-stack 0.1.12); HF_TOKEN from Secret hf-token\n",
	    emit_catalog_name(p).s);
	for (size_t i = 0; i < p->nroles; i++) {
		if (p->roles[i].par && p->roles[i].par->nnodes > 1)
			fprintf(out, "# role %s spans hosts: not here (use k8s/%s.leaderworkerset.yaml)\n",
			    p->roles[i].role->name, p->roles[i].role->name);
	}
	size_t specs = 0;
	for (size_t i = 0; i < p->nroles; i++) {
		specs += p->roles[i].par && p->roles[i].par->nnodes == 1;
	}
	fprintf(out, "servingEngineSpec:\n  runtimeClassName: \"\"\n  modelSpec:%s\n", specs ? "" : " []");
	for (size_t i = 0; i < p->nroles; i++) {
		struct planargv_node *nd;
		const struct plan_role *pr = &p->roles[i];
		if (pr->par && pr->par->nnodes == 1 && planargv_nodes(&a, p, pr, &nd))
			model_spec(out, &a, p, pr, &nd[0]);
	}
	fputs("routerSpec:\n  enableRouter: true\n  routingLogic: \"roundrobin\"\n", out);
	arena_free(&a);
	return ferror(out) ? -1 : 0;
}
