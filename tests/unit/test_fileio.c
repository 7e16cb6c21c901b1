#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "fileio.h"

void suite_fileio(void);

static char dir[] = "/tmp/fileio-test-XXXXXX";

static int
setup(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int
teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* dir/name, in one of eight static buffers used in turn. */
static const char *
at(const char *name)
{
	static char p[8][256];
	static unsigned i;
	i = (i + 1) % 8;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

/* The whole file, or "" when it cannot be read. */
static const char *
contents(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Entries in dir whose name starts with prefix. */
static int
count_prefixed(const char *prefix)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls -a %s | grep -c '^%s' >%s/.count", dir, prefix, dir);
	if (system(cmd) == -1)
		return -1;
	char p[128];
	snprintf(p, sizeof p, "%s/.count", dir);
	int n = atoi(contents(p));
	unlink(p);
	return n;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void
test_replace(void)
{
	char err[256] = "";
	const char *p = at("out");
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "one\n", 4, 0644, 0, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(contents(p), "one\n");
	struct stat a, b;
	CU_ASSERT_EQUAL(stat(p, &a), 0);
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "two\n", 4, 0644, FILEIO_NOSYNC | FILEIO_SYNC_DIR, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(contents(p), "two\n");
	CU_ASSERT_EQUAL(stat(p, &b), 0);
	CU_ASSERT_NOT_EQUAL(a.st_ino, b.st_ino);  /* a new file renamed in, not the old one rewritten */
	CU_ASSERT_EQUAL(count_prefixed("out.tmp"), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	/* A bare name lands in the current directory. */
	char cwd[4096];
	CU_ASSERT_PTR_NOT_NULL_FATAL(getcwd(cwd, sizeof cwd));
	CU_ASSERT_EQUAL_FATAL(chdir(dir), 0);
	CU_ASSERT_EQUAL(fileio_write_atomic("bare", "b", 1, 0644, FILEIO_SYNC_DIR, NULL, 0), 0);
	CU_ASSERT_EQUAL(chdir(cwd), 0);
	CU_ASSERT_STRING_EQUAL(contents(at("bare")), "b");
}

static void
test_failure_keeps_old(void)
{
	char err[256], want[512];
	const char *p = at("keep");
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "old\n", 4, 0644, 0, err, sizeof err), 0);
	/* A directory where the file should go: the rename fails, the temp file is removed. */
	const char *d = at("adir");
	CU_ASSERT_EQUAL_FATAL(mkdir(d, 0755), 0);
	errno = 0;
	CU_ASSERT_EQUAL(fileio_write_atomic(d, "x", 1, 0644, 0, err, sizeof err), -1);
	CU_ASSERT_EQUAL(errno, EISDIR);
	snprintf(want, sizeof want, "%s: %s", d, strerror(EISDIR));
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(count_prefixed("adir.tmp"), 0);
	/* No such directory: the temp file is what cannot be created, and the message names it. */
	const char *m = at("missing/f");
	CU_ASSERT_EQUAL(fileio_write_atomic(m, "x", 1, 0644, 0, err, sizeof err), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	snprintf(want, sizeof want, "%s.tmp.%ld: %s", m, (long)getpid(), strerror(ENOENT));
	CU_ASSERT_STRING_EQUAL(err, want);
	/* An abandoned replacement leaves the old file and no temp file. */
	struct fileio_atomic f;
	CU_ASSERT_EQUAL_FATAL(fileio_atomic_open(&f, p, 0644, 0), 0);
	CU_ASSERT_EQUAL(fileio_write_all(f.fd, "new\n", 4), 0);
	CU_ASSERT_EQUAL(count_prefixed("keep.tmp"), 1);
	fileio_atomic_abort(&f);
	fileio_atomic_abort(&f);  /* harmless twice */
	CU_ASSERT_STRING_EQUAL(contents(p), "old\n");
	CU_ASSERT_EQUAL(count_prefixed("keep.tmp"), 0);
}

static void
test_temp_names(void)
{
	/* A stale temp file of our pid (a killed writer) is skipped, not written through. */
	const char *p = at("stale");
	char stale[512];
	snprintf(stale, sizeof stale, "%s.tmp.%ld", p, (long)getpid());
	FILE *s = fopen(stale, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	fputs("stale", s);
	fclose(s);
	struct fileio_atomic f;
	CU_ASSERT_EQUAL_FATAL(fileio_atomic_open(&f, p, 0644, 0), 0);
	char want[600];
	snprintf(want, sizeof want, "%s.1", stale);
	CU_ASSERT_STRING_EQUAL(f.tmp, want);
	CU_ASSERT_EQUAL(fileio_write_all(f.fd, "fresh", 5), 0);
	CU_ASSERT_EQUAL(fileio_atomic_close(&f), 0);
	CU_ASSERT_EQUAL(fileio_atomic_commit(&f), 0);
	CU_ASSERT_STRING_EQUAL(contents(p), "fresh");
	CU_ASSERT_STRING_EQUAL(contents(stale), "stale");
	unlink(stale);
	/* A symlink planted at the temp name is not followed. */
	const char *target = at("target");
	CU_ASSERT_EQUAL(symlink(target, stale), 0);
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "again", 5, 0644, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(access(target, F_OK), -1);
	unlink(stale);
	/* A path with no room for the temp suffix. */
	char lng[FILEIO_PATH_MAX + 1];
	memset(lng, 'a', sizeof lng - 1);
	lng[sizeof lng - 1] = '\0';
	CU_ASSERT_EQUAL(fileio_atomic_open(&f, lng, 0644, 0), -1);
	CU_ASSERT_EQUAL(errno, ENAMETOOLONG);
}

static void
test_mode(void)
{
	mode_t old = umask(022);
	const char *p = at("mode");
	/* The umask filters the mode ... */
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "x", 1, 0666, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(mode_of(p), 0644);
	/* ... unless the mode is to be exact (a script, a catalog keeping its own mode). */
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "x", 1, 0775, FILEIO_EXACT_MODE, NULL, 0), 0);
	CU_ASSERT_EQUAL(mode_of(p), 0775);
	CU_ASSERT_EQUAL(fileio_write_atomic(p, "x", 1, 0600, FILEIO_EXACT_MODE, NULL, 0), 0);
	CU_ASSERT_EQUAL(mode_of(p), 0600);
	const char *w = at("wfile");
	CU_ASSERT_EQUAL(fileio_write_file(w, "y", 1, 0666, FILEIO_NOSYNC), 0);
	CU_ASSERT_EQUAL(mode_of(w), 0644);
	CU_ASSERT_EQUAL(fileio_write_file(w, "z", 1, 0640, FILEIO_EXACT_MODE), 0);
	CU_ASSERT_EQUAL(mode_of(w), 0640);
	CU_ASSERT_STRING_EQUAL(contents(w), "z");
	umask(old);
}

static void
test_symlink(void)
{
	const char *target = at("real"), *link = at("link");
	CU_ASSERT_EQUAL(fileio_write_file(target, "real\n", 5, 0644, 0), 0);
	CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
	/* A new file is refused where a symlink or any file already is. */
	errno = 0;
	CU_ASSERT_EQUAL(fileio_write_file(link, "x", 1, 0644, FILEIO_EXCL | FILEIO_NOFOLLOW), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_EQUAL(fileio_write_file(link, "x", 1, 0644, FILEIO_NOFOLLOW), -1);
	CU_ASSERT_EQUAL(errno, ELOOP);
	CU_ASSERT_EQUAL(fileio_write_file(target, "x", 1, 0644, FILEIO_EXCL), -1);
	CU_ASSERT_EQUAL(errno, EEXIST);
	CU_ASSERT_STRING_EQUAL(contents(target), "real\n");
	/* Reading: refused through the link when asked, followed otherwise. */
	size_t len = 0;
	CU_ASSERT_PTR_NULL(fileio_read_all(NULL, link, SIZE_MAX, FILEIO_NOFOLLOW, &len));
	CU_ASSERT_EQUAL(errno, ELOOP);
	char *s = fileio_read_all(NULL, link, SIZE_MAX, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, "real\n");
	free(s);
	/* The atomic write replaces the link itself; what it pointed to is untouched. */
	CU_ASSERT_EQUAL(fileio_write_atomic(link, "new\n", 4, 0644, 0, NULL, 0), 0);
	struct stat st;
	CU_ASSERT_EQUAL(lstat(link, &st), 0);
	CU_ASSERT(S_ISREG(st.st_mode));
	CU_ASSERT_STRING_EQUAL(contents(link), "new\n");
	CU_ASSERT_STRING_EQUAL(contents(target), "real\n");
}

static void
test_read_all(void)
{
	struct arena a = {0};
	const char *p = at("big");
	/* Larger than one read, with a NUL inside. */
	size_t n = 3 * 8192 + 7;
	char *data = malloc(n);
	CU_ASSERT_PTR_NOT_NULL_FATAL(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	data[100] = '\0';
	CU_ASSERT_EQUAL(fileio_write_file(p, data, n, 0644, FILEIO_NOSYNC), 0);
	size_t len = 0;
	char *s = fileio_read_all(&a, p, n, 0, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT_EQUAL(memcmp(s, data, n), 0);
	CU_ASSERT_EQUAL(s[n], '\0');
	/* One byte over the limit. */
	CU_ASSERT_PTR_NULL(fileio_read_all(&a, p, n - 1, 0, &len));
	CU_ASSERT_EQUAL(errno, EFBIG);
	/* Not a regular file: read to the end, the limit still holds. */
	char *t = fileio_read_all(NULL, "/proc/self/stat", SIZE_MAX, 0, &len);
	CU_ASSERT_PTR_NOT_NULL(t);
	CU_ASSERT(t && len > 0 && strlen(t) == len);
	free(t);
	CU_ASSERT_PTR_NULL(fileio_read_all(NULL, "/proc/self/stat", 4, 0, &len));
	CU_ASSERT_EQUAL(errno, EFBIG);
	/* Empty and absent files. */
	const char *e = at("empty");
	CU_ASSERT_EQUAL(fileio_write_file(e, "", 0, 0644, 0), 0);
	s = fileio_read_all(&a, e, 0, 0, &len);
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_EQUAL(len, 0);
	CU_ASSERT_PTR_NULL(fileio_read_all(&a, at("nothere"), SIZE_MAX, 0, &len));
	CU_ASSERT_EQUAL(errno, ENOENT);
	free(data);
	arena_free(&a);
}

static void
test_join(void)
{
	struct arena a = {0};
	CU_ASSERT_STRING_EQUAL(fileio_join(&a, "dir", "f"), "dir/f");
	CU_ASSERT_STRING_EQUAL(fileio_join(&a, "dir/", "f"), "dir/f");
	CU_ASSERT_STRING_EQUAL(fileio_join(&a, "/", "f"), "/f");
	CU_ASSERT_STRING_EQUAL(fileio_join(&a, "", "f"), "/f");
	char *s = fileio_join(NULL, "/a/b", "c/d.json");
	CU_ASSERT_STRING_EQUAL(s, "/a/b/c/d.json");
	free(s);
	arena_free(&a);
}

void
suite_fileio(void)
{
	CU_pSuite s = CU_add_suite("fileio", setup, teardown);
	CU_add_test(s, "replace", test_replace);
	CU_add_test(s, "failure_keeps_old", test_failure_keeps_old);
	CU_add_test(s, "temp_names", test_temp_names);
	CU_add_test(s, "mode", test_mode);
	CU_add_test(s, "symlink", test_symlink);
	CU_add_test(s, "read_all", test_read_all);
	CU_add_test(s, "join", test_join);
}
