#include <CUnit/CUnit.h>
#include <string.h>

#include "arena.h"
#include "lock.h"
#include "lockmerge.h"

void suite_lockmerge(void);

static void
test_put(void)
{
	struct arena a = {0};
	struct lock_model ms[2];
	memset(ms, 0, sizeof ms);
	ms[0].key = "a/b@main";
	ms[1].key = "z/y@main";
	struct lock l = {.path = "models.lock", .models = ms, .nmodels = 2};
	struct lock_model m;
	memset(&m, 0, sizeof m);
	m.key = "local:/m";
	struct lock out = lockmerge_put(&a, &l, &m);
	CU_ASSERT_EQUAL(out.nmodels, 3);
	CU_ASSERT_STRING_EQUAL(out.models[0].key, "a/b@main");
	CU_ASSERT_STRING_EQUAL(out.models[1].key, "local:/m");
	CU_ASSERT_STRING_EQUAL(out.models[2].key, "z/y@main");
	m.has_config = true;
	out = lockmerge_put(&a, &out, &m);
	CU_ASSERT_EQUAL(out.nmodels, 3);
	CU_ASSERT(out.models[1].has_config);
	arena_free(&a);
}

static void
test_empty(void)
{
	struct arena a = {0};
	struct lock_model m;
	memset(&m, 0, sizeof m);
	m.key = "local:/m";
	struct lock out = lockmerge_put(&a, NULL, &m);
	CU_ASSERT_EQUAL(out.nmodels, 1);
	CU_ASSERT_PTR_NULL(out.path);
	CU_ASSERT_STRING_EQUAL(out.models[0].key, "local:/m");
	arena_free(&a);
}

void
suite_lockmerge(void)
{
	CU_pSuite s = CU_add_suite("lockmerge", NULL, NULL);
	CU_add_test(s, "put", test_put);
	CU_add_test(s, "empty", test_empty);
}
