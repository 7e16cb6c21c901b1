#ifndef MODELC_GPU_H
#define MODELC_GPU_H

/*
 * The GPU's real state, read by running nvidia-smi from PATH (see common/nvsmi.h for the
 * queries). A machine without nvidia-smi is normal for list, set and --dry-run: callers warn.
 */

#include <stddef.h>

#include "nvsmi.h"

enum gpu_status { GPU_OK, GPU_ABSENT, GPU_FAILED };

enum { GPU_MSG_MAX = 512, GPU_OUTPUT_MAX = 65536 };

/* Query memory and compute processes into st. GPU_FAILED fills msg with what went wrong. */
enum gpu_status gpu_query(struct nvsmi_state *st, char msg[GPU_MSG_MAX]);

/* The GPU that a server started now would use: the first of CUDA_VISIBLE_DEVICES, else index 0. */
const struct nvsmi_gpu *gpu_pick(const struct nvsmi_state *st);

#endif
