#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measurements.h"

void suite_measurements(void);

static char dir[] = "/tmp/modelc-meas-XXXXXX";

static void put(const char *role, const char *text)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s.csv", dir, role);
	FILE *f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
}

static const char header[] = "role,model,commit,gpu,server_flags,concurrency,target_tokens,prompt_tokens,exact,rep,"
    "ttft_ms,itl_ms,itl_p50_ms,itl_p90_ms,tokens_per_s,output_tokens,e2e_ms\n";

static void test_interpolate(void)
{
	char text[4096];
	snprintf(text, sizeof text, "%s"
	    "primary,p,,\"NVIDIA, X\",\"--max-model-len 4096\",1,256,256,1,0,40,8,8,8,125,16,100\n"
	    "primary,p,,\"NVIDIA, X\",\"--max-model-len 4096\",1,256,256,1,1,44,8,8,8,125,16,100\n"
	    "primary,p,,\"NVIDIA, X\",\"--max-model-len 4096\",1,256,256,1,2,41,8,8,8,125,16,100\n"
	    "primary,p,,\"NVIDIA, X\",\"--max-model-len 4096\",1,1024,1024,1,0,80,8,8,8,125,16,100\n"
	    "primary,p,,\"NVIDIA, X\",\"--max-model-len 4096\",1,2048,2048,1,0,120,8,8,8,125,16,100\n"
	    "primary,p,,\"NVIDIA, X\",\"--max-model-len 4096\",4,2048,2048,1,0,999,8,8,8,125,16,100\n",
	    header);
	put("primary", text);
	double t = 0;
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "primary", 1024, &t), 0);
	CU_ASSERT_DOUBLE_EQUAL(t, 80, 1e-9);
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "primary", 640, &t), 0);
	CU_ASSERT_DOUBLE_EQUAL(t, 60.5, 1e-9); /* median 41 at 256, 80 at 1024 */
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "primary", 4096, &t), 0);
	CU_ASSERT_DOUBLE_EQUAL(t, 200, 1e-9);  /* concurrency-4 rows ignored; extrapolated */
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "primary", 1, &t), 0);
	CU_ASSERT(t >= 0 && t < 41);
}

static void test_missing_and_bad(void)
{
	double t = -5;
	errno = 0;
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "nope", 1024, &t), -1);
	CU_ASSERT_EQUAL(errno, ENOENT);
	CU_ASSERT_DOUBLE_EQUAL(t, -5, 0);
	put("bad", "a,b,c\n1,2,3\n");
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "bad", 1024, &t), -1);
	CU_ASSERT_EQUAL(errno, EINVAL);
	char text[1024];
	snprintf(text, sizeof text, "%sone,p,,g,f,1,512,512,1,0,33.5,8,8,8,125,16,100\n", header);
	put("one", text);
	CU_ASSERT_EQUAL(measurements_ttft_at(dir, "one", 8192, &t), 0);
	CU_ASSERT_DOUBLE_EQUAL(t, 33.5, 1e-9);
}

static void test_dir_for(void)
{
	char *a = measurements_dir_for("/x/y/models.yaml"), *b = measurements_dir_for("models.yaml");
	CU_ASSERT_STRING_EQUAL(a, "/x/y/measurements");
	CU_ASSERT_STRING_EQUAL(b, "measurements");
	free(a);
	free(b);
}

static int setup(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void)
{
	const char *names[] = { "primary", "bad", "one" };
	char p[256];
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/%s.csv", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

void suite_measurements(void)
{
	CU_pSuite s = CU_add_suite("measurements", setup, teardown);
	CU_add_test(s, "interpolate", test_interpolate);
	CU_add_test(s, "missing_and_bad", test_missing_and_bad);
	CU_add_test(s, "dir_for", test_dir_for);
}
