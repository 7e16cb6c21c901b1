#define _DEFAULT_SOURCE
#include "hfcache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "size.h"
#include "fileio.h"

static const char cachedir_tag[] =
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by huggingface_hub.\n"
    "# For information about cache directory tags, see:\n"
    "#\thttps://bford.info/cachedir/\n";

/* Expand a leading ~ as Python's expanduser does; $VARS are left as they are. */
static int
expand(const char *in, char *out, size_t n)
{
	if (in[0] == '~' && (in[1] == '/' || in[1] == '\0')) {
		const char *home = getenv("HOME");
		if (!home)
			return -1;
		return snprintf(out, n, "%s%s", home, in + 1) < (int)n ? 0 : -1;
	}
	return snprintf(out, n, "%s", in) < (int)n ? 0 : -1;
}

int
hfcache_root(const char *option, const char *fallback, char *out, size_t n, char *err, size_t errlen)
{
	char raw[HFCACHE_PATH_MAX];
	const char *v;
	int r;
	if (option && *option)
		r = expand(option, raw, sizeof raw);
	else if ((v = getenv("HF_HUB_CACHE")) && *v)
		r = expand(v, raw, sizeof raw);
	else if ((v = getenv("HUGGINGFACE_HUB_CACHE")) && *v)
		r = expand(v, raw, sizeof raw);
	else if ((v = getenv("HF_HOME")) && *v) {
		char h[HFCACHE_PATH_MAX];
		r = expand(v, h, sizeof h);
		if (!r)
			r = snprintf(raw, sizeof raw, "%s/hub", h) < (int)sizeof raw ? 0 : -1;
	} else if (fallback && *fallback)
		r = expand(fallback, raw, sizeof raw);
	else if ((v = getenv("XDG_CACHE_HOME")) && *v)
		r = snprintf(raw, sizeof raw, "%s/huggingface/hub", v) < (int)sizeof raw ? 0 : -1;
	else if ((v = getenv("HOME")) && *v)
		r = snprintf(raw, sizeof raw, "%s/.cache/huggingface/hub", v) < (int)sizeof raw ? 0 : -1;
	else
		return errmsg_fail(err, errlen, "no cache directory: set HF_HUB_CACHE or HF_HOME");
	if (r)
		return errmsg_fail(err, errlen, "the cache directory path is too long");
	if (raw[0] == '/')
		return snprintf(out, n, "%s", raw) < (int)n ? 0 : errmsg_fail(err, errlen, "path too long");
	char cwd[HFCACHE_PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return errmsg_fail(err, errlen, "getcwd: %s", strerror(errno));
	return snprintf(out, n, "%s/%s", cwd, raw) < (int)n ? 0 : errmsg_fail(err, errlen, "path too long");
}

int
hfcache_catalog_root(const char *manifests, char *out, size_t n)
{
	char path[HFCACHE_PATH_MAX], line[HFCACHE_PATH_MAX + 32];
	if (snprintf(path, sizeof path, "%s/../.env", manifests) >= (int)sizeof path)
		return -1;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	int rc = -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "HF_HUB_CACHE=", 13))
			continue;
		char *v = line + 13;
		size_t l = strcspn(v, "\n");
		v[l] = '\0';
		/* modelc writes single quotes (no escapes inside) or a bare word; anything else is skipped. */
		if (l >= 2 && v[0] == '\'' && v[l - 1] == '\'') {
			v[l - 1] = '\0';
			v++;
		} else if (strpbrk(v, "\"'\\$` \t"))
			break;
		if (v[0] == '/' && snprintf(out, n, "%s", v) < (int)n)
			rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

int
hfcache_mkparents(const char *path)
{
	char buf[HFCACHE_PATH_MAX];
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
		errno = ENAMETOOLONG;
		return -1;
	}
	char *slash = strrchr(buf, '/');
	if (!slash || slash == buf)
		return 0;
	*slash = '\0';
	struct stat st;
	if (stat(buf, &st) == 0)
		return S_ISDIR(st.st_mode) ? 0 : (errno = ENOTDIR, -1);
	if (hfcache_mkparents(buf))
		return -1;
	if (mkdir(buf, 0777) && errno != EEXIST)
		return -1;
	return 0;
}

int
hfcache_path(const struct hfcache *c, char *out, size_t n, const char *folder, const char *fmt, ...)
{
	int k = snprintf(out, n, "%s/%s/", c->root, folder);
	if (k < 0 || (size_t)k >= n)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(out + k, n - (size_t)k, fmt, ap);
	va_end(ap);
	return m < 0 || (size_t)m >= n - (size_t)k ? -1 : 0;
}

int
hfcache_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	/* Some filesystems (9p, vboxsf, drvfs) refuse fsync on directories; that is not an error. */
	if (r && (errno == EINVAL || errno == EBADF || errno == ENOTSUP))
		r = 0;
	close(fd);
	return r;
}

static bool
env_true(const char *name)
{
	const char *v = getenv(name);
	return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "true"));
}

int
hfcache_open(struct hfcache *c, const char *root, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	if (snprintf(c->root, sizeof c->root, "%s", root) >= (int)sizeof c->root)
		return errmsg_fail(err, errlen, "cache path too long");
	char p[HFCACHE_PATH_MAX];
	snprintf(p, sizeof p, "%s/.locks/x", root);
	if (hfcache_mkparents(p))
		return errmsg_fail(err, errlen, "%s/.locks: %s", root, strerror(errno));
	snprintf(p, sizeof p, "%s/CACHEDIR.TAG", root);
	/* Written once, by whoever comes first; a half-written tag is removed. */
	if (fileio_write_file(p, cachedir_tag, sizeof cachedir_tag - 1, 0666, FILEIO_EXCL | FILEIO_NOSYNC) == -2)
		unlink(p);
	c->symlinks_forced_off = env_true("HF_HUB_DISABLE_SYMLINKS");
	if (c->symlinks_forced_off)
		return 0;
	/* Probe as huggingface_hub's are_symlinks_supported does: make one and see. */
	char link[HFCACHE_PATH_MAX];
	snprintf(link, sizeof link, "%s/.locks/.symlink-probe.%ld", root, (long)getpid());
	unlink(link);
	if (symlink("probe-target", link) == 0) {
		c->symlinks = true;
		unlink(link);
	}
	return 0;
}

static bool inside_root(const struct hfcache *c, const char *path);

int
hfcache_lock(const struct hfcache *c, const char *folder, const char *etag, bool wait, int *fd,
    char *err, size_t errlen)
{
	char p[HFCACHE_PATH_MAX];
	if (snprintf(p, sizeof p, "%s/.locks/%s/%s.lock", c->root, folder, etag) >= (int)sizeof p)
		return errmsg_fail(err, errlen, "lock path too long");
	/* The lock is taken before a blob is written: check both folders, as hfcache_link does. */
	char blob[HFCACHE_PATH_MAX];
	if (hfcache_path(c, blob, sizeof blob, folder, "blobs/%s", etag))
		return errmsg_fail(err, errlen, "blob path too long");
	const char *outside = !inside_root(c, p) ? p : !inside_root(c, blob) ? blob : NULL;
	if (outside)
		return errmsg_fail(err, errlen, "%s: its folder resolves outside the cache %s (a symlinked folder?); "
		    "refusing to write there", outside, c->root);
	if (hfcache_mkparents(p))
		return errmsg_fail(err, errlen, "%s: %s", p, strerror(errno));
	*fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0664);
	if (*fd < 0)
		return errmsg_fail(err, errlen, "%s: %s", p, strerror(errno));
	while (flock(*fd, LOCK_EX | (wait ? 0 : LOCK_NB))) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return 1;
		return errmsg_fail(err, errlen, "%s: flock: %s", p, strerror(e));
	}
	return 0;
}

void
hfcache_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

/* Write exactly len bytes to path via a temp file and rename, creating its folders. */
static int
write_atomic(const char *path, const char *data, size_t len, bool sync, char *err, size_t errlen)
{
	if (hfcache_mkparents(path))
		return errmsg_fail(err, errlen, "%s: %s", path, strerror(errno));
	return fileio_write_atomic(path, data, len, 0666, sync ? 0 : FILEIO_NOSYNC, err, errlen);
}

int
hfcache_write_ref(const struct hfcache *c, const char *folder, const char *revision,
    const char *commit, char *err, size_t errlen)
{
	if (strcmp(revision, commit) == 0)
		return 0;  /* huggingface_hub writes no ref when the revision is the commit */
	char p[HFCACHE_PATH_MAX];
	if (hfcache_path(c, p, sizeof p, folder, "refs/%s", revision))
		return errmsg_fail(err, errlen, "ref path too long");
	return write_atomic(p, commit, strlen(commit), true, err, errlen);
}

/* Copy src to dst through a temp file (the no-symlink fallback). */
static int
copy_file(const char *src, const char *dst, char *err, size_t errlen)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return errmsg_fail(err, errlen, "%s: %s", src, strerror(errno));
	struct fileio_atomic out;
	if (fileio_atomic_open(&out, dst, 0666, 0) != 0) {
		int e = errno;
		close(in);
		return errmsg_fail(err, errlen, "%s: %s", out.tmp, strerror(e));
	}
	char *buf = malloc(SIZE_MIB);
	ssize_t r = -1;
	bool ok = buf != NULL;
	while (ok && (r = read(in, buf, SIZE_MIB)) > 0)
		ok = fileio_write_all(out.fd, buf, (size_t)r) == 0;
	ok = ok && r == 0;
	int e = errno;
	free(buf);
	close(in);
	errno = e;
	if (!ok || fileio_atomic_commit(&out) != 0) {
		fileio_atomic_abort(&out);
		return errmsg_fail(err, errlen, "%s: %s", dst, strerror(errno));
	}
	return 0;
}

/*
 * Whether the folder that will hold path, with symlinks resolved, is inside the cache root.
 * Checks the deepest folder that exists, so nothing is created through a symlink.
 */
static bool
inside_root(const struct hfcache *c, const char *path)
{
	char dir[HFCACHE_PATH_MAX], rdir[PATH_MAX], rroot[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	if (!realpath(c->root, rroot))
		return false;
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return false;
		*slash = '\0';
		if (realpath(dir, rdir))
			break;
		if (errno != ENOENT)
			return false;
	}
	size_t n = strlen(rroot);
	return strncmp(rdir, rroot, n) == 0 && (rdir[n] == '/' || rdir[n] == '\0');
}

int
hfcache_link(const struct hfcache *c, const char *folder, const char *commit, const char *path,
    const char *etag, bool move_blob, char *err, size_t errlen)
{
	char ptr[HFCACHE_PATH_MAX], blob[HFCACHE_PATH_MAX];
	if (hfcache_path(c, ptr, sizeof ptr, folder, "snapshots/%s/%s", commit, path) ||
	    hfcache_path(c, blob, sizeof blob, folder, "blobs/%s", etag))
		return errmsg_fail(err, errlen, "path too long for '%s'", path);
	if (!inside_root(c, ptr))
		return errmsg_fail(err, errlen, "%s: its folder resolves outside the cache %s (a symlinked folder?); "
		    "refusing to write there", ptr, c->root);
	if (hfcache_mkparents(ptr))
		return errmsg_fail(err, errlen, "%s: %s", ptr, strerror(errno));
	if (!c->symlinks) {
		if (move_blob) {
			if (rename(blob, ptr))
				return errmsg_fail(err, errlen, "%s: %s", ptr, strerror(errno));
			return 0;
		}
		return copy_file(blob, ptr, err, errlen);
	}
	/* ../../blobs/{etag}, one more ../ per directory level of path. */
	char target[HFCACHE_PATH_MAX] = "../../";
	size_t tl = strlen(target);
	for (const char *s = path; (s = strchr(s, '/')); s++) {
		if (tl + 3 >= sizeof target)
			return errmsg_fail(err, errlen, "path too deep: '%s'", path);
		memcpy(target + tl, "../", 4);
		tl += 3;
	}
	snprintf(target + tl, sizeof target - tl, "blobs/%s", etag);
	char cur[HFCACHE_PATH_MAX];
	ssize_t n = readlink(ptr, cur, sizeof cur - 1);
	if (n >= 0) {
		cur[n] = '\0';
		if (strcmp(cur, target) == 0)
			return 0;
	}
	char tmp[HFCACHE_PATH_MAX + 32];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", ptr, (long)getpid());
	unlink(tmp);
	if (symlink(target, tmp))
		return errmsg_fail(err, errlen, "%s: symlink: %s", tmp, strerror(errno));
	if (rename(tmp, ptr)) {
		int e = errno;
		unlink(tmp);
		return errmsg_fail(err, errlen, "%s: %s", ptr, strerror(e));
	}
	return 0;
}

bool
hfcache_pointer_ok(const struct hfcache *c, const char *folder, const char *commit, const char *path,
    const char *etag, uint64_t *size)
{
	char ptr[HFCACHE_PATH_MAX];
	if (hfcache_path(c, ptr, sizeof ptr, folder, "snapshots/%s/%s", commit, path))
		return false;
	struct stat st;
	if (stat(ptr, &st) || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	if (c->symlinks) {
		/* Must point at the blob we expect, not at some other content. */
		char blob[HFCACHE_PATH_MAX];
		struct stat bs;
		if (hfcache_path(c, blob, sizeof blob, folder, "blobs/%s", etag) || stat(blob, &bs))
			return false;
		return bs.st_ino == st.st_ino && bs.st_dev == st.st_dev;
	}
	return true;
}

static int
stamp_path(const struct hfcache *c, char *out, size_t n, const char *folder, const char *etag)
{
	return snprintf(out, n, "%s/.locks/%s/%s.verified", c->root, folder, etag) < (int)n ? 0 : -1;
}

static void
stamp_text(const struct stat *st, const char *hash, char *out, size_t n)
{
	snprintf(out, n, "modelc-verified 1\nsize %lld\nmtime %lld.%09ld\nino %llu\ndev %llu\nhash %s\n",
	    (long long)st->st_size, (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
	    (unsigned long long)st->st_ino, (unsigned long long)st->st_dev, hash);
}

bool
hfcache_stamp_ok(const struct hfcache *c, const char *folder, const char *etag, const char *file,
    const char *hash)
{
	char sp[HFCACHE_PATH_MAX], want[512], have[512];
	struct stat st;
	if (stamp_path(c, sp, sizeof sp, folder, etag) || stat(file, &st))
		return false;
	stamp_text(&st, hash, want, sizeof want);
	int fd = open(sp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, have, sizeof have - 1);
	close(fd);
	if (n < 0)
		return false;
	have[n] = '\0';
	return strcmp(want, have) == 0;
}

int
hfcache_stamp_write(const struct hfcache *c, const char *folder, const char *etag, const char *file,
    const char *hash, char *err, size_t errlen)
{
	char sp[HFCACHE_PATH_MAX], text[512];
	struct stat st;
	if (stamp_path(c, sp, sizeof sp, folder, etag))
		return errmsg_fail(err, errlen, "stamp path too long");
	if (stat(file, &st))
		return errmsg_fail(err, errlen, "%s: %s", file, strerror(errno));
	stamp_text(&st, hash, text, sizeof text);
	/* A lost stamp only costs a rehash, so no fsync. */
	return write_atomic(sp, text, strlen(text), false, err, errlen);
}

void
hfcache_stamp_remove(const struct hfcache *c, const char *folder, const char *etag)
{
	char sp[HFCACHE_PATH_MAX];
	if (stamp_path(c, sp, sizeof sp, folder, etag) == 0)
		unlink(sp);
}
