#include "lockmerge.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_model(const void *p, const void *q)
{
	return strcmp(((const struct lock_model *)p)->key, ((const struct lock_model *)q)->key);
}

struct lock
lockmerge_put(struct arena *a, const struct lock *l, const struct lock_model *m)
{
	struct lock out = {0};
	out.path = l ? l->path : NULL;
	size_t n = l ? l->nmodels : 0;
	out.models = arena_alloc(a, (n + 1) * sizeof *out.models);
	bool replaced = false;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(l->models[i].key, m->key) == 0) {
			out.models[out.nmodels++] = *m;
			replaced = true;
		} else {
			out.models[out.nmodels++] = l->models[i];
		}
	}
	if (!replaced)
		out.models[out.nmodels++] = *m;
	qsort(out.models, out.nmodels, sizeof *out.models, cmp_model);
	return out;
}
