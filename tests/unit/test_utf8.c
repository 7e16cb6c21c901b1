#include <CUnit/CUnit.h>
#include <string.h>

#include "utf8.h"

void suite_utf8(void);

static void
test_decode(void)
{
	unsigned cp = 1;
	CU_ASSERT_EQUAL(utf8_decode("", 0, &cp), 1);
	CU_ASSERT_EQUAL(cp, 0);
	CU_ASSERT_EQUAL(utf8_decode("a", 1, &cp), 1);
	CU_ASSERT_EQUAL(cp, 'a');
	CU_ASSERT_EQUAL(utf8_decode("\xc3\xa9", 2, &cp), 2);
	CU_ASSERT_EQUAL(cp, 0xe9);
	CU_ASSERT_EQUAL(utf8_decode("\xe2\x80\xa8", 3, &cp), 3);
	CU_ASSERT_EQUAL(cp, 0x2028);
	CU_ASSERT_EQUAL(utf8_decode("\xf0\x9f\x98\x80", 4, NULL), 4);
	/* Truncated by n, by a NUL, overlong, a surrogate, above U+10FFFF, a lone continuation. */
	CU_ASSERT_EQUAL(utf8_decode("\xc3\xa9", 1, &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode("\xe2\x80", strnlen("\xe2\x80", UTF8_MAX_LEN), &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode("\xc0\xaf", 2, &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode("\xed\xa0\x80", 3, &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode("\xf4\x90\x80\x80", 4, &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode("\x80", 1, &cp), 0);
	CU_ASSERT_EQUAL(utf8_decode("\xf8\x88\x80\x80", 4, &cp), 0);
}

void
suite_utf8(void)
{
	CU_pSuite s = CU_add_suite("utf8", NULL, NULL);
	CU_add_test(s, "decode", test_decode);
}
