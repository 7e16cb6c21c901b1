/*
 * modelc gpu [--from FILE] [--index N] [CATALOG]: the measured GPU into models.yaml. FILE is
 * what `switch gpu` printed on the GPU host (docs/formats.md); without it nvidia-smi is asked
 * here, with the same relation: CUDA's total is memory.total minus memory.reserved (else
 * memory.used plus memory.free, else memory.total, an upper bound). gpu.memory and
 * gpu.memory_in_use are set with yamledit (comments kept; a profile stays, and the measured
 * total overrides its estimate), checked from the temp file, then renamed in.
 */
#define _DEFAULT_SOURCE /* popen */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalog.h"
#include "cli.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "fileio.h"
#include "frontend.h"
#include "nvsmi.h"
#include "size.h"
#include "yamldoc.h"
#include "yamledit.h"

static const char gpu_usage[] =
    "usage: modelc gpu [--from FILE] [--index N] [CATALOG]\n"
    "Writes the measured GPU into CATALOG (default models.yaml): gpu.memory (CUDA's total) and\n"
    "gpu.memory_in_use. FILE is the output of 'switch gpu' on the GPU host; without --from,\n"
    "nvidia-smi on this machine is asked (--index N picks a GPU of several).\n";

struct measured {
	uint64_t memory_mib, in_use_mib;
	const char *name;
	const char *source;             /* how memory was derived */
	bool exact;
	int index;
	const char *from;               /* "FILE" or "nvidia-smi on this machine" */
};

/* A size of the snippet in MiB ("81079 MiB"); false when it is not one. */
static bool
snippet_mib(const struct ynode *n, uint64_t *mib)
{
	uint64_t bytes;
	if (!n || n->kind != YNODE_STRING || size_parse(n->text, &bytes) != 0)
		return false;
	*mib = bytes / SIZE_MIB;
	return true;
}

static int
read_snippet(struct arena *a, struct diag_sink *d, const char *file, struct measured *m)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		diag_print(stderr, "modelc: gpu: %s: %s\n", file, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	char *text = arena_alloc(a, 64 * 1024 + 1);
	size_t len = fread(text, 1, 64 * 1024, f);
	fclose(f);
	text[len] = '\0';
	struct ynode *root;
	if (yamldoc_parse(a, d, file, text, len, &root) != 0)
		return EXITCODE_REJECTED;
	const struct ynode *gpu = yamldoc_get(root, "gpu"), *meas = yamldoc_get(root, "measured");
	if (!gpu || !snippet_mib(yamldoc_get(gpu, "memory"), &m->memory_mib) ||
	    !snippet_mib(yamldoc_get(gpu, "memory_in_use"), &m->in_use_mib)) {
		diag_error(d, diag_file(file), "expected the output of 'switch gpu': a gpu: block with memory and "
		    "memory_in_use in MiB (docs/formats.md)");
		return EXITCODE_REJECTED;
	}
	const struct ynode *v;
	m->name = (v = yamldoc_get(meas, "name")) && v->kind == YNODE_STRING ? v->text : "?";
	m->source = (v = yamldoc_get(meas, "memory_source")) && v->kind == YNODE_STRING ? v->text : "not said";
	m->exact = (v = yamldoc_get(meas, "memory_exact")) && v->kind == YNODE_BOOL && v->boolean;
	m->index = (v = yamldoc_get(meas, "index")) && v->kind == YNODE_INT ? (int)v->integer : 0;
	m->from = file;
	return 0;
}

/* Run nvidia-smi's GPU query; the text, or NULL. */
static char *
query(struct arena *a, bool with_reserved)
{
	const char *cmd = with_reserved
	    ? "nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free,memory.reserved "
	      "--format=csv,noheader,nounits 2>/dev/null"
	    : "nvidia-smi --query-gpu=index,name,memory.total,memory.used,memory.free --format=csv,noheader,nounits "
	      "2>/dev/null";
	FILE *p = popen(cmd, "r");
	if (!p)
		return NULL;
	char *text = arena_alloc(a, 64 * 1024 + 1);
	size_t len = fread(text, 1, 64 * 1024, p);
	text[len] = '\0';
	return pclose(p) == 0 ? text : NULL;
}

static int
read_nvsmi(struct arena *a, int index, struct measured *m)
{
	static struct nvsmi_state st;
	char err[NVSMI_ERR_MAX];
	char *text = query(a, true);
	bool reserved = text != NULL;
	if (!text)
		text = query(a, false);
	if (!text || nvsmi_parse_gpus(text, reserved, &st, err) != 0 || st.ngpus == 0) {
		diag_print(stderr, "modelc: gpu: error: nvidia-smi did not answer here%s%s; on the GPU host run "
		    "'switch gpu > FILE', then 'modelc gpu --from FILE' here\n", text ? ": " : "", text ? err : "");
		return EXITCODE_SYSTEM;
	}
	const struct nvsmi_gpu *g = NULL;
	for (size_t i = 0; i < st.ngpus; i++)
		if (index < 0 ? st.ngpus == 1 : st.gpus[i].index == index)
			g = &st.gpus[i];
	if (!g) {
		if (index < 0)
			diag_print(stderr, "modelc: gpu: error: this machine has %zu GPUs; pick the server's with --index N\n",
			    st.ngpus);
		else
			diag_print(stderr, "modelc: gpu: error: nvidia-smi has no GPU %d\n", index);
		return EXITCODE_USAGE;
	}
	if (g->used_mib == NVSMI_UNKNOWN) {
		diag_print(stderr, "modelc: gpu: error: nvidia-smi does not report memory.used for GPU %d; give "
		    "gpu.memory_in_use by hand\n", g->index);
		return EXITCODE_SYSTEM;
	}
	m->in_use_mib = (uint64_t)g->used_mib;
	m->exact = true;
	if (g->total_mib != NVSMI_UNKNOWN && g->reserved_mib != NVSMI_UNKNOWN) {
		m->memory_mib = (uint64_t)(g->total_mib - g->reserved_mib);
		m->source = "nvidia-smi memory.total minus memory.reserved";
	} else if (g->free_mib != NVSMI_UNKNOWN) {
		m->memory_mib = (uint64_t)(g->used_mib + g->free_mib);
		m->source = "nvidia-smi memory.used plus memory.free";
	} else {
		m->memory_mib = (uint64_t)g->total_mib;
		m->source = "nvidia-smi memory.total";
		m->exact = false;
	}
	m->name = arena_strdup(a, g->name);
	m->index = g->index;
	m->from = "nvidia-smi on this machine";
	return 0;
}

/* Set gpu.memory and gpu.memory_in_use in the catalog, through its temp file. */
static int
write_catalog(struct arena *a, struct diag_sink *d, const char *path, const struct catalog *c, const struct measured *m)
{
	struct yamledit ed;
	yamledit_init(&ed, a, d, path, c->source.text, c->source.len);
	ed.noun = "gpu";
	const char *const gpu[] = {"gpu", NULL}, *why;
	if (yamledit_set(&ed, gpu, "memory", arena_printf(a, "%" PRIu64 " MiB", m->memory_mib), "profile", &why) ||
	    yamledit_set(&ed, gpu, "memory_in_use", arena_printf(a, "%" PRIu64 " MiB", m->in_use_mib), "memory", &why)) {
		diag_print(stderr, "modelc: gpu: cannot edit %s: %s; set gpu.memory: %llu MiB and "
		    "gpu.memory_in_use: %llu MiB by hand\n", path, why, (unsigned long long)m->memory_mib,
		    (unsigned long long)m->in_use_mib);
		return EXITCODE_REJECTED;
	}
	struct stat st;
	unsigned mode = stat(path, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0644;
	struct fileio_atomic f;
	if (fileio_atomic_open(&f, path, mode, FILEIO_EXACT_MODE) != 0 || fileio_write_all(f.fd, ed.text, ed.len) != 0 ||
	    fileio_atomic_close(&f) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", f.tmp, strerror(errno));
		fileio_atomic_abort(&f);
		return EXITCODE_SYSTEM;
	}
	struct catalog check;
	FILE *devnull = fopen("/dev/null", "w");
	struct diag_sink quiet;
	diag_init(&quiet, devnull ? devnull : stderr, "modelc");
	int lrc = frontend_load(a, &quiet, f.tmp, NULL, &check);
	if (devnull)
		fclose(devnull);
	if (lrc != EXITCODE_OK ||
	    check.gpu_total_bytes != m->memory_mib * SIZE_MIB) {
		fileio_atomic_abort(&f);
		diag_print(stderr, "modelc: gpu: the edited %s did not load back with the new gpu.memory; nothing written\n",
		    path);
		return EXITCODE_REJECTED;
	}
	if (fileio_atomic_commit(&f) != 0) {
		diag_print(stderr, "modelc: %s: %s\n", path, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	return 0;
}

int
cmd_gpu(int argc, char **argv)
{
	const char *from = NULL, *catalog = "models.yaml";
	int index = -1;
	bool catalog_set = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint32_t n;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			fputs(gpu_usage, stdout);
			return 0;
		} else if (!strcmp(arg, "--from") || !strcmp(arg, "--index")) {
			if (!v)
				return cli_usage_error("gpu", gpu_usage, "option '%s' needs a value", arg);
			i++;
			if (arg[2] == 'f')
				from = v;
			else if (!strcmp(v, "0"))
				index = 0;
			else if (cli_parse_u32(v, 1024, &n) == 0)
				index = (int)n;
			else
				return cli_usage_error("gpu", gpu_usage, "--index: '%s' is not a GPU index", v);
		} else if (arg[0] == '-' && arg[1]) {
			return cli_usage_error("gpu", gpu_usage, "unknown option '%s'", arg);
		} else if (!catalog_set) {
			catalog = arg;
			catalog_set = true;
		} else {
			return cli_usage_error("gpu", gpu_usage, "unexpected argument '%s'", arg);
		}
	}
	struct arena a = {0};
	struct diag_sink d;
	diag_init(&d, stderr, "modelc");
	struct catalog c;
	struct measured m = {0};
	int rc = frontend_load(&a, &d, catalog, NULL, &c);
	if (rc == EXITCODE_OK)
		rc = from ? read_snippet(&a, &d, from, &m) : read_nvsmi(&a, index, &m);
	if (rc == EXITCODE_OK)
		rc = write_catalog(&a, &d, catalog, &c, &m);
	if (rc == EXITCODE_OK) {
		printf("modelc: gpu: %s: gpu.memory %" PRIu64 " MiB (%.2f GiB, CUDA's total: %s), gpu.memory_in_use %" PRIu64
		    " MiB; GPU %d '%s', from %s\n", catalog, m.memory_mib, (double)m.memory_mib / 1024, m.source,
		    m.in_use_mib, m.index, m.name, m.from);
		if (c.gpu_profile)
			printf("modelc: gpu: it overrides the number of profile '%s' (%.2f GiB%s)\n", c.gpu_profile,
			    size_gib(c.gpu_profile_bytes), c.gpu_profile_estimated ? ", an estimate" : "");
		if (!m.exact)
			diag_print(stderr, "modelc: gpu: warning: %s is an upper bound: CUDA's total is smaller by the "
			    "driver's reservation (a few hundred MiB); measure torch.cuda.mem_get_info()[1] for the exact "
			    "number\n", m.source);
		printf("next: modelc build (the budgets then use this total)\n");
	}
	arena_free(&a);
	return rc;
}
