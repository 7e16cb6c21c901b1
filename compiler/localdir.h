#ifndef MODELC_LOCALDIR_H
#define MODELC_LOCALDIR_H

/*
 * Facts about a model directory on this machine: its config.json (through hfconfig) and the
 * exact tensor bytes from the headers of its *.safetensors files. Only headers are read.
 */

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "budget.h"

struct localdir_facts {
	bool has_config;
	struct budget_arch arch;
	bool quantized;                 /* config.json has a quantization_config */
	bool weights_known;             /* every *.safetensors header parsed */
	uint64_t weights_bytes;         /* sum of tensor data over all shards */
	unsigned shards;
	const char *error;              /* why reading failed, for a warning; arena string */
};

/* Read dir's config.json and safetensors headers; 0 on success, -1 with f->error set. */
int localdir_read(struct arena *a, const char *dir, struct localdir_facts *f);

#endif
