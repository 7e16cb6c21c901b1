#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "safetensors.h"

void suite_safetensors(void);

/* Build "8-byte length + json" into buf; returns the total length. */
static size_t
make(char *buf, const char *json)
{
	uint64_t n = strlen(json);
	for (int i = 0; i < 8; i++)
		buf[i] = (char)(n >> (8 * i) & 0xff);
	memcpy(buf + 8, json, n);
	return 8 + n;
}

static int
parse(const char *json, struct arena *a, struct safetensors_header *h, char *err)
{
	static char buf[4096];
	size_t n = make(buf, json);
	return safetensors_parse(buf, n, a, h, err, 256);
}

static void
test_ok(void)
{
	struct arena a = {0};
	struct safetensors_header h;
	char err[256] = "";
	int r = parse("{\"__metadata__\":{\"format\":\"pt\"},"
	    "\"b\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[16,40]},"
	    "\"a\":{\"dtype\":\"BF16\",\"shape\":[8],\"data_offsets\":[0,16]},"
	    "\"c\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[40,42]},"
	    "\"d\":{\"dtype\":\"F4\",\"shape\":[3,2],\"data_offsets\":[42,45]}}   ", &a, &h, err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_EQUAL(h.ntensors, 4);
	CU_ASSERT_STRING_EQUAL(h.tensors[0].name, "a");  /* sorted by offset */
	CU_ASSERT_EQUAL(h.tensors[1].ndim, 2);
	CU_ASSERT_EQUAL(h.tensors[1].shape[1], 3);
	CU_ASSERT_EQUAL(h.data_bytes, 45);
	CU_ASSERT_EQUAL(h.ndtypes, 3);
	CU_ASSERT_STRING_EQUAL(h.dtypes[0].dtype, "BF16");
	CU_ASSERT_EQUAL(h.dtypes[0].bytes, 18);
	CU_ASSERT_EQUAL(h.dtypes[0].tensors, 2);
	CU_ASSERT_STRING_EQUAL(h.dtypes[1].dtype, "F32");
	CU_ASSERT_EQUAL(h.dtypes[1].bytes, 24);
	CU_ASSERT_STRING_EQUAL(h.dtypes[2].dtype, "F4");
	CU_ASSERT_EQUAL(h.nmeta, 1);
	CU_ASSERT_STRING_EQUAL(h.meta[0].value, "pt");
	CU_ASSERT_EQUAL(h.data_offset, 8 + h.header_len);
	CU_ASSERT_EQUAL(safetensors_check_file_size(&h, h.data_offset + 45, err, sizeof err), 0);
	CU_ASSERT_EQUAL(safetensors_check_file_size(&h, h.data_offset + 44, err, sizeof err), -1);
	char want[128];
	snprintf(want, sizeof want, "file has %llu bytes, its header describes %llu",
	    (unsigned long long)(h.data_offset + 44), (unsigned long long)(h.data_offset + 45));
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(safetensors_dtype_bits("F8_E4M3"), 8);
	CU_ASSERT_EQUAL(safetensors_dtype_bits("Q4"), 0);
	arena_free(&a);
}

static void
expect_err(const char *json, const char *want)
{
	struct arena a = {0};
	struct safetensors_header h;
	char err[256] = "";
	CU_ASSERT_EQUAL(parse(json, &a, &h, err), -1);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got: %s\n want: %s\n", err, want);
	arena_free(&a);
}

static void
test_errors(void)
{
	expect_err("[1]", "header does not start with '{'");
	expect_err("{\"a\":1,\"a\":2}", "header is not valid JSON: duplicate object key near '\"a\"' at byte 10");
	expect_err("{\"a\":{\"dtype\":\"X9\",\"shape\":[1],\"data_offsets\":[0,1]}}", "tensor 'a': unknown dtype 'X9'");
	expect_err("{\"a\":{\"shape\":[1],\"data_offsets\":[0,1]}}", "tensor 'a': 'dtype' is missing or not a string");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", "tensor 'a': 'shape' is missing or not an array");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0]}}",
	    "tensor 'a': 'data_offsets' is not an array of two integers");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,1]}}",
	    "tensor 'a': shape[0] is not a non-negative integer");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[-1,1]}}",
	    "tensor 'a': data_offsets[0] is not a non-negative integer");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,1]}}",
	    "tensor 'a': data_offsets end 1 is before begin 2");
	expect_err("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,3]}}",
	    "tensor 'a': data_offsets span 3 bytes, dtype F16 and shape need 4");
	expect_err("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}",
	    "tensor 'a': 3 elements of F4 do not fill whole bytes");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,1]}}",
	    "tensor 'a': shape overflows 64 bits");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
	    "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[2,3]}}",
	    "tensor 'b': data_offsets begin at 2, leaving a gap after 1");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
	    "\"b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
	    "tensor 'b': data_offsets [1, 2) overlap the previous tensor");
	expect_err("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":1}}", "tensor 'a': unknown key 'x'");
	expect_err("{\"a\":5}", "tensor 'a': entry is not an object");
	expect_err("{\"__metadata__\":[]}", "'__metadata__' is not an object");
	expect_err("{\"__metadata__\":{\"k\":1}}", "'__metadata__' value of 'k' is not a string");
}

static void
test_lengths(void)
{
	char buf[16] = {0};
	uint64_t n;
	char err[256];
	CU_ASSERT_EQUAL(safetensors_header_len(buf, 7, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "file is shorter than the 8-byte header length (7 bytes)");
	buf[3] = 0x10;  /* 256 MiB */
	CU_ASSERT_EQUAL(safetensors_header_len(buf, 8, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "header length 268435456 exceeds the limit of 104857600 bytes");
	memset(buf, 0, sizeof buf);
	buf[0] = 1;
	CU_ASSERT_EQUAL(safetensors_header_len(buf, 8, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "header length 1 is too small for a JSON object");
	buf[0] = 100;
	struct arena a = {0};
	struct safetensors_header h;
	CU_ASSERT_EQUAL(safetensors_parse(buf, 16, &a, &h, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "header needs 100 bytes after the length, only 8 given");
	char b2[32];
	size_t l = make(b2, "{\"a\"\0:1}");
	(void)l;
	memcpy(b2 + 8, "{\"a\"\0:1}", 8);
	b2[0] = 8;
	CU_ASSERT_EQUAL(safetensors_parse(b2, 16, &a, &h, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "header contains a NUL byte");
	memcpy(b2 + 8, "{\"a\":1", 6);
	b2[0] = 6;
	CU_ASSERT_EQUAL(safetensors_parse(b2, 14, &a, &h, err, sizeof err), -1);
	CU_ASSERT_EQUAL(strncmp(err, "header is not valid JSON: ", 26), 0);
	memcpy(b2 + 8, "{}", 2);
	b2[0] = 2;
	CU_ASSERT_EQUAL(safetensors_parse(b2, 10, &a, &h, err, sizeof err), 0);
	CU_ASSERT_EQUAL(h.ntensors, 0);
	CU_ASSERT_EQUAL(h.data_bytes, 0);
	arena_free(&a);
}

void
suite_safetensors(void)
{
	CU_pSuite s = CU_add_suite("safetensors", NULL, NULL);
	CU_add_test(s, "parse a valid header", test_ok);
	CU_add_test(s, "every validation message", test_errors);
	CU_add_test(s, "length prefix and limits", test_lengths);
}
