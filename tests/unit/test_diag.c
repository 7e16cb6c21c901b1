#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"

void suite_diag(void);

/* The whole of file path into buf (empty when it does not exist). */
static const char *
slurp(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/* diag_record and diag_print against a scratch record; the runner's own record is put back. */
static void
test_record(void)
{
	char dir[] = "/tmp/modelc-diag-XXXXXX", path[64], got[4096], text[256];
	char *saved = getenv(DIAG_LOG_ENV) ? strdup(getenv(DIAG_LOG_ENV)) : NULL;

	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/log", dir);
	unsetenv(DIAG_LOG_ENV);
	diag_record("unset: %s\n");
	CU_ASSERT_STRING_EQUAL(slurp(path, got, sizeof got), "");
	setenv(DIAG_LOG_ENV, path, 1);
	errno = ENOSPC;
	diag_record("a\nb\\n %s\r\n");
	CU_ASSERT_EQUAL(errno, ENOSPC);
	diag_record("second");
	CU_ASSERT_STRING_EQUAL(slurp(path, got, sizeof got), "a\\nb\\\\n %s\\r\\n\nsecond\n");

	FILE *m = fmemopen(text, sizeof text, "w");
	diag_print(m, "modelc: %s: %u error%s\n", "x", 2u, "s");
	fclose(m);
	CU_ASSERT_STRING_EQUAL(text, "modelc: x: 2 errors\n");
	CU_ASSERT_STRING_EQUAL(slurp(path, got, sizeof got), "a\\nb\\\\n %s\\r\\n\nsecond\nmodelc: %s: %u error%s\\n\n");

	/* A format longer than a record line is cut, still one line. */
	static char big[DIAG_RECORD_MAX * 2];
	memset(big, 'x', sizeof big - 1);
	unlink(path);
	diag_record(big);
	slurp(path, got, sizeof got);
	CU_ASSERT_EQUAL(strlen(got), DIAG_RECORD_MAX - 2);
	CU_ASSERT_EQUAL(strchr(got, '\n'), got + strlen(got) - 1);

	/* A record that cannot be opened is no error. */
	setenv(DIAG_LOG_ENV, "/nonexistent/dir/log", 1);
	errno = 0;
	diag_record("lost");
	CU_ASSERT_EQUAL(errno, 0);

	unlink(path);
	rmdir(dir);
	if (saved)
		setenv(DIAG_LOG_ENV, saved, 1);
	else
		unsetenv(DIAG_LOG_ENV);
	free(saved);
}

void
suite_diag(void)
{
	CU_pSuite s = CU_add_suite("diag", NULL, NULL);
	CU_add_test(s, "record", test_record);
}
