/* fetch's reading of the catalog's trust: list: the keys, nothing else, and every refusal. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/fetch/ftrust.h"

void suite_ftrust(void);

#define K1 "RWS8nJA/1Gyglv7zc/expZLnPvrdYabJljJiHvc2In9Wo13qeEygFmet"
#define K2 "RWTGTbJpvMmDpBX6UD7T4LK/JvKEWM0LQijcxN8sb5hWcVo6pO/pJ2aj"

static void
expect_keys(const char *text, size_t want)
{
	struct mskey_public *k;
	size_t n = 99;
	char err[512] = "";
	CU_ASSERT_EQUAL(ftrust_parse("models.yaml", text, strlen(text), &k, &n, err, sizeof err), 0);
	if (err[0])
		fprintf(stderr, "\n  unexpected: %s\n", err);
	CU_ASSERT_EQUAL(n, want);
	free(k);
}

static void
expect_error(const char *text, const char *want)
{
	struct mskey_public *k;
	size_t n;
	char err[512] = "";
	CU_ASSERT_EQUAL(ftrust_parse("models.yaml", text, strlen(text), &k, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", err, want);
}

static void
test_keys(void)
{
	expect_keys("storage:\n  hf_home: /x\nroles:\n  a: {repo: o/n}\n", 0);
	expect_keys("trust:\n  - " K1 "\n", 1);
	expect_keys("gpu: {memory: 8 GiB}\ntrust: [" K1 ", '" K2 "']\nroles:\n  r:\n    repo: a/b\n    x: [1, {trust: 2}]\n", 2);
	expect_keys("", 0);
	/* The shipped catalog has no trust: list and must stay readable. */
	struct mskey_public *k;
	size_t n;
	char err[512];
	CU_ASSERT_EQUAL(ftrust_read("models.yaml", &k, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL(n, 0);
	free(k);
}

static void
test_errors(void)
{
	expect_error("trust: " K1 "\n", "models.yaml:1:8: trust: is not a list of public keys");
	expect_error("trust:\n  a: b\n", "models.yaml:2:3: trust: is not a list of public keys");
	expect_error("trust: []\n", "models.yaml:1:9: trust: is empty; list at least one key, or leave trust: out");
	expect_error("trust:\n  - [" K1 "]\n", "models.yaml:2:5: trust: each item must be a public key (a string)");
	expect_error("trust:\n  - RWnotakey\n", "models.yaml:2:5: trust[0]: 'RWnotakey': not the base64 of a minisign "
	    "public key (56 characters)");
	expect_error("trust: [" K1 "]\nx: 1\ntrust: [" K1 "]\n", "models.yaml:3:1: trust: appears twice");
	expect_error("a: &k 1\ntrust: [" K1 "]\n", "models.yaml:1:4: anchors, aliases and tags are not allowed in a catalog");
	expect_error("trust: [!!str " K1 "]\n", "models.yaml:1:9: anchors, aliases and tags are not allowed in a catalog");
	expect_error("- trust\n", "models.yaml:1:1: not a catalog: the top level is not a mapping");
	expect_error("just text\n", "models.yaml:1:1: not a catalog: the top level is not a mapping");
	expect_error("a: 1\n---\nb: 2\n", "models.yaml:2:1: more than one YAML document");
	expect_error("trust: [\n", "models.yaml:2:1: not valid YAML: did not find expected node content");
	expect_error("? [a]\n: 1\n", "models.yaml:1:3: a key that is not a string");
	char deep[300] = "a: ";
	for (int i = 0; i < 70; i++)
		strcat(deep, "[");
	strcat(deep, "\n");
	expect_error(deep, "models.yaml:1:67: nested deeper than a catalog may be (64 levels)");
}

void
suite_ftrust(void)
{
	CU_pSuite s = CU_add_suite("ftrust", NULL, NULL);
	CU_add_test(s, "keys from the catalog", test_keys);
	CU_add_test(s, "every refusal", test_errors);
}
