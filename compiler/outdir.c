/*
 * Atomic replacement of the output directory. The new set is written into a sibling
 * DIR.tmp.XXXXXX on the same filesystem, made durable (one syncfs on Linux, which costs one
 * flush instead of one per file for a catalog of 10,000 roles; fsync of every file and
 * directory elsewhere), then exchanged
 * with DIR in one renameat2(RENAME_EXCHANGE); where the kernel or filesystem lacks that,
 * DIR is renamed aside and the new set renamed in (readers then briefly see no DIR, never a
 * mix). The old set is removed last; failing to remove it is only a warning.
 */
#define _GNU_SOURCE /* renameat2 and RENAME_EXCHANGE (Linux); the fallback is POSIX */
#include "outdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "emit_env.h"
#include "emit_llamaswap.h"
#include "emit_manifest.h"
#include "emit_plan.h"
#include "outdir_deploy.h"
#include "emit_report.h"
#include "emit_table.h"
#include "exitcode.h"
#include "fileio.h"

enum { OUTDIR_MAX_DEPTH = 8 };

/*
 * Files modelc writes at the top of the directory, and the one it keeps. model_table.c is what
 * modelc wrote before switch.table (the table compiled into switch): a generated/ from then is
 * replaced, not refused. modelc sign's SHA256SUMS and signatures are replaced with the rest (a
 * new build is not signed).
 */
static const char *const known_names[] = {
	".env", ".env.example", "budget.svg", "budget.txt", "switch.table", "llama-swap.yaml", "model_table.c",
	"manifests", "README.md", "SHA256SUMS", "SHA256SUMS.minisig", "plan.json", "plan.txt", "compose", "k8s",
};

static char *
join(const char *a, const char *b)
{
	char *s = fileio_join(NULL, a, b);
	if (!s) {
		diag_print(stderr, "modelc: out of memory\n");
		abort();
	}
	return s;
}

static void
sys_error(struct diag_sink *diag, const char *path, const char *what)
{
	diag_error(diag, diag_file(path), "cannot %s: %s", what, strerror(errno));
}

/* Render one file with an emitter; the emitters take (out, plan[, role]). */
static int
render(struct outdir_file *f, const char *path, const struct plan *p, const struct plan_role *r,
    int (*fn)(FILE *, const struct plan *), struct diag_sink *diag)
{
	FILE *m = open_memstream(&f->data, &f->len);
	if (!m) {
		sys_error(diag, path, "render");
		return -1;
	}
	errno = 0;
	int rc = r ? emit_manifest(m, p, r) : fn(m, p);
	int saved = errno ? errno : ENOMEM;
	if (fclose(m) != 0 && rc == 0) {
		rc = -1;
		saved = errno;
	}
	f->path = strdup(path);
	if (rc < 0 || !f->path) {
		errno = f->path ? saved : ENOMEM;
		sys_error(diag, path, "render");
		return -1;
	}
	return 0;
}


static int
cmp_outfile(const void *a, const void *b)
{
	return strcmp(((const struct outdir_file *)a)->path, ((const struct outdir_file *)b)->path);
}

int
outdir_render(const struct plan *p, struct outdir_file **files, size_t *nfiles,
    struct diag_sink *diag)
{
	static const struct {
		const char *path;
		int (*fn)(FILE *, const struct plan *);
		bool hosts_only;                /* a one-GPU catalog's outputs stay as they were */
	} fixed[] = {
		{".env", emit_env, false}, {".env.example", emit_env_example, false},
		{"budget.svg", emit_budget_svg, false}, {"budget.txt", emit_budget_txt, false},
		{"switch.table", emit_table, false}, {"llama-swap.yaml", emit_llamaswap, false},
		{"plan.json", emit_plan_json, true}, {"plan.txt", emit_plan_txt, true},
	};
	size_t nfixed = sizeof fixed / sizeof fixed[0], n = 0;
	struct outdir_file *v = calloc(nfixed + p->nroles + outdir_deploy_max(p), sizeof *v);

	*files = NULL;
	*nfiles = 0;
	if (!v) {
		sys_error(diag, "generated outputs", "render");
		return EXITCODE_SYSTEM;
	}
	for (size_t i = 0; i < nfixed; i++) {
		if (fixed[i].hosts_only && !p->catalog->nhosts)
			continue;
		if (render(&v[n], fixed[i].path, p, NULL, fixed[i].fn, diag) < 0)
			goto fail;
		n++;
	}
	for (size_t i = 0; i < p->nroles; i++, n++) {
		char *path = join("manifests", p->roles[i].role->name);
		char *json = malloc(strlen(path) + 6);
		int rc = -1;
		if (json) {
			sprintf(json, "%s.json", path);
			rc = render(&v[n], json, p, &p->roles[i], NULL, diag);
		}
		free(path);
		free(json);
		if (rc < 0)
			goto fail;
	}
	if (outdir_deploy_render(v, &n, p, diag) < 0)
		goto fail;
	qsort(v, n, sizeof *v, cmp_outfile);
	*files = v;
	*nfiles = n;
	return 0;
fail:
	outdir_free(v, n + 1);
	return EXITCODE_SYSTEM;
}

void
outdir_free(struct outdir_file *files, size_t nfiles)
{
	if (!files)
		return;
	for (size_t i = 0; i < nfiles; i++) {
		free(files[i].path);
		free(files[i].data);
	}
	free(files);
}

/* Remove the tree at dirfd/name without following symbolic links; 0 or -1 with errno. */
static int
remove_at(int dirfd, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	if (depth > OUTDIR_MAX_DEPTH) {
		errno = ELOOP;
		return -1;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (remove_at(fd, e->d_name, depth + 1) < 0)
			rc = -1;
	}
	int saved = errno;
	closedir(d);
	errno = saved;
	if (rc == 0)
		rc = unlinkat(dirfd, name, AT_REMOVEDIR);
	return rc;
}

static int
remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path, 0);
}

static int
is_known(const char *name, const struct outdir_file *files, size_t nfiles)
{
	for (size_t i = 0; i < sizeof known_names / sizeof known_names[0]; i++)
		if (strcmp(name, known_names[i]) == 0)
			return 1;
	for (size_t i = 0; i < nfiles; i++) {
		size_t len = strcspn(files[i].path, "/");
		if (strlen(name) == len && strncmp(files[i].path, name, len) == 0)
			return 1;
	}
	return 0;
}

/*
 * Check that dir holds only what modelc writes, so replacing it loses nothing of the user's
 * (think of -o pointing at a home directory). *exists says whether dir is there at all.
 */
static int
check_existing(const char *dir, const struct outdir_file *files, size_t nfiles, int *exists,
    struct diag_sink *diag)
{
	struct stat st;
	*exists = 0;
	if (lstat(dir, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		sys_error(diag, dir, "inspect");
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		diag_error(diag, diag_file(dir), "is a symbolic link; modelc replaces the directory "
		    "itself, so give -o the directory it points to");
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		diag_error(diag, diag_file(dir), "exists and is not a directory");
		return -1;
	}
	*exists = 1;
	DIR *d = opendir(dir);
	if (!d) {
		sys_error(diag, dir, "read the directory");
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) && rc == 0) {
		const char *n = e->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		char *path = join(dir, n);
		const char *ext = strcmp(n, "manifests") == 0 ? ".json" :
		    strcmp(n, "compose") == 0 || strcmp(n, "k8s") == 0 ? ".yaml" : NULL;
		int ok = is_known(n, files, nfiles) && lstat(path, &st) == 0 &&
		    (ext ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
		if (ok && ext) {
			DIR *md = opendir(path);
			struct dirent *me;
			ok = md != NULL;
			while (ok && (me = readdir(md))) {
				size_t len = strlen(me->d_name);
				if (strcmp(me->d_name, ".") == 0 || strcmp(me->d_name, "..") == 0)
					continue;
				char *mpath = join(path, me->d_name);
				bool sig = strcmp(ext, ".json") == 0 && len > 13 &&
				    strcmp(me->d_name + len - 13, ".json.minisig") == 0;
				if ((!sig && (len < 6 || strcmp(me->d_name + len - 5, ext) != 0)) ||
				    lstat(mpath, &st) < 0 || !S_ISREG(st.st_mode)) {
					diag_error(diag, diag_file(dir), "holds '%s/%s', which modelc does "
					    "not write; refusing to replace it (move it away or choose another -o)",
					    n, me->d_name);
					rc = -1;
					ok = 1;
					free(mpath);
					break;
				}
				free(mpath);
			}
			if (md)
				closedir(md);
		}
		if (!ok) {
			diag_error(diag, diag_file(dir), "holds '%s', which modelc does not write; "
			    "refusing to replace it (move it away or choose another -o)", n);
			rc = -1;
		}
		free(path);
	}
	closedir(d);
	return rc;
}

static int
fsync_path(const char *path, int flags)
{
	int fd = open(path, O_RDONLY | flags);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Write one file under tmp, creating its parent directories; fsync it when sync is set. */
static int
put_file(const char *tmp, const char *rel, const char *data, size_t len, int sync,
    struct diag_sink *diag)
{
	char *path = join(tmp, rel);
	for (char *s = path + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		int rc = mkdir(path, 0755);
		if (rc < 0 && errno != EEXIST) {
			sys_error(diag, path, "create the directory");
			free(path);
			return -1;
		}
		*s = '/';
	}
	int rc = fileio_write_file(path, data, len, 0644, FILEIO_EXCL | FILEIO_NOFOLLOW | (sync ? 0 : FILEIO_NOSYNC));
	if (rc < 0)
		sys_error(diag, path, rc == -1 ? "create" : "write");
	free(path);
	return rc < 0 ? -1 : 0;
}

#ifdef __linux__
enum { OUTDIR_SYNCFS = 1 };
#else
enum { OUTDIR_SYNCFS = 0 };
#endif

/*
 * Make everything under tmp durable before the rename publishes it: with syncfs, one call
 * for the filesystem; otherwise the files were fsynced as written and the directories
 * (each once; files come sorted, so a directory's files are adjacent) are fsynced here.
 */
static int
sync_tree(const char *tmp, const struct outdir_file *files, size_t nfiles, struct diag_sink *diag)
{
#ifdef __linux__
	(void)files;
	(void)nfiles;
	int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0) {
		int saved = errno;
		if (fd >= 0)
			close(fd);
		errno = saved;
		sys_error(diag, tmp, "sync");
		return -1;
	}
	close(fd);
	return 0;
#else
	const char *last = NULL;
	size_t lastlen = 0;
	for (size_t i = 0; i < nfiles; i++) {
		const char *slash = strrchr(files[i].path, '/');
		if (!slash)
			continue;
		size_t len = (size_t)(slash - files[i].path);
		if (last && len == lastlen && strncmp(last, files[i].path, len) == 0)
			continue;
		last = files[i].path;
		lastlen = len;
		char *sub = strndup(files[i].path, len);
		char *path = sub ? join(tmp, sub) : NULL;
		int bad = !path || fsync_path(path, O_DIRECTORY) < 0;
		if (bad)
			sys_error(diag, path ? path : tmp, "sync");
		free(sub);
		free(path);
		if (bad)
			return -1;
	}
	if (fsync_path(tmp, O_DIRECTORY) < 0) {
		sys_error(diag, tmp, "sync");
		return -1;
	}
	return 0;
#endif
}

/* Read dir/README.md into memory; *data NULL when there is none. */
static int
read_readme(const char *dir, char **data, size_t *len, struct diag_sink *diag)
{
	char *path = join(dir, "README.md");
	*len = 0;
	*data = fileio_read_all(NULL, path, SIZE_MAX, FILEIO_NOFOLLOW, len);
	int rc = *data || errno == ENOENT ? 0 : -1;
	if (rc < 0)
		sys_error(diag, path, "read");
	free(path);
	return rc;
}

/* Create the directories above dir that are missing, as mkdir -p does; 0 or -1 reported. */
static int
make_parents(const char *dir, struct diag_sink *diag)
{
	char *path = strdup(dir);
	if (!path)
		abort();
	for (char *s = strchr(path + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST) {
			sys_error(diag, path, "create the directory");
			free(path);
			return -1;
		}
		*s = '/';
	}
	free(path);
	return 0;
}

/* The directory that holds path ("." for a bare name); malloc'ed. */
static char *
parent_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

/*
 * Hold an exclusive flock on the directory that holds dir, so that two builds into the same
 * place take turns; the fd, or -1 (then builds may overlap, which the exchange tolerates,
 * but nothing stale is removed).
 */
static int
lock_parent(const char *parent, struct diag_sink *diag)
{
	int fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		diag_warning(diag, diag_file(parent), "cannot %s: %s", "lock", strerror(errno));
		return -1;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno == EINTR)
			continue;
		diag_warning(diag, diag_file(parent), "cannot %s: %s", "lock", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Remove DIR.tmp.XXXXXX and DIR.old.XXXXXX left by a build that was killed. Only called under
 * the lock, when no other build can be using them.
 */
static void
remove_stale(int parentfd, const char *dir)
{
	const char *slash = strrchr(dir, '/');
	const char *base = slash ? slash + 1 : dir;
	size_t blen = strlen(base);
	int fd = dup(parentfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		struct stat st;
		if (strlen(n) != blen + strlen(".tmp.XXXXXX") || strncmp(n, base, blen) != 0 ||
		    (strncmp(n + blen, ".tmp.", 5) != 0 && strncmp(n + blen, ".old.", 5) != 0))
			continue;
		if (fstatat(parentfd, n, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
			remove_at(parentfd, n, 0);
	}
	closedir(d);
}

/* Swap the fully written tmp with dir; afterwards tmp holds the old set (if any). */
static int
swap_in(const char *tmp, const char *dir, int exists, struct diag_sink *diag)
{
	if (!exists) {
		if (rename(tmp, dir) < 0) {
			sys_error(diag, dir, "replace");
			return -1;
		}
		return 0;
	}
#ifdef RENAME_EXCHANGE
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		sys_error(diag, dir, "replace");
		return -1;
	}
#endif
	/* No exchange here: move dir aside onto an empty placeholder, move the new set in. */
	size_t n = strlen(dir) + sizeof ".old.XXXXXX";
	char *old = malloc(n);
	if (!old) {
		sys_error(diag, dir, "replace");
		return -1;
	}
	snprintf(old, n, "%s.old.XXXXXX", dir);
	if (!mkdtemp(old) || rename(dir, old) < 0) {
		sys_error(diag, dir, "replace");
		rmdir(old);
		free(old);
		return -1;
	}
	if (rename(tmp, dir) < 0) {
		sys_error(diag, dir, "replace");
		if (rename(old, dir) < 0)
			sys_error(diag, old, "restore the previous outputs from");
		free(old);
		return -1;
	}
	/* tmp is gone now; put the old set where the caller will remove it. */
	if (rename(old, tmp) < 0) {
		sys_error(diag, old, "move the previous outputs from");
		free(old);
		return 0;
	}
	free(old);
	return 0;
}

int
outdir_replace(const char *dir_in, const struct outdir_file *files, size_t nfiles,
    struct diag_sink *diag)
{
	int exists, lockfd = -1;
	char *dir = strdup(dir_in), *tmp = NULL, *readme = NULL, *parent = NULL;
	size_t readme_len = 0;
	int rc = EXITCODE_SYSTEM;

	if (!dir)
		abort();
	for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
		dir[n - 1] = '\0';
	if (!*dir || strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0 || strcmp(dir, "..") == 0) {
		diag_error(diag, diag_file(dir_in), "cannot be the output directory: modelc replaces it "
		    "as a whole, so it needs a directory of its own");
		free(dir);
		return EXITCODE_SYSTEM;
	}
	if (make_parents(dir, diag) < 0)
		goto out;
	parent = parent_of(dir);
	if (!parent)
		abort();
	lockfd = lock_parent(parent, diag);
	if (check_existing(dir, files, nfiles, &exists, diag) < 0)
		goto out;
	if (exists && read_readme(dir, &readme, &readme_len, diag) < 0)
		goto out;
	if (lockfd >= 0)
		remove_stale(lockfd, dir);

	size_t n = strlen(dir) + sizeof ".tmp.XXXXXX";
	tmp = malloc(n);
	if (!tmp)
		abort();
	snprintf(tmp, n, "%s.tmp.XXXXXX", dir);
	if (!mkdtemp(tmp)) {
		/* mkdtemp may have filled in the X's; name the template, which the user can read. */
		int saved = errno;
		snprintf(tmp, n, "%s.tmp.XXXXXX", dir);
		errno = saved;
		sys_error(diag, tmp, "create the directory");
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (chmod(tmp, 0755) < 0) {
		sys_error(diag, tmp, "set the mode of");
		goto fail;
	}
	for (size_t i = 0; i < nfiles; i++)
		if (put_file(tmp, files[i].path, files[i].data, files[i].len, !OUTDIR_SYNCFS, diag) < 0)
			goto fail;
	if (readme && put_file(tmp, "README.md", readme, readme_len, !OUTDIR_SYNCFS, diag) < 0)
		goto fail;
	if (sync_tree(tmp, files, nfiles, diag) < 0)
		goto fail;
	if (swap_in(tmp, dir, exists, diag) < 0)
		goto fail;
	if (fsync_path(parent, O_DIRECTORY) < 0)
		diag_warning(diag, diag_file(parent), "cannot %s: %s", "sync", strerror(errno));
	if (exists && remove_tree(tmp) < 0)
		diag_warning(diag, diag_file(tmp), "cannot %s: %s", "remove the previous outputs",
		    strerror(errno));
	rc = 0;
	goto out;
fail:
	remove_tree(tmp);
out:
	if (lockfd >= 0)
		close(lockfd);
	free(parent);
	free(readme);
	free(tmp);
	free(dir);
	return rc;
}

int
outdir_write(const struct plan *p, const char *dir, struct diag_sink *diag)
{
	struct outdir_file *files;
	size_t nfiles;

	if (outdir_render(p, &files, &nfiles, diag) != 0)
		return EXITCODE_SYSTEM;
	int rc = outdir_replace(dir, files, nfiles, diag);
	outdir_free(files, nfiles);
	return rc;
}
