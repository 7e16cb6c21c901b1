#ifndef MODELC_GPUPROFILE_H
#define MODELC_GPUPROFILE_H

/*
 * One GPU profile of schemas/gpu-profiles.json by name, for commands that take a GPU on the
 * command line (modelc fit REPO --gpu PROFILE); the catalog resolves gpu.profile itself.
 */

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"

struct gpuprofile {
	const char *name;
	const char *description;
	uint64_t cuda_total_bytes;
	bool estimated;
};

/*
 * Look name up in schema_dir/gpu-profiles.json. 0 found (*out filled); 1 not known (*best the
 * closest name or NULL, *known every name, comma-separated); -1 the file cannot be read or
 * has no usable profile list.
 */
int gpuprofile_find(struct arena *a, const char *schema_dir, const char *name, struct gpuprofile *out,
    const char **best, const char **known);

#endif
