#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "size.h"

void suite_size(void);

static uint64_t
size_ok(const char *s)
{
	uint64_t v = 12345;
	const char *why = size_parse(s, &v);
	CU_ASSERT_PTR_NULL(why);
	return v;
}

static const char *
size_bad(const char *s)
{
	uint64_t v = 0;
	return size_parse(s, &v);
}

static void
test_parse(void)
{
	CU_ASSERT_EQUAL(size_ok("0"), 0);
	CU_ASSERT_EQUAL(size_ok("8589934592"), 8589934592ULL);
	CU_ASSERT_EQUAL(size_ok("8 GiB"), 8 * SIZE_GIB);
	CU_ASSERT_EQUAL(size_ok("8GiB"), 8 * SIZE_GIB);
	CU_ASSERT_EQUAL(size_ok("7.5 GB"), 7500000000ULL);
	CU_ASSERT_EQUAL(size_ok("0.25 GiB"), 1ULL << 28);
	CU_ASSERT_EQUAL(size_ok("1 B"), 1);
	CU_ASSERT_EQUAL(size_ok("2 KB"), 2000);
	CU_ASSERT_EQUAL(size_ok("2 KiB"), 2048);
	CU_ASSERT_EQUAL(size_ok("3 MB"), 3000000);
	CU_ASSERT_EQUAL(size_ok("3 MiB"), 3 * SIZE_MIB);
	CU_ASSERT_EQUAL(size_ok("1.5 TB"), 1500000000000ULL);
	CU_ASSERT_EQUAL(size_ok("1 TiB"), 1ULL << 40);
	/* Rounded down to whole bytes; digits past the twelfth are ignored. */
	CU_ASSERT_EQUAL(size_ok("1.0000000000009 KB"), 1000);
	CU_ASSERT_EQUAL(size_ok("0.3333 KiB"), 341);
	CU_ASSERT_EQUAL(size_ok("18446744073709551615"), UINT64_MAX);
	CU_ASSERT_EQUAL(size_ok("16777215 TiB"), 16777215ULL << 40);
	CU_ASSERT_EQUAL(size_ok("16777215.999999999999 TiB"), UINT64_MAX - 1);
	CU_ASSERT_EQUAL(size_ok("18446744073709551615.5 B"), UINT64_MAX);
}

static void
test_errors(void)
{
	CU_ASSERT_STRING_EQUAL(size_bad(""), "does not start with a digit");
	CU_ASSERT_STRING_EQUAL(size_bad("GiB"), "does not start with a digit");
	CU_ASSERT_STRING_EQUAL(size_bad("-1"), "does not start with a digit");
	CU_ASSERT_STRING_EQUAL(size_bad("8.GiB"), "has no digits after '.'");
	CU_ASSERT_STRING_EQUAL(size_bad("8 "), "has a space but no unit");
	CU_ASSERT_STRING_EQUAL(size_bad("8.5"), "has a fraction but no unit");
	CU_ASSERT_STRING_EQUAL(size_bad("8 gib"), "has an unknown unit (expected B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)");
	CU_ASSERT_STRING_EQUAL(size_bad("8  GiB"), "has an unknown unit (expected B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)");
	CU_ASSERT_STRING_EQUAL(size_bad("18446744073709551616"), "is too large");
	CU_ASSERT_STRING_EQUAL(size_bad("16777216 TiB"), "is too large");
}

static void
test_format(void)
{
	char buf[SIZE_FORMAT_LEN];
	CU_ASSERT_STRING_EQUAL(size_format(0, buf, sizeof buf), "0 B");
	CU_ASSERT_STRING_EQUAL(size_format(1023, buf, sizeof buf), "1023 B");
	CU_ASSERT_STRING_EQUAL(size_format(1024, buf, sizeof buf), "1.00 KiB");
	CU_ASSERT_STRING_EQUAL(size_format(8000000000ULL, buf, sizeof buf), "7.45 GiB");
	CU_ASSERT_STRING_EQUAL(size_format(85017493504ULL, buf, sizeof buf), "79.18 GiB");
	CU_ASSERT_STRING_EQUAL(size_format(SIZE_GIB - 1, buf, sizeof buf), "1.00 GiB");
	CU_ASSERT_STRING_EQUAL(size_format(UINT64_MAX, buf, sizeof buf), "16.00 EiB");
}

void
suite_size(void)
{
	CU_pSuite s = CU_add_suite("size", NULL, NULL);
	CU_add_test(s, "parse", test_parse);
	CU_add_test(s, "errors", test_errors);
	CU_add_test(s, "format", test_format);
}
