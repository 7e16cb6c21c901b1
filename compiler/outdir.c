/*
 * The output directory's contents: every file modelc build writes, rendered in memory by its
 * emitter, then handed to outdir_replace (outdir_replace.c), which swaps the whole set in.
 */
#include "outdir_int.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "emit_env.h"
#include "emit_llamaswap.h"
#include "emit_manifest.h"
#include "emit_plan.h"
#include "emit_report.h"
#include "emit_table.h"
#include "exitcode.h"
#include "fileio.h"
#include "outdir_deploy.h"

char *
outdir_join(const char *a, const char *b)
{
	char *s = fileio_join(NULL, a, b);
	if (!s) {
		diag_print(stderr, "modelc: out of memory\n");
		abort();
	}
	return s;
}

void
outdir_sys_error(struct diag_sink *diag, const char *path, const char *what)
{
	diag_error(diag, diag_file(path), "cannot %s: %s", what, strerror(errno));
}

/* Render one file with an emitter; the emitters take (out, plan[, role]). */
static int
render(struct outdir_file *f, const char *path, const struct plan *p, const struct plan_role *r,
    int (*fn)(FILE *, const struct plan *), struct diag_sink *diag)
{
	FILE *m = open_memstream(&f->data, &f->len);
	if (!m) {
		outdir_sys_error(diag, path, "render");
		return -1;
	}
	errno = 0;
	int rc = r ? emit_manifest(m, p, r) : fn(m, p);
	int saved = errno ? errno : ENOMEM;
	if (fclose(m) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	f->path = strdup(path);
	if (rc < 0 || !f->path) {
		errno = f->path ? saved : ENOMEM;
		outdir_sys_error(diag, path, "render");
		return -1;
	}
	return 0;
}


static int
cmp_outfile(const void *a, const void *b)
{
	return strcmp(((const struct outdir_file *)a)->path, ((const struct outdir_file *)b)->path);
}

int
outdir_render(const struct plan *p, struct outdir_file **files, size_t *nfiles,
    struct diag_sink *diag)
{
	static const struct {
		const char *path;
		int (*fn)(FILE *, const struct plan *);
		bool hosts_only;                /* a one-GPU catalog's outputs stay as they were */
	} fixed[] = {
		{".env", emit_env, false}, {".env.example", emit_env_example, false},
		{"budget.svg", emit_budget_svg, false}, {"budget.txt", emit_budget_txt, false},
		{"switch.table", emit_table, false}, {"llama-swap.yaml", emit_llamaswap, false},
		{"plan.json", emit_plan_json, true}, {"plan.txt", emit_plan_txt, true},
	};
	size_t nfixed = sizeof fixed / sizeof fixed[0], n = 0;
	struct outdir_file *v = calloc(nfixed + p->nroles + outdir_deploy_max(p), sizeof *v);

	*files = NULL;
	*nfiles = 0;
	if (!v) {
		outdir_sys_error(diag, "generated outputs", "render");
		return EXITCODE_SYSTEM;
	}
	for (size_t i = 0; i < nfixed; i++) {
		if (fixed[i].hosts_only && !p->catalog->nhosts)
			continue;
		if (render(&v[n], fixed[i].path, p, NULL, fixed[i].fn, diag) < 0)
			goto fail;
		n++;
	}
	for (size_t i = 0; i < p->nroles; i++, n++) {
		char *path = outdir_join("manifests", p->roles[i].role->name);
		char *json = malloc(strlen(path) + 6);
		int rc = -1;
		if (json) {
			sprintf(json, "%s.json", path);
			rc = render(&v[n], json, p, &p->roles[i], NULL, diag);
		}
		free(path);
		free(json);
		if (rc < 0)
			goto fail;
	}
	if (outdir_deploy_render(v, &n, p, diag) < 0)
		goto fail;
	qsort(v, n, sizeof *v, cmp_outfile);
	*files = v;
	*nfiles = n;
	return 0;
fail:
	outdir_free(v, n + 1);
	return EXITCODE_SYSTEM;
}

void
outdir_free(struct outdir_file *files, size_t nfiles)
{
	if (!files)
		return;
	for (size_t i = 0; i < nfiles; i++) {
		free(files[i].path);
		free(files[i].data);
	}
	free(files);
}

int
outdir_write(const struct plan *p, const char *dir, struct diag_sink *diag)
{
	struct outdir_file *files;
	size_t nfiles;

	if (outdir_render(p, &files, &nfiles, diag) != 0)
		return EXITCODE_SYSTEM;
	int rc = outdir_replace(dir, files, nfiles, diag);
	outdir_free(files, nfiles);
	return rc;
}
