#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/bench/bench_ladder.h"
#include "../../runtime/bench/bench_out.h"
#include "../../runtime/bench/bench_prompt.h"
#include "../../runtime/bench/bench_role.h"
#include "../../runtime/bench/bench_run.h"
#include "../../runtime/bench/bench_sse.h"
#include "../../runtime/bench/bench_stats.h"

void suite_bench(void);

struct seen {
	char data[8][64];
	int n;
};

static int collect(void *ctx, const char *data, size_t len)
{
	struct seen *s = ctx;
	CU_ASSERT_EQUAL(strlen(data), len);
	if (s->n < 8)
		snprintf(s->data[s->n++], 64, "%s", data);
	return 0;
}

static void test_sse(void)
{
	const char *stream = "data: {\"a\":1}\n\n: comment\n\ndata:{\"b\":2}\r\n\r\nevent: x\ndata: l1\ndata: l2\n\n"
	    "data: [DONE]\n\n";
	/* Every split point gives the same events. */
	for (size_t cut = 0; cut <= strlen(stream); cut++) {
		struct bench_sse p = { 0 };
		struct seen s = { 0 };
		CU_ASSERT_EQUAL(bench_sse_feed(&p, stream, cut, collect, &s), 0);
		CU_ASSERT_EQUAL(bench_sse_feed(&p, stream + cut, strlen(stream) - cut, collect, &s), 0);
		CU_ASSERT_EQUAL(s.n, 3);
		CU_ASSERT_STRING_EQUAL(s.data[0], "{\"a\":1}");
		CU_ASSERT_STRING_EQUAL(s.data[1], "{\"b\":2}");
		CU_ASSERT_STRING_EQUAL(s.data[2], "l1\nl2");
		CU_ASSERT_EQUAL(p.done, 1);
		bench_sse_free(&p);
	}
	/* An unfinished event is not delivered, and [DONE] is not yet seen. */
	struct bench_sse p = { 0 };
	struct seen s = { 0 };
	CU_ASSERT_EQUAL(bench_sse_feed(&p, "data: {\"a\":1}\n\ndata: [DO", 24, collect, &s), 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(p.done, 0);
	bench_sse_free(&p);
}

static void test_stats(void)
{
	double v[] = { 5, 1, 4, 2, 3 };
	bench_stats_sort(v, 5);
	CU_ASSERT_DOUBLE_EQUAL(v[0], 1, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(bench_stats_percentile(v, 5, 50), 3, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(bench_stats_percentile(v, 5, 90), 4.6, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(bench_stats_percentile(v, 5, 0), 1, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(bench_stats_percentile(v, 5, 100), 5, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(bench_stats_mean(v, 5), 3, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(bench_stats_percentile(v, 0, 50), 0, 1e-12);
}

static void test_ladder(void)
{
	uint32_t l[BENCH_LADDER_MAX + 1];
	size_t n;
	char err[128];
	CU_ASSERT_EQUAL(bench_ladder_parse("2k,256,1K,256,8k", l, &n, err, sizeof err), 0);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(l[0], 256);
	CU_ASSERT_EQUAL(l[1], 1024);
	CU_ASSERT_EQUAL(l[3], 8192);
	CU_ASSERT_EQUAL(bench_ladder_cap(l, &n, 4096, 64), 1);
	CU_ASSERT_EQUAL(n, 4);
	CU_ASSERT_EQUAL(l[3], 4032);
	CU_ASSERT_EQUAL(bench_ladder_cap(l, &n, 0, 64), 0);
	CU_ASSERT_EQUAL(bench_ladder_parse("256,,1k", l, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "'' is not a length");
	CU_ASSERT_EQUAL(bench_ladder_parse("abc", l, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "'abc' is not a length (expected a token count such as 512 or 4k)");
	CU_ASSERT_EQUAL(bench_ladder_parse("0", l, &n, err, sizeof err), -1);
	char many[512] = "";
	for (int i = 1; i <= BENCH_LADDER_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%s%d", i > 1 ? "," : "", i);
	CU_ASSERT_EQUAL(bench_ladder_parse(many, l, &n, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "more than 64 lengths");
}

static void test_prompt_words(void)
{
	char *a = bench_prompt_words(5, 1), *b = bench_prompt_words(5, 2), *c = bench_prompt_words(5, 65);
	CU_ASSERT_STRING_EQUAL(a, "time the the water day");
	/* The first word differs between neighbouring seeds, and seeds 1 and 65 differ in the second. */
	CU_ASSERT_NOT_EQUAL(strncmp(a, b, 4), 0);
	CU_ASSERT_NOT_EQUAL(strcmp(a, c), 0);
	char *z = bench_prompt_words(0, 3);
	CU_ASSERT_STRING_EQUAL(z, "");
	free(a), free(b), free(c), free(z);
}

static void test_sample(void)
{
	double gaps[] = { 10, 10, 10, 30 };
	struct bench_stream s = { .t_start = 100.0, .t_first = 100.05, .t_last = 100.11, .t_end = 100.12,
		.gaps_ms = gaps, .ngaps = 4, .events = 5, .usage_prompt = 300, .usage_completion = 7 };
	struct bench_sample o;
	bench_sample_from_stream(&s, 299, &o);
	CU_ASSERT_EQUAL(o.prompt_tokens, 300);
	CU_ASSERT_EQUAL(o.output_tokens, 7);
	CU_ASSERT_DOUBLE_EQUAL(o.ttft_ms, 50, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(o.itl_ms, 10, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(o.tokens_per_s, 100, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(o.itl_p50_ms, 10, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(o.itl_p90_ms, 24, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(o.e2e_ms, 120, 1e-6);
	s.usage_prompt = s.usage_completion = -1;
	bench_sample_from_stream(&s, 299, &o);
	CU_ASSERT_EQUAL(o.prompt_tokens, 299);
	CU_ASSERT_EQUAL(o.output_tokens, 5);
}

static char *render(int svg, struct bench_results *r, const struct bench_meta *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (svg) {
		struct bench_point *p = NULL;
		size_t n = bench_out_points(r, &p);
		bench_out_svg(f, m, p, n);
		free(p);
	} else {
		bench_out_csv(f, m, r);
	}
	fclose(f);
	return buf;
}

static void test_outputs(void)
{
	struct bench_sample s[] = {
		{ .concurrency = 1, .target = 512, .prompt_tokens = 512, .rep = 1, .ttft_ms = 60, .itl_ms = 8 },
		{ .concurrency = 1, .target = 256, .prompt_tokens = 256, .rep = 0, .ttft_ms = 40, .itl_ms = 8,
		    .tokens_per_s = 125, .output_tokens = 16 },
		{ .concurrency = 1, .target = 512, .prompt_tokens = 512, .rep = 0, .ttft_ms = 50, .itl_ms = 9 },
		{ .concurrency = 1, .target = 256, .prompt_tokens = 256, .rep = 1, .ttft_ms = 42, .itl_ms = 8 },
	};
	struct bench_results r = { .s = s, .n = 4, .cap = 4, .exact = 1 };
	struct bench_meta m = { .role = "pri<ma>ry", .model = "org/m", .commit = "abc", .gpu = "NVIDIA, \"X\"",
		.server_flags = "--max-model-len 4096", .max_model_len = 4096 };
	bench_out_sort(&r);
	CU_ASSERT_EQUAL(s[0].target, 256);
	CU_ASSERT_EQUAL(s[0].rep, 0);
	CU_ASSERT_EQUAL(s[3].rep, 1);
	struct bench_point *p = NULL;
	CU_ASSERT_EQUAL(bench_out_points(&r, &p), 2);
	CU_ASSERT_DOUBLE_EQUAL(p[1].ttft_med, 55, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(p[1].ttft_min, 50, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(p[1].itl_mean, 8.5, 1e-9);
	free(p);
	char *csv = render(0, &r, &m);
	CU_ASSERT_PTR_NOT_NULL(strstr(csv, "pri<ma>ry,org/m,abc,\"NVIDIA, \"\"X\"\"\",--max-model-len 4096,1,256,256,1,0,"
	    "40.000,8.000,0.000,0.000,125.00,16,0.000\n"));
	CU_ASSERT_EQUAL(strncmp(csv, bench_out_csv_header, strlen(bench_out_csv_header)), 0);
	char *a = render(1, &r, &m), *b = render(1, &r, &m);
	CU_ASSERT_STRING_EQUAL(a, b);
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "<title>pri&lt;ma&gt;ry: latency against prompt length</title>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a, "NVIDIA, &quot;X&quot;"));
	free(csv), free(a), free(b);
}

static void test_role_flags(void)
{
	struct bench_role_info ri = { 0 };
	char out[256];
	bench_role_flags(&ri, 0, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "");
	snprintf(ri.gpu_memory_utilization, sizeof ri.gpu_memory_utilization, "0.9");
	snprintf(ri.kv_cache_dtype, sizeof ri.kv_cache_dtype, "fp8");
	snprintf(ri.quantization, sizeof ri.quantization, "awq");
	bench_role_flags(&ri, 8192, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "--max-model-len 8192 --gpu-memory-utilization 0.9 --kv-cache-dtype fp8");
	snprintf(ri.quantization, sizeof ri.quantization, "bitsandbytes");
	bench_role_flags(&ri, 8192, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "--max-model-len 8192 --gpu-memory-utilization 0.9 --kv-cache-dtype fp8 "
	    "--quantization bitsandbytes");
}

void suite_bench(void)
{
	CU_pSuite s = CU_add_suite("bench", NULL, NULL);
	CU_add_test(s, "sse", test_sse);
	CU_add_test(s, "stats", test_stats);
	CU_add_test(s, "ladder", test_ladder);
	CU_add_test(s, "prompt_words", test_prompt_words);
	CU_add_test(s, "sample", test_sample);
	CU_add_test(s, "outputs", test_outputs);
	CU_add_test(s, "role_flags", test_role_flags);
}
