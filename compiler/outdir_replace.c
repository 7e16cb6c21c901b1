/*
 * Atomic replacement of the output directory. The new set, written and synced into a sibling
 * DIR.tmp.XXXXXX on the same filesystem (outdir_stage.c), is exchanged with DIR in one
 * renameat2(RENAME_EXCHANGE); where the kernel or filesystem lacks that, DIR is renamed aside
 * and the new set renamed in (readers then briefly see no DIR, never a mix). The old set is
 * removed last; failing to remove it is only a warning.
 */
#define _GNU_SOURCE /* renameat2 and RENAME_EXCHANGE (Linux); the fallback is POSIX */
#include "outdir_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exitcode.h"

enum { OUTDIR_MAX_DEPTH = 8 };

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
			outdir_sys_error(diag, path, "create the directory");
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
			outdir_sys_error(diag, dir, "replace");
			return -1;
		}
		return 0;
	}
#ifdef RENAME_EXCHANGE
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
		outdir_sys_error(diag, dir, "replace");
		return -1;
	}
#endif
	/* No exchange here: move dir aside onto an empty placeholder, move the new set in. */
	size_t n = strlen(dir) + sizeof ".old.XXXXXX";
	char *old = malloc(n);
	if (!old) {
		outdir_sys_error(diag, dir, "replace");
		return -1;
	}
	snprintf(old, n, "%s.old.XXXXXX", dir);
	if (!mkdtemp(old) || rename(dir, old) < 0) {
		outdir_sys_error(diag, dir, "replace");
		rmdir(old);
		free(old);
		return -1;
	}
	if (rename(tmp, dir) < 0) {
		outdir_sys_error(diag, dir, "replace");
		if (rename(old, dir) < 0)
			outdir_sys_error(diag, old, "restore the previous outputs from");
		free(old);
		return -1;
	}
	/* tmp is gone now; put the old set where the caller will remove it. */
	if (rename(old, tmp) < 0) {
		outdir_sys_error(diag, old, "move the previous outputs from");
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
	if (outdir_check_existing(dir, files, nfiles, &exists, diag) < 0)
		goto out;
	if (exists && outdir_read_readme(dir, &readme, &readme_len, diag) < 0)
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
		outdir_sys_error(diag, tmp, "create the directory");
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (chmod(tmp, 0755) < 0) {
		outdir_sys_error(diag, tmp, "set the mode of");
		goto fail;
	}
	for (size_t i = 0; i < nfiles; i++)
		if (outdir_put_file(tmp, files[i].path, files[i].data, files[i].len, diag) < 0)
			goto fail;
	if (readme && outdir_put_file(tmp, "README.md", readme, readme_len, diag) < 0)
		goto fail;
	if (outdir_sync_tree(tmp, files, nfiles, diag) < 0)
		goto fail;
	if (swap_in(tmp, dir, exists, diag) < 0)
		goto fail;
	if (outdir_fsync_path(parent, O_DIRECTORY) < 0)
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

