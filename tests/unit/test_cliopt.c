#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "cliopt.h"

void suite_cliopt(void);

static const struct option longopts[] = {
	{"json", 0, NULL, 'j'}, {"lock", 1, NULL, 'l'}, {"jobs", 1, NULL, 'J'}, {NULL, 0, NULL, 0}};

/* Parse argv (NULL-terminated) and write what each call gave as "c:arg[=value]" lines into out. */
static void
trace(char **argv, char *out, size_t n)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	out[0] = '\0';
	optind = 0;
	const char *arg;
	for (int c; (c = cliopt_next(argc, argv, "+:ho:", longopts, &arg)) != -1;) {
		size_t len = strlen(out);
		snprintf(out + len, n - len, "%c:%s%s%s\n", c == 1 ? '1' : c, arg, optarg && c != '?' && c != ':' ? "=" : "",
		    optarg && c != '?' && c != ':' ? optarg : "");
		if (c == '?' || c == ':')
			break;
	}
}

static void
test_in_order(void)
{
	char out[512];
	char *a1[] = {"prog", "a", "--json", "-o", "dir", "b", "--lock=x.lock", "-", "-ofile", "--lo", "y", NULL};
	trace(a1, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1:a=a\nj:--json\no:-o=dir\n1:b=b\nl:--lock=x.lock=x.lock\n1:-=-\n"
				    "o:-ofile=file\nl:--lo=y\n");
	/* POSIXLY_CORRECT or not, options after an argument are still options. */
	char *a2[] = {"prog", "role", "--json", NULL};
	trace(a2, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1:role=role\nj:--json\n");
}

static void
test_errors(void)
{
	char out[512];
	char *a1[] = {"prog", "x", "--frobnicate", "y", NULL};
	trace(a1, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1:x=x\n?:--frobnicate\n");
	char *a2[] = {"prog", "-xy", NULL};
	trace(a2, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "?:-xy\n");  /* the argument as written, not only its first letter */
	char *a3[] = {"prog", "--json=1", NULL};
	trace(a3, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "?:--json=1\n");
	char *a4[] = {"prog", "a", "--lock", NULL};
	trace(a4, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1:a=a\n::--lock\n");
	char *a5[] = {"prog", "-o", NULL};
	trace(a5, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "::-o\n");
	char *a6[] = {"prog", "--", "--json", NULL};
	trace(a6, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "?:--\n");
	/* Ambiguous abbreviation (--j: --json or --jobs). */
	char *a7[] = {"prog", "--j", NULL};
	trace(a7, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "?:--j\n");
}

void
suite_cliopt(void)
{
	CU_pSuite s = CU_add_suite("cliopt", NULL, NULL);
	CU_add_test(s, "in_order", test_in_order);
	CU_add_test(s, "errors", test_errors);
}
