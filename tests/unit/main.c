/* The single CUnit runner: every tests/unit/test_<module>.c contributes suite_<module>(). */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "diag.h"

#define SUITE(name) void suite_##name(void);
#include "unit_suites.h"
#undef SUITE

enum { PATH_MAX_LEN = 4096 };

/*
 * Record the message formats the tests print (common/diag.h) in BIN/../diag/unit.log beside
 * this program, emptied first, for tests/check-diagnostics.py; a $MODELC_DIAG_LOG already set
 * is used as it is.
 */
static void
record_formats(const char *argv0)
{
	char dir[PATH_MAX_LEN], path[PATH_MAX_LEN + sizeof "/unit.log"];
	const char *slash = strrchr(argv0, '/');

	if (getenv(DIAG_LOG_ENV) || !slash)
		return;
	snprintf(dir, sizeof dir, "%.*s/../diag", (int)(slash - argv0), argv0);
	mkdir(dir, 0755);
	snprintf(path, sizeof path, "%s/unit.log", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fclose(f);
	setenv(DIAG_LOG_ENV, path, 1);
}

int
main(int argc, char **argv)
{
	(void)argc;
	record_formats(argv[0]);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 3;
#define SUITE(name) suite_##name();
#include "unit_suites.h"
#undef SUITE
	CU_basic_set_mode(CU_BRM_NORMAL);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	unsigned ran = CU_get_number_of_tests_run();
	CU_cleanup_registry();
	return failed || ran == 0 ? 1 : 0;
}
