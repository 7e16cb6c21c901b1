/*
 * generated/compose/: Docker Compose files for the roles of a hosts: catalog, one per role on
 * one host and one per node when a role spans hosts. Only what both Compose V1 (1.29) and the
 * Compose Specification accept: GPUs as deploy.resources.reservations.devices with device_ids
 * (never with count), ipc: host for NCCL's shared memory, the Hugging Face cache as a volume,
 * HF_TOKEN passed by name from the environment of whoever runs compose (never a value), and a
 * health check on /health only where a node serves HTTP. entrypoint + command is planargv's
 * argv, word for word. Data-parallel replicas over hosts serve HTTP on every node; a further
 * file runs the production-stack router in front of them (planargv_router), on rank 0's host.
 */
#include "emit_compose.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "planargv.h"

/* Seconds vLLM needs before /health answers: reading the weights, then compile and graphs. */
enum { COMPOSE_LOAD_BYTES_PER_S = 500000000, COMPOSE_START_FIXED_S = 180, COMPOSE_ROUND_S = 30,
	COMPOSE_ROUTER_START_S = 30 };

static uint64_t
start_period(const struct plan_parallel *pl)
{
	uint64_t bytes = 0;
	for (size_t k = 0; k < pl->nranks; k++)
		if (pl->ranks[k].weights.total_bytes > bytes)
			bytes = pl->ranks[k].weights.total_bytes;
	uint64_t s = COMPOSE_START_FIXED_S + bytes / COMPOSE_LOAD_BYTES_PER_S;
	return (s + COMPOSE_ROUND_S - 1) / COMPOSE_ROUND_S * COMPOSE_ROUND_S;
}

/* The Compose files of role pr: one per node, then the router's when it has one. */
static size_t
role_files(struct arena *a, const struct plan *p, const struct plan_role *pr,
    struct planargv_node **nd, const struct planargv_router **router)
{
	size_t n = planargv_nodes(a, p, pr, nd);
	*router = planargv_router(a, p, pr, *nd, n);
	return n + (*router != NULL);
}

size_t
emit_compose_count(const struct plan *p)
{
	struct arena a = {0};
	size_t n = 0;
	for (size_t i = 0; i < p->nroles; i++) {
		struct planargv_node *nd;
		const struct planargv_router *rt;
		if (p->roles[i].par)
			n += role_files(&a, p, &p->roles[i], &nd, &rt);
	}
	arena_free(&a);
	return n;
}

char *
emit_compose_path(const struct plan *p, size_t index, size_t *role, size_t *node)
{
	struct arena a = {0};
	char *path = NULL;
	for (size_t i = 0; i < p->nroles && !path; i++) {
		struct planargv_node *nd;
		const struct planargv_router *rt;
		if (!p->roles[i].par)
			continue;
		size_t n = role_files(&a, p, &p->roles[i], &nd, &rt);
		if (index >= n) {
			index -= n;
			continue;
		}
		const char *name = p->roles[i].role->name;
		size_t len = strlen(name) + 40;
		path = malloc(len);
		if (path && rt && index == n - 1)
			snprintf(path, len, "compose/%s.router.compose.yaml", name);
		else if (path && n == 1)
			snprintf(path, len, "compose/%s.compose.yaml", name);
		else if (path)
			snprintf(path, len, "compose/%s.node%zu.compose.yaml", name, index);
		*role = i;
		*node = index;
	}
	arena_free(&a);
	return path;
}

static void
healthcheck(FILE *out, struct arena *a, uint32_t port, uint64_t start_s)
{
	fputs("    healthcheck:\n      test:\n        - \"CMD\"\n        - \"python3\"\n"
	    "        - \"-c\"\n        - ", out);
	emit_yaml_string(out, arena_printf(a, "import urllib.request; urllib.request.urlopen("
	    "'http://127.0.0.1:%u/health', timeout=5)", port));
	fprintf(out, "\n      interval: \"30s\"\n      timeout: \"10s\"\n      retries: 3\n"
	    "      start_period: \"%llus\"\n", (unsigned long long)start_s);
}

/* The router's file: its image runs vllm-router, so command is its arguments. */
static void
router_file(FILE *out, struct arena *a, const struct plan *p, const struct plan_role *pr,
    const struct planargv_node *nd, size_t n, const struct planargv_router *rt)
{
	const struct catalog *c = p->catalog;
	fprintf(out, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fprintf(out, "# role %s: the production-stack router in front of its %zu nodes (host %s): "
	    "docker compose -f THIS_FILE up\n", pr->role->name, n, c->hosts[nd[0].host].name);
	fprintf(out, "services:\n  %s_router:\n    image: ", pr->role->name);
	emit_yaml_string(out, PLANARGV_ROUTER_IMAGE);
	fputs("\n    ports:\n      - ", out);
	emit_yaml_string(out, arena_printf(a, "%s:%u:%u", c->host, rt->port, rt->port));
	fputs("\n    command:", out);
	for (size_t k = 0; k < rt->argc; k++) {
		fputs("\n      - ", out);
		emit_yaml_string(out, rt->argv[k]);
	}
	fputc('\n', out);
	healthcheck(out, a, rt->port, COMPOSE_ROUTER_START_S);
}

int
emit_compose(FILE *out, const struct plan *p, size_t role, size_t node)
{
	struct arena a = {0};
	const struct plan_role *pr = &p->roles[role];
	const struct catalog *c = p->catalog;
	struct planargv_node *nds;
	const struct planargv_router *rt;
	size_t n = role_files(&a, p, pr, &nds, &rt) - (rt != NULL);
	if (node == n) {
		router_file(out, &a, p, pr, nds, n, rt);
		arena_free(&a);
		return ferror(out) ? -1 : 0;
	}
	const struct planargv_node *nd = &nds[node];
	size_t ncmd = 0;
	while (c->server_command[ncmd])
		ncmd++;

	fprintf(out, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fprintf(out, "# role %s, node %u of %zu (host %s): docker compose -f THIS_FILE up\n",
	    pr->role->name, nd->node_rank, n, c->hosts[nd->host].name);
	fputs("# HF_TOKEN, when the model is gated, comes from the shell that runs compose.\n", out);
	fprintf(out, "services:\n  %s:\n    image: ", pr->role->name);
	emit_yaml_string(out, c->image);
	fputs("\n    ipc: host\n", out);
	if (n > 1)
		fputs("    network_mode: host\n", out);
	else {
		fputs("    ports:\n      - ", out);
		uint32_t port = planargv_port(p, pr);
		emit_yaml_string(out, arena_printf(&a, "%s:%u:%u", c->host, port, port));
		fputc('\n', out);
	}
	fputs("    environment:\n      - HF_TOKEN\n", out);
	for (size_t e = 0; nd->env[e]; e++) {
		/* Compose passes the reserved GPUs as 0..n-1: the host's indices are device_ids below. */
		if (strncmp(nd->env[e], "CUDA_VISIBLE_DEVICES=", 21) == 0)
			continue;
		fputs("      - ", out);
		emit_yaml_string(out, nd->env[e]);
		fputc('\n', out);
	}
	fputs("    volumes:\n      - ", out);
	emit_yaml_string(out, arena_printf(&a, "%s:/root/.cache/huggingface", c->hf_home ? c->hf_home : "/srv/hf"));
	fputs("\n    entrypoint:", out);
	for (size_t k = 0; k < ncmd; k++) {
		fputs("\n      - ", out);
		emit_yaml_string(out, nd->argv[k]);
	}
	fputs("\n    command:", out);
	for (size_t k = ncmd; k < nd->argc; k++) {
		fputs("\n      - ", out);
		emit_yaml_string(out, nd->argv[k]);
	}
	fputc('\n', out);
	if (nd->serves_http)
		healthcheck(out, &a, planargv_port(p, pr), start_period(pr->par));
	fputs("    deploy:\n      resources:\n        reservations:\n          devices:\n"
	    "            - driver: \"nvidia\"\n              device_ids:", out);
	const char *ids = nd->cuda_visible;
	while (*ids) {
		size_t len = strcspn(ids, ",");
		fputs("\n                - ", out);
		emit_yaml_string(out, arena_strndup(&a, ids, len));
		ids += len + (ids[len] == ',');
	}
	fputs("\n              capabilities:\n                - \"gpu\"\n", out);
	arena_free(&a);
	return ferror(out) ? -1 : 0;
}
