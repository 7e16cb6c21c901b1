#ifndef MODELC_PLAN_H
#define MODELC_PLAN_H

/*
 * The compiled catalog: every role joined with its locked facts and its VRAM budget, after
 * the rules have run. Emitters read only this; nothing here touches the filesystem.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "catalog.h"
#include "diag.h"
#include "lock.h"
#include "planpar.h"

/* One file to download for a role (already filtered to what serving needs). */
struct plan_file {
	const char *path;               /* repo-relative */
	uint64_t size;                  /* 0 with size_known false when unknown */
	bool size_known;
	int lfs;                        /* 1, 0, or -1 unknown */
	const char *sha256;             /* NULL when unknown */
	const char *blob_id;            /* NULL when unknown */
};

struct plan_role {
	const struct catalog_role *role;
	const struct lock_model *lock;  /* the download source: repo@revision, or local:DIR without a repo; NULL when the lock has none */
	const struct lock_model *facts; /* whose config and weights the budget uses: local:DIR when the role has both and the lock has it, else lock */
	struct plan_file *local_files;  /* the files of facts when it is the local:DIR entry of a role with a repo */
	size_t nlocal_files;
	const char *lock_key;           /* "owner/name@revision" or "local:/dir" */
	const char *env_prefix;         /* the role name in upper case: PRIMARY */
	const struct budget_quant *quant; /* the weight format, or NULL when unknown */
	bool weights_in_flight;         /* vLLM quantizes a 16-bit checkpoint when loading it */
	const char *model_id;           /* VLLM_MODEL_ID for this role: local dir if it exists, else repo */
	const char *local_dir;          /* may be NULL */
	bool local_present;             /* local_dir exists on this machine */
	const char *quantization_flag;  /* --quantization value for in-flight formats, else NULL */
	const char *dtype;              /* --dtype as launched (AWQ forces half) */
	const char *kv_cache_dtype;
	struct budget_arch arch;
	struct budget_params params;    /* as fitted, max_model_len final */
	struct budget_result result;
	uint32_t max_model_len;         /* final (auto resolved) */
	uint32_t max_model_len_memory;  /* what memory alone allows, past the model's limit; 0 unknown */
	bool verified;                  /* false: some fact was missing; see unverified[] */
	const char **unverified;        /* what is missing, for the warning and the report */
	size_t nunverified;
	struct plan_file *files;
	size_t nfiles;
	uint64_t download_bytes;        /* sum of known sizes */
	bool download_bytes_complete;
	double measured_ttft_ms;        /* from measurements/<role>.csv at max_model_len; < 0 if none */
	const struct plan_parallel *par;/* hosts: catalogs: the split over GPUs; params/result are its deciding rank's */
	/* Serving (plan_together.c): what the proxy needs of the role alone. */
	uint64_t awake_gpu_bytes;       /* CUDA context + budget + graphs; 0 when the budget is unknown */
	uint64_t sleep_gpu_bytes;       /* kept on the GPU while asleep */
	uint64_t sleep_host_bytes;      /* host memory of level-1 sleep: the weights */
	uint32_t load_timeout_seconds;  /* /health wait at a cold start */
};

/* One instance of a role in a together: group, with the limits it gets there. */
struct plan_group_member {
	size_t role;                    /* index into plan.roles */
	uint32_t start_order;           /* 0 starts first */
	struct budget_params params;    /* as fitted in the group: gpu_used_bytes is what runs before it */
	struct budget_result result;
	uint32_t max_model_len;
	double utilization;             /* its share, as .env exports it */
	bool use_kv_cache_bytes;        /* --kv-cache-memory-bytes rather than the share */
	uint64_t kv_cache_bytes;
	uint64_t gpu_bytes;             /* awake: CUDA context + share + graphs */
	uint64_t free_at_start;         /* vLLM's start-up check: share + context */
	uint64_t sleep_gpu_bytes, sleep_host_bytes;
};

struct plan_group {
	const struct catalog_group *group;
	struct plan_group_member *members; /* in the group's listed order */
	size_t nmembers;
	bool fits;
	const struct plan_role *unplanned; /* a member with no budget or that does not fit alone; NULL */
	uint64_t gpu_bytes;             /* memory in use + every member awake */
	uint64_t sleep_host_bytes;      /* level-1 sleep of every member */
};

/* An input file as modelc read it, for the runtime table's staleness check. */
struct plan_source {
	const char *path;               /* absolute (as given when it cannot be resolved); NULL: not read */
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/*
 * Where the plan came from: filled by compile_run for the runtime table's header; all zero for
 * a plan built in code (the table then has no digest and no sources).
 */
struct plan_origin {
	bool known;                     /* digest, catalog and lock are set */
	unsigned char digest[32];       /* SHA-256 of models.yaml's bytes, then models.lock's */
	struct plan_source catalog, lock;
	uint64_t build_time;            /* seconds since 1970: SOURCE_DATE_EPOCH when set, else now */
};

struct plan {
	const struct catalog *catalog;
	const struct lock *lock;
	struct plan_role *roles;        /* in catalog order */
	size_t nroles;
	uint64_t download_bytes;        /* all roles, for the disk rule */
	struct plan_origin origin;
	struct plan_group *groups;      /* the catalog's together: groups, planned */
	size_t ngroups;
};

/* How to measure the GPU's CUDA total, where the budget used an estimate: one wording everywhere. */
const char *plan_gpu_advice(void);

/*
 * Join catalog and lock, fit every role, apply the rules (does not fit, stale lock, env key
 * collisions against emit_env's key lists, disk budget) and report each problem with its place; 0 when no error.
 */
int plan_build(struct arena *a, struct diag_sink *diag, const struct catalog *c,
    const struct lock *l, struct plan *out);

#endif
