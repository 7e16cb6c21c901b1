#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "servednames.h"

void suite_servednames(void);

static const char *
joined(const struct servednames_role *r)
{
	static char buf[1024];
	const char *v[SERVEDNAMES_MAX];
	size_t n = servednames_list(r, v), len = 0;
	buf[0] = '\0';
	for (size_t k = 0; k < n; k++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", k ? " " : "", v[k]);
	return buf;
}

static void
test_order(void)
{
	const char *al[] = {"llama", "chat"};
	/* The served name first (responses report it), then role, aliases, repo, directory. */
	struct servednames_role r = {"coder", "code", al, 2, "/m/code", "o/code", "/m/code"};
	CU_ASSERT_STRING_EQUAL(joined(&r), "coder code llama chat o/code /m/code");
	/* No served_model_name: the role; the same order whichever of the two is the model id. */
	struct servednames_role d = {NULL, "primary", NULL, 0, "o/p", "o/p", "/m/p"};
	CU_ASSERT_STRING_EQUAL(joined(&d), "primary o/p /m/p");
	/* A model id that is neither (a path switch --set made absolute) comes last. */
	struct servednames_role m = {NULL, "p", NULL, 0, "/abs/m", NULL, "m"};
	CU_ASSERT_STRING_EQUAL(joined(&m), "p m /abs/m");
	/* Local only: one path; an alias equal to the role is said once. */
	const char *same[] = {"x", ""};
	struct servednames_role l = {"x", "x", same, 2, "/m/x", NULL, "/m/x"};
	CU_ASSERT_STRING_EQUAL(joined(&l), "x /m/x");
}

static void
test_limit(void)
{
	static char names[SERVEDNAMES_MAX + 5][8];
	const char *al[SERVEDNAMES_MAX + 5];
	for (size_t k = 0; k < SERVEDNAMES_MAX + 5; k++) {
		snprintf(names[k], sizeof names[k], "a%zu", k);
		al[k] = names[k];
	}
	const char *v[SERVEDNAMES_MAX];
	struct servednames_role r = {NULL, "r", al, SERVEDNAMES_MAX + 5, "m", NULL, NULL};
	CU_ASSERT_EQUAL(servednames_list(&r, v), SERVEDNAMES_MAX);
	CU_ASSERT_STRING_EQUAL(v[0], "r");
	CU_ASSERT_STRING_EQUAL(v[SERVEDNAMES_MAX - 1], "a38");
}

void
suite_servednames(void)
{
	CU_pSuite s = CU_add_suite("servednames", NULL, NULL);
	CU_add_test(s, "order", test_order);
	CU_add_test(s, "limit", test_limit);
}
