#include <CUnit/CUnit.h>
#include <string.h>

#include "suggest.h"

void suite_suggest(void);

static void
test_distance(void)
{
	CU_ASSERT_EQUAL(suggest_distance("", ""), 0);
	CU_ASSERT_EQUAL(suggest_distance("awk", "awq"), 1);
	CU_ASSERT_EQUAL(suggest_distance("rolse", "roles"), 1);
	CU_ASSERT_EQUAL(suggest_distance("quantisation", "quantization"), 1);
	CU_ASSERT_EQUAL(suggest_distance("kitten", "sitting"), 3);
	CU_ASSERT_EQUAL(suggest_distance("prmary", "primary"), 1);
	CU_ASSERT_EQUAL(suggest_distance("primray", "primary"), 1);    /* a swap is one edit */
	CU_ASSERT_EQUAL(suggest_distance("ab", "ba"), 1);
	CU_ASSERT_EQUAL(suggest_distance("abcdef", "badcfe"), 3);
	CU_ASSERT_EQUAL(suggest_distance("abc", ""), 3);
	char longer[200];
	memset(longer, 'a', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	CU_ASSERT_EQUAL(suggest_distance(longer, "a"), (size_t)-1);
}

static void
test_best(void)
{
	const char *const keys[] = {"storage", "gpu", "server", "defaults", "roles", "excluded"};
	CU_ASSERT_STRING_EQUAL(suggest_best("rolse", keys, 6), "roles");
	CU_ASSERT_STRING_EQUAL(suggest_best("gpus", keys, 6), "gpu");
	CU_ASSERT_STRING_EQUAL(suggest_best("defualts", keys, 6), "defaults");
	CU_ASSERT_PTR_NULL(suggest_best("models", keys, 6));
	CU_ASSERT_STRING_EQUAL(suggest_best("ROLES", keys, 6), "roles");
	const char *const quants[] = {"awq", "gptq", "none"};
	CU_ASSERT_STRING_EQUAL(suggest_best("AWQ", quants, 3), "awq");
	CU_ASSERT_STRING_EQUAL(suggest_best("GPTQ", quants, 3), "gptq");
	CU_ASSERT_PTR_NULL(suggest_best("roles", keys, 6));
	const char *const profiles[] = {"rtx3060-12gb", "rtx3070-8gb"};
	CU_ASSERT_STRING_EQUAL(suggest_best("rtx3070", profiles, 2), "rtx3070-8gb");
	CU_ASSERT_STRING_EQUAL(suggest_best("rtx3070-8g", profiles, 2), "rtx3070-8gb");
	CU_ASSERT_PTR_NULL(suggest_best("rt", profiles, 2));
	CU_ASSERT_PTR_NULL(suggest_best("x", profiles, 0));
}

void
suite_suggest(void)
{
	CU_pSuite s = CU_add_suite("suggest", NULL, NULL);
	CU_add_test(s, "edit distance", test_distance);
	CU_add_test(s, "closest candidate", test_best);
}
