/*
 * The deploy files of a hosts: catalog, rendered for outdir: compose/ (one file per role and
 * node), k8s/ (per role a PVC, a Service and a workload; one kustomization and the
 * production-stack values), those deploy.targets asks for. Split from outdir.c, which places
 * them with the rest.
 */
#include "outdir_deploy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "emit_compose.h"
#include "emit_k8s.h"
#include "emit_stack.h"

static void
render_error(struct diag_sink *diag, const char *path)
{
	diag_error(diag, diag_file(path), "cannot %s: %s", "render", strerror(errno));
}

/* Render Compose file (role, node); a separate helper, since its emitter takes two indexes. */
static int
render_compose(struct outdir_file *f, const char *path, const struct plan *p, size_t role,
    size_t node, struct diag_sink *diag)
{
	FILE *m = open_memstream(&f->data, &f->len);
	if (!m) {
		render_error(diag, path);
		return -1;
	}
	int rc = emit_compose(m, p, role, node);
	if (fclose(m) != 0)
		rc = -1;
	f->path = strdup(path);
	if (rc < 0 || !f->path) {
		errno = f->path ? EIO : ENOMEM;
		render_error(diag, path);
		return -1;
	}
	return 0;
}

/* The k8s/ files of every role with a parallel plan, appended at v[*n]. */
static int
render_k8s(struct outdir_file *v, size_t *n, const struct plan *p, struct diag_sink *diag)
{
	static const struct {
		enum emit_k8s_kind kind;
		const char *part;
	} parts[] = {{EMIT_K8S_PVC, "pvc"}, {EMIT_K8S_SERVICE, "service"}, {EMIT_K8S_WORKLOAD, NULL}};
	bool any = false;
	unsigned targets = p->catalog->deploy_targets;
	for (size_t i = 0; i < p->nroles; i++) {
		if (!p->roles[i].par)
			continue;
		any = true;
		if (!(targets & CATALOG_TARGET_K8S))
			continue;
		for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
			const char *part = parts[k].part ? parts[k].part : emit_k8s_workload_name(p, i);
			char *path = malloc(strlen(p->roles[i].role->name) + strlen(part) + 16);
			if (!path) {
				render_error(diag, "k8s");
				return -1;
			}
			sprintf(path, "k8s/%s.%s.yaml", p->roles[i].role->name, part);
			struct outdir_file *f = &v[(*n)++];
			FILE *m = open_memstream(&f->data, &f->len);
			int rc = m ? emit_k8s(m, p, i, parts[k].kind) : -1;
			if (m && fclose(m) != 0)
				rc = -1;
			f->path = path;
			if (rc < 0) {
				errno = EIO;
				render_error(diag, path);
				return -1;
			}
		}
	}
	if (!any)
		return 0;
	struct outdir_file *f;
	FILE *m;
	int rc;
	if (targets & CATALOG_TARGET_K8S) {
		f = &v[(*n)++];
		m = open_memstream(&f->data, &f->len);
		rc = m ? emit_k8s_kustomization(m, p) : -1;
		if (m && fclose(m) != 0)
			rc = -1;
		f->path = strdup("k8s/kustomization.yaml");
		if (rc < 0 || !f->path) {
			errno = EIO;
			render_error(diag, "k8s/kustomization.yaml");
			return -1;
		}
	}
	if (!(targets & CATALOG_TARGET_STACK))
		return 0;
	f = &v[(*n)++];
	m = open_memstream(&f->data, &f->len);
	rc = m ? emit_stack_values(m, p) : -1;
	if (m && fclose(m) != 0)
		rc = -1;
	f->path = strdup("k8s/vllm-stack.values.yaml");
	if (rc < 0 || !f->path) {
		errno = EIO;
		render_error(diag, "k8s/vllm-stack.values.yaml");
		return -1;
	}
	return 0;
}

size_t
outdir_deploy_max(const struct plan *p)
{
	return emit_compose_count(p) + 3 * p->nroles + 2;
}

int
outdir_deploy_render(struct outdir_file *v, size_t *n, const struct plan *p, struct diag_sink *diag)
{
	size_t ncompose = p->catalog->deploy_targets & CATALOG_TARGET_COMPOSE ? emit_compose_count(p) : 0;
	for (size_t i = 0; i < ncompose; i++, (*n)++) {
		size_t role = 0, node = 0;
		char *path = emit_compose_path(p, i, &role, &node);
		if (!path || render_compose(&v[*n], path, p, role, node, diag) < 0) {
			free(path);
			return -1;
		}
		free(path);
	}
	return render_k8s(v, n, p, diag);
}
