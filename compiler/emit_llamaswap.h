#ifndef MODELC_EMIT_LLAMASWAP_H
#define MODELC_EMIT_LLAMASWAP_H

/*
 * generated/llama-swap.yaml: the catalog as a llama-swap config (mostlygeek/llama-swap), for
 * users who run that proxy: one model per role with the vllm serve command switch would run,
 * the health-check timeout sized to the slowest role, and the groups modelc found to fit as
 * llama-swap's groups (when no role is in two) or matrix sets.
 */

#include <stdio.h>

#include "plan.h"

/* Write the config to out; 0, or -1 when the stream failed or a value cannot be written. */
int emit_llamaswap(FILE *out, const struct plan *p);

#endif
