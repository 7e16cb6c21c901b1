#include <CUnit/CUnit.h>
#include <string.h>

#include "envfile.h"

void suite_envfile(void);

static void
test_keys(void)
{
	CU_ASSERT_PTR_NULL(envfile_check_key("PRIMARY_MODEL_ID"));
	CU_ASSERT_PTR_NULL(envfile_check_key("_x1"));
	CU_ASSERT_STRING_EQUAL(envfile_check_key("1ABC"), "must start with a letter or '_'");
	CU_ASSERT_STRING_EQUAL(envfile_check_key("MY-KEY"), "may contain only letters, digits and '_'");
	CU_ASSERT_STRING_EQUAL(envfile_check_key("PATH"), "is a name reserved by the shell");
	CU_ASSERT_STRING_EQUAL(envfile_check_key("OPTIND"), "is a name reserved by the shell");
	CU_ASSERT_STRING_EQUAL(envfile_check_key(""), "is empty");
}

static const char *
check(const char *v)
{
	return envfile_check_value("K", v, strlen(v));
}

static void
test_values(void)
{
	CU_ASSERT_PTR_NULL(check("/mnt/f/hf cache"));
	CU_ASSERT_PTR_NULL(check("it's"));
	CU_ASSERT_PTR_NULL(check("a $b `c` \"d\" \\e"));
	CU_ASSERT_PTR_NULL(check("line\nbreak\ttab \xc3\xa9"));
	CU_ASSERT_STRING_EQUAL(check("a\rb"), "contains a carriage return");
	CU_ASSERT_STRING_EQUAL(check("${HOME}"), "contains '${', which python-dotenv expands even inside quotes");
	CU_ASSERT_STRING_EQUAL(check("a\\\\b"), "contains two backslashes in a row, which python-dotenv reads as one");
	CU_ASSERT_STRING_EQUAL(check("a\\"), "ends with a backslash, which python-dotenv joins with the next line");
	CU_ASSERT_STRING_EQUAL(check("it's $5"),
	    "mixes a single quote with '\"', '\\', '$' or '`', which no quoting reads the same everywhere");
	CU_ASSERT_STRING_EQUAL(check("\xc3"), "is not valid UTF-8");
	CU_ASSERT_STRING_EQUAL(check("\xed\xa0\x80"), "is not valid UTF-8");
	CU_ASSERT_STRING_EQUAL(envfile_check_value("K", "a\0b", 3), "contains a NUL byte");
}

void
suite_envfile(void)
{
	CU_pSuite s = CU_add_suite("envfile", NULL, NULL);
	CU_add_test(s, "keys", test_keys);
	CU_add_test(s, "values", test_values);
}
