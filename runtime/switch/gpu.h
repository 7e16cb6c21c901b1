#ifndef MODELC_GPU_H
#define MODELC_GPU_H

/*
 * The GPU's real state, read by running nvidia-smi from PATH (see common/nvsmi.h for the
 * queries). A machine without nvidia-smi is normal for list, set and --dry-run: callers warn.
 */

#include <stdbool.h>
#include <stddef.h>

#include "nvsmi.h"

enum gpu_status { GPU_OK, GPU_ABSENT, GPU_FAILED };

enum { GPU_MSG_MAX = 512, GPU_OUTPUT_MAX = 65536, GPU_LINK_MAX = 16 };

/* Query memory and compute processes into st. GPU_FAILED fills msg with what went wrong. */
enum gpu_status gpu_query(struct nvsmi_state *st, char msg[GPU_MSG_MAX]);

/* The GPU that a server started now would use: the first of CUDA_VISIBLE_DEVICES, else index 0. */
const struct nvsmi_gpu *gpu_pick(const struct nvsmi_state *st);

/* The processes on GPU index alone (nvidia-smi -i) into st's apps; gpu_query must have run. */
enum gpu_status gpu_query_apps(int index, struct nvsmi_state *st, char msg[GPU_MSG_MAX]);

/* `nvidia-smi topo -m`'s text (static, until the next query), or NULL with msg set; gpu_query must have run. */
const char *gpu_topo(char msg[GPU_MSG_MAX]);

/*
 * The link between GPUs a and b in topo -m's matrix ("NV18", "PIX", "PXB", "PHB", "NODE",
 * "SYS") into link; false when the matrix lacks either.
 */
bool gpu_topo_link(const char *text, int a, int b, char link[GPU_LINK_MAX]);

#endif
