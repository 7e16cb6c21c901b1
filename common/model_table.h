#ifndef MODELC_MODEL_TABLE_H
#define MODELC_MODEL_TABLE_H

/*
 * The runtime's view of the catalog. modelc writes generated/model_table.c as static const
 * data of these types, so switch needs no parser. Everything is resolved at build time:
 * paths are absolute, limits are computed, the verdict is final.
 */

#include <stddef.h>
#include <stdint.h>

#include "budget.h"

/*
 * One file of a model, as its manifest lists it. switch only stats snapshots/<commit>/<path>
 * (or the local directory) and compares the size; blob names and hashes stay in the manifests,
 * which fetch reads, so the static binary does not carry 64-hex strings per file.
 */
struct model_file {
	const char *path;               /* repo-relative */
	uint64_t size;                  /* 0 when unknown */
};

struct model_entry {
	const char *role;
	const char *model_id;           /* VLLM_MODEL_ID as built: the local directory if modelc saw it, else the repo id; switch re-checks (swtable_model_id) */
	const char *repo;               /* NULL for local-only roles */
	const char *revision;
	const char *commit;             /* 40 hex, or NULL when not locked */
	const char *local_dir;          /* NULL when none */
	const char *quantization;       /* catalog value: awq, gptq, bitsandbytes, fp8, none */
	const char *quantization_flag;  /* passed as --quantization (in-flight only), or NULL */
	const char *dtype;              /* --dtype */
	const char *kv_cache_dtype;     /* --kv-cache-dtype */
	uint32_t max_model_len;
	double gpu_memory_utilization;
	uint32_t max_num_seqs;
	uint32_t max_num_batched_tokens;
	int enforce_eager;
	const char *verdict;            /* "fits" or "unverified" */
	uint64_t weights_bytes;
	struct budget_arch arch;
	const struct model_file *files;  /* the download source's (the manifest's) */
	size_t nfiles;
	uint64_t total_bytes;
	/*
	 * The local directory's own files when the lock describes it (a 'local:DIR' entry, as
	 * 'modelc adopt' writes), else NULL: an existing local directory is then checked against files.
	 */
	const struct model_file *local_files;
	size_t nlocal_files;
};

struct model_table {
	const char *catalog_path;       /* the models.yaml it came from */
	const char *gpu_profile;
	uint64_t gpu_total_bytes;
	uint64_t gpu_used_bytes;
	double gpu_memory_utilization;
	uint64_t safety_margin_bytes;
	enum budget_engine engine;
	const char *hf_home;
	const char *hub_cache;
	const char *models_dir;
	uint64_t disk_budget_bytes;
	const char *const *server_command; /* argv prefix, NULL-terminated: {"vllm", "serve", NULL} */
	const char *host;
	uint32_t port;
	const char *primary_role;
	const struct model_entry *entries;
	size_t count;
};

/* Defined in generated/model_table.c. */
extern const struct model_table model_table;

#endif
