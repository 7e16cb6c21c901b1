#ifndef MODELC_EMIT_K8S_H
#define MODELC_EMIT_K8S_H

/*
 * generated/k8s/ (hosts: catalogs): per role <role>.pvc.yaml, <role>.service.yaml and
 * <role>.deployment.yaml (one host) or <role>.leaderworkerset.yaml (several), and one
 * kustomization.yaml listing them all (docs/outputs.md).
 */

#include <stddef.h>
#include <stdio.h>

#include "plan.h"

enum emit_k8s_kind { EMIT_K8S_WORKLOAD, EMIT_K8S_SERVICE, EMIT_K8S_PVC };

/* "deployment" or "leaderworkerset": the workload file's middle name for role. */
const char *emit_k8s_workload_name(const struct plan *p, size_t role);

/* Write one object of role (which has a parallel plan); 0, or -1 when the stream failed. */
int emit_k8s(FILE *out, const struct plan *p, size_t role, enum emit_k8s_kind kind);

/* Write kustomization.yaml; 0, or -1 when the stream failed. */
int emit_k8s_kustomization(FILE *out, const struct plan *p);

#endif
