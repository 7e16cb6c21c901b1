#include "servednames.h"

#include <string.h>

static void
add(const char *out[SERVEDNAMES_MAX], size_t *n, const char *s)
{
	if (!s || !*s || *n == SERVEDNAMES_MAX)
		return;
	for (size_t k = 0; k < *n; k++)
		if (strcmp(out[k], s) == 0)
			return;
	out[(*n)++] = s;
}

size_t
servednames_list(const struct servednames_role *r, const char *out[SERVEDNAMES_MAX])
{
	size_t n = 0;
	add(out, &n, r->served ? r->served : r->role);
	add(out, &n, r->role);
	for (size_t k = 0; k < r->naliases; k++)
		add(out, &n, r->aliases[k]);
	add(out, &n, r->repo);
	add(out, &n, r->local_dir);
	add(out, &n, r->model_id);
	return n;
}
