#define _DEFAULT_SOURCE
#include "fplan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "fmanifest.h"
#include "hfcache.h"
#include "hub.h"
#include "xfer.h"

enum { ERR_MAX = 3 * HUB_URL_MAX };

struct role_run {
	struct fmanifest m;
	bool loaded;
	int result;
	size_t first_job, njobs;
	unsigned skipped;
};

/* Learn an unpinned file's hash from the Hub's metadata hop (--trust-hub). */
static int
trust_hub(const struct hub *h, struct fmanifest *m, size_t i, struct xfer_job *j, char *err,
    size_t errlen)
{
	struct fmanifest_file *f = &m->files[i];
	char *url = hub_resolve_url(h, m->repo, m->commit, f->path);
	struct hub_response r;
	int rc = url ? hub_request(h, "HEAD", url, 0, UINT64_MAX, true, 0, m->repo, m->commit, f->path, &r,
	    err, errlen) : HUB_FAILED;
	free(url);
	if (rc)
		return rc;
	const char *etag = r.h.linked_etag[0] ? r.h.linked_etag : r.h.etag;
	bool lfs = r.h.linked_etag[0] != '\0';
	uint64_t size = r.h.has_linked_size ? r.h.linked_size : r.h.content_length;
	hub_response_free(&r);
	if (lfs ? !hub_is_hex(etag, 64) : !hub_is_hex(etag, 40)) {
		snprintf(err, errlen, "the Hub gave no usable %s for '%s' (got '%s')", lfs ? "sha256" : "git blob id",
		    f->path, etag);
		return HUB_REFUSED;
	}
	f->lfs = lfs;
	f->trusted = true;
	f->size = size;
	f->size_known = true;
	free(f->blob);
	f->blob = strdup(etag);
	if (lfs) {
		free(f->sha256);
		f->sha256 = strdup(etag);
	} else {
		free(f->blob_id);
		f->blob_id = strdup(etag);
	}
	j->size = size;
	return 0;
}

/* Check what the cache holds for one file; true when nothing needs downloading. */
static bool
present(const struct hfcache *c, struct fprogress *p, const struct fplan_opts *o, struct xfer_job *j,
    unsigned *verified_now)
{
	char blob[HFCACHE_PATH_MAX], ptr[HFCACHE_PATH_MAX], err[ERR_MAX];
	const char *want = j->sha256 ? j->sha256 : j->blob_id;
	if (hfcache_path(c, blob, sizeof blob, j->folder, "blobs/%s", j->etag) ||
	    hfcache_path(c, ptr, sizeof ptr, j->folder, "snapshots/%s/%s", j->commit, j->path))
		return false;
	uint64_t size = 0;
	bool linked = hfcache_pointer_ok(c, j->folder, j->commit, j->path, j->etag, &size);
	const char *holder = NULL;
	struct stat st;
	if (linked)
		holder = c->symlinks ? blob : ptr;
	else if (c->symlinks && stat(blob, &st) == 0 && S_ISREG(st.st_mode))
		holder = blob;
	if (!holder)
		return false;
	if (stat(holder, &st) || (uint64_t)st.st_size != j->size) {
		fprogress_event(p, "corrupt", j->role, j->path, 0, "%s has %lld bytes, the manifest pins %llu; "
		    "removing it", holder, (long long)st.st_size, (unsigned long long)j->size);
		goto bad;
	}
	if (o->verify || !hfcache_stamp_ok(c, j->folder, j->etag, holder, want)) {
		int v = xfer_verify_file(j, holder, err, sizeof err);
		if (v == 3) {
			fprogress_event(p, "error", j->role, j->path, 0, "%s", err);
			return false;
		}
		if (v == 1) {
			fprogress_event(p, "corrupt", j->role, j->path, 0, "%s: %s; removing it", holder, err);
			goto bad;
		}
		(*verified_now)++;
		hfcache_stamp_write(c, j->folder, j->etag, holder, want, err, sizeof err);
		fprogress_event(p, "verify", j->role, j->path, j->size, "hashed: matches %s", want);
	}
	if (!linked && hfcache_link(c, j->folder, j->commit, j->path, j->etag, false, err, sizeof err)) {
		fprogress_event(p, "error", j->role, j->path, 0, "%s", err);
		return false;
	}
	if (!o->verify)
		fprogress_event(p, "skip", j->role, j->path, 0, "already in the cache, verified");
	return true;
bad:
	unlink(ptr);
	unlink(blob);
	hfcache_stamp_remove(c, j->folder, j->etag);
	return false;
}

int
fplan_fetch(const struct fplan_opts *o, char **roles, size_t nroles)
{
	struct fprogress prog;
	fprogress_init(&prog, o->mode, stdout, stderr);
	char err[ERR_MAX];
	struct hub hub;
	if (hub_open(&hub, err, sizeof err)) {
		fprogress_event(&prog, "error", NULL, NULL, 0, "%s", err);
		return 3;
	}
	int worst = 0;
	char **all = NULL;
	size_t nall = 0;
	struct role_run *runs = NULL;
	struct xfer_job *jobs = NULL;
	size_t njobs = 0, capjobs = 0;
	if (nroles == 0) {
		if (fmanifest_list(o->manifests, &all, &nall, err, sizeof err)) {
			fprogress_event(&prog, "error", NULL, NULL, 0, "%s", err);
			worst = 1;
			goto out;
		}
		if (nall == 0) {
			fprogress_event(&prog, "error", NULL, NULL, 0, "%s: no manifests (run 'modelc build')",
			    o->manifests);
			worst = 1;
			goto out;
		}
		roles = all;
		nroles = nall;
	}
	char root[HFCACHE_PATH_MAX];
	struct hfcache cache;
	if (hfcache_root(o->cache, NULL, root, sizeof root, err, sizeof err) ||
	    hfcache_open(&cache, root, err, sizeof err)) {
		fprogress_event(&prog, "error", NULL, NULL, 0, "%s", err);
		worst = 3;
		goto out;
	}
	if (!cache.symlinks)
		fprogress_event(&prog, "fallback", NULL, NULL, 0, "%s: %s; files are copied into snapshots/ "
		    "instead of linked, as huggingface_hub does", root, cache.symlinks_forced_off ?
		    "HF_HUB_DISABLE_SYMLINKS is set" : "this volume does not support symlinks");
	runs = calloc(nroles, sizeof *runs);
	if (!runs) {
		worst = 3;
		goto out;
	}
	uint64_t need = 0, already = 0;
	unsigned nfiles = 0, verified_now = 0;
	for (size_t r = 0; r < nroles; r++) {
		struct role_run *rr = &runs[r];
		char mpath[HFCACHE_PATH_MAX];
		if (strchr(roles[r], '/') || roles[r][0] == '.') {
			fprogress_event(&prog, "error", roles[r], NULL, 0, "not a role name");
			rr->result = worst = 2 > worst ? 1 : worst;
			continue;
		}
		snprintf(mpath, sizeof mpath, "%s/%s.json", o->manifests, roles[r]);
		if (access(mpath, F_OK)) {
			fprogress_event(&prog, "error", roles[r], NULL, 0, "no manifest %s (is '%s' a role of the "
			    "catalog? run 'modelc build')", mpath, roles[r]);
			rr->result = 1;
			worst = worst > 1 ? worst : 1;
			continue;
		}
		if (fmanifest_read(mpath, &rr->m, err, sizeof err)) {
			fprogress_event(&prog, "error", roles[r], NULL, 0, "%s", err);
			rr->result = 1;
			worst = worst > 1 ? worst : 1;
			continue;
		}
		rr->loaded = true;
		struct fmanifest *m = &rr->m;
		if (!m->repo || !m->download) {
			fprogress_event(&prog, "skip", m->role, NULL, 0, "local-only role: nothing to download");
			continue;
		}
		rr->first_job = njobs;
		for (size_t i = 0; i < m->nfiles; i++) {
			struct fmanifest_file *f = &m->files[i];
			if (njobs == capjobs) {
				capjobs = capjobs ? 2 * capjobs : 64;
				struct xfer_job *nj = realloc(jobs, capjobs * sizeof *nj);
				if (!nj) {
					worst = 3;
					goto out;
				}
				jobs = nj;
			}
			struct xfer_job *j = &jobs[njobs];
			memset(j, 0, sizeof *j);
			j->role = m->role;
			j->repo = m->repo;
			j->revision = m->revision;
			j->commit = m->commit;
			j->folder = m->repo_folder;
			j->path = f->path;
			j->size = f->size;
			if (!f->blob || !f->size_known) {
				if (!o->trust_hub) {
					fprogress_event(&prog, "error", m->role, f->path, 0, "the manifest pins no %s for "
					    "this file; run 'modelc lock' and 'modelc build', or pass --trust-hub to take "
					    "the Hub's", !f->size_known ? "size" : f->lfs == 1 ? "sha256" : "hash");
					rr->result = 1;
					continue;
				}
				int t = trust_hub(&hub, m, i, j, err, sizeof err);
				if (t) {
					fprogress_event(&prog, "error", m->role, f->path, 0, "%s", err);
					rr->result = t;
					continue;
				}
				fprogress_event(&prog, "trust", m->role, f->path, f->size, "unpinned: trusting the "
				    "Hub's %s %s (--trust-hub)", f->lfs ? "sha256" : "git blob id", f->blob);
			}
			j->etag = f->blob;
			j->sha256 = f->sha256;
			j->blob_id = f->lfs == 1 ? NULL : f->blob_id;
			if (f->lfs == 1 && !j->sha256) {
				fprogress_event(&prog, "error", m->role, f->path, 0, "LFS file without a sha256");
				rr->result = 1;
				continue;
			}
			nfiles++;
			if (present(&cache, &prog, o, j, &verified_now)) {
				rr->skipped++;
				already += j->size;
				continue;
			}
			char inc[HFCACHE_PATH_MAX];
			struct stat st;
			uint64_t have = 0;
			if (hfcache_path(&cache, inc, sizeof inc, j->folder, "blobs/%s.incomplete", j->etag) == 0 &&
			    stat(inc, &st) == 0 && (uint64_t)st.st_size <= j->size)
				have = (uint64_t)st.st_size;
			need += j->size - have;
			njobs++;
		}
		rr->njobs = njobs - rr->first_job;
		if (rr->result > worst)
			worst = rr->result;
		char a[32];
		fprogress_event(&prog, "plan", m->role, NULL, need, "%s@%.12s: %zu files, %zu to download",
		    m->repo, m->commit, m->nfiles, rr->njobs);
		(void)a;
	}
	if (njobs) {
		struct statvfs vfs;
		char a[32], b[32];
		if (statvfs(root, &vfs) == 0) {
			uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
			if (need > avail) {
				fprogress_event(&prog, "error", NULL, NULL, need, "%s: the download needs %s (%llu bytes) "
				    "and the cache volume has %s (%llu bytes) free; free some space or set HF_HUB_CACHE",
				    root, fprogress_size(need, a, sizeof a), (unsigned long long)need,
				    fprogress_size(avail, b, sizeof b), (unsigned long long)avail);
				worst = 1;
				goto out;
			}
		}
		if (hub.offline) {
			fprogress_event(&prog, "error", NULL, NULL, need, "HF_HUB_OFFLINE is set and %zu files (%s) "
			    "are missing from the cache; unset it to download them", njobs,
			    fprogress_size(need, a, sizeof a));
			worst = 1;
			goto out;
		}
		prog.bytes_total = need;
		prog.files_total = (unsigned)njobs;
		struct xfer x = {.hub = &hub, .cache = &cache, .prog = &prog, .max_jobs = o->jobs};
		int w = xfer_run(&x, jobs, njobs);
		if (w > worst)
			worst = w;
	}
	unsigned got = 0, failed = 0;
	uint64_t got_bytes = 0;
	double secs = fprogress_now() - prog.t0;
	for (size_t r = 0; r < nroles; r++) {
		struct role_run *rr = &runs[r];
		if (!rr->loaded || !rr->m.repo || !rr->m.download)
			continue;
		int rres = rr->result;
		for (size_t k = rr->first_job; k < rr->first_job + rr->njobs; k++) {
			if (jobs[k].result) {
				failed++;
				if (jobs[k].result > rres)
					rres = jobs[k].result;
			} else if (jobs[k].downloaded) {
				got++;
				got_bytes += jobs[k].received;
			} else
				rr->skipped++;
		}
		if (rres == 0) {
			if (hfcache_write_ref(&cache, rr->m.repo_folder, rr->m.revision, rr->m.commit, err, sizeof err)) {
				fprogress_event(&prog, "error", rr->m.role, NULL, 0, "%s", err);
				rres = 3;
			}
		}
		/* Files whose hash came from the Hub are pinned now that their bytes matched it. */
		for (size_t k = rr->first_job; k < rr->first_job + rr->njobs; k++) {
			for (size_t i = 0; i < rr->m.nfiles; i++) {
				struct fmanifest_file *f = &rr->m.files[i];
				if (f->path != jobs[k].path || !f->trusted || jobs[k].result)
					continue;
				if (fmanifest_pin(&rr->m, i, f->sha256, f->blob_id, f->size, err, sizeof err)) {
					fprogress_event(&prog, "error", rr->m.role, f->path, 0, "%s", err);
					rres = 3;
				} else
					fprogress_event(&prog, "pinned", rr->m.role, f->path, 0, "recorded its %s in %s",
					    f->lfs ? "sha256" : "git blob id", rr->m.path);
			}
		}
		if (rres > worst)
			worst = rres;
		fprogress_event(&prog, rres ? "error" : "ready", rr->m.role, NULL, 0, rres ?
		    "incomplete: fix the errors above and run fetch again" :
		    "%s@%.12s is complete in %s/%s", rr->m.repo, rr->m.commit, root, rr->m.repo_folder);
	}
	fprogress_finish(&prog);
	char a[32];
	fprogress_event(&prog, "report", NULL, NULL, got_bytes, "%u files: %u downloaded (%s in %.1f s, %.0f MB/s), "
	    "%u already present%s%s, %u failed", nfiles, got, fprogress_size(got_bytes, a, sizeof a), secs,
	    secs > 0 ? (double)got_bytes / secs / 1e6 : 0.0, nfiles - got - failed, verified_now ? ", rehashed " : "",
	    verified_now ? "where unstamped" : "", failed);
	(void)already;
out:
	if (runs)
		for (size_t r = 0; r < nroles; r++)
			if (runs[r].loaded)
				fmanifest_free(&runs[r].m);
	free(runs);
	free(jobs);
	for (size_t i = 0; i < nall; i++)
		free(all[i]);
	free(all);
	hub_close(&hub);
	return worst;
}
