/*
 * Passphrases from a file (mode checked, first line, line end cut as minisign cuts it) and
 * from an inherited descriptor; the options that choose them; every message.
 */
#include <CUnit/CUnit.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "passphrase.h"

void suite_passphrase(void);

static char dir[] = "/tmp/passphrase-test-XXXXXX";

static const char *
write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	static char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fwrite(text, 1, len, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static void
expect(const struct passphrase_opts *o, int rc, const char *want)
{
	char *p = NULL, err[512] = "";
	size_t len = 99;
	CU_ASSERT_EQUAL(passphrase_read(o, "prompt: ", false, &p, &len, err, sizeof err), rc);
	if (rc == 0) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_STRING_EQUAL(p, want);
		CU_ASSERT_EQUAL(len, strlen(want));
	} else {
		CU_ASSERT_PTR_NULL(p);
		CU_ASSERT_STRING_EQUAL(err, want);
		if (strcmp(err, want))
			fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
	}
	passphrase_free(p);
}

static void
test_file(void)
{
	struct passphrase_opts o = {.source = PASSPHRASE_FILE};
	char want[1024];
	o.file = write_file("p1", "correct horse\nsecond line\n", 26, 0600);
	expect(&o, 0, "correct horse");
	o.file = write_file("p2", "crlf\r\n", 6, 0400);
	expect(&o, 0, "crlf");
	o.file = write_file("p3", "no newline", 10, 0600);
	expect(&o, 0, "no newline");
	o.file = write_file("p4", "\n", 1, 0600);
	expect(&o, 0, "");
	o.file = write_file("p5", "", 0, 0600);
	snprintf(want, sizeof want, "%s: empty: no passphrase in it", o.file);
	expect(&o, -1, want);
	o.file = write_file("p6", "open to all\n", 12, 0644);
	snprintf(want, sizeof want, "%s: mode 0644 lets other users at this secret; run 'chmod 600 %s'", o.file, o.file);
	expect(&o, -1, want);
	o.file = write_file("p7", "group\n", 6, 0660);
	snprintf(want, sizeof want, "%s: mode 0660 lets other users at this secret; run 'chmod 600 %s'", o.file, o.file);
	expect(&o, -1, want);
	char big[1100];
	memset(big, 'x', sizeof big);
	o.file = write_file("p8", big, sizeof big, 0600);
	snprintf(want, sizeof want, "%s: the passphrase is longer than 1022 bytes (minisign's limit)", o.file);
	expect(&o, -1, want);
	o.file = write_file("p9", "a\0b\n", 4, 0600);
	snprintf(want, sizeof want, "%s: the passphrase holds a NUL byte", o.file);
	expect(&o, -1, want);
	o.file = "/nonexistent/pass";
	expect(&o, -1, "/nonexistent/pass: No such file or directory");
}

static void
test_fd(void)
{
	struct passphrase_opts o = {.source = PASSPHRASE_FD};
	int p[2];
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	CU_ASSERT_EQUAL(write(p[1], "from a pipe\nrest", 16), 16);
	close(p[1]);
	o.fd = p[0];
	expect(&o, 0, "from a pipe");  /* closes the descriptor */
	CU_ASSERT_EQUAL_FATAL(pipe(p), 0);
	close(p[1]);
	o.fd = p[0];
	char want[128];
	snprintf(want, sizeof want, "--passphrase-fd %d: no passphrase (the input ended at once)", p[0]);
	expect(&o, -1, want);
	o.fd = 987;
	expect(&o, -1, "--passphrase-fd 987: the descriptor is not open");
}

static void
test_options(void)
{
	struct passphrase_opts o = {.source = PASSPHRASE_TTY};
	char err[256];
	char *argv[] = {"sign", "--passphrase-file", "f", "--passphrase-fd", "3", "--passphrase-fd", "x", "-o", NULL};
	int i = 1;
	CU_ASSERT_EQUAL(passphrase_option(8, argv, &i, &o, err, sizeof err), 1);
	CU_ASSERT_EQUAL(i, 2);
	CU_ASSERT_EQUAL(o.source, PASSPHRASE_FILE);
	CU_ASSERT_STRING_EQUAL(o.file, "f");
	i = 3;
	CU_ASSERT_EQUAL(passphrase_option(8, argv, &i, &o, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "--passphrase-file and --passphrase-fd may be given once, and not both");
	o.source = PASSPHRASE_TTY;
	i = 3;
	CU_ASSERT_EQUAL(passphrase_option(8, argv, &i, &o, err, sizeof err), 1);
	CU_ASSERT_EQUAL(o.fd, 3);
	o.source = PASSPHRASE_TTY;
	i = 5;
	CU_ASSERT_EQUAL(passphrase_option(8, argv, &i, &o, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "--passphrase-fd 'x' is not a descriptor number");
	i = 7;
	CU_ASSERT_EQUAL(passphrase_option(8, argv, &i, &o, err, sizeof err), 0);
	char *argv2[] = {"sign", "--passphrase-file", NULL};
	i = 1;
	CU_ASSERT_EQUAL(passphrase_option(2, argv2, &i, &o, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "--passphrase-file needs a file");
}

static int
setup(void)
{
	return !mkdtemp(dir);
}

static int
teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) != 0;
}

void
suite_passphrase(void)
{
	CU_pSuite s = CU_add_suite("passphrase", setup, teardown);
	CU_add_test(s, "from a file", test_file);
	CU_add_test(s, "from a descriptor", test_fd);
	CU_add_test(s, "the options", test_options);
}
