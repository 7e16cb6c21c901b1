#include "ckptdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fileio.h"

json_t *
ckptdir_json(struct arena *a, struct diag_sink *diag, const char *path)
{
	size_t len;
	char *text = fileio_read_all(a, path, CKPTDIR_MAX_JSON_BYTES, 0, &len);
	if (!text) {
		diag_error(diag, diag_file(path), "cannot read: %s", strerror(errno));
		return NULL;
	}
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		struct diag_pos pos = {path, (unsigned)je.line, (unsigned)je.column};
		diag_error(diag, pos, "not valid JSON: %s", je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		diag_error(diag, diag_file(path), "not a JSON object");
		json_decref(root);
		return NULL;
	}
	return root;
}

static int
cmp_tensor_name(const void *p, const void *q)
{
	return strcmp(((const struct ckptdir_tensor *)p)->name, ((const struct ckptdir_tensor *)q)->name);
}

const struct ckptdir_tensor *
ckptdir_tensor(const struct ckptdir *d, const char *name)
{
	struct ckptdir_tensor key = {name, NULL, NULL};
	return bsearch(&key, d->tensors, d->ntensors, sizeof key, cmp_tensor_name);
}

/* Read and check one shard's header. NULL when unusable. */
static const struct safetensors_header *
read_shard(struct arena *a, struct diag_sink *diag, const struct ckptdir *d, const char *name)
{
	const char *path = fileio_join(a, d->dir, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		diag_error(diag, diag_file(path), "cannot open: %s", strerror(errno));
		return NULL;
	}
	struct stat st;
	char err[256];
	unsigned char prefix[SAFETENSORS_PREFIX];
	uint64_t n;
	struct safetensors_header *h = NULL;
	ssize_t got = fstat(fd, &st) == 0 ? pread(fd, prefix, sizeof prefix, 0) : -1;
	if (got < 0) {
		diag_error(diag, diag_file(path), "cannot read: %s", strerror(errno));
		goto out;
	}
	if (safetensors_header_len(prefix, (size_t)got, &n, err, sizeof err) != 0) {
		diag_error(diag, diag_file(path), "%s", err);
		goto out;
	}
	if ((uint64_t)st.st_size < SAFETENSORS_PREFIX + n) {
		diag_error(diag, diag_file(path), "truncated: file has %llu bytes, its header alone needs %llu",
		    (unsigned long long)st.st_size, (unsigned long long)(SAFETENSORS_PREFIX + n));
		goto out;
	}
	char *buf = arena_alloc(a, SAFETENSORS_PREFIX + n + 1);
	size_t have = 0;
	while (have < SAFETENSORS_PREFIX + n) {
		ssize_t k = pread(fd, buf + have, SAFETENSORS_PREFIX + n - have, (off_t)have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			diag_error(diag, diag_file(path), "cannot read: %s", k < 0 ? strerror(errno) : "short read");
			goto out;
		}
		have += (size_t)k;
	}
	h = arena_alloc(a, sizeof *h);
	if (safetensors_parse(buf, have, a, h, err, sizeof err) != 0) {
		diag_error(diag, diag_file(path), "%s", err);
		h = NULL;
		goto out;
	}
	if (safetensors_check_file_size(h, (uint64_t)st.st_size, err, sizeof err) != 0) {
		diag_error(diag, diag_file(path), "%s%s", (uint64_t)st.st_size < h->data_offset + h->data_bytes
		    ? "truncated: " : "", err);
		h = NULL;
		goto out;
	}
out:
	close(fd);
	return h;
}

/* Add a file that belongs to the checkpoint to the list. */
static void
add_file(struct arena *a, struct ckptdir *d, const char *name, uint64_t size)
{
	for (size_t i = 0; i < d->nfiles; i++)
		if (strcmp(d->files[i].name, name) == 0)
			return;
	struct ckptdir_file *f = &d->files[d->nfiles++];
	f->name = arena_strdup(a, name);
	f->size = size;
	f->sha256[0] = '\0';
}

static int
cmp_file(const void *p, const void *q)
{
	return strcmp(((const struct ckptdir_file *)p)->name, ((const struct ckptdir_file *)q)->name);
}

/* Every regular file at the top of dir (no dot files): what serving the directory reads. */
bool
ckptdir_list(struct arena *a, struct diag_sink *diag, const char *dir, struct ckptdir *d)
{
	memset(d, 0, sizeof *d);
	d->dir = dir;
	DIR *dh = opendir(dir);
	if (!dh) {
		diag_error(diag, diag_file(dir), "cannot open directory: %s", strerror(errno));
		return false;
	}
	size_t cap = 16;
	d->files = arena_alloc(a, cap * sizeof *d->files);
	struct dirent *e;
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		if (stat(fileio_join(a, d->dir, e->d_name), &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (d->nfiles == cap) {
			struct ckptdir_file *nf = arena_alloc(a, 2 * cap * sizeof *nf);
			memcpy(nf, d->files, cap * sizeof *nf);
			d->files = nf;
			cap *= 2;
		}
		add_file(a, d, e->d_name, (uint64_t)st.st_size);
	}
	closedir(dh);
	qsort(d->files, d->nfiles, sizeof *d->files, cmp_file);
	return true;
}

bool
ckptdir_has(const struct ckptdir *d, const char *name)
{
	for (size_t i = 0; i < d->nfiles; i++)
		if (strcmp(d->files[i].name, name) == 0)
			return true;
	return false;
}

/* Shards from the index (checked against it) or the single model.safetensors. */
bool
ckptdir_read_shards(struct arena *a, struct diag_sink *diag, struct ckptdir *d)
{
	const char **shards = NULL;
	size_t nshards = 0;
	bool missing = false;
	json_t *map = NULL, *index = NULL;
	if (ckptdir_has(d, "model.safetensors.index.json")) {
		d->index_path = fileio_join(a, d->dir, "model.safetensors.index.json");
		index = ckptdir_json(a, diag, d->index_path);
		if (!index)
			return false;
		map = json_object_get(index, "weight_map");
		if (!json_is_object(map) || json_object_size(map) == 0) {
			diag_error(diag, diag_file(d->index_path), "has no weight_map object");
			json_decref(index);
			return false;
		}
		shards = arena_alloc(a, json_object_size(map) * sizeof *shards);
		size_t *counts = arena_alloc(a, json_object_size(map) * sizeof *counts);
		const char *k;
		json_t *v;
		json_object_foreach(map, k, v) {
			if (!json_is_string(v)) {
				diag_error(diag, diag_file(d->index_path), "weight_map entry for '%s' is not a string", k);
				continue;
			}
			const char *s = json_string_value(v);
			size_t i = 0;
			while (i < nshards && strcmp(shards[i], s) != 0)
				i++;
			if (i == nshards)
				shards[nshards++] = arena_strdup(a, s);
			counts[i]++;
		}
		/* Keep the shards that exist; name each missing one once. */
		size_t kept = 0;
		for (size_t i = 0; i < nshards; i++) {
			if (strchr(shards[i], '/') || shards[i][0] == '.')
				diag_error(diag, diag_file(d->index_path), "shard '%s' is not a file name in the directory",
				    shards[i]);
			else if (!ckptdir_has(d, shards[i]))
				diag_error(diag, diag_file(d->index_path), "shard '%s' does not exist (%zu tensors are mapped to it)",
				    shards[i], counts[i]);
			else {
				shards[kept++] = shards[i];
				continue;
			}
			missing = true;
		}
		nshards = kept;
	} else if (ckptdir_has(d, "model.safetensors")) {
		d->index_path = fileio_join(a, d->dir, "model.safetensors");
		shards = arena_alloc(a, sizeof *shards);
		shards[nshards++] = "model.safetensors";
	} else {
		diag_error(diag, diag_file(d->dir), "has neither model.safetensors nor model.safetensors.index.json");
		return false;
	}

	const struct safetensors_header **hs = arena_alloc(a, (nshards + 1) * sizeof *hs);
	size_t total = 0;
	bool ok = !missing;
	for (size_t i = 0; i < nshards; i++) {
		hs[i] = read_shard(a, diag, d, shards[i]);
		if (!hs[i])
			ok = false;
		else
			total += hs[i]->ntensors;
	}
	d->tensors = arena_alloc(a, (total + 1) * sizeof *d->tensors);
	size_t ndt = 0;
	d->dtypes = arena_alloc(a, CKPTDIR_MAX_DTYPES * sizeof *d->dtypes);
	for (size_t i = 0; i < nshards; i++) {
		if (!hs[i])
			continue;
		const char *path = fileio_join(a, d->dir, shards[i]);
		for (size_t j = 0; j < hs[i]->ntensors; j++) {
			struct ckptdir_tensor *t = &d->tensors[d->ntensors++];
			t->name = hs[i]->tensors[j].name;
			t->t = &hs[i]->tensors[j];
			t->file = path;
		}
		for (size_t j = 0; j < hs[i]->ndtypes; j++) {
			size_t k = 0;
			while (k < ndt && strcmp(d->dtypes[k].dtype, hs[i]->dtypes[j].dtype))
				k++;
			if (k == ndt && ndt < CKPTDIR_MAX_DTYPES)
				d->dtypes[ndt++].dtype = hs[i]->dtypes[j].dtype;
			if (k < CKPTDIR_MAX_DTYPES)
				d->dtypes[k].bytes += hs[i]->dtypes[j].bytes;
		}
		d->tensor_bytes += hs[i]->data_bytes;
	}
	d->ndtypes = ndt;
	qsort(d->tensors, d->ntensors, sizeof *d->tensors, cmp_tensor_name);
	for (size_t i = 1; i < d->ntensors; i++)
		if (strcmp(d->tensors[i - 1].name, d->tensors[i].name) == 0) {
			diag_error(diag, diag_file(d->tensors[i].file), "tensor '%s' is also in %s", d->tensors[i].name,
			    d->tensors[i - 1].file);
			ok = false;
		}
	if (map && ok) {
		const char *k;
		json_t *v;
		json_object_foreach(map, k, v) {
			const struct ckptdir_tensor *t = ckptdir_tensor(d, k);
			const char *want = json_string_value(v);
			if (!want)
				continue;
			if (!t)
				diag_error(diag, diag_file(fileio_join(a, d->dir, want)),
				    "tensor '%s' is listed here by the index but the shard does not hold it", k);
			else if (strcmp(t->file, fileio_join(a, d->dir, want)) != 0)
				diag_error(diag, diag_file(t->file), "tensor '%s' is here, the index says it is in %s", k, want);
		}
	}
	if (index)
		json_decref(index);
	return ok;
}

int
ckptdir_hash(const char *dir, struct ckptdir_file *files, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char *path = fileio_join(NULL, dir, files[i].name);
		int rc = path ? digest_file(path, false, files[i].size, files[i].sha256, NULL, err, errlen) : -1;
		if (!path)
			snprintf(err, errlen, "out of memory");
		free(path);
		if (rc)
			return -1;
	}
	return 0;
}
