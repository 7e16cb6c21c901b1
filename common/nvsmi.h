#ifndef MODELC_NVSMI_H
#define MODELC_NVSMI_H

/*
 * Parsers for nvidia-smi's CSV queries, so switch can re-fit a plan against the GPU's real state:
 *   --query-gpu=index,name,memory.total,memory.used,memory.free[,memory.reserved] --format=csv,noheader,nounits
 *   --query-compute-apps=pid,process_name,used_memory --format=csv,noheader,nounits
 * One line per GPU or process; empty output means none. Fields that a driver cannot report read
 * "[N/A]" or "[Not Supported]" and parse as NVSMI_UNKNOWN. A header line and " MiB" units (the
 * output of --format=csv without noheader,nounits) are accepted too. Libc only, no heap.
 */

#include <stddef.h>
#include <stdint.h>

enum {
	NVSMI_MAX_GPUS = 16,
	NVSMI_MAX_APPS = 64,
	NVSMI_NAME_MAX = 128,
	NVSMI_ERR_MAX = 160
};

/* A memory field nvidia-smi could not report. */
#define NVSMI_UNKNOWN INT64_C(-1)

struct nvsmi_gpu {
	int index;
	char name[NVSMI_NAME_MAX];
	int64_t total_mib, used_mib, free_mib, reserved_mib;  /* NVSMI_UNKNOWN when not reported */
};

struct nvsmi_app {
	long pid;
	char name[NVSMI_NAME_MAX];
	int64_t used_mib;                                     /* NVSMI_UNKNOWN when not reported */
};

struct nvsmi_state {
	struct nvsmi_gpu gpus[NVSMI_MAX_GPUS];
	size_t ngpus;
	struct nvsmi_app apps[NVSMI_MAX_APPS];
	size_t napps;
};

/*
 * Parse the GPU query; with_reserved says whether memory.reserved was the sixth field.
 * Returns 0, or -1 with a message in err ("line 2: expected 5 fields, found 3").
 */
int nvsmi_parse_gpus(const char *text, int with_reserved, struct nvsmi_state *st, char err[NVSMI_ERR_MAX]);

/* Parse the compute-apps query (process names may contain ", "). Returns 0, or -1 with err. */
int nvsmi_parse_apps(const char *text, struct nvsmi_state *st, char err[NVSMI_ERR_MAX]);

/* Bytes CUDA can allocate on gpu: total minus reserved, or NVSMI_UNKNOWN. */
int64_t nvsmi_cuda_total_bytes(const struct nvsmi_gpu *gpu);

#endif
