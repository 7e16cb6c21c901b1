#define _DEFAULT_SOURCE
#define _XOPEN_SOURCE 700
#include "fprune.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activefile.h"
#include "exitcode.h"
#include "fmanifest.h"
#include "hfcache.h"

struct keep {
	struct fmanifest *m;
	size_t n;
	char active_folder[HFCACHE_PATH_MAX];
};

static uint64_t tree_bytes;

static int
sum_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p, (void)f;
	if (flag == FTW_F)
		tree_bytes += (uint64_t)st->st_size;
	return 0;
}

static int
rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st, (void)f;
	return (flag == FTW_DP ? rmdir(p) : unlink(p)) && errno != ENOENT ? -1 : 0;
}

/* Bytes under path (files only; symlinks count 0). */
static uint64_t
du(const char *path)
{
	tree_bytes = 0;
	nftw(path, sum_cb, 16, FTW_PHYS);
	return tree_bytes;
}

static bool
folder_used(const struct keep *k, const char *folder)
{
	if (strcmp(folder, k->active_folder) == 0)
		return true;
	for (size_t i = 0; i < k->n; i++)
		if (k->m[i].repo_folder && strcmp(k->m[i].repo_folder, folder) == 0)
			return true;
	return false;
}

static bool
commit_used(const struct keep *k, const char *folder, const char *commit)
{
	for (size_t i = 0; i < k->n; i++)
		if (k->m[i].repo_folder && !strcmp(k->m[i].repo_folder, folder) && k->m[i].commit &&
		    !strcmp(k->m[i].commit, commit))
			return true;
	return false;
}

static bool
blob_used(const struct keep *k, const char *folder, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < k->n; i++) {
		if (!k->m[i].repo_folder || strcmp(k->m[i].repo_folder, folder))
			continue;
		for (size_t f = 0; f < k->m[i].nfiles; f++) {
			const char *b = k->m[i].files[f].blob;
			size_t bl = b ? strlen(b) : 0;
			/* blobs/{etag} and its blobs/{etag}.incomplete partial */
			if (b && !strncmp(name, b, bl) && (nl == bl || !strcmp(name + bl, ".incomplete")))
				return true;
		}
	}
	return false;
}

static void
item(struct fprogress *p, const struct fprune_opts *o, const char *path, bool dir, uint64_t *total,
    int *rc, const char *why)
{
	struct stat st;
	uint64_t bytes = dir ? du(path) : (lstat(path, &st) == 0 ? (uint64_t)st.st_size : 0);
	char sz[32];
	if (o->yes) {
		int r = dir ? nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) : unlink(path);
		if (r) {
			fprogress_event(p, "error", NULL, NULL, 0, "%s: %s", path, strerror(errno));
			*rc = 3;
			return;
		}
	}
	*total += bytes;
	if (!o->quiet)
		fprogress_event(p, o->yes ? "removed" : "unused", NULL, NULL, bytes, "%s %s (%s)", path,
		    fprogress_size(bytes, sz, sizeof sz), why);
}

/* Each entry of dir, a repo folder's snapshots/ (or blobs/), that no role uses, as an item. */
static void
unused_entries(struct fprogress *p, const struct fprune_opts *o, const struct keep *k, const char *dir,
    const char *folder, bool snapshots, uint64_t *total, int *rc)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		const char *n = e->d_name;
		if (n[0] == '.' || (snapshots ? commit_used(k, folder, n) : blob_used(k, folder, n)))
			continue;
		char q[HFCACHE_PATH_MAX * 3];
		snprintf(q, sizeof q, "%s/%s", dir, n);
		item(p, o, q, snapshots, total, rc, snapshots ? "a commit no role pins" :
		    strstr(n, ".incomplete") ? "a partial download no role needs" : "a blob no pinned file uses");
	}
	if (d)
		closedir(d);
}

int
fprune_run(struct fprune_opts *o)
{
	struct fprogress prog;
	FILE *devnull = o->quiet ? fopen("/dev/null", "w") : NULL;
	fprogress_init(&prog, o->mode, devnull ? devnull : stdout, devnull ? devnull : stderr);
	char err[8192], root[HFCACHE_PATH_MAX];
	char **roles = NULL;
	size_t nroles = 0;
	int rc = EXITCODE_OK;
	struct keep k = {0};
	char fallback[HFCACHE_PATH_MAX];
	if (hfcache_catalog_root(o->manifests, fallback, sizeof fallback))
		fallback[0] = '\0';
	if (hfcache_root(o->cache, fallback, root, sizeof root, err, sizeof err) ||
	    fmanifest_list(o->manifests, &roles, &nroles, err, sizeof err)) {
		fprogress_event(&prog, "error", NULL, NULL, 0, "%s", err);
		rc = EXITCODE_REJECTED;
		goto out;
	}
	if (nroles == 0) {
		/* Without the catalog's list everything would look unused: refuse. */
		fprogress_event(&prog, "error", NULL, NULL, 0, "%s: no manifests, so no way to tell what is "
		    "used; run 'modelc build' first", o->manifests);
		rc = EXITCODE_REJECTED;
		goto out;
	}
	k.m = calloc(nroles, sizeof *k.m);
	for (size_t i = 0; i < nroles; i++) {
		char mp[HFCACHE_PATH_MAX];
		snprintf(mp, sizeof mp, "%s/%s.json", o->manifests, roles[i]);
		if (fmanifest_read(mp, &k.m[k.n], err, sizeof err)) {
			fprogress_event(&prog, "error", roles[i], NULL, 0, "%s; nothing pruned", err);
			rc = EXITCODE_REJECTED;
			goto out;
		}
		k.n++;
	}
	struct activefile af;
	unsigned line = 0;
	const char *ap = activefile_path(o->active_file);
	if (activefile_read(ap, &af, &line) == 0) {
		for (size_t i = 0; i < k.n; i++)
			if (k.m[i].role && !strcmp(k.m[i].role, af.role) && k.m[i].repo_folder)
				snprintf(k.active_folder, sizeof k.active_folder, "%s", k.m[i].repo_folder);
		if (!k.active_folder[0] && strchr(af.model_id, '/') && af.model_id[0] != '/') {
			char *q = k.active_folder + sprintf(k.active_folder, "models--");
			for (const char *s = af.model_id; *s && q < k.active_folder + sizeof k.active_folder - 3; s++)
				if (*s == '/')
					*q++ = '-', *q++ = '-';
				else
					*q++ = *s;
			*q = '\0';
		}
	}
	DIR *d = opendir(root);
	if (!d) {
		if (errno == ENOENT) {
			fprogress_event(&prog, "report", NULL, NULL, 0, "%s does not exist; nothing to prune", root);
			goto out;
		}
		fprogress_event(&prog, "error", NULL, NULL, 0, "%s: %s", root, strerror(errno));
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	uint64_t total = 0;
	struct dirent *e;
	char **names = NULL;
	size_t nn = 0;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, "models--", 8)) {
			names = realloc(names, (nn + 1) * sizeof *names);
			names[nn++] = strdup(e->d_name);
		}
	closedir(d);
	for (size_t i = 0; i < nn; i++) {
		char p[HFCACHE_PATH_MAX * 2];
		snprintf(p, sizeof p, "%s/%s", root, names[i]);
		if (!folder_used(&k, names[i])) {
			item(&prog, o, p, true, &total, &rc, "no role uses this repo");
			snprintf(p, sizeof p, "%s/.locks/%s", root, names[i]);
			if (o->yes)
				nftw(p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
			continue;
		}
		/* The running model may be of another commit than the catalog now pins: leave it whole. */
		if (!strcmp(names[i], k.active_folder))
			continue;
		/* Snapshots of commits no role pins; blobs nobody's manifest names (another commit's files). */
		snprintf(p, sizeof p, "%s/%s/snapshots", root, names[i]);
		unused_entries(&prog, o, &k, p, names[i], true, &total, &rc);
		snprintf(p, sizeof p, "%s/%s/blobs", root, names[i]);
		unused_entries(&prog, o, &k, p, names[i], false, &total, &rc);
	}
	for (size_t i = 0; i < nn; i++)
		free(names[i]);
	free(names);
	char sz[32];
	o->freeable = total;
	if (!o->quiet)
		fprogress_event(&prog, "report", NULL, NULL, total, o->yes ? "freed %s" :
		    "%s could be freed; run 'fetch prune --yes' to remove it", fprogress_size(total, sz, sizeof sz));
out:
	if (devnull)
		fclose(devnull);
	for (size_t i = 0; i < k.n; i++)
		fmanifest_free(&k.m[i]);
	free(k.m);
	for (size_t i = 0; i < nroles; i++)
		free(roles[i]);
	free(roles);
	return rc;
}
