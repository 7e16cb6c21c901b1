#include "gpuprofile.h"

#include <jansson.h>
#include <string.h>

#include "suggest.h"

int
gpuprofile_find(struct arena *a, const char *schema_dir, const char *name, struct gpuprofile *out,
    const char **best, const char **known)
{
	memset(out, 0, sizeof *out);
	*best = NULL;
	*known = "";
	json_t *root = json_load_file(arena_printf(a, "%s/gpu-profiles.json", schema_dir), 0, NULL);
	json_t *list = json_object_get(root, "profiles");
	if (!json_is_array(list)) {
		json_decref(root);
		return -1;
	}
	size_t n = json_array_size(list), i;
	const char **names = arena_alloc(a, (n + 1) * sizeof *names);
	json_t *p;
	int rc = 1;
	json_array_foreach(list, i, p) {
		const char *pn = json_string_value(json_object_get(p, "name"));
		names[i] = pn ? arena_strdup(a, pn) : "";
		*known = arena_printf(a, "%s%s%s", *known, i ? ", " : "", names[i]);
		json_t *total = json_object_get(p, "cuda_total_bytes");
		if (rc == 0 || !pn || strcmp(pn, name) != 0 || !json_is_integer(total) || json_integer_value(total) <= 0)
			continue;
		out->name = names[i];
		const char *d = json_string_value(json_object_get(p, "description"));
		out->description = d ? arena_strdup(a, d) : out->name;
		out->cuda_total_bytes = (uint64_t)json_integer_value(total);
		out->estimated = !json_is_false(json_object_get(p, "estimated"));
		rc = 0;
	}
	if (rc)
		*best = suggest_best(name, names, n);
	json_decref(root);
	return rc;
}
