#ifndef MODELC_EMIT_STACK_H
#define MODELC_EMIT_STACK_H

/*
 * generated/k8s/vllm-stack.values.yaml (hosts: catalogs): values for the vLLM production-stack
 * Helm chart (vllm-stack 0.1.12): one modelSpec per role that runs in one pod, replicas behind
 * the chart's router (docs/outputs.md).
 */

#include <stdio.h>

#include "plan.h"

/* Write the values file; 0, or -1 when the stream failed. */
int emit_stack_values(FILE *out, const struct plan *p);

#endif
