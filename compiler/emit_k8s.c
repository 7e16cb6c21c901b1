/*
 * generated/k8s/: Kubernetes objects for the roles of a hosts: catalog. A role on one host is a
 * Deployment (one pod, nvidia.com/gpu = its GPUs), a Service and a PVC for the Hugging Face
 * cache; a role over several hosts is a LeaderWorkerSet (one pod per node, the leader serving
 * HTTP, the workers --headless) with a ReadWriteMany PVC. /dev/shm is a memory emptyDir (NCCL),
 * probes hit /health (a startup probe sized to the load time), HF_TOKEN comes from a Secret by
 * reference. The container's command + args is planargv's argv; in a LeaderWorkerSet the
 * node-placement values are LWS's own variables ($(LWS_GROUP_SIZE), $(LWS_WORKER_INDEX),
 * $(LWS_LEADER_ADDRESS)), since pods get their addresses at run time.
 */
#include "emit_k8s.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "planargv.h"
#include "size.h"

#define K8S_SECRET "hf-token"
#define K8S_SECRET_KEY "token"
#define K8S_CACHE "/root/.cache/huggingface"
enum { K8S_SHM_GIB = 16, K8S_LOAD_BYTES_PER_S = 500000000, K8S_START_FIXED_S = 180,
	K8S_PROBE_PERIOD_S = 10, K8S_MIN_PVC_GIB = 20 };

/* A role name as a DNS-1123 label: '_' is not allowed there. */
static const char *
dns_name(struct arena *a, const char *role)
{
	char *s = arena_printf(a, "modelc-%s", role);
	for (char *p = s; *p; p++)
		if (*p == '_')
			*p = '-';
	return s;
}

static uint64_t
largest_rank_weights(const struct plan_parallel *pl, uint64_t *total)
{
	uint64_t big = 0;
	*total = 0;
	for (size_t k = 0; k < pl->nranks; k++) {
		*total += pl->ranks[k].weights.total_bytes;
		if (pl->ranks[k].weights.total_bytes > big)
			big = pl->ranks[k].weights.total_bytes;
	}
	return big;
}

static const char *
lws_value(struct arena *a, const char *flag, const char *value)
{
	if (strcmp(flag, "--nnodes") == 0)
		return "$(LWS_GROUP_SIZE)";
	if (strcmp(flag, "--node-rank") == 0)
		return "$(LWS_WORKER_INDEX)";
	if (strcmp(flag, "--master-addr") == 0 || strcmp(flag, "--data-parallel-address") == 0)
		return "$(LWS_LEADER_ADDRESS)";
	return arena_strdup(a, value);
}

/* One container at indent ind: the node's argv and environment, GPUs, cache, shm, probes. */
static void
container(FILE *out, struct arena *a, const struct plan *p, const struct plan_role *pr,
    const struct planargv_node *nd, size_t lws_nodes, const char *ind)
{
	bool lws = lws_nodes > 1;
	const struct catalog *c = p->catalog;
	size_t ncmd = 0;
	while (c->server_command[ncmd])
		ncmd++;
	fprintf(out, "%s- name: vllm\n%s  image: ", ind, ind);
	emit_yaml_string(out, c->image);
	fprintf(out, "\n%s  command:", ind);
	for (size_t k = 0; k < ncmd; k++) {
		fprintf(out, "\n%s    - ", ind);
		emit_yaml_string(out, nd->argv[k]);
	}
	fprintf(out, "\n%s  args:", ind);
	for (size_t k = ncmd; k < nd->argc; k++) {
		fprintf(out, "\n%s    - ", ind);
		const char *v = lws && k > ncmd ? lws_value(a, nd->argv[k - 1], nd->argv[k]) :
		    nd->argv[k];
		/* Over more than 2 pods each runs one replica (planpar checks it): its first DP rank
		 * is the pod's index; 2 pods have one worker, whose own value is right. */
		if (lws_nodes > 2 && k > ncmd && strcmp(nd->argv[k - 1], "--data-parallel-start-rank") == 0)
			v = "$(LWS_WORKER_INDEX)";
		emit_yaml_string(out, v);
	}
	fprintf(out, "\n%s  env:\n%s    - name: \"HF_HOME\"\n%s      value: \"%s\"\n"
	    "%s    - name: \"HF_TOKEN\"\n%s      valueFrom:\n%s        secretKeyRef:\n"
	    "%s          name: \"%s\"\n%s          key: \"%s\"\n%s          optional: true\n",
	    ind, ind, ind, K8S_CACHE, ind, ind, ind, ind, K8S_SECRET, ind, K8S_SECRET_KEY, ind);
	for (size_t e = 0; nd->env[e]; e++) {
		const char *eq = strchr(nd->env[e], '=');
		/* The pod sees its GPUs as 0..n-1; host addresses and interfaces are the cluster's. */
		if (strncmp(nd->env[e], "CUDA_VISIBLE_DEVICES=", 21) == 0 ||
		    strncmp(nd->env[e], "VLLM_HOST_IP=", 13) == 0 ||
		    strstr(nd->env[e], "_SOCKET_IFNAME="))
			continue;
		fprintf(out, "%s    - name: ", ind);
		emit_yaml_string(out, arena_strndup(a, nd->env[e], (size_t)(eq - nd->env[e])));
		fprintf(out, "\n%s      value: ", ind);
		emit_yaml_string(out, eq + 1);
		fputc('\n', out);
	}
	if (nd->serves_http) {
		uint64_t total, big = largest_rank_weights(pr->par, &total);
		uint64_t start = K8S_START_FIXED_S + big / K8S_LOAD_BYTES_PER_S;
		fprintf(out, "%s  ports:\n%s    - name: http\n%s      containerPort: %u\n", ind, ind,
		    ind, planargv_port(p, pr));
		fprintf(out, "%s  startupProbe:\n%s    httpGet: {path: /health, port: http}\n"
		    "%s    periodSeconds: %d\n%s    failureThreshold: %llu\n", ind, ind, ind,
		    K8S_PROBE_PERIOD_S, ind,
		    (unsigned long long)((start + K8S_PROBE_PERIOD_S - 1) / K8S_PROBE_PERIOD_S));
		fprintf(out, "%s  readinessProbe:\n%s    httpGet: {path: /health, port: http}\n"
		    "%s    periodSeconds: %d\n", ind, ind, ind, K8S_PROBE_PERIOD_S);
		fprintf(out, "%s  livenessProbe:\n%s    httpGet: {path: /health, port: http}\n"
		    "%s    periodSeconds: 30\n%s    failureThreshold: 3\n", ind, ind, ind, ind);
	}
	fprintf(out, "%s  resources:\n%s    limits:\n%s      nvidia.com/gpu: %u\n", ind, ind, ind,
	    nd->nranks);
	fprintf(out, "%s  volumeMounts:\n%s    - name: hf-cache\n%s      mountPath: \"%s\"\n"
	    "%s    - name: dshm\n%s      mountPath: /dev/shm\n", ind, ind, ind, K8S_CACHE, ind, ind);
}

static void
volumes(FILE *out, const char *name, const char *ind)
{
	fprintf(out, "%svolumes:\n%s  - name: hf-cache\n%s    persistentVolumeClaim:\n"
	    "%s      claimName: \"%s-hf-cache\"\n%s  - name: dshm\n%s    emptyDir:\n"
	    "%s      medium: Memory\n%s      sizeLimit: %dGi\n", ind, ind, ind, ind, name, ind, ind,
	    ind, ind, K8S_SHM_GIB);
}

static void
header(FILE *out, const struct plan *p, const char *what)
{
	fprintf(out, "# generated from %s by modelc; do not edit\n# %s\n", emit_catalog_name(p).s,
	    what);
}

static void
metadata(FILE *out, const char *name)
{
	fprintf(out, "metadata:\n  name: \"%s\"\n  labels:\n    app.kubernetes.io/name: \"%s\"\n"
	    "    app.kubernetes.io/managed-by: modelc\n", name, name);
}

static int
deployment(FILE *out, struct arena *a, const struct plan *p, const struct plan_role *pr,
    const struct planargv_node *nd, const char *name)
{
	header(out, p, "one pod with every GPU of the role; HF_TOKEN from Secret " K8S_SECRET);
	fputs("apiVersion: apps/v1\nkind: Deployment\n", out);
	metadata(out, name);
	fprintf(out, "spec:\n  replicas: 1\n  strategy:\n    type: Recreate\n  selector:\n"
	    "    matchLabels:\n      app.kubernetes.io/name: \"%s\"\n  template:\n    metadata:\n"
	    "      labels:\n        app.kubernetes.io/name: \"%s\"\n    spec:\n      containers:\n",
	    name, name);
	container(out, a, p, pr, nd, 0, "        ");
	volumes(out, name, "      ");
	return 0;
}

static int
lws(FILE *out, struct arena *a, const struct plan *p, const struct plan_role *pr,
    const struct planargv_node *nd, size_t n, const char *name)
{
	header(out, p, "one pod per node (needs the LeaderWorkerSet controller); HF_TOKEN from "
	    "Secret " K8S_SECRET);
	fputs("apiVersion: leaderworkerset.x-k8s.io/v1\nkind: LeaderWorkerSet\n", out);
	metadata(out, name);
	fprintf(out, "spec:\n  replicas: 1\n  leaderWorkerTemplate:\n    size: %zu\n"
	    "    restartPolicy: RecreateGroupOnPodRestart\n    leaderTemplate:\n      metadata:\n"
	    "        labels:\n          app.kubernetes.io/name: \"%s\"\n          role: leader\n"
	    "      spec:\n        containers:\n", n, name);
	container(out, a, p, pr, &nd[0], n, "          ");
	volumes(out, name, "        ");
	fprintf(out, "    workerTemplate:\n      metadata:\n        labels:\n"
	    "          app.kubernetes.io/name: \"%s\"\n          role: worker\n      spec:\n"
	    "        containers:\n", name);
	container(out, a, p, pr, &nd[1], n, "          ");
	volumes(out, name, "        ");
	return 0;
}

int
emit_k8s(FILE *out, const struct plan *p, size_t role, enum emit_k8s_kind kind)
{
	struct arena a = {0};
	const struct plan_role *pr = &p->roles[role];
	struct planargv_node *nd;
	size_t n = planargv_nodes(&a, p, pr, &nd);
	const char *name = dns_name(&a, pr->role->name);
	uint64_t total;
	largest_rank_weights(pr->par, &total);
	uint64_t gib = total / SIZE_GIB * 5 / 4 + 1;
	if (gib < K8S_MIN_PVC_GIB)
		gib = K8S_MIN_PVC_GIB;
	switch (kind) {
	case EMIT_K8S_WORKLOAD:
		if (n > 1)
			lws(out, &a, p, pr, nd, n, name);
		else
			deployment(out, &a, p, pr, &nd[0], name);
		break;
	case EMIT_K8S_SERVICE: {
		/* Replicas over hosts serve HTTP on every pod: the Service spreads requests. */
		bool every = n > 1 && nd[n - 1].serves_http;
		header(out, p, every ? "every pod serves HTTP" : "rank 0 (the leader) serves HTTP");
		fputs("apiVersion: v1\nkind: Service\n", out);
		metadata(out, name);
		fprintf(out, "spec:\n  selector:\n    app.kubernetes.io/name: \"%s\"\n%s  ports:\n"
		    "    - name: http\n      port: %u\n      targetPort: http\n", name,
		    n > 1 && !every ? "    role: leader\n" : "", p->catalog->port);
		break;
	}
	case EMIT_K8S_PVC:
		header(out, p, "the Hugging Face cache (weights and 25% room)");
		fputs("apiVersion: v1\nkind: PersistentVolumeClaim\n", out);
		fprintf(out, "metadata:\n  name: \"%s-hf-cache\"\n  labels:\n"
		    "    app.kubernetes.io/name: \"%s\"\n    app.kubernetes.io/managed-by: modelc\n"
		    "spec:\n  accessModes:\n    - %s\n  resources:\n    requests:\n"
		    "      storage: %lluGi\n", name, name, n > 1 ? "ReadWriteMany" : "ReadWriteOnce",
		    (unsigned long long)gib);
		break;
	}
	arena_free(&a);
	return ferror(out) ? -1 : 0;
}

const char *
emit_k8s_workload_name(const struct plan *p, size_t role)
{
	struct arena a = {0};
	struct planargv_node *nd;
	size_t n = planargv_nodes(&a, p, &p->roles[role], &nd);
	arena_free(&a);
	return n > 1 ? "leaderworkerset" : "deployment";
}

int
emit_k8s_kustomization(FILE *out, const struct plan *p)
{
	header(out, p, "kubectl apply -k THIS_FOLDER applies every role; kubectl apply -f "
	    "ROLE.*.yaml one role");
	fputs("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n", out);
	for (size_t i = 0; i < p->nroles; i++) {
		const char *r = p->roles[i].role->name;
		if (p->roles[i].par)
			fprintf(out, "  - %s.pvc.yaml\n  - %s.service.yaml\n  - %s.%s.yaml\n", r, r, r,
			    emit_k8s_workload_name(p, i));
	}
	return ferror(out) ? -1 : 0;
}
