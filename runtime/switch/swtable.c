#include "swtable.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "exitcode.h"
#include "suggest.h"
#include "swcmd.h"


static struct model_table swtable_t;
static const char *swtable_file = SWTABLE_DEFAULT;

int
swtable_load(const char *option, bool quiet)
{
	char why[MODEL_TABLE_WHY_MAX];
	const char *env = getenv("MODELC_TABLE");

	swtable_file = option ? option : env && *env ? env : SWTABLE_DEFAULT;
	if (model_table_open(swtable_file, &swtable_t, why) != 0) {
		/* "cannot open: ...", "cannot map: ..." and the like are the system's; the rest the file's. */
		bool sys = strncmp(why, "cannot ", 7) == 0;
		swcmd_error("%s: %s; run 'modelc build'%s\n", swtable_file, why,
		    sys && !option ? " (or give --table FILE or $MODELC_TABLE)" : " to write it again");
		return sys ? EXITCODE_SYSTEM : EXITCODE_REJECTED;
	}
	const char *stale = quiet ? NULL : swtable_stale();
	if (stale)
		swcmd_warning("%s is older than %s (its size or modification time changed since the build); "
		    "run 'modelc build'\n", swtable_file, stale);
	const char *gone = quiet || stale ? NULL : swtable_unchecked();
	if (gone) {
		char digest[2 * MODEL_TABLE_DIGEST_BYTES + 1];
		model_table_digest_hex(&swtable_t, digest);
		swcmd_note("%s: built %s from catalog sha256 %s; not checked: no '%s' here\n", swtable_file,
		    swtable_t.built, digest, gone);
	}
	return EXITCODE_OK;
}

const struct model_table *
swtable_table(void)
{
	return &swtable_t;
}

const char *
swtable_path(void)
{
	return swtable_file;
}

const char *
swtable_unchecked(void)
{
	struct stat st;
	const struct model_table_source *src[2] = { &swtable_t.catalog, &swtable_t.lock };
	for (int i = 0; i < 2; i++)
		if (src[i]->path && stat(src[i]->path, &st) != 0)
			return src[i]->path;
	return NULL;
}

const char *
swtable_stale(void)
{
	if (model_table_source_changed(&swtable_t.catalog))
		return swtable_t.catalog.path;
	if (model_table_source_changed(&swtable_t.lock))
		return swtable_t.lock.path;
	return NULL;
}

void
swtable_entry(size_t i, struct model_entry *e)
{
	model_table_entry(&swtable_t, i, e);
}

/* Compare paths ignoring trailing slashes, so "/mnt/f/models/x/" finds "/mnt/f/models/x". */
static int
same_path(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && memcmp(a, b, la) == 0;
}

bool
swtable_role(const char *role, struct model_entry *e)
{
	for (size_t i = 0; i < swtable_t.count; i++) {
		swtable_entry(i, e);
		if (strcmp(e->role, role) == 0)
			return true;
	}
	return false;
}

bool
swtable_find(const char *arg, struct model_entry *e)
{
	if (swtable_role(arg, e))
		return true;
	for (size_t i = 0; i < swtable_t.count; i++) {
		swtable_entry(i, e);
		if ((e->local_dir && same_path(e->local_dir, arg)) || (e->repo && strcmp(e->repo, arg) == 0) ||
		    strcmp(e->model_id, arg) == 0 || same_path(e->model_id, arg))
			return true;
	}
	return false;
}

/* The candidate name nearest to arg, and its distance. */
static const char *
nearest(const char *arg, size_t *dist)
{
	const char *best = NULL;
	struct model_entry e;
	*dist = SIZE_MAX;
	for (size_t i = 0; i < swtable_t.count; i++) {
		swtable_entry(i, &e);
		const char *cand[3] = { e.role, e.repo, e.local_dir };
		for (size_t k = 0; k < 3; k++) {
			if (!cand[k])
				continue;
			size_t d = suggest_distance(arg, cand[k]);
			if (d < *dist) {
				*dist = d;
				best = cand[k];
			}
		}
	}
	return best;
}

void
swtable_report_unknown(FILE *out, const char *arg)
{
	size_t dist;
	const char *best = nearest(arg, &dist);

	swcmd_prefix(out, SWCMD_ERROR);
	diag_print(out, "unknown role, path or repo '%s'", arg);
	/* A suggestion further away than about a third of the name would be noise. */
	if (best && dist <= strlen(arg) / 3 + 2)
		diag_print(out, " (did you mean '%s'?)", best);
	fputc('\n', out);
	struct model_entry e;
	diag_print(out, "switch: note: known roles:");
	for (size_t i = 0; i < swtable_t.count; i++) {
		swtable_entry(i, &e);
		fprintf(out, "%s %s", i ? "," : "", e.role);
	}
	fputc('\n', out);
	for (size_t i = 0; i < swtable_t.count; i++) {
		swtable_entry(i, &e);
		diag_print(out, "switch: note:   %s: %s", e.role, e.repo ? e.repo : e.model_id);
		if (e.local_dir)
			fprintf(out, ", %s", e.local_dir);
		fputc('\n', out);
	}
}

const char *
swtable_hf_home(void)
{
	const char *env = getenv("MODELC_HF_HOME");
	return env && *env ? env : swtable_t.hf_home;
}

const char *
swtable_hub_cache(void)
{
	static char buf[SWTABLE_PATH_MAX];
	const char *env = getenv("MODELC_HF_HOME");
	if (!(env && *env))
		return swtable_t.hub_cache;
	snprintf(buf, sizeof buf, "%s/hub", env);
	return buf;
}

/* Read the 40-hex commit that refs/<revision> names; 0 when found. */
static int
read_ref(const char *repo_dir, const char *revision, char commit[41])
{
	char path[SWTABLE_PATH_MAX];
	int n = snprintf(path, sizeof path, "%s/refs/%s", repo_dir, revision ? revision : "main");
	if (n < 0 || (size_t)n >= sizeof path)
		return -1;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, commit, 40);
	close(fd);
	if (got != 40)
		return -1;
	commit[40] = '\0';
	for (int i = 0; i < 40; i++)
		if (!((commit[i] >= '0' && commit[i] <= '9') || (commit[i] >= 'a' && commit[i] <= 'f')))
			return -1;
	return 0;
}

int
swtable_snapshot(const struct model_entry *e, char *buf, size_t cap)
{
	char repo_dir[SWTABLE_PATH_MAX];
	char commit[41];
	size_t len;
	int n;

	if (!e->repo)
		return -1;
	n = snprintf(repo_dir, sizeof repo_dir, "%s/models--", swtable_hub_cache());
	if (n < 0 || (size_t)n >= sizeof repo_dir)
		return -1;
	len = (size_t)n;
	/* The cache folder name replaces each '/' of the repo id with "--". */
	for (const char *p = e->repo; *p && len + 3 < sizeof repo_dir; p++) {
		if (*p == '/') {
			repo_dir[len++] = '-';
			repo_dir[len++] = '-';
		} else {
			repo_dir[len++] = *p;
		}
	}
	repo_dir[len] = '\0';
	if (e->commit)
		snprintf(commit, sizeof commit, "%s", e->commit);
	else if (read_ref(repo_dir, e->revision, commit) != 0)
		return -1;
	n = snprintf(buf, cap, "%s/snapshots/%s", repo_dir, commit);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static int
is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *
swtable_model_id(const struct model_entry *e)
{
	if (e->local_dir && is_dir(e->local_dir))
		return e->local_dir;
	return e->repo ? e->repo : e->model_id;
}

void
swtable_files(const struct model_entry *e, struct swtable_files *f)
{
	static char snap[SWTABLE_PATH_MAX];
	char path[SWTABLE_PATH_MAX];
	size_t first = e->files_first, nfiles = e->nfiles;

	memset(f, 0, sizeof *f);
	if (e->local_dir && is_dir(e->local_dir)) {
		f->dir = e->local_dir;
		if (e->nlocal) {
			first = e->local_first;
			nfiles = e->nlocal;
		}
	} else if (swtable_snapshot(e, snap, sizeof snap) == 0) {
		f->dir = snap;
	} else if (!e->repo) {
		f->dir = e->local_dir;  /* a local-only role: only its folder can hold the files */
	}
	f->total = nfiles;
	for (size_t i = 0; i < nfiles; i++) {
		struct model_file mf;
		model_table_file(&swtable_t, first + i, &mf);
		f->total_bytes += mf.size;
	}
	if (!f->dir)
		return;
	f->dir_exists = is_dir(f->dir);
	if (!f->dir_exists)
		return;
	for (size_t i = 0; i < nfiles; i++) {
		struct stat st;
		struct model_file mf;
		model_table_file(&swtable_t, first + i, &mf);
		int n = snprintf(path, sizeof path, "%s/%s", f->dir, mf.path);
		/* stat follows the snapshot's symlink to the blob; only the size is checked, no hashing. */
		if (n > 0 && (size_t)n < sizeof path && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (uint64_t)st.st_size == mf.size) {
			f->present++;
			f->present_bytes += mf.size;
		}
	}
}

const char *
swtable_files_word(const struct swtable_files *f)
{
	if (!f->dir_exists)
		return "missing";
	if (f->total == 0)
		return "unlisted";
	if (f->present == f->total)
		return "present";
	return f->present ? "partial" : "missing";
}
