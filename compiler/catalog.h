#ifndef MODELC_CATALOG_H
#define MODELC_CATALOG_H

/*
 * The user's catalog (models.yaml) after the schema has accepted it: typed, with defaults
 * applied and every value's position kept for later diagnostics. All memory is the arena's.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "budget.h"
#include "diag.h"
#include "srcfile.h"
#include "yamldoc.h"

enum { CATALOG_MAX_ROLE_NAME = 32 };

/* A parallel size of 0 in a role means auto. */
enum { CATALOG_PARALLEL_AUTO = 0, CATALOG_DEFAULT_MASTER_PORT = 29501 };

/* The deploy files a hosts: catalog asks for (deploy.targets). */
enum { CATALOG_TARGET_COMPOSE = 1, CATALOG_TARGET_K8S = 2, CATALOG_TARGET_STACK = 4,
	CATALOG_TARGET_ALL = 7 };

/* One GPU of a host. */
struct catalog_gpu {
	uint32_t index;                 /* CUDA index */
	const char *profile;            /* NULL when memory is explicit */
	uint64_t total_bytes;           /* CUDA's total */
	bool estimated;                 /* the profile's number has no source */
	uint64_t used_bytes;            /* by other processes */
	const struct ynode *node;
};

/* One machine of hosts:. */
struct catalog_host {
	const char *name;
	const char *address;            /* NULL when not given */
	const char *interface;          /* NULL when not given */
	bool nvlink;                    /* interconnect: nvlink (else pcie) */
	double utilization;
	uint64_t safety_margin_bytes;
	struct catalog_gpu *gpus;       /* in the order written */
	size_t ngpus;
	const struct ynode *node;
};

/* A GPU a role is placed on: hosts[host].gpus[gpu]. */
struct catalog_slot {
	size_t host, gpu;
};

struct catalog_role {
	const char *name;               /* matches ^[a-z][a-z0-9_]{0,31}$ */
	const struct ynode *node;       /* the role's mapping, for positions of any key */
	const char *repo;               /* "owner/name", or NULL */
	const char *revision;           /* default "main" */
	const char *local;              /* absolute directory, or NULL */
	const char *quantization;       /* awq, gptq, bitsandbytes, fp8, none, or the checkpoint's own */
	const char *dtype;              /* auto, half, float16, bfloat16, ... */
	const char *kv_cache_dtype;     /* auto, fp8, ... */
	bool max_model_len_auto;        /* "auto": largest that fits, capped by the model */
	uint32_t max_model_len;
	uint32_t max_num_seqs;          /* 0: the server default */
	uint32_t max_num_batched_tokens;
	double gpu_memory_utilization;  /* 0: the GPU default */
	const char *served_model_name;  /* default: the role name */
	const char *rationale;          /* may be NULL */
	double ttft_threshold_ms;       /* warn when measured time to first token exceeds it; 0 = none */
	/* parallel: and placement: (hosts: catalogs); sizes CATALOG_PARALLEL_AUTO when auto */
	uint32_t tp, pp, dp;
	const uint32_t *layer_partition;/* parallel.layer_partition, or NULL */
	size_t nlayer_partition;
	struct catalog_slot *slots;     /* the GPUs placed on, in rank order (all when no placement) */
	size_t nslots;
	/* Serving through the proxy (issue 13). */
	uint32_t ttl_seconds;           /* idle seconds before the proxy puts it away; 0: never */
	uint32_t sleep_level;           /* 0: off, 1 or 2; server.sleep_mode unless the role says */
	const char **aliases;           /* more names a request's model field may use */
	size_t naliases;
};

/* A together: group: roles to be resident at once. */
struct catalog_group {
	const char *name;
	const struct ynode *node;       /* the group's mapping (or the all_pairs value) */
	const struct catalog_role **roles; /* in the order listed */
	const struct ynode **role_nodes;   /* each role's name in the list, for positions */
	size_t nroles;
	bool all_pairs;                 /* made from together: all_pairs */
};

struct catalog_excluded {
	const char *model;
	const char *reason;
	const struct ynode *node;
};

struct catalog {
	const char *path;
	struct srcfile source;          /* the bytes and stat of path, as frontend_load read them */
	const struct ynode *root;
	/* storage */
	const char *hf_home;
	const char *hub_cache;          /* default hf_home/hub */
	const char *models_dir;
	uint64_t disk_budget_bytes;     /* 0: no limit */
	/* gpu */
	const char *gpu_profile;        /* NULL when memory is explicit */
	uint64_t gpu_total_bytes;       /* CUDA's total */
	bool gpu_total_estimated;       /* the profile's number has no source */
	bool gpu_memory_given;          /* gpu.memory set (it overrides a profile's number) */
	uint64_t gpu_profile_bytes;     /* the profile's own total, 0 without a profile */
	bool gpu_profile_estimated;     /* and whether that is an estimate */
	uint64_t gpu_used_bytes;        /* by the desktop and other processes */
	double gpu_memory_utilization;
	uint64_t safety_margin_bytes;
	/* hosts: (nhosts 0: the one-GPU gpu: form above) */
	struct catalog_host *hosts;
	size_t nhosts;
	const char *image;              /* deploy.image */
	bool backend_ray;               /* deploy.executor_backend: ray */
	unsigned deploy_targets;        /* deploy.targets as CATALOG_TARGET_* bits (all when absent) */
	uint32_t master_port;
	const char **pp_archs;          /* schemas/pp-architectures.json supports_pp (hosts: only) */
	size_t npp_archs;
	/* server */
	const char **server_command;    /* NULL-terminated argv prefix */
	const char *host;
	uint32_t port;
	uint32_t max_num_seqs;
	uint32_t max_num_batched_tokens;
	bool enforce_eager;
	enum budget_engine engine;
	const char *vllm_version;       /* server.vllm_version, or NULL */
	enum budget_generation generation; /* from vllm_version and engine; the newest by default */
	/* weight formats from schemas/quant-formats.json, for the budget of each role */
	const struct budget_quant *quants;
	size_t nquants;
	/* roles, in document order */
	struct catalog_role *roles;
	size_t nroles;
	struct catalog_excluded *excluded;
	size_t nexcluded;
	/* together: groups, listed ones first, then the pairs all_pairs asks for */
	struct catalog_group *groups;
	size_t ngroups;
	uint32_t sleep_level;           /* server.sleep_mode: 0 off, 1 or 2 */
	uint64_t disk_read_rate;        /* server.disk_read_rate, bytes per second */
	/* trust: the minisign public keys (base64 lines) whose signatures fetch and verify accept */
	const char **trust;
	const struct ynode **trust_nodes;
	size_t ntrust;
};

/*
 * Turn a schema-valid document into a catalog, applying defaults and resolving the GPU
 * profile from schemas/gpu-profiles.json in schema_dir. Reports problems the schema
 * cannot express; returns 0 when none was an error.
 */
int catalog_from_yaml(struct arena *a, struct diag_sink *diag, const char *schema_dir,
    const struct ynode *root, const char *path, struct catalog *out);

/* A size at map.key (path names it in messages), def when absent; reports a bad one. */
uint64_t catalog_size_at(struct arena *a, struct diag_sink *diag, const struct ynode *map, const char *key,
    const char *path, uint64_t def);

/* The memory of the GPU profile named at pn (where names it in messages); reports an unknown one. */
void catalog_profile_bytes(struct arena *a, struct diag_sink *diag, const char *schema_dir,
    const char *where, const struct ynode *pn, uint64_t *total_bytes, bool *estimated);

/*
 * Fill c->hosts from hosts: and deploy:, and the one-GPU fields (gpu_total_bytes, ...) from the
 * first GPU of the first host, so that code written for one GPU has numbers; reports duplicate
 * host names and GPU indexes (catalog_hosts.c).
 */
void catalog_hosts(struct arena *a, struct diag_sink *diag, const char *schema_dir,
    const struct ynode *hosts, struct catalog *c);

/*
 * The role's parallel: block into r (auto: CATALOG_PARALLEL_AUTO; dp defaults to 1); without
 * hosts (the one-GPU form) parallel: and placement: are ignored with a warning.
 */
void catalog_parallel(struct arena *a, struct diag_sink *diag, bool hosts, const struct ynode *role,
    struct catalog_role *r);

/* Every role's placement: resolved to slots (all GPUs when absent); reports unknown hosts and GPUs. */
void catalog_placement(struct arena *a, struct diag_sink *diag, struct catalog *c);

/* The role called name, or NULL. */
const struct catalog_role *catalog_role(const struct catalog *c, const char *name);

/* The weight format called name (from quant-formats.json), or NULL. */
const struct budget_quant *catalog_quant(const struct catalog *c, const char *name);

#endif
