/* Which of a lock entry's files serving needs: what the manifests list and switch checks. */
#include <string.h>

#include "plan_ctx.h"

/* Files serving does not need: docs, git metadata, the original/ checkpoint, pickles next to safetensors. */
static bool
skip_file(const char *path, bool have_safetensors)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strncmp(path, "original/", 9) == 0)
		return true;
	if (strcmp(base, ".gitattributes") == 0 || strncmp(base, "README", 6) == 0 ||
	    strncmp(base, "LICENSE", 7) == 0)
		return true;
	size_t n = strlen(base);
	if (have_safetensors && ((n > 4 && strcmp(base + n - 4, ".bin") == 0) ||
	    (n > 4 && strcmp(base + n - 4, ".pth") == 0) || (n > 3 && strcmp(base + n - 3, ".pt") == 0)))
		return true;
	return false;
}

/* m's files that serving needs into *out; the sum of known sizes into *bytes; false when a size is unknown. */
bool
plan_collect_files(struct plan_ctx *x, const struct lock_model *m, struct plan_file **out, size_t *n,
    uint64_t *bytes)
{
	bool have_st = false, complete = m->files_complete;
	for (size_t i = 0; i < m->nfiles; i++) {
		size_t k = strlen(m->files[i].path);
		if (k > 12 && strcmp(m->files[i].path + k - 12, ".safetensors") == 0)
			have_st = true;
	}
	*out = arena_alloc(x->a, (m->nfiles + 1) * sizeof **out);
	*n = 0;
	*bytes = 0;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct lock_file *f = &m->files[i];
		if (skip_file(f->path, have_st))
			continue;
		struct plan_file *pf = &(*out)[(*n)++];
		pf->path = f->path;
		pf->size = f->size.value;
		pf->size_known = f->size.known;
		pf->lfs = f->lfs;
		pf->sha256 = f->sha256;
		pf->blob_id = f->blob_id;
		if (f->size.known)
			*bytes += f->size.value;
		else
			complete = false;
	}
	return complete;
}
