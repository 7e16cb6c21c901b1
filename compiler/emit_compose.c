/*
 * generated/compose/: Docker Compose files for the roles of a hosts: catalog, one per role on
 * one host and one per node when a role spans hosts. Only what both Compose V1 (1.29) and the
 * Compose Specification accept: GPUs as deploy.resources.reservations.devices with device_ids
 * (never with count), ipc: host for NCCL's shared memory, the Hugging Face cache as a volume,
 * HF_TOKEN passed by name from the environment of whoever runs compose (never a value), and a
 * health check on /health only where rank 0 serves HTTP. entrypoint + command is planargv's
 * argv, word for word.
 */
#include "emit_compose.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "emit_common.h"
#include "planargv.h"

/* Seconds vLLM needs before /health answers: reading the weights, then compile and graphs. */
enum { COMPOSE_LOAD_BYTES_PER_S = 500000000, COMPOSE_START_FIXED_S = 180, COMPOSE_ROUND_S = 30 };

static void
q(FILE *out, const char *s)
{
	char *j = json_dumps(json_string(s), JSON_ENCODE_ANY);
	fputs(j ? j : "\"\"", out);
	free(j);
}

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

size_t
emit_compose_count(const struct plan *p)
{
	struct arena a = {0};
	size_t n = 0;
	for (size_t i = 0; i < p->nroles; i++) {
		struct planargv_node *nd;
		if (p->roles[i].par)
			n += planargv_nodes(&a, p, &p->roles[i], &nd);
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
		if (!p->roles[i].par)
			continue;
		size_t n = planargv_nodes(&a, p, &p->roles[i], &nd);
		if (index >= n) {
			index -= n;
			continue;
		}
		const char *name = p->roles[i].role->name;
		size_t len = strlen(name) + 40;
		path = malloc(len);
		if (path && n == 1)
			snprintf(path, len, "compose/%s.compose.yaml", name);
		else if (path)
			snprintf(path, len, "compose/%s.node%zu.compose.yaml", name, index);
		*role = i;
		*node = index;
	}
	arena_free(&a);
	return path;
}

int
emit_compose(FILE *out, const struct plan *p, size_t role, size_t node)
{
	struct arena a = {0};
	const struct plan_role *pr = &p->roles[role];
	const struct catalog *c = p->catalog;
	struct planargv_node *nds;
	size_t n = planargv_nodes(&a, p, pr, &nds);
	const struct planargv_node *nd = &nds[node];
	size_t ncmd = 0;
	while (c->server_command[ncmd])
		ncmd++;

	fprintf(out, "# generated from %s by modelc; do not edit\n", emit_catalog_name(p).s);
	fprintf(out, "# role %s, node %u of %zu (host %s): docker compose -f THIS_FILE up\n",
	    pr->role->name, nd->node_rank, n, c->hosts[nd->host].name);
	fputs("# HF_TOKEN, when the model is gated, comes from the shell that runs compose.\n", out);
	fprintf(out, "services:\n  %s:\n    image: ", pr->role->name);
	q(out, c->image);
	fputs("\n    ipc: host\n", out);
	if (n > 1)
		fputs("    network_mode: host\n", out);
	else {
		fputs("    ports:\n      - ", out);
		q(out, arena_printf(&a, "%s:%u:%u", c->host, c->port, c->port));
		fputc('\n', out);
	}
	fputs("    environment:\n      - HF_TOKEN\n", out);
	for (size_t e = 0; nd->env[e]; e++) {
		/* Compose passes the reserved GPUs as 0..n-1: the host's indices are device_ids below. */
		if (strncmp(nd->env[e], "CUDA_VISIBLE_DEVICES=", 21) == 0)
			continue;
		fputs("      - ", out);
		q(out, nd->env[e]);
		fputc('\n', out);
	}
	fputs("    volumes:\n      - ", out);
	q(out, arena_printf(&a, "%s:/root/.cache/huggingface", c->hf_home ? c->hf_home : "/srv/hf"));
	fputs("\n    entrypoint:", out);
	for (size_t k = 0; k < ncmd; k++) {
		fputs("\n      - ", out);
		q(out, nd->argv[k]);
	}
	fputs("\n    command:", out);
	for (size_t k = ncmd; k < nd->argc; k++) {
		fputs("\n      - ", out);
		q(out, nd->argv[k]);
	}
	fputc('\n', out);
	if (nd->serves_http) {
		fputs("    healthcheck:\n      test:\n        - \"CMD\"\n        - \"python3\"\n"
		    "        - \"-c\"\n        - ", out);
		q(out, arena_printf(&a, "import urllib.request; urllib.request.urlopen("
		    "'http://127.0.0.1:%u/health', timeout=5)", c->port));
		fprintf(out, "\n      interval: \"30s\"\n      timeout: \"10s\"\n      retries: 3\n"
		    "      start_period: \"%llus\"\n", (unsigned long long)start_period(pr->par));
	}
	fputs("    deploy:\n      resources:\n        reservations:\n          devices:\n"
	    "            - driver: \"nvidia\"\n              device_ids:", out);
	const char *ids = nd->cuda_visible;
	while (*ids) {
		size_t len = strcspn(ids, ",");
		fputs("\n                - ", out);
		q(out, arena_strndup(&a, ids, len));
		ids += len + (ids[len] == ',');
	}
	fputs("\n              capabilities:\n                - \"gpu\"\n", out);
	arena_free(&a);
	return ferror(out) ? -1 : 0;
}
