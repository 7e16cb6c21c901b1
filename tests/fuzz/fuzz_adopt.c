/* fuzz-covers: common/fileio.c:fileio_join common/fileio.c:fileio_read_all compiler/ckptdir.c:ckptdir_json compiler/ckptdir.c:ckptdir.c:cmp_tensor_name compiler/ckptdir.c:ckptdir_tensor compiler/ckptdir.c:ckptdir.c:read_shard compiler/ckptdir.c:ckptdir.c:add_file compiler/ckptdir.c:ckptdir.c:cmp_file compiler/ckptdir.c:ckptdir_list compiler/ckptdir.c:ckptdir_has compiler/ckptdir.c:ckptdir_read_shards compiler/adopt.c:adopt.c:get_u32 compiler/adopt.c:adopt.c:get_str compiler/adopt.c:adopt.c:read_arch compiler/adopt.c:adopt.c:check_same_model compiler/adopt.c:adopt.c:json_u32_any compiler/adopt.c:adopt.c:read_quant compiler/adopt.c:adopt.c:check_plan compiler/tensorcheck.c:tensorcheck.c:ignored compiler/tensorcheck.c:tensorcheck.c:arch_linears compiler/tensorcheck.c:tensorcheck.c:shape_str compiler/tensorcheck.c:tensorcheck.c:dtype_ok compiler/tensorcheck.c:tensorcheck.c:tensor_gate compiler/tensorcheck.c:tensorcheck.c:cdiv compiler/tensorcheck.c:tensorcheck.c:check_linear compiler/tensorcheck.c:tensorcheck_run compiler/adopt.c:adopt.c:check_size compiler/adopt.c:adopt_check */
/*
 * A quantized checkpoint directory as `modelc adopt` checks it: whoever produced or uploaded
 * it chose config.json, the index and every safetensors header. The input is split at lines
 * "----" into config.json, model.safetensors, model.safetensors.index.json and two shards
 * (an empty part: no such file). A safetensors part is its header only; the file is then
 * extended (sparse) to the size the header declares, so the size checks pass as for a real
 * checkpoint.
 */
#define _DEFAULT_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adopt.h"
#include "safetensors.h"
#include "size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const fz_names[] = {"config.json", "model.safetensors", "model.safetensors.index.json",
	"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
enum { FZ_NFILES = sizeof fz_names / sizeof fz_names[0], FZ_MAX_SPARSE = SIZE_GIB };

/* Scratch files go to $FUZZ_TMP (run.sh puts it on tmpfs where it can), else /tmp. */
static const char *
fuzz_tmp(void)
{
	const char *t = getenv("FUZZ_TMP");
	return t && *t ? t : "/tmp";
}

static void
fz_write(const char *path, const uint8_t *p, size_t n, int st)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		abort();
	if (n && write(fd, p, n) != (ssize_t)n)
		abort();
	if (st) {
		struct arena a = {0};
		struct safetensors_header h;
		char err[256];
		uint64_t len;
		if (safetensors_header_len(p, n, &len, err, sizeof err) == 0 && len <= n - SAFETENSORS_PREFIX &&
		    safetensors_parse((const char *)p, SAFETENSORS_PREFIX + len, &a, &h, err, sizeof err) == 0 &&
		    h.data_bytes < FZ_MAX_SPARSE && h.data_offset + h.data_bytes > n)
			(void)ftruncate(fd, (off_t)(h.data_offset + h.data_bytes));
		arena_free(&a);
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char dir[4096];
	static FILE *devnull;
	if (!dir[0]) {
		snprintf(dir, sizeof dir, "%s/fuzz-adopt-%ld", fuzz_tmp(), (long)getpid());
		mkdir(dir, 0700);
		devnull = fopen("/dev/null", "w");
	}
	char path[4200];
	size_t start = 0;
	for (size_t k = 0; k < FZ_NFILES; k++) {
		snprintf(path, sizeof path, "%s/%s", dir, fz_names[k]);
		unlink(path);
		if (start > size)
			continue;
		size_t end = start;
		while (end + 6 <= size && memcmp(data + end, "\n----\n", 6))
			end++;
		if (end + 6 > size)
			end = size;
		if (end > start)
			fz_write(path, data + start, end - start, strstr(fz_names[k], ".safetensors") &&
			    !strstr(fz_names[k], ".json"));
		start = end + 6;
	}
	struct arena a = {0};
	struct diag_sink diag;
	diag_init(&diag, devnull, "fuzz");
	struct adopt_result r;
	/*
	 * Half the inputs are checked against a plan too (the fixtures' tiny Llama, AWQ or GPTQ
	 * 4-bit, group 128 or 64): the last byte chooses, so a mutation can flip it.
	 */
	static const struct budget_arch tiny = {.layers = 2, .attention_heads = 4, .kv_heads = 2,
		.head_dim = 64, .hidden_size = 256, .intermediate_size = 512, .vocab_size = 512};
	struct adopt_expect want = {0};
	unsigned char last = size ? data[size - 1] : 0;
	if (last & 1) {
		want.method = last & 2 ? "gptq" : "awq";
		want.bits = last & 4 ? 8 : 4;
		want.group_size = last & 8 ? 64 : 128;
		want.arch = &tiny;
		want.arch_source = "org/tiny@main";
		want.tolerance = last & 16 ? 0.5 : 0;
	}
	(void)adopt_check(&a, &diag, dir, &want, &r);
	arena_free(&a);
	return 0;
}
