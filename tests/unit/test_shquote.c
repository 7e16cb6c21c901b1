#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "shquote.h"

void suite_shquote(void);

static const char *
quoted(const char *s)
{
	static char buf[256];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	shquote_write(f, s);
	fclose(f);
	return buf;
}

static void
test_quote(void)
{
	CU_ASSERT_STRING_EQUAL(quoted("vllm"), "vllm");
	CU_ASSERT_STRING_EQUAL(quoted("/mnt/f/models/starcoder2-7b"), "/mnt/f/models/starcoder2-7b");
	CU_ASSERT_STRING_EQUAL(quoted("0.9"), "0.9");
	CU_ASSERT_STRING_EQUAL(quoted(""), "''");
	CU_ASSERT_STRING_EQUAL(quoted("a b"), "'a b'");
	CU_ASSERT_STRING_EQUAL(quoted("it's"), "'it'\\''s'");
	CU_ASSERT_STRING_EQUAL(quoted("$HOME"), "'$HOME'");
	CU_ASSERT_STRING_EQUAL(quoted("a=b"), "'a=b'");
	CU_ASSERT_STRING_EQUAL(quoted("*"), "'*'");
	CU_ASSERT(shquote_is_plain("Qwen/Qwen2.5-7B-Instruct-AWQ"));
	CU_ASSERT(!shquote_is_plain("a\nb"));
}

void
suite_shquote(void)
{
	CU_pSuite s = CU_add_suite("shquote", NULL, NULL);
	CU_add_test(s, "quote", test_quote);
}
