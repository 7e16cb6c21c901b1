/* switch gpu: measure the card with nvidia-smi and print the catalog's gpu: block (docs/formats.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "gpu.h"
#include "swcmd.h"

static const char gpu_usage[] = "switch gpu [--index N]";

/* "N MiB", or "null" for a field the driver did not report. */
static void
mib(const char *key, int64_t v)
{
	if (v < 0)
		printf("  %s: null\n", key);
	else
		printf("  %s: %lld MiB\n", key, (long long)v);
}

static void
print_gpu(const struct nvsmi_gpu *g)
{
	/* CUDA's total is memory.total minus memory.reserved; free is that minus used. */
	int64_t cuda = g->total_mib;
	int k = 2;
	if (g->total_mib >= 0 && g->reserved_mib >= 0) {
		cuda = g->total_mib - g->reserved_mib;
		k = 0;
	} else if (g->free_mib >= 0) {
		cuda = g->used_mib + g->free_mib;
		k = 1;
	}
	static const char *const source[] = { "memory.total minus memory.reserved", "memory.used plus memory.free",
		"memory.total" };
	printf("# switch gpu: GPU %d, from nvidia-smi; for modelc gpu --from FILE\n"
	    "gpu:\n  memory: %lld MiB\n  memory_in_use: %lld MiB\nmeasured:\n  index: %d\n  name: '",
	    g->index, (long long)cuda, (long long)g->used_mib, g->index);
	for (const char *p = g->name; *p; p++)
		fputs(*p == '\'' ? "''" : (char[2]){ *p, 0 }, stdout);
	printf("'\n  memory_source: 'nvidia-smi %s'\n  memory_exact: %s\n", source[k], k < 2 ? "true" : "false");
	mib("total", g->total_mib);
	mib("reserved", g->reserved_mib);
	mib("used", g->used_mib);
	mib("free", g->free_mib);
	if (k == 2)
		swcmd_warning("GPU %d: no memory.reserved or memory.free; memory is nvidia-smi's total, above CUDA's "
		    "by the driver's reservation\n", g->index);
}

int
swcmd_gpu(int argc, char **argv)
{
	static struct nvsmi_state st;
	char msg[GPU_MSG_MAX];
	const char *index = NULL;

	for (int i = 1; i < argc; i++) {
		int m = swcmd_option(argc, argv, &i, "--index", &index);
		if (m < 0)
			return EXITCODE_USAGE;
		if (!m)
			return strcmp(argv[i], "--help") == 0 ? swcmd_usage(stdout, gpu_usage)
							       : swcmd_unknown_option(argv[0], argv[i], gpu_usage);
	}
	enum gpu_status s = gpu_query(&st, msg);
	if (s != GPU_OK) {
		swcmd_error("gpu: %s; switch gpu needs a working NVIDIA driver and nvidia-smi on PATH\n",
		    s == GPU_ABSENT ? "nvidia-smi not found" : msg);
		return EXITCODE_SYSTEM;
	}
	size_t shown = 0;
	for (size_t i = 0; i < st.ngpus; i++) {
		const struct nvsmi_gpu *g = &st.gpus[i];
		char num[24];
		snprintf(num, sizeof num, "%d", g->index);
		if (index && strcmp(index, num) != 0)
			continue;
		if (g->used_mib < 0 || g->total_mib < 0) {
			swcmd_error("gpu: GPU %d: nvidia-smi reports no memory.used or memory.total; give gpu.memory by "
			    "hand\n", g->index);
			return EXITCODE_SYSTEM;
		}
		if (shown++)
			printf("---\n");
		print_gpu(g);
	}
	if (!shown) {
		swcmd_error("gpu: no GPU with index '%s'; nvidia-smi lists %zu (0 to %d)\n", index, st.ngpus,
		    st.gpus[st.ngpus - 1].index);
		return EXITCODE_SYSTEM;
	}
	if (shown > 1)
		swcmd_note("%zu GPUs, one document each; modelc gpu --from takes one: switch gpu --index N\n", shown);
	return fflush(stdout) == 0 ? EXITCODE_OK : EXITCODE_SYSTEM;
}
