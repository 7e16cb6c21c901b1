#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../runtime/fetch/hfcache.h"

void suite_hfcache(void);

static void
test_root(void)
{
	char out[HFCACHE_PATH_MAX], err[256];
	setenv("HF_HUB_CACHE", "/x/hub", 1);
	setenv("HF_HOME", "/y", 1);
	CU_ASSERT_EQUAL(hfcache_root("/opt/c", NULL, out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "/opt/c");
	CU_ASSERT_EQUAL(hfcache_root(NULL, NULL, out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "/x/hub");
	unsetenv("HF_HUB_CACHE");
	CU_ASSERT_EQUAL(hfcache_root(NULL, "/table", out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "/y/hub");
	unsetenv("HF_HOME");
	CU_ASSERT_EQUAL(hfcache_root(NULL, "/table", out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "/table");
	const char *home = getenv("HOME");
	char saved[HFCACHE_PATH_MAX];
	snprintf(saved, sizeof saved, "%s", home ? home : "");
	setenv("HF_HOME", "~/hf", 1);
	setenv("HOME", "/home/u", 1);
	CU_ASSERT_EQUAL(hfcache_root(NULL, NULL, out, sizeof out, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(out, "/home/u/hf/hub");
	unsetenv("HF_HOME");
	if (home)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
}

static void
test_layout(void)
{
	char dir[] = "/tmp/hfcache-test-XXXXXX", err[512], p[HFCACHE_PATH_MAX], t[256];
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	unsetenv("HF_HUB_DISABLE_SYMLINKS");
	struct hfcache c;
	CU_ASSERT_EQUAL_FATAL(hfcache_open(&c, dir, err, sizeof err), 0);
	CU_ASSERT_TRUE(c.symlinks);
	const char *commit = "a09a35458c702b33eeacc393d103063234e8bc28", *f = "models--o--m";
	CU_ASSERT_EQUAL(hfcache_write_ref(&c, f, "main", commit, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/%s/refs/main", dir, f);
	struct stat st;
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 40);
	CU_ASSERT_EQUAL(hfcache_write_ref(&c, f, commit, commit, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/%s/refs/%s", dir, f, commit);
	CU_ASSERT_NOT_EQUAL(access(p, F_OK), 0);
	/* a blob and its nested pointer */
	snprintf(p, sizeof p, "%s/%s/blobs/abc", dir, f);
	CU_ASSERT_EQUAL(hfcache_mkparents(p), 0);
	int fd = open(p, O_WRONLY | O_CREAT, 0644);
	CU_ASSERT_EQUAL(write(fd, "data", 4), 4);
	close(fd);
	CU_ASSERT_EQUAL(hfcache_link(&c, f, commit, "a/b/c.json", "abc", false, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/%s/snapshots/%s/a/b/c.json", dir, f, commit);
	ssize_t n = readlink(p, t, sizeof t - 1);
	CU_ASSERT_FATAL(n > 0);
	t[n] = '\0';
	CU_ASSERT_STRING_EQUAL(t, "../../../../blobs/abc");
	uint64_t size = 0;
	CU_ASSERT_TRUE(hfcache_pointer_ok(&c, f, commit, "a/b/c.json", "abc", &size));
	CU_ASSERT_EQUAL(size, 4);
	CU_ASSERT_FALSE(hfcache_pointer_ok(&c, f, commit, "a/b/c.json", "other", &size));
	/* stamps follow size, mtime and inode */
	snprintf(p, sizeof p, "%s/%s/blobs/abc", dir, f);
	CU_ASSERT_FALSE(hfcache_stamp_ok(&c, f, "abc", p, "h1"));
	CU_ASSERT_EQUAL(hfcache_stamp_write(&c, f, "abc", p, "h1", err, sizeof err), 0);
	CU_ASSERT_TRUE(hfcache_stamp_ok(&c, f, "abc", p, "h1"));
	CU_ASSERT_FALSE(hfcache_stamp_ok(&c, f, "abc", p, "h2"));
	struct timespec ts[2] = {{0, UTIME_OMIT}, {12345, 0}};
	CU_ASSERT_EQUAL(utimensat(AT_FDCWD, p, ts, 0), 0);
	CU_ASSERT_FALSE(hfcache_stamp_ok(&c, f, "abc", p, "h1"));
	/* locks: a second holder is told to wait */
	int l1, l2;
	CU_ASSERT_EQUAL(hfcache_lock(&c, f, "abc", false, &l1, err, sizeof err), 0);
	CU_ASSERT_EQUAL(hfcache_lock(&c, f, "abc", false, &l2, err, sizeof err), 1);
	hfcache_unlock(l1);
	CU_ASSERT_EQUAL(hfcache_lock(&c, f, "abc", false, &l2, err, sizeof err), 0);
	hfcache_unlock(l2);
	snprintf(p, sizeof p, "%s/CACHEDIR.TAG", dir);
	CU_ASSERT_EQUAL(access(p, F_OK), 0);
	/* the copy fallback */
	setenv("HF_HUB_DISABLE_SYMLINKS", "1", 1);
	struct hfcache c2;
	CU_ASSERT_EQUAL(hfcache_open(&c2, dir, err, sizeof err), 0);
	CU_ASSERT_FALSE(c2.symlinks);
	CU_ASSERT_TRUE(c2.symlinks_forced_off);
	CU_ASSERT_EQUAL(hfcache_link(&c2, f, commit, "copy.json", "abc", false, err, sizeof err), 0);
	snprintf(p, sizeof p, "%s/%s/snapshots/%s/copy.json", dir, f, commit);
	CU_ASSERT_EQUAL(lstat(p, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_size, 4);
	unsetenv("HF_HUB_DISABLE_SYMLINKS");
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

void
suite_hfcache(void)
{
	CU_pSuite s = CU_add_suite("hfcache", NULL, NULL);
	CU_add_test(s, "cache root precedence", test_root);
	CU_add_test(s, "refs, links, stamps, locks", test_layout);
}
