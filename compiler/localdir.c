/*
 * Read what the budget needs from a model directory without loading any weights: the
 * safetensors headers (a few MiB at most) give exact tensor bytes, config.json the shape.
 */
#include "localdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "hfconfig.h"
#include "safetensors.h"

static int
read_full(int fd, char *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Tensor bytes of one shard from its header; -1 with f->error set. */
static int
shard_bytes(struct arena *a, const char *path, uint64_t *bytes, struct localdir_facts *f)
{
	char err[256];
	char prefix[SAFETENSORS_PREFIX];
	uint64_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		f->error = arena_printf(a, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	if (read_full(fd, prefix, sizeof prefix) != 0 ||
	    safetensors_header_len(prefix, sizeof prefix, &n, err, sizeof err) != 0) {
		f->error = arena_printf(a, "'%s' is not a safetensors file", path);
		close(fd);
		return -1;
	}
	char *buf = malloc(SAFETENSORS_PREFIX + n);
	if (!buf)
		abort();
	memcpy(buf, prefix, sizeof prefix);
	struct safetensors_header h;
	int rc = read_full(fd, buf + SAFETENSORS_PREFIX, n) == 0 &&
	    safetensors_parse(buf, SAFETENSORS_PREFIX + n, a, &h, err, sizeof err) == 0 ? 0 : -1;
	if (rc == 0)
		*bytes = h.data_bytes;
	else
		f->error = arena_printf(a, "'%s' has a bad safetensors header", path);
	free(buf);
	close(fd);
	return rc;
}

int
localdir_read(struct arena *a, const char *dir, struct localdir_facts *f)
{
	memset(f, 0, sizeof *f);
	const char *cfg = arena_printf(a, "%s/config.json", dir);
	if (access(cfg, F_OK) == 0) {
		json_error_t je;
		json_t *root = json_load_file(cfg, JSON_REJECT_DUPLICATES, &je);
		struct hfconfig_info info;
		if (!root) {
			f->error = arena_printf(a, "%s:%d:%d: %s", cfg, je.line, je.column, je.text);
			return -1;
		}
		int rc = hfconfig_from_json(root, &f->arch, &info);
		json_decref(root);
		if (rc != 0) {
			f->error = arena_printf(a, "%s: '%s' is missing or not a positive integer", cfg,
			    info.missing);
			return -1;
		}
		f->has_config = true;
		f->quantized = info.quantized;
	}
	DIR *d = opendir(dir);
	if (!d) {
		f->error = arena_printf(a, "cannot read '%s': %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n <= 12 || strcmp(e->d_name + n - 12, ".safetensors") != 0)
			continue;
		uint64_t bytes = 0;
		if (shard_bytes(a, arena_printf(a, "%s/%s", dir, e->d_name), &bytes, f) != 0) {
			rc = -1;
			break;
		}
		f->weights_bytes += bytes;
		f->shards++;
	}
	closedir(d);
	f->weights_known = rc == 0 && f->shards > 0;
	if (rc)
		f->weights_bytes = 0;
	return rc;
}
