#ifndef MODELC_PLANARGV_H
#define MODELC_PLANARGV_H

/*
 * The exact `vllm serve` command line and environment of each node of a role split over GPUs:
 * one process per host (vLLM's multiprocessing backend starts the ranks of its host), rank 0's
 * node serving HTTP, the others --headless. plan.json, the report and every deploy file take
 * their argv from here, so they cannot disagree.
 */

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "plan.h"

enum { PLANARGV_DP_RPC_PORT = 13345 };

struct planargv_node {
	size_t host;                    /* catalog hosts[] index */
	uint32_t node_rank;             /* --node-rank */
	uint32_t first_rank, nranks;    /* the global ranks this node runs */
	const char *cuda_visible;       /* CUDA_VISIBLE_DEVICES: its GPUs in rank order */
	const char **env;               /* KEY=VALUE, sorted, NULL-terminated */
	const char **argv;              /* NULL-terminated */
	size_t argc;
	int serves_http;                /* rank 0's node: the only one with /health */
};

/* The nodes of pr (a role with pr->par), in node-rank order, into *out (arena); returns their count. */
size_t planargv_nodes(struct arena *a, const struct plan *p, const struct plan_role *pr,
    struct planargv_node **out);

#endif
