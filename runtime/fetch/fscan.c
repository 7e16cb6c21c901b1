#define _DEFAULT_SOURCE
#include "fscan.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"
#include "fmanifest.h"
#include "fprune.h"
#include "hfcache.h"

/* What the cache holds of one role's files. */
struct role_state {
	size_t present, verified, files;
	uint64_t bytes, partial_bytes, want_bytes;
};

static void
scan_role(const struct hfcache *c, const struct fmanifest *m, struct role_state *s)
{
	memset(s, 0, sizeof *s);
	s->files = m->nfiles;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct fmanifest_file *f = &m->files[i];
		s->want_bytes += f->size;
		char blob[HFCACHE_PATH_MAX], part[HFCACHE_PATH_MAX + 16];
		struct stat st;
		if (!f->blob || hfcache_path(c, blob, sizeof blob, m->repo_folder, "blobs/%s", f->blob))
			continue;
		snprintf(part, sizeof part, "%s.incomplete", blob);
		if (stat(part, &st) == 0)
			s->partial_bytes += (uint64_t)st.st_size;
		uint64_t size = 0;
		if (!m->commit || !hfcache_pointer_ok(c, m->repo_folder, m->commit, f->path, f->blob, &size))
			continue;
		if (f->size_known && size != f->size)
			continue;
		s->present++;
		s->bytes += size;
		const char *want = f->sha256 ? f->sha256 : f->blob_id;
		if (want && stat(blob, &st) == 0 && hfcache_stamp_ok(c, m->repo_folder, f->blob, blob, want))
			s->verified++;
	}
}

static const char *
state_word(const struct role_state *s)
{
	if (!s->files)
		return "unknown";
	if (s->present == s->files)
		return "complete";
	return s->present || s->partial_bytes ? "partial" : "missing";
}

int
fscan_run(const struct fscan_opts *o)
{
	char err[8192], root[HFCACHE_PATH_MAX], fallback[HFCACHE_PATH_MAX];
	char **roles = NULL;
	size_t nroles = 0;
	if (hfcache_catalog_root(o->manifests, fallback, sizeof fallback))
		fallback[0] = '\0';
	if (hfcache_root(o->cache, fallback, root, sizeof root, err, sizeof err) ||
	    fmanifest_list(o->manifests, &roles, &nroles, err, sizeof err)) {
		diag_print(stderr, "fetch: scan: %s\n", err);
		return 1;
	}
	if (nroles == 0) {
		diag_print(stderr, "fetch: scan: %s has no manifests; run 'modelc build' first\n", o->manifests);
		free(roles);
		return 1;
	}
	struct hfcache c = {.symlinks = true};
	snprintf(c.root, sizeof c.root, "%s", root);
	int rc = 0;
	uint64_t total = 0;
	json_t *list = json_array();
	if (!o->json)
		printf("%-14s %-44s %10s %9s  %-8s  %s\n", "ROLE", "REPO@COMMIT", "ON DISK", "FILES", "STATE", "VERIFIED");
	for (size_t i = 0; i < nroles; i++) {
		char mp[HFCACHE_PATH_MAX * 2];
		snprintf(mp, sizeof mp, "%s/%s.json", o->manifests, roles[i]);
		struct fmanifest m;
		if (fmanifest_read(mp, &m, err, sizeof err)) {
			if (!m.unpinned) {
				diag_print(stderr, "fetch: scan: %s\n", err);
				rc = 1;
			} else if (o->json) {
				json_t *e = json_object();
				json_object_set_new(e, "role", json_string(roles[i]));
				json_object_set_new(e, "state", json_string("not locked"));
				json_array_append_new(list, e);
			} else {
				printf("%-14s %-44s %10s %9s  %-8s  run 'modelc lock %s', then 'modelc build'\n", roles[i],
				    "(not locked)", "-", "-", "-", roles[i]);
			}
			continue;
		}
		struct role_state s = {0};
		const char *state = "local";
		if (m.repo && m.download) {
			scan_role(&c, &m, &s);
			state = state_word(&s);
		}
		total += s.bytes + s.partial_bytes;
		char on[32], files[32], ver[64], id[128];
		snprintf(id, sizeof id, "%s@%.12s", m.repo ? m.repo : "-", m.commit ? m.commit : "(not locked)");
		snprintf(files, sizeof files, "%zu/%zu", s.present, s.files);
		if (!m.repo || !m.download)
			snprintf(ver, sizeof ver, "a local directory; nothing to fetch");
		else if (!s.files)
			snprintf(ver, sizeof ver, "no file list: run 'modelc lock %s'", roles[i]);
		else if (!s.present)
			snprintf(ver, sizeof ver, "-");
		else if (s.verified == s.present)
			snprintf(ver, sizeof ver, "yes, every file present");
		else
			snprintf(ver, sizeof ver, "%zu of %zu present ('fetch --verify %s')", s.verified, s.present, roles[i]);
		if (o->json) {
			json_t *e = json_object();
			json_object_set_new(e, "role", json_string(roles[i]));
			json_object_set_new(e, "repo", m.repo ? json_string(m.repo) : json_null());
			json_object_set_new(e, "commit", m.commit ? json_string(m.commit) : json_null());
			json_object_set_new(e, "bytes_on_disk", json_integer((json_int_t)(s.bytes + s.partial_bytes)));
			json_object_set_new(e, "partial_bytes", json_integer((json_int_t)s.partial_bytes));
			json_object_set_new(e, "bytes_wanted", json_integer((json_int_t)s.want_bytes));
			json_object_set_new(e, "files", json_integer((json_int_t)s.files));
			json_object_set_new(e, "present", json_integer((json_int_t)s.present));
			json_object_set_new(e, "verified", json_integer((json_int_t)s.verified));
			json_object_set_new(e, "state", json_string(state));
			json_array_append_new(list, e);
		}
		else
			printf("%-14s %-44s %10s %9s  %-8s  %s\n", roles[i], id,
			    fprogress_size(s.bytes + s.partial_bytes, on, sizeof on), files, state, ver);
		fmanifest_free(&m);
	}
	struct fprune_opts po = {.manifests = o->manifests, .cache = o->cache, .quiet = true};
	int prc = fprune_run(&po);
	char a[32], b[32];
	if (o->json) {
		json_t *out = json_object();
		json_object_set_new(out, "cache", json_string(root));
		json_object_set_new(out, "roles", list);
		list = NULL;
		json_object_set_new(out, "bytes_on_disk", json_integer((json_int_t)total));
		json_object_set_new(out, "prune_frees", prc == 0 ? json_integer((json_int_t)po.freeable) : json_null());
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(out);
	} else if (prc == 0)
		printf("cache %s: %s for these roles; pruning would free %s ('fetch prune' lists it)\n", root,
		    fprogress_size(total, a, sizeof a), fprogress_size(po.freeable, b, sizeof b));
	else
		printf("cache %s: %s for these roles; 'fetch prune' cannot tell what is unused yet (it says why)\n", root,
		    fprogress_size(total, a, sizeof a));
	json_decref(list);
	for (size_t i = 0; i < nroles; i++)
		free(roles[i]);
	free(roles);
	return rc;
}
