#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "nvsmi.h"
#include "size.h"

void suite_nvsmi(void);

static struct nvsmi_state st;
static char err[NVSMI_ERR_MAX];

/* Read a fixture (tests run from the repository root) into a static buffer. */
static const char *
fixture(const char *name)
{
	static char buf[8192];
	char path[256];
	snprintf(path, sizeof path, "tests/fixtures/nvidia-smi/%s", name);
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
test_real_idle(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(fixture("idle/query-gpu.csv"), 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 1);
	CU_ASSERT_EQUAL(st.gpus[0].index, 0);
	CU_ASSERT_STRING_EQUAL(st.gpus[0].name, "NVIDIA H100 80GB HBM3");
	CU_ASSERT_EQUAL(st.gpus[0].total_mib, 81559);
	CU_ASSERT_EQUAL(st.gpus[0].used_mib, 0);
	CU_ASSERT_EQUAL(st.gpus[0].free_mib, 81079);
	CU_ASSERT_EQUAL(st.gpus[0].reserved_mib, 480);
	/* CUDA's total, as PyTorch measured it on the same machine: 85,017,493,504 bytes. */
	CU_ASSERT_EQUAL(nvsmi_cuda_total_bytes(&st.gpus[0]), 85017493504LL);
	CU_ASSERT_EQUAL(nvsmi_parse_apps(fixture("idle/compute-apps.csv"), &st, err), 0);
	CU_ASSERT_EQUAL(st.napps, 0);
}

static void
test_real_busy(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(fixture("busy/query-gpu-noreserved.csv"), 0, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 1);
	CU_ASSERT_EQUAL(st.gpus[0].used_mib, 6671);
	CU_ASSERT_EQUAL(st.gpus[0].free_mib, 74409);
	CU_ASSERT_EQUAL(st.gpus[0].reserved_mib, NVSMI_UNKNOWN);
	CU_ASSERT_EQUAL(nvsmi_parse_apps(fixture("busy/compute-apps.csv"), &st, err), 0);
	CU_ASSERT_EQUAL(st.napps, 1);
	CU_ASSERT_EQUAL(st.apps[0].pid, 423);
	CU_ASSERT_STRING_EQUAL(st.apps[0].name, "python3");
	CU_ASSERT_EQUAL(st.apps[0].used_mib, 6662);
}

static void
test_real_two_gpus(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(fixture("two-gpus/query-gpu.csv"), 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 2);
	CU_ASSERT_EQUAL(st.gpus[1].index, 1);
	CU_ASSERT_EQUAL(st.gpus[1].reserved_mib, 480);
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(fixture("two-gpus-busy/query-gpu-noreserved.csv"), 0, &st, err), 0);
	CU_ASSERT_EQUAL(st.gpus[0].used_mib, 527);
	CU_ASSERT_EQUAL(st.gpus[1].used_mib, 6671);
	CU_ASSERT_EQUAL(nvsmi_parse_apps(fixture("two-gpus-busy/compute-apps.csv"), &st, err), 0);
	CU_ASSERT_EQUAL(st.napps, 2);
	CU_ASSERT_EQUAL(st.apps[0].pid, 562);
	CU_ASSERT_EQUAL(st.apps[1].pid, 562);
	CU_ASSERT_EQUAL(st.apps[1].used_mib, 6662);
}

static void
test_units_and_header(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(fixture("idle/query-gpu-units.csv"), 0, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 1);
	CU_ASSERT_EQUAL(st.gpus[0].total_mib, 81559);
	CU_ASSERT_EQUAL(st.gpus[0].free_mib, 81079);
	CU_ASSERT_EQUAL(nvsmi_parse_apps("pid, process_name, used_gpu_memory [MiB]\n77, vllm, 512 MiB\n", &st, err), 0);
	CU_ASSERT_EQUAL(st.napps, 1);
	CU_ASSERT_EQUAL(st.apps[0].used_mib, 512);
}

static void
test_not_reported(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(fixture("na/query-gpu.csv"), 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.gpus[0].reserved_mib, NVSMI_UNKNOWN);
	CU_ASSERT_EQUAL(st.gpus[0].used_mib, 1187);
	CU_ASSERT_EQUAL(nvsmi_cuda_total_bytes(&st.gpus[0]), 8192 * (int64_t)SIZE_MIB);
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("0, GPU, [N/A], [Not Supported], [N/A], [N/A]\n", 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.gpus[0].total_mib, NVSMI_UNKNOWN);
	CU_ASSERT_EQUAL(nvsmi_cuda_total_bytes(&st.gpus[0]), NVSMI_UNKNOWN);
	CU_ASSERT_EQUAL(nvsmi_parse_apps(fixture("na/compute-apps.csv"), &st, err), 0);
	CU_ASSERT_STRING_EQUAL(st.apps[0].name, "[Insufficient Permissions]");
	CU_ASSERT_EQUAL(st.apps[0].used_mib, NVSMI_UNKNOWN);
}

static void
test_commas_and_blank(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_apps(fixture("small-busy/compute-apps.csv"), &st, err), 0);
	CU_ASSERT_STRING_EQUAL(st.apps[0].name, "/usr/bin/python3 train, lr=3");
	CU_ASSERT_EQUAL(st.apps[0].used_mib, 3050);
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("", 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 0);
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("\n\n", 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 0);
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("0, A, 1, 2, 3, 4\r\n1, B, 5, 6, 7, 8", 1, &st, err), 0);
	CU_ASSERT_EQUAL(st.ngpus, 2);
	CU_ASSERT_EQUAL(st.gpus[0].reserved_mib, 4);
	CU_ASSERT_EQUAL(st.gpus[1].reserved_mib, 8);
}

static void
test_errors(void)
{
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("0, A, 1, 2\n", 1, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: expected 6 fields, found 4");
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("0, A, 1, 2, 3\nx, B, 1, 2, 3\n", 0, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 2: GPU index 'x' is not a number");
	CU_ASSERT_EQUAL(nvsmi_parse_gpus("0, A, 1 GiB, 2, 3\n", 0, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: memory field '1 GiB' is not a number of MiB");
	CU_ASSERT_EQUAL(nvsmi_parse_apps("12, python\n", &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: expected 3 fields, found 2");
	CU_ASSERT_EQUAL(nvsmi_parse_apps("abc, python, 5\n", &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: pid 'abc' is not a number");
	CU_ASSERT_EQUAL(nvsmi_parse_apps("1, python, lots\n", &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: memory field 'lots' is not a number of MiB");

	static char many[NVSMI_MAX_GPUS * 32 + 64];
	size_t len = 0;
	for (int i = 0; i <= NVSMI_MAX_GPUS; i++)
		len += (size_t)snprintf(many + len, sizeof many - len, "%d, G, 1, 2, 3\n", i);
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(many, 0, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 17: more than 16 GPUs");
	static char apps[NVSMI_MAX_APPS * 32 + 64];
	len = 0;
	for (int i = 0; i <= NVSMI_MAX_APPS; i++)
		len += (size_t)snprintf(apps + len, sizeof apps - len, "%d, p, 3\n", i + 1);
	CU_ASSERT_EQUAL(nvsmi_parse_apps(apps, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 65: more than 64 processes");
	static char longline[2048];
	memset(longline, 'a', sizeof longline - 1);
	CU_ASSERT_EQUAL(nvsmi_parse_apps(longline, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: longer than 1023 bytes");
	CU_ASSERT_EQUAL(nvsmi_parse_gpus(longline, 0, &st, err), -1);
	CU_ASSERT_STRING_EQUAL(err, "line 1: longer than 1023 bytes");
}

void
suite_nvsmi(void)
{
	CU_pSuite s = CU_add_suite("nvsmi", NULL, NULL);
	CU_add_test(s, "real idle H100", test_real_idle);
	CU_add_test(s, "real busy H100", test_real_busy);
	CU_add_test(s, "real two H100", test_real_two_gpus);
	CU_add_test(s, "header and units", test_units_and_header);
	CU_add_test(s, "[N/A] fields", test_not_reported);
	CU_add_test(s, "commas, blank lines, CRLF", test_commas_and_blank);
	CU_add_test(s, "errors", test_errors);
}
