#ifndef MODELC_MODEL_TABLE_H
#define MODELC_MODEL_TABLE_H

/*
 * The runtime table, generated/switch.table: what switch knows of the catalog. modelc writes it
 * (compiler/emit_table.c) and switch reads it here, so the layout lives in one place; it is
 * docs/formats.md's "switch.table". A fixed-layout little-endian file that needs no parser: a
 * header, a directory of sections, fixed-size records and a string pool. model_table_parse
 * checks every byte a reader will use (sizes, counts, each string inside the pool and
 * NUL-terminated, numbers in range) before it hands out a view; views point into the bytes,
 * so nothing is allocated and the bytes must outlive them. Everything is resolved at build
 * time: paths are absolute, limits are computed, the verdict is final, and each role carries
 * the budget inputs modelc fitted it with, so that switch re-fits with exactly those.
 *
 * Adding a record type is local: a new section type, its record layout below, a writer in
 * emit_table.c and an accessor here. Readers ignore section types they do not know, and read
 * only the prefix they know of a record that has grown (record_size says how long it is).
 * MODEL_TABLE_VERSION changes only when a reader of the old version would misread the file.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "size.h"

#define MODEL_TABLE_MAGIC "MODELCTB"    /* 8 bytes, no NUL */
#define MODEL_TABLE_NO_STRING UINT32_C(0xffffffff) /* a string offset for NULL */

enum {
	MODEL_TABLE_VERSION = 2,
	MODEL_TABLE_MAX_BYTES = SIZE_GIB,   /* offsets are 32 bits; 10,000 roles take a few MiB */
	MODEL_TABLE_DIGEST_BYTES = 32,      /* SHA-256 */
	MODEL_TABLE_WHY_MAX = 256,          /* model_table_parse's message buffer */
	MODEL_TABLE_MAX_SECTIONS = 64,
	MODEL_TABLE_MAX_GROUP = 64          /* members of one group: a GPU holds a few */
};

/* Section types. */
enum model_table_section {
	MT_SECTION_SETTINGS = 1,            /* one record: the catalog-wide settings */
	MT_SECTION_ROLES = 2,               /* one record per role, in catalog order */
	MT_SECTION_FILES = 3,               /* the roles' files; a role names a run of them */
	MT_SECTION_ARGS = 4,                /* the server command (argv prefix), one string each */
	MT_SECTION_STRINGS = 5,             /* the string pool: record size 1, count = bytes */
	/* Optional: a table without them has no groups and every role the serving defaults. */
	MT_SECTION_GROUPS = 6,              /* one record per together: group, in catalog order */
	MT_SECTION_GROUP_MEMBERS = 7,       /* the groups' members; a group names a run of them */
	MT_SECTION_ROLE_SERVE = 8,          /* one record per role, in ROLES' order: TTL, sleep, aliases */
	MT_SECTION_ALIASES = 9,             /* the roles' aliases, one string each; a role names a run */
	/* Optional: only a hosts: catalog has them; a role without a placement runs on one GPU. */
	MT_SECTION_PLACEMENTS = 10,         /* one record per role split over GPUs, in ROLES' order */
	MT_SECTION_RANKS = 11,              /* the placements' GPU ranks; a placement names a run */
	MT_SECTION_LAST = MT_SECTION_RANKS
};

/*
 * Byte offsets. A string is 8 bytes: u32 offset into the pool (0xffffffff: NULL) and u32
 * length; pool[offset + length] is its NUL and no NUL comes before it. Doubles are IEEE 754
 * binary64 bit patterns stored as u64. Flags are u32 bit sets; unknown bits are an error.
 */
enum {
	/* header */
	MT_HDR_MAGIC = 0,                   /* "MODELCTB" */
	MT_HDR_VERSION = 8,                 /* u32 */
	MT_HDR_HEADER_SIZE = 12,            /* u32: bytes of this header */
	MT_HDR_TOTAL_SIZE = 16,             /* u64: bytes of the whole file */
	MT_HDR_NSECTIONS = 24,              /* u32 */
	MT_HDR_SECTIONS = 28,               /* u32: offset of the directory */
	MT_HDR_BUILD_TIME = 32,             /* u64: seconds since 1970 (SOURCE_DATE_EPOCH when set) */
	MT_HDR_FLAGS = 40,                  /* u32: MT_HDR_F_* */
	MT_HDR_DIGEST = 44,                 /* 32 bytes: SHA-256 of models.yaml's bytes, then models.lock's */
	MT_HDR_CATALOG_PATH = 76,           /* string: the catalog as given to modelc, for messages */
	MT_HDR_CATALOG = 84,                /* source: models.yaml */
	MT_HDR_LOCK = 116,                  /* source: models.lock */
	MT_HDR_BUILT = 148,                 /* string: the build time as 2026-11-26T14:03:09Z (UTC) */
	MT_HDR_SIZE = 156,
	MT_HDR_F_DIGEST = 1,                /* digest and sources are set: built from files */

	/* a source file, 32 bytes, for the staleness check */
	MT_SRC_PATH = 0,                    /* string: absolute; NULL when it was not read */
	MT_SRC_SIZE = 8,                    /* u64 */
	MT_SRC_MTIME_SEC = 16,              /* i64 */
	MT_SRC_MTIME_NSEC = 24,             /* u32 */
	MT_SRC_PRESENT = 28,                /* u32: 1 when modelc read the file */
	MT_SRC_SIZE_OF = 32,

	/* a directory entry, 16 bytes */
	MT_DIR_TYPE = 0,                    /* u32: enum model_table_section */
	MT_DIR_OFFSET = 4,                  /* u32 */
	MT_DIR_COUNT = 8,                   /* u32: records */
	MT_DIR_RECORD_SIZE = 12,            /* u32 */
	MT_DIR_SIZE = 16,

	/* the settings record */
	MT_SET_GPU_PROFILE = 0,             /* string; NULL when gpu.memory was given */
	MT_SET_HF_HOME = 8,                 /* string */
	MT_SET_HUB_CACHE = 16,              /* string, resolved */
	MT_SET_MODELS_DIR = 24,             /* string or NULL */
	MT_SET_HOST = 32,                   /* string */
	MT_SET_PRIMARY_ROLE = 40,           /* string: a role's name */
	MT_SET_GPU_TOTAL = 48,              /* u64: CUDA's total in the catalog */
	MT_SET_GPU_USED = 56,               /* u64: memory_in_use in the catalog */
	MT_SET_UTILIZATION = 64,            /* f64: gpu.utilization */
	MT_SET_DISK_BUDGET = 72,            /* u64: 0 is no limit */
	MT_SET_PORT = 80,                   /* u32: 1..65535 */
	MT_SET_ENGINE = 84,                 /* u32: enum budget_engine */
	MT_SET_CAL_FORWARD = 88,            /* f64 \ budget_calibration as modelc had it, */
	MT_SET_CAL_SAMPLER = 96,            /* f64 | so that switch's re-fit uses modelc's */
	MT_SET_CAL_NON_TORCH = 104,         /* u64 | constants, whichever build of */
	MT_SET_CAL_NON_TORCH_TP = 112,      /* u64 | switch reads the table */
	MT_SET_CAL_GRAPH = 120,             /* u64 | */
	MT_SET_CAL_GRAPH_UNIT = 128,        /* f64 / */
	MT_SET_CAL_GRAPH_SIZE = 136,        /* f64: graph bytes per captured size (issue 15) */
	MT_SET_SIZE = 144,

	/* a role record */
	MT_ROLE_NAME = 0,                   /* string */
	MT_ROLE_MODEL_ID = 8,               /* string: VLLM_MODEL_ID as modelc saw it */
	MT_ROLE_REPO = 16,                  /* string or NULL (local only) */
	MT_ROLE_REVISION = 24,              /* string or NULL */
	MT_ROLE_COMMIT = 32,                /* string (40 hex) or NULL when not locked */
	MT_ROLE_LOCAL_DIR = 40,             /* string or NULL */
	MT_ROLE_QUANTIZATION = 48,          /* string: the catalog's value */
	MT_ROLE_QUANTIZATION_FLAG = 56,     /* string or NULL: --quantization (in-flight only) */
	MT_ROLE_DTYPE = 64,                 /* string: --dtype */
	MT_ROLE_KV_CACHE_DTYPE = 72,        /* string: --kv-cache-dtype */
	MT_ROLE_VERDICT = 80,               /* string: "fits" or "unverified" */
	MT_ROLE_FILES_FIRST = 88,           /* u32: index into FILES */
	MT_ROLE_FILES_COUNT = 92,           /* u32 */
	MT_ROLE_LOCAL_FIRST = 96,           /* u32: the local directory's own list (adopted) */
	MT_ROLE_LOCAL_COUNT = 100,          /* u32: 0 is none: the directory is checked against FILES */
	MT_ROLE_TOTAL_BYTES = 104,          /* u64: the manifest's total */
	MT_ROLE_MAX_MODEL_LEN = 112,        /* u32: as planned; 0 leaves it to vLLM */
	MT_ROLE_FLAGS = 116,                /* u32: MT_ROLE_F_* */
	MT_ROLE_UTILIZATION = 120,          /* f64: as planned (exported, passed when unchecked) */
	/* the budget inputs modelc fitted the role with: struct budget_params but the GPU state */
	MT_ROLE_P_UTILIZATION = 128,        /* f64: asked, before any lowering */
	MT_ROLE_P_MAX_MODEL_LEN = 136,      /* u32 */
	MT_ROLE_P_MAX_NUM_SEQS = 140,       /* u32 */
	MT_ROLE_P_BATCHED = 144,            /* u32: max_num_batched_tokens */
	MT_ROLE_P_KV_DTYPE_BYTES = 148,     /* u32: 0 (auto), 1, 2 or 4 */
	MT_ROLE_P_TENSOR_PARALLEL = 152,    /* u32 */
	MT_ROLE_P_BLOCK_SIZE = 156,         /* u32 */
	MT_ROLE_P_ENGINE = 160,             /* u32: enum budget_engine */
	MT_ROLE_P_WEIGHTS_SOURCE = 164,     /* u32: enum budget_source */
	MT_ROLE_P_WEIGHTS = 168,            /* u64 */
	MT_ROLE_P_MARGIN = 176,             /* u64: safety_margin_bytes */
	/* struct budget_arch */
	MT_ROLE_A_LAYERS = 184,             /* u32 each, in struct budget_arch's order: */
	MT_ROLE_A_NUMBERS = 11,             /* layers .. dtype_bytes */
	MT_ROLE_A_FLAGS = 228,              /* u32: MT_ARCH_F_* */
	MT_ROLE_P_GENERATION = 232,         /* u32: enum budget_generation, with MT_ROLE_F_GENERATION */
	MT_ROLE_P_SPREAD = 236,             /* u32: margin_spread in millionths (version 2: P_MARGIN is unwidened) */
	MT_ROLE_SIZE = 240,
	MT_SPREAD_UNIT = 1000000,           /* P_SPREAD's unit: the calibration's spreads have 4 decimals */
	MT_SPREAD_MAX = 100 * MT_SPREAD_UNIT,
	MT_ROLE_F_BUDGET = 1,               /* modelc computed the budget: switch re-fits */
	MT_ROLE_F_ENFORCE_EAGER = 2,
	MT_ROLE_F_MARGIN_SET = 4,           /* safety_margin_set */
	MT_ROLE_F_KEEP_UTILIZATION = 8,
	MT_ROLE_F_GENERATION = 16,          /* generation_set: the vLLM generation's rules */
	MT_ROLE_F_ALL = 31,
	MT_ARCH_F_TIE = 1, MT_ARCH_F_QKV_BIAS = 2, MT_ARCH_F_O_BIAS = 4, MT_ARCH_F_MLP_BIAS = 8,
	MT_ARCH_F_NORM_BIAS = 16, MT_ARCH_F_MLP_UNGATED = 32, MT_ARCH_F_ALL = 63,

	/* a file record */
	MT_FILE_PATH = 0,                   /* string: repo-relative, never absolute or with '..' */
	MT_FILE_SIZE = 8,                   /* u64: 0 when unknown */
	MT_FILE_SIZE_OF = 16,

	/* an argument record; an alias record is the same */
	MT_ARG_STRING = 0,
	MT_ARG_SIZE_OF = 8,

	/*
	 * A group record: roles modelc planned to be resident at once, side by side on the GPU
	 * (docs/formats.md, "switch.table"). Every group in the table fits; one that did not is an
	 * error at build time.
	 */
	MT_GRP_NAME = 0,                    /* string: the group's name ("code+lightweight" for pairs) */
	MT_GRP_MEMBERS_FIRST = 8,           /* u32: index into GROUP_MEMBERS */
	MT_GRP_MEMBERS_COUNT = 12,          /* u32: 2 or more */
	MT_GRP_FLAGS = 16,                  /* u32: MT_GRP_F_* */
	MT_GRP_GPU_BYTES = 24,              /* u64: memory in use + every member awake, at the peak */
	MT_GRP_SLEEP_HOST_BYTES = 32,       /* u64: host memory level-1 sleep of every member needs */
	MT_GRP_SIZE = 40,
	MT_GRP_F_ALL_PAIRS = 1,             /* made by `together: all_pairs`, not listed by name */
	MT_GRP_F_ALL = 1,

	/* A group member record: one instance of a role, with the limits it gets in the group. */
	MT_GM_ROLE = 0,                     /* u32: index into ROLES */
	MT_GM_START_ORDER = 4,              /* u32: 0 starts first; a permutation within the group */
	MT_GM_UTILIZATION = 8,              /* f64: --gpu-memory-utilization, its share of the total */
	MT_GM_KV_CACHE_BYTES = 16,          /* u64: the KV cache its share buys (--kv-cache-memory-bytes) */
	MT_GM_MAX_MODEL_LEN = 24,           /* u32: --max-model-len in the group */
	MT_GM_FLAGS = 28,                   /* u32: MT_GM_F_* */
	MT_GM_GPU_BYTES = 32,               /* u64: what it holds awake: context + share + CUDA graphs */
	MT_GM_FREE_AT_START = 40,           /* u64: free memory it needs at its start (vLLM's check) */
	MT_GM_SLEEP_GPU_BYTES = 48,         /* u64: what it keeps on the GPU asleep (either level) */
	MT_GM_SLEEP_HOST_BYTES = 56,        /* u64: host memory its level-1 sleep takes (the weights) */
	MT_GM_SIZE = 64,
	MT_GM_F_KV_BYTES = 1,               /* pass --kv-cache-memory-bytes rather than the share */
	MT_GM_F_ALL = 1,

	/* A role's serving record, for the proxy: parallel to ROLES. */
	MT_RS_TTL = 0,                      /* u32: seconds idle before it is put away; 0: never */
	MT_RS_SLEEP_LEVEL = 4,              /* u32: 0 (sleep mode off), 1 or 2 */
	MT_RS_ALIASES_FIRST = 8,            /* u32: index into ALIASES */
	MT_RS_ALIASES_COUNT = 12,           /* u32 */
	MT_RS_SLEEP_GPU_BYTES = 16,         /* u64: what it keeps on the GPU asleep, alone */
	MT_RS_SLEEP_HOST_BYTES = 24,        /* u64: host memory its level-1 sleep takes; 0 at level 2 */
	MT_RS_AWAKE_GPU_BYTES = 32,         /* u64: what it holds awake alone: context + budget + graphs */
	MT_RS_LOAD_TIMEOUT = 40,            /* u32: seconds to wait for /health at a cold start */
	MT_RS_SIZE = 48,

	/*
	 * A placement record: a role of a hosts: catalog as modelc split it over GPUs (planpar),
	 * with what switch needs to start it and to re-fit each rank against its GPU.
	 */
	MT_PL_ROLE = 0,                     /* u32: index into ROLES; increasing */
	MT_PL_TP = 4,                       /* u32: --tensor-parallel-size */
	MT_PL_PP = 8,                       /* u32: --pipeline-parallel-size, 1 .. 64 */
	MT_PL_DP = 12,                      /* u32: --data-parallel-size */
	MT_PL_NODES = 16,                   /* u32: hosts its ranks span; switch starts one */
	MT_PL_FLAGS = 20,                   /* u32: MT_PL_F_* */
	MT_PL_HOST = 24,                    /* string: the first node's host (catalog hosts[].name) */
	MT_PL_INTERFACE = 32,               /* string or NULL: that host's nic (NCCL/GLOO_SOCKET_IFNAME) */
	MT_PL_UTILIZATION = 40,             /* f64: asked, before the start-up check on each GPU */
	MT_PL_KV_CACHE_BYTES = 48,          /* u64: --kv-cache-memory-bytes as planned; 0: not passed */
	MT_PL_RANKS_FIRST = 56,             /* u32: index into RANKS */
	MT_PL_RANKS_COUNT = 60,             /* u32: tp x pp x dp */
	MT_PL_SIZE = 64,
	MT_PL_F_P2P_DISABLE = 1,            /* TP over PCIe: NCCL_P2P_DISABLE=1, --disable-custom-all-reduce */
	MT_PL_F_NVLINK = 2,                 /* the host's interconnect is nvlink */
	MT_PL_F_PARTITION = 4,              /* export VLLM_PP_LAYER_PARTITION (the ranks' layers) */
	MT_PL_F_EXPERT = 8,                 /* --enable-expert-parallel */
	MT_PL_F_RAY = 16,                   /* --distributed-executor-backend ray (else mp) */
	MT_PL_F_ALL = 31,

	/* A rank record, in vLLM's rank order: replica, then stage, then TP rank (stage x tp + tp rank). */
	MT_RK_GPU = 0,                      /* u32: the GPU's nvidia-smi index on its host */
	MT_RK_NODE = 4,                     /* u32: its host, 0 the placement's first */
	MT_RK_STAGE = 8,                    /* u32: its pipeline stage, (rank / tp) mod pp */
	MT_RK_LAYERS = 12,                  /* u32: the stage's decoder layers */
	MT_RK_WEIGHTS = 16,                 /* u64: the weights this rank holds (budget_rank_weights) */
	MT_RK_GPU_TOTAL = 24,               /* u64: CUDA's total of its GPU in the catalog */
	MT_RK_SIZE = 32
};

/* A file of a model, as its manifest lists it: switch stats it and compares the size. */
struct model_file {
	const char *path;
	uint64_t size;                  /* 0 when unknown */
};

/* An input modelc read, as it was then. */
struct model_table_source {
	const char *path;               /* absolute; NULL when modelc did not read it */
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
};

/* One role, decoded. Strings point into the table's bytes. */
struct model_entry {
	size_t index;                   /* in the table, catalog order */
	const char *role;
	const char *model_id;           /* as built; switch decides again (swtable_model_id) */
	const char *repo;               /* NULL for local-only roles */
	const char *revision;
	const char *commit;             /* 40 hex, or NULL when not locked */
	const char *local_dir;          /* NULL when none */
	const char *quantization;
	const char *quantization_flag;  /* passed as --quantization (in-flight only), or NULL */
	const char *dtype;
	const char *kv_cache_dtype;
	const char *verdict;            /* "fits" or "unverified" */
	uint32_t max_model_len;         /* as planned; 0: vLLM decides */
	double gpu_memory_utilization;  /* as planned */
	bool budget_known;              /* params and arch hold a fitted budget */
	struct budget_params params;    /* modelc's inputs; GPU total and memory in use are 0 */
	struct budget_arch arch;
	uint32_t files_first, nfiles;   /* the manifest's files */
	uint32_t local_first, nlocal;   /* the local directory's own files; nlocal 0: use files */
	uint64_t total_bytes;
};

/* A group of roles resident at once. */
struct model_group {
	size_t index;                   /* in the table, catalog order */
	const char *name;
	uint32_t members_first, nmembers; /* model_table_group_member's k runs over 0..nmembers */
	bool all_pairs;                 /* made by `together: all_pairs` */
	uint64_t gpu_bytes;             /* in use + every member awake at its peak */
	uint64_t sleep_host_bytes;      /* host memory for level-1 sleep of every member */
};

/* One member of a group, with its limits there. */
struct model_group_member {
	uint32_t role;                  /* index of the role (model_table_entry) */
	uint32_t start_order;           /* 0 first */
	double gpu_memory_utilization;  /* its share */
	uint64_t kv_cache_bytes;        /* the KV cache the share buys */
	bool use_kv_cache_bytes;        /* pass --kv-cache-memory-bytes rather than the share */
	uint32_t max_model_len;         /* in the group */
	uint64_t gpu_bytes;             /* awake: CUDA context + share + CUDA graphs */
	uint64_t free_at_start;         /* free memory vLLM needs at its start */
	uint64_t sleep_gpu_bytes;       /* kept on the GPU asleep */
	uint64_t sleep_host_bytes;      /* host memory of its level-1 sleep */
};

/* A role's serving settings; the defaults (all 0, no aliases) when the table has none. */
struct model_role_serve {
	uint32_t ttl_seconds;           /* 0: never put away for idleness */
	uint32_t sleep_level;           /* 0: sleep mode off; 1 or 2 */
	uint32_t aliases_first, naliases; /* model_table_alias */
	uint64_t sleep_gpu_bytes;       /* kept on the GPU asleep */
	uint64_t sleep_host_bytes;      /* host memory its level-1 sleep takes */
	uint64_t awake_gpu_bytes;       /* held awake alone; 0 when the budget is unknown */
	uint32_t load_timeout_seconds;  /* /health wait at a cold start; 0 when the table has none */
};

/* A role split over GPUs: its sizes and knobs; its ranks are model_table_rank's k. */
struct model_placement {
	uint32_t role;                  /* index of the role (model_table_entry) */
	uint32_t tp, pp, dp, nodes;
	bool p2p_disable, nvlink, partition_set, expert_parallel, ray;
	const char *host;               /* the first node's host name */
	const char *interface;          /* its nic, or NULL */
	double utilization;             /* asked, before the start-up check */
	uint64_t kv_cache_bytes;        /* --kv-cache-memory-bytes; 0: not passed */
	uint32_t ranks_first, nranks;
};

/* One GPU rank of a placement. */
struct model_rank {
	uint32_t gpu;                   /* nvidia-smi's index on its host */
	uint32_t node;                  /* 0: the first host */
	uint32_t stage;
	uint32_t layers;                /* its stage's decoder layers */
	uint64_t weights_bytes;         /* what it holds of the weights */
	uint64_t gpu_total_bytes;       /* its GPU's CUDA total in the catalog */
};

/* An opened table: the header and settings decoded, the records checked. */
struct model_table {
	const unsigned char *bytes;
	size_t size;
	uint32_t version;
	uint64_t build_time;
	const char *built;              /* build_time as "2026-11-26T14:03:09Z" */
	bool have_digest;               /* built from files: digest and sources are set */
	unsigned char digest[MODEL_TABLE_DIGEST_BYTES];
	const char *catalog_path;       /* as given to modelc; NULL from a plan built in code */
	struct model_table_source catalog, lock;
	const char *gpu_profile;
	const char *hf_home;
	const char *hub_cache;
	const char *models_dir;
	const char *host;
	const char *primary_role;
	uint64_t gpu_total_bytes;
	uint64_t gpu_used_bytes;
	double gpu_memory_utilization;
	uint64_t disk_budget_bytes;
	uint32_t port;
	uint32_t engine;                /* enum budget_engine */
	struct budget_calibration calibration;
	uint32_t count;                 /* roles */
	uint32_t nfiles;
	uint32_t nargs;                 /* the server command's words */
	uint32_t ngroups;               /* together: groups; 0 until model_table_check_serving */
	uint32_t naliases;              /* likewise */
	bool serving_checked;           /* model_table_check_serving passed */
	struct {                        /* the checked sections, by type; .at NULL: absent */
		const unsigned char *at;
		uint32_t count, size;
	} sec[MT_SECTION_LAST + 1];
};

/*
 * Check size bytes of a table and fill *t with views into them. 0, or -1 with a sentence in
 * why (MODEL_TABLE_WHY_MAX bytes) that says what is wrong ("is truncated: ...").
 */
int model_table_parse(const void *bytes, size_t size, struct model_table *t, char *why);

/*
 * Open path read-only, map it and parse it. 0, or -1 with why as above (errno's text for a
 * file that cannot be opened or mapped); the mapping lives until the process exits.
 */
int model_table_open(const char *path, struct model_table *t, char *why);

/* Role i (< t->count), decoded into *e. */
void model_table_entry(const struct model_table *t, size_t i, struct model_entry *e);

/* File i (< t->nfiles). */
void model_table_file(const struct model_table *t, size_t i, struct model_file *f);

/* Word i (< t->nargs) of the server command. */
const char *model_table_arg(const struct model_table *t, size_t i);

/*
 * Check the serving sections of a parsed table (groups, their members, the roles' serving
 * records and aliases), which model_table_parse leaves alone so that switch, which does not
 * use them, stays small. 0, or -1 with why as model_table_parse. Until it has passed, the
 * table has no groups or aliases and every role the serving defaults. The proxy calls it.
 */
int model_table_check_serving(struct model_table *t, char *why);

/* How many together: groups the table has. */
uint32_t model_table_group_count(const struct model_table *t);

/* Group i (< model_table_group_count), decoded into *g. */
void model_table_group(const struct model_table *t, size_t i, struct model_group *g);

/* Member k (< g->nmembers) of group g, decoded into *m; members are in the catalog's order. */
void model_table_group_member(const struct model_table *t, const struct model_group *g, size_t k,
    struct model_group_member *m);

/* Role i's (< t->count) serving settings into *s: the defaults when the table has none. */
void model_table_role_serve(const struct model_table *t, size_t i, struct model_role_serve *s);

/* Alias i (< t->naliases); a role's run is s.aliases_first .. + s.naliases. */
const char *model_table_alias(const struct model_table *t, size_t i);

/*
 * Role i's placement into *p: true when modelc split it over GPUs (a hosts: catalog), false
 * when it runs on one GPU as switch picks it. model_table_parse has checked the sections.
 */
bool model_table_placement(const struct model_table *t, size_t i, struct model_placement *p);

/* Rank k (< p->nranks) of placement p into *r. */
void model_table_rank(const struct model_table *t, const struct model_placement *p, size_t k,
    struct model_rank *r);

/* The digest as 64 lower-case hex digits and a NUL; "" when the table has none. */
void model_table_digest_hex(const struct model_table *t, char hex[2 * MODEL_TABLE_DIGEST_BYTES + 1]);

/*
 * Whether a source recorded in the header has changed since the build: 1 when the file exists
 * and its size or modification time differ, 0 when it matches, was not recorded or is gone.
 */
int model_table_source_changed(const struct model_table_source *s);

/* Little-endian stores for the writer, the same layout the reader checks. */
void model_table_put_u32(unsigned char *p, uint32_t v);
void model_table_put_u64(unsigned char *p, uint64_t v);
void model_table_put_f64(unsigned char *p, double v);

#endif
