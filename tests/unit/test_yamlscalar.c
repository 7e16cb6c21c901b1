#include <CUnit/CUnit.h>
#include <limits.h>
#include <math.h>
#include <string.h>

#include "yamlscalar.h"

void suite_yamlscalar(void);

/* A plain scalar of len bytes, resolved. */
static struct ynode
ys(const char *text, size_t len)
{
	struct ynode n;
	memset(&n, 0, sizeof n);
	n.text = text;
	n.text_len = len;
	yamlscalar_resolve(&n);
	return n;
}

static void
test_resolve(void)
{
	CU_ASSERT_EQUAL(ys("", 0).kind, YNODE_NULL);
	CU_ASSERT_EQUAL(ys("~", 1).kind, YNODE_NULL);
	CU_ASSERT_EQUAL(ys("yes", 3).kind, YNODE_STRING);
	CU_ASSERT(ys("TRUE", 4).boolean);
	CU_ASSERT_EQUAL(ys("-0x1", 4).kind, YNODE_STRING);
	CU_ASSERT_EQUAL(ys("0x7fffffffffffffff", 18).integer, LLONG_MAX);
	CU_ASSERT_EQUAL(ys("0x8000000000000000", 18).kind, YNODE_FLOAT);
	CU_ASSERT_EQUAL(ys("0o777", 5).integer, 511);
	CU_ASSERT_EQUAL(ys("-12", 3).integer, -12);
	CU_ASSERT_EQUAL(ys("1.", 2).kind, YNODE_FLOAT);
	CU_ASSERT_EQUAL(ys(".", 1).kind, YNODE_STRING);
	CU_ASSERT_EQUAL(ys("1e", 2).kind, YNODE_STRING);
	CU_ASSERT(isinf(ys("-.inf", 5).number));
	CU_ASSERT(isnan(ys(".NAN", 4).number));
	/* A text with a NUL inside is never read as its prefix: "1\0" is not the integer 1. */
	CU_ASSERT_EQUAL(ys("1\0", 2).kind, YNODE_STRING);
}

void
suite_yamlscalar(void)
{
	CU_pSuite s = CU_add_suite("yamlscalar", NULL, NULL);
	CU_add_test(s, "YAML 1.2 core schema resolution", test_resolve);
}
