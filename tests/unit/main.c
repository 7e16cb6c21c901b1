/* The single CUnit runner: every tests/unit/test_<module>.c contributes suite_<module>(). */
#include <CUnit/Basic.h>
#include <stdio.h>

#define SUITE(name) void suite_##name(void);
#include "unit_suites.h"
#undef SUITE

int
main(void)
{
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
