#define _DEFAULT_SOURCE
#include "fplan.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "exitcode.h"
#include "fmanifest.h"
#include "fsign.h"
#include "hfcache.h"
#include "hub.h"
#include "msfile.h"
#include "suggest.h"
#include "xfer.h"

enum { ERR_MAX = 3 * HUB_URL_MAX };

struct role_run {
	struct fmanifest m;
	bool loaded;
	int result;
	size_t njobs;                   /* files to download */
	unsigned skipped;               /* files already present and verified */
	uint64_t need;                  /* bytes still to download */
};

/* A file present in the cache whose stamp does not vouch for it: hash it (in parallel). */
struct pending {
	struct xfer_job j;
	struct role_run *rr;
	char holder[HFCACHE_PATH_MAX];  /* the file holding the bytes */
	bool linked;                    /* snapshots/ already points at it */
	int verdict;                    /* xfer_verify_file: 0, 1 or 3 */
	char err[512];
};

struct verify_pool {
	struct pending *v;
	size_t n, next;
	pthread_mutex_t mu;
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
	    err, errlen) : EXITCODE_SYSTEM;
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
		return EXITCODE_REJECTED;
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

/* Why signatures are required, for messages. */
static const char *
signature_source(const struct fplan_opts *o, const struct fsign *sign)
{
	static char buf[HFCACHE_PATH_MAX + 64];
	if (o->nrequire)
		return "--require-signature";
	snprintf(buf, sizeof buf, "the trust: list of %s", sign->catalog ? sign->catalog : "the catalog");
	return buf;
}

/*
 * Read a manifest whose signature is required: its bytes once, the signature over exactly
 * those bytes, then the manifest parsed from them and its commit against the signed one.
 * 0 with *m loaded, or -1 after reporting why it is refused.
 */
static int
read_signed(struct fsign *sign, struct fprogress *prog, const char *role, const char *mpath, struct fmanifest *m)
{
	char err[ERR_MAX], id[MSKEY_ID_HEX_LEN + 1];
	char *text;
	size_t len;
	struct tcomment tc;
	if (msfile_read(mpath, FMANIFEST_MAX_BYTES, false, &text, &len, err, sizeof err) ||
	    fsign_check(sign, role, mpath, text, len, &tc, id, err, sizeof err)) {
		free(text);
		fprogress_event(prog, "error", role, NULL, 0, "%s", err);
		return -1;
	}
	int rc = fmanifest_parse(mpath, text, len, m, err, sizeof err);
	free(text);
	if (rc == 0 && fsign_check_commit(&tc, m, err, sizeof err)) {
		fmanifest_free(m);
		rc = -1;
	}
	if (rc) {
		fprogress_event(prog, "error", role, NULL, 0, "%s", err);
		return -1;
	}
	fprogress_event(prog, "signed", role, NULL, 0, "%s: signed by key %s for catalog sha256 %s", mpath, id,
	    tc.catalog_sha256);
	return 0;
}

/* ", N rehashed" for the report, or nothing. */
static const char *
rehashed_note(unsigned n)
{
	static char buf[48];
	if (!n)
		return "";
	snprintf(buf, sizeof buf, " (%u of them rehashed)", n);
	return buf;
}

/*
 * What the cache holds for one file: 0 present and vouched for by its stamp (linked if it
 * was not), 1 to download, 2 to hash first (pd filled).
 */
static int
check(const struct hfcache *c, struct fprogress *p, const struct fplan_opts *o, const struct xfer_job *j,
    struct pending *pd)
{
	char blob[HFCACHE_PATH_MAX], ptr[HFCACHE_PATH_MAX], err[ERR_MAX];
	const char *want = j->sha256 ? j->sha256 : j->blob_id;
	if (hfcache_path(c, blob, sizeof blob, j->folder, "blobs/%s", j->etag) ||
	    hfcache_path(c, ptr, sizeof ptr, j->folder, "snapshots/%s/%s", j->commit, j->path))
		return 1;
	uint64_t size = 0;
	bool linked = hfcache_pointer_ok(c, j->folder, j->commit, j->path, j->etag, &size);
	const char *holder = NULL;
	struct stat st;
	if (linked)
		holder = c->symlinks ? blob : ptr;
	else if (c->symlinks && stat(blob, &st) == 0 && S_ISREG(st.st_mode))
		holder = blob;
	if (!holder)
		return 1;
	if (stat(holder, &st) || (uint64_t)st.st_size != j->size) {
		fprogress_event(p, "corrupt", j->role, j->path, 0, "%s has %lld bytes, the manifest pins %llu; "
		    "removing it", holder, (long long)st.st_size, (unsigned long long)j->size);
		unlink(ptr);
		unlink(blob);
		hfcache_stamp_remove(c, j->folder, j->etag);
		return 1;
	}
	if (o->verify || !hfcache_stamp_ok(c, j->folder, j->etag, holder, want)) {
		pd->j = *j;
		snprintf(pd->holder, sizeof pd->holder, "%s", holder);
		pd->linked = linked;
		return 2;
	}
	if (!linked && hfcache_link(c, j->folder, j->commit, j->path, j->etag, false, err, sizeof err)) {
		fprogress_event(p, "error", j->role, j->path, 0, "%s", err);
		return 1;
	}
	fprogress_event(p, "skip", j->role, j->path, 0, "already in the cache, verified");
	return 0;
}

static void *
verify_worker(void *arg)
{
	struct verify_pool *vp = arg;
	for (;;) {
		pthread_mutex_lock(&vp->mu);
		size_t i = vp->next++;
		pthread_mutex_unlock(&vp->mu);
		if (i >= vp->n)
			return NULL;
		struct pending *pd = &vp->v[i];
		pd->verdict = xfer_verify_file(&pd->j, pd->holder, pd->err, sizeof pd->err);
	}
}

/* Hash every pending file, up to jobs at a time. */
static void
verify_all(struct pending *v, size_t n, unsigned jobs)
{
	struct verify_pool vp = {.v = v, .n = n};
	pthread_mutex_init(&vp.mu, NULL);
	pthread_t th[64];
	unsigned nt = 0;
	if (jobs > 64)
		jobs = 64;
	for (; nt < jobs && nt < n; nt++)
		if (pthread_create(&th[nt], NULL, verify_worker, &vp))
			break;
	if (nt == 0)
		verify_worker(&vp);
	for (unsigned i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	pthread_mutex_destroy(&vp.mu);
}

/* Whether two jobs write the same snapshot entry (two roles of one repo at one commit). */
static bool
same_file(const struct xfer_job *a, const struct xfer_job *b)
{
	return !strcmp(a->folder, b->folder) && !strcmp(a->commit, b->commit) && !strcmp(a->path, b->path) &&
	    !strcmp(a->etag, b->etag);
}

/* Queue j for download (once, however many roles need it) and count the bytes it still needs. */
static int
add_job(const struct hfcache *c, struct xfer_job **jobs, size_t *n, size_t *cap, const struct xfer_job *j,
    struct role_run *rr)
{
	for (size_t i = 0; i < *n; i++)
		if (same_file(&(*jobs)[i], j)) {
			rr->njobs++;  /* another role's job brings it */
			return 0;
		}
	if (*n == *cap) {
		size_t nc = *cap ? 2 * *cap : 64;
		struct xfer_job *nj = realloc(*jobs, nc * sizeof *nj);
		if (!nj)
			return -1;
		*jobs = nj;
		*cap = nc;
	}
	(*jobs)[(*n)++] = *j;
	char inc[HFCACHE_PATH_MAX];
	struct stat st;
	uint64_t have = 0;
	if (hfcache_path(c, inc, sizeof inc, j->folder, "blobs/%s.incomplete", j->etag) == 0 &&
	    stat(inc, &st) == 0 && (uint64_t)st.st_size <= j->size)
		have = (uint64_t)st.st_size;
	rr->need += j->size - have;
	rr->njobs++;
	return 0;
}

/* A role with no manifest: a typo of a role the build wrote (did you mean), or a stale build. */
static void
unknown_role(struct fprogress *prog, const char *dir, const char *role, const char *mpath)
{
	char **names = NULL, err[ERR_MAX];
	size_t n = 0;
	if (fmanifest_list(dir, &names, &n, err, sizeof err))
		n = 0;
	const char *best = suggest_best(role, (const char *const *)names, n);
	char known[512] = "";
	size_t used = 0;
	for (size_t i = 0; i < n && used < sizeof known; i++) {
		int w = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", names[i]);
		used += w > 0 ? (size_t)w : 0;
	}
	if (best)
		fprogress_event(prog, "error", role, NULL, 0, "not a role of the catalog (no %s); did you mean "
		    "'%s'? roles: %s", mpath, best, known);
	else if (n)
		fprogress_event(prog, "error", role, NULL, 0, "not a role of the catalog (no %s); roles: %s; "
		    "a role added since the last build needs 'modelc build'", mpath, known);
	else
		fprogress_event(prog, "error", role, NULL, 0, "no manifest %s: %s has none; run 'modelc build'",
		    mpath, dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
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
		return EXITCODE_SYSTEM;
	}
	int worst = 0;
	struct fsign sign = {0};
	char **all = NULL;
	size_t nall = 0;
	struct role_run *runs = NULL;
	struct xfer_job *jobs = NULL;
	struct pending *pend = NULL;
	size_t njobs = 0, capjobs = 0, npend = 0;
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
	char fallback[HFCACHE_PATH_MAX];
	if (hfcache_catalog_root(o->manifests, fallback, sizeof fallback))
		fallback[0] = '\0';
	if (hfcache_root(o->cache, fallback, root, sizeof root, err, sizeof err) ||
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
	size_t nfiles_all = 0;
	if (!runs) {
		worst = 3;
		goto out;
	}
	if (fsign_open(&sign, o->require_keys, o->nrequire, o->catalog, err, sizeof err)) {
		fprogress_event(&prog, "error", NULL, NULL, 0, "%s", err);
		worst = 1;
		goto out;
	}
	if (sign.required && o->trust_hub) {
		fprogress_event(&prog, "error", NULL, NULL, 0, "--trust-hub takes hashes nobody signed, and signatures are "
		    "required (%s); pin the files with 'modelc lock' instead", signature_source(o, &sign));
		worst = 1;
		goto out;
	}
	if (sign.required && !sign.have_catalog)
		fprogress_event(&prog, "note", NULL, NULL, 0, "no catalog to compare the signatures with (no models.yaml "
		    "here; pass --catalog FILE): the manifests need only all have been signed for the same one");
	/* Pass 1: read every manifest, and check its signature first when they are required. */
	unsigned refused = 0;
	for (size_t r = 0; r < nroles; r++) {
		struct role_run *rr = &runs[r];
		char mpath[HFCACHE_PATH_MAX];
		if (strchr(roles[r], '/') || roles[r][0] == '.') {
			fprogress_event(&prog, "error", roles[r], NULL, 0, "not a role name");
			rr->result = 1;
			continue;
		}
		snprintf(mpath, sizeof mpath, "%s/%s.json", o->manifests, roles[r]);
		if (access(mpath, F_OK)) {
			unknown_role(&prog, o->manifests, roles[r], mpath);
			rr->result = EXITCODE_REJECTED;
			continue;
		}
		if (sign.required) {
			if (read_signed(&sign, &prog, roles[r], mpath, &rr->m)) {
				rr->result = 1;
				refused++;
				continue;
			}
		} else if (fmanifest_read(mpath, &rr->m, err, sizeof err)) {
			fprogress_event(&prog, "error", roles[r], NULL, 0, "%s", err);
			rr->result = 1;
			continue;
		}
		rr->loaded = true;
		if (!rr->m.repo || !rr->m.download)
			fprogress_event(&prog, "skip", rr->m.role, NULL, 0, "local-only role: nothing to download");
		else {
			nfiles_all += rr->m.nfiles;
			if (!rr->m.complete)
				fprogress_event(&prog, "note", rr->m.role, NULL, 0, "the manifest's file list is partial "
				    "(models.lock did not record the whole repo); files it does not name are not fetched: "
				    "run 'modelc lock %s' for the full list", rr->m.role);
		}
	}
	if (refused) {
		fprogress_event(&prog, "error", NULL, NULL, 0, "%u of %zu manifest%s refused: signatures are required "
		    "(%s); nothing downloaded", refused, nroles, nroles == 1 ? "" : "s", signature_source(o, &sign));
		worst = 1;
		goto out;
	}
	/* Nothing was read, so nothing was attempted: the errors above are the whole story. */
	bool any_loaded = false;
	for (size_t r = 0; r < nroles; r++)
		any_loaded |= runs[r].loaded;
	if (!any_loaded) {
		worst = EXITCODE_REJECTED;
		goto out;
	}
	pend = calloc(nfiles_all ? nfiles_all : 1, sizeof *pend);
	if (!pend) {
		worst = 3;
		goto out;
	}
	/* Pass 2: what each file needs: nothing, a download, or a hash of what is there. */
	unsigned nfiles = 0, verified_now = 0;
	for (size_t r = 0; r < nroles; r++) {
		struct role_run *rr = &runs[r];
		struct fmanifest *m = &rr->m;
		if (!rr->loaded || !m->repo || !m->download)
			continue;
		for (size_t i = 0; i < m->nfiles; i++) {
			struct fmanifest_file *f = &m->files[i];
			struct xfer_job j = {.role = m->role, .repo = m->repo, .revision = m->revision,
			    .commit = m->commit, .folder = m->repo_folder, .path = f->path, .size = f->size};
			if (!f->blob || !f->size_known) {
				if (!o->trust_hub) {
					fprogress_event(&prog, "error", m->role, f->path, 0, "the manifest pins no %s for "
					    "this file; run 'modelc lock' and 'modelc build', or pass --trust-hub to take "
					    "the Hub's", !f->size_known ? "size" : f->lfs == 1 ? "sha256" : "hash");
					rr->result = 1;
					continue;
				}
				int t = trust_hub(&hub, m, i, &j, err, sizeof err);
				if (t) {
					fprogress_event(&prog, "error", m->role, f->path, 0, "%s", err);
					rr->result = t;
					continue;
				}
				fprogress_event(&prog, "trust", m->role, f->path, f->size, "unpinned: trusting the "
				    "Hub's %s %s (--trust-hub)", f->lfs ? "sha256" : "git blob id", f->blob);
			}
			j.etag = f->blob;
			j.sha256 = f->sha256;
			j.blob_id = f->lfs == 1 ? NULL : f->blob_id;
			if (f->lfs == 1 && !j.sha256) {
				fprogress_event(&prog, "error", m->role, f->path, 0, "LFS file without a sha256");
				rr->result = 1;
				continue;
			}
			nfiles++;
			int c = check(&cache, &prog, o, &j, &pend[npend]);
			if (c == 0)
				rr->skipped++;
			else if (c == 2)
				pend[npend++].rr = rr;
			else if (add_job(&cache, &jobs, &njobs, &capjobs, &j, rr)) {
				worst = 3;
				goto out;
			}
		}
	}
	/* Pass 3: hash what the stamps do not vouch for, in parallel. */
	verify_all(pend, npend, o->jobs ? o->jobs : 1);
	for (size_t i = 0; i < npend; i++) {
		struct pending *pd = &pend[i];
		struct xfer_job *j = &pd->j;
		const char *want = j->sha256 ? j->sha256 : j->blob_id;
		if (pd->verdict == 3) {
			fprogress_event(&prog, "error", j->role, j->path, 0, "%s", pd->err);
			pd->rr->result = 3;
			continue;
		}
		if (pd->verdict == 1) {
			char blob[HFCACHE_PATH_MAX], ptr[HFCACHE_PATH_MAX];
			fprogress_event(&prog, "corrupt", j->role, j->path, 0, "%s: %s; removing it", pd->holder, pd->err);
			if (!hfcache_path(&cache, ptr, sizeof ptr, j->folder, "snapshots/%s/%s", j->commit, j->path))
				unlink(ptr);
			if (!hfcache_path(&cache, blob, sizeof blob, j->folder, "blobs/%s", j->etag))
				unlink(blob);
			hfcache_stamp_remove(&cache, j->folder, j->etag);
			if (add_job(&cache, &jobs, &njobs, &capjobs, j, pd->rr)) {
				worst = 3;
				goto out;
			}
			continue;
		}
		verified_now++;
		hfcache_stamp_write(&cache, j->folder, j->etag, pd->holder, want, err, sizeof err);
		if (!pd->linked && hfcache_link(&cache, j->folder, j->commit, j->path, j->etag, false, err, sizeof err)) {
			fprogress_event(&prog, "error", j->role, j->path, 0, "%s", err);
			pd->rr->result = 3;
			continue;
		}
		fprogress_event(&prog, "verify", j->role, j->path, j->size, "hashed: matches %s", want);
		pd->rr->skipped++;
	}
	uint64_t need = 0;
	for (size_t r = 0; r < nroles; r++) {
		struct role_run *rr = &runs[r];
		if (rr->result > worst)
			worst = rr->result;
		if (!rr->loaded || !rr->m.repo || !rr->m.download)
			continue;
		need += rr->need;
		char sz[32];
		fprogress_event(&prog, "plan", rr->m.role, NULL, rr->need, "%s@%.12s: %zu files, %zu to download (%s)",
		    rr->m.repo, rr->m.commit, rr->m.nfiles, rr->njobs, fprogress_size(rr->need, sz, sizeof sz));
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
	unsigned got = 0, failed = 0, shared_ok = 0;
	uint64_t got_bytes = 0;
	double secs = fprogress_now() - prog.t0;
	for (size_t r = 0; r < nroles; r++) {
		struct role_run *rr = &runs[r];
		if (!rr->loaded || !rr->m.repo || !rr->m.download)
			continue;
		int rres = rr->result;
		for (size_t k = 0; k < njobs; k++) {
			bool own = jobs[k].role == rr->m.role;
			/* A job another role queued for a file this role needs too counts for both. */
			bool shared = !own && !strcmp(jobs[k].folder, rr->m.repo_folder) &&
			    !strcmp(jobs[k].commit, rr->m.commit);
			if (shared) {
				shared = false;
				for (size_t i = 0; i < rr->m.nfiles && !shared; i++)
					shared = !strcmp(rr->m.files[i].path, jobs[k].path);
			}
			if (!own && !shared)
				continue;
			if (jobs[k].result) {
				failed += own;
				if (jobs[k].result > rres)
					rres = jobs[k].result;
			} else if (!own) {
				shared_ok++;
			} else if (jobs[k].downloaded) {
				got++;
				got_bytes += jobs[k].received;
			}
		}
		if (rres == 0 && hfcache_write_ref(&cache, rr->m.repo_folder, rr->m.revision, rr->m.commit, err,
		    sizeof err)) {
			fprogress_event(&prog, "error", rr->m.role, NULL, 0, "%s", err);
			rres = 3;
		}
		/* Files whose hash came from the Hub are pinned now that their bytes matched it. */
		for (size_t i = 0; i < rr->m.nfiles; i++) {
			struct fmanifest_file *f = &rr->m.files[i];
			bool ok = f->trusted;
			for (size_t k = 0; k < njobs && ok; k++)
				if (jobs[k].path == f->path && jobs[k].result)
					ok = false;
			if (!ok)
				continue;
			if (fmanifest_pin(&rr->m, i, f->sha256, f->blob_id, f->size, err, sizeof err)) {
				fprogress_event(&prog, "error", rr->m.role, f->path, 0, "%s", err);
				rres = 3;
			} else
				fprogress_event(&prog, "pinned", rr->m.role, f->path, 0, "recorded its %s in %s; "
				    "run 'modelc lock %s' to pin it in models.lock", f->lfs ? "sha256" : "git blob id",
				    rr->m.path, rr->m.role);
		}
		if (rres > worst)
			worst = rres;
		fprogress_event(&prog, rres ? "error" : "ready", rr->m.role, NULL, 0, rres ?
		    "incomplete: fix the errors above and run fetch again" :
		    "%s@%.12s is complete in %s/%s", rr->m.repo, rr->m.commit, root, rr->m.repo_folder);
	}
	fprogress_finish(&prog);
	char a[32];
	char shared_txt[64] = "";
	if (shared_ok)
		snprintf(shared_txt, sizeof shared_txt, ", %u shared with another role", shared_ok);
	fprogress_event(&prog, "report", NULL, NULL, got_bytes, "%u files: %u downloaded (%s in %.1f s, %.0f MB/s)%s, "
	    "%u already present%s, %u failed", nfiles, got, fprogress_size(got_bytes, a, sizeof a), secs,
	    secs > 0 ? (double)got_bytes / secs / 1e6 : 0.0, shared_txt, nfiles - got - failed - shared_ok,
	    rehashed_note(verified_now), failed);
out:
	if (runs)
		for (size_t r = 0; r < nroles; r++)
			if (runs[r].loaded)
				fmanifest_free(&runs[r].m);
	free(runs);
	free(jobs);
	free(pend);
	for (size_t i = 0; i < nall; i++)
		free(all[i]);
	free(all);
	fsign_close(&sign);
	hub_close(&hub);
	return worst;
}
