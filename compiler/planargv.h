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
#include "servednames.h"

enum { PLANARGV_DP_RPC_PORT = 13345 };

/*
 * The production-stack router (vllm-project/production-stack, src/vllm_router), pinned to the
 * commit its release workflow tags the image with (router-docker-release.yml: router:<sha>),
 * the one whose parsers/parser.py gave the flags below.
 */
#define PLANARGV_ROUTER_IMAGE \
	"ghcr.io/vllm-project/production-stack/router:a6c01db05f65f556235413ba8dbcfb0c01132fff"

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

/*
 * The port pr's deploy files serve on: server.port + the role's index in roles:, so that roles
 * of one host publish different ports (planpar_check_ports keeps them and the routers', one
 * role count higher, under 65536). switch serves the one role it runs on server.port.
 */
uint32_t planargv_port(const struct plan *p, const struct plan_role *pr);

/* pr's --served-model-name words (servednames_list, the one order of every launcher) into out. */
size_t planargv_served_names(const struct plan_role *pr, const char *out[SERVEDNAMES_MAX]);

/* The nodes of pr (a role with pr->par), in node-rank order, into *out (arena); returns their count. */
size_t planargv_nodes(struct arena *a, const struct plan *p, const struct plan_role *pr,
    struct planargv_node **out);

/* The router in front of a role's nodes when more than one serves HTTP. */
struct planargv_router {
	uint32_t port;                  /* planargv_port + the number of roles: rank 0's host runs both */
	const char **argv;              /* its arguments (the image's entrypoint is vllm-router) */
	size_t argc;
};

/*
 * The router of pr's n nodes (planargv_nodes), or NULL when fewer than two serve HTTP: a
 * static backend list of every serving node's address and port, one served name each.
 */
const struct planargv_router *planargv_router(struct arena *a, const struct plan *p,
    const struct plan_role *pr, const struct planargv_node *nodes, size_t n);

#endif
