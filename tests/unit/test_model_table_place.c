/*
 * The runtime table's placements (common/model_table_place.c): a role that emit_table wrote as
 * split over two GPUs reads back rank by rank, a catalog without hosts: keeps its nine sections,
 * and each kind of damage to sections 10 and 11 is refused with its message. Also switch's
 * reading of `nvidia-smi topo -m` (runtime/switch/gpu.c) and re-fit of every placed GPU.
 */
#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emit_fixture.h"
#include "emit_table.h"
#include "model_table.h"
#include "../../runtime/switch/gpu.h"

void suite_model_table_place(void);

static unsigned char *good, *plain;
static size_t good_len, plain_len;

static unsigned char *
render(struct fix_seed *s, size_t *len)
{
	char *buf = NULL;
	FILE *m = open_memstream(&buf, len);
	int rc = emit_table(m, &s->plan);
	fclose(m);
	return rc == 0 ? (unsigned char *)buf : NULL;
}

/* The seed plan with primary split tp 2 over GPUs 3 and 1 of host 'box' (nic eth1, PCIe). */
static int
setup(void)
{
	static struct fix_seed s;
	static struct catalog_gpu gpus[2] = {{.index = 3, .total_bytes = 24 * (uint64_t)FIX_GIB},
		{.index = 1, .total_bytes = 24 * (uint64_t)FIX_GIB}};
	static struct catalog_host host = {.name = "box", .interface = "eth1", .utilization = 0.92, .gpus = gpus,
		.ngpus = 2};
	static struct plan_rank ranks[2];
	static struct plan_parallel pl = {.tp = 2, .pp = 1, .dp = 1, .ranks = ranks, .nranks = 2, .p2p_disable = true,
		.kv_cache_memory_bytes = 5 * (uint64_t)FIX_GIB};
	fix_seed_init(&s);
	plain = render(&s, &plain_len);
	for (int k = 0; k < 2; k++)
		ranks[k] = (struct plan_rank){.rank = (uint32_t)k, .tp_rank = (uint32_t)k, .slot = {0, (size_t)k},
			.layers = 32, .weights = {.total_bytes = 2 * (uint64_t)FIX_GIB + (uint64_t)k}};
	s.cat.hosts = &host;
	s.cat.nhosts = 1;
	s.pr[0].par = &pl;
	s.pr[0].params.tensor_parallel = 2;
	good = render(&s, &good_len);
	return good && plain ? 0 : -1;
}

static int
teardown(void)
{
	free(good);
	free(plain);
	return 0;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	model_table_put_u32(p, v);
}

/* Record i of section type in b. */
static unsigned char *
rec(unsigned char *b, uint32_t type, uint32_t i)
{
	uint32_t n = get32(b + MT_HDR_NSECTIONS), at = get32(b + MT_HDR_SECTIONS);
	for (uint32_t k = 0; k < n; k++) {
		unsigned char *d = b + at + k * MT_DIR_SIZE;
		if (get32(d + MT_DIR_TYPE) == type)
			return b + get32(d + MT_DIR_OFFSET) + i * get32(d + MT_DIR_RECORD_SIZE);
	}
	return NULL;
}

static unsigned char *
copy(void)
{
	unsigned char *b = malloc(good_len);
	memcpy(b, good, good_len);
	return b;
}

static void
expect(unsigned char *b, const char *want)
{
	static char why[MODEL_TABLE_WHY_MAX];
	struct model_table t;
	why[0] = '\0';
	model_table_parse(b, good_len, &t, why);
	if (strcmp(why, want) != 0)
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", why, want);
	CU_ASSERT_STRING_EQUAL(why, want);
	free(b);
}

static void
test_reads_back(void)
{
	struct model_table t;
	struct model_placement p;
	struct model_rank r;
	char why[MODEL_TABLE_WHY_MAX];
	CU_ASSERT_EQUAL_FATAL(model_table_parse(good, good_len, &t, why), 0);
	CU_ASSERT_EQUAL(get32(good + MT_HDR_NSECTIONS), 11);
	CU_ASSERT_FALSE(model_table_placement(&t, 1, &p));
	CU_ASSERT_FATAL(model_table_placement(&t, 0, &p));
	CU_ASSERT_EQUAL(p.role, 0);
	CU_ASSERT_EQUAL(p.tp, 2);
	CU_ASSERT_EQUAL(p.pp, 1);
	CU_ASSERT_EQUAL(p.dp, 1);
	CU_ASSERT_EQUAL(p.nodes, 1);
	CU_ASSERT(p.p2p_disable);
	CU_ASSERT_FALSE(p.nvlink);
	CU_ASSERT_FALSE(p.partition_set);
	CU_ASSERT_FALSE(p.ray);
	CU_ASSERT_STRING_EQUAL(p.host, "box");
	CU_ASSERT_STRING_EQUAL(p.interface, "eth1");
	CU_ASSERT_DOUBLE_EQUAL(p.utilization, 0.92, 0);
	CU_ASSERT_EQUAL(p.kv_cache_bytes, 5 * (uint64_t)FIX_GIB);
	CU_ASSERT_EQUAL_FATAL(p.nranks, 2);
	model_table_rank(&t, &p, 0, &r);
	CU_ASSERT_EQUAL(r.gpu, 3);
	CU_ASSERT_EQUAL(r.layers, 32);
	CU_ASSERT_EQUAL(r.weights_bytes, 2 * (uint64_t)FIX_GIB);
	CU_ASSERT_EQUAL(r.gpu_total_bytes, 24 * (uint64_t)FIX_GIB);
	model_table_rank(&t, &p, 1, &r);
	CU_ASSERT_EQUAL(r.gpu, 1);
	CU_ASSERT_EQUAL(r.stage, 0);
	CU_ASSERT_EQUAL(r.weights_bytes, 2 * (uint64_t)FIX_GIB + 1);
	/* Without hosts: the nine sections of before, and no role placed. */
	CU_ASSERT_EQUAL_FATAL(model_table_parse(plain, plain_len, &t, why), 0);
	CU_ASSERT_EQUAL(get32(plain + MT_HDR_NSECTIONS), 9);
	CU_ASSERT_FALSE(model_table_placement(&t, 0, &p));
}

static void
test_damage(void)
{
	const char *bad = "placement 0 ('primary'): its sizes, ranks or GPUs do not hold together";
	unsigned char *b;

	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_TP, 3);       /* 3 x 1 x 1 is not 2 ranks */
	expect(b, bad);
	b = copy();
	put32(rec(b, MT_SECTION_RANKS, 1) + MT_RK_STAGE, 1);         /* tp 2, pp 1: both of stage 0 */
	expect(b, bad);
	b = copy();
	put32(rec(b, MT_SECTION_RANKS, 1) + MT_RK_GPU, 3);           /* two ranks on one GPU */
	expect(b, bad);
	b = copy();
	put32(rec(b, MT_SECTION_RANKS, 0) + MT_RK_LAYERS, 31);       /* the model has 32 */
	expect(b, bad);
	b = copy();
	put32(rec(b, MT_SECTION_RANKS, 1) + MT_RK_NODE, 1);          /* a second host, but nodes 1 */
	expect(b, bad);
	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_RANKS_COUNT, 4);
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_DP, 2);      /* more ranks than the section has */
	expect(b, bad);
	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_ROLE, 3);     /* the table has 3 roles */
	expect(b, "placement 0: role 3 or its first rank 0 is out of order");
	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_RANKS_FIRST, 1);
	expect(b, "placement 0: role 0 or its first rank 1 is out of order");
	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_FLAGS, 64);
	expect(b, "placement 0: the number at byte 20 is out of range");
	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_PP, 0);
	expect(b, "placement 0: the number at byte 8 is out of range");
	b = copy();
	put32(rec(b, MT_SECTION_RANKS, 0) + MT_RK_LAYERS, 0);
	expect(b, "rank 0: the number at byte 12 is out of range");
	b = copy();
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_HOST, MODEL_TABLE_NO_STRING);
	put32(rec(b, MT_SECTION_PLACEMENTS, 0) + MT_PL_HOST + 4, 0);
	expect(b, "placement 0: the string at byte 24 is missing");
	/* The ranks' directory entry turned into a type no reader knows. */
	b = copy();
	uint32_t n = get32(b + MT_HDR_NSECTIONS), at = get32(b + MT_HDR_SECTIONS);
	for (uint32_t k = 0; k < n; k++)
		if (get32(b + at + k * MT_DIR_SIZE + MT_DIR_TYPE) == MT_SECTION_RANKS)
			put32(b + at + k * MT_DIR_SIZE + MT_DIR_TYPE, 99);
	expect(b, "has placements without ranks");
}

static void
test_topo(void)
{
	/* nvidia-smi's layout: tab-separated, the header underlined by terminal escapes on some drivers. */
	static const char four[] =
	    "\t\033[4mGPU0\tGPU1\tGPU2\tGPU3\tNIC0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\033[0m\n"
	    "GPU0\t X \tNV12\tPXB\tSYS\tPIX\t0-27,56-83\t0\t\tN/A\n"
	    "GPU1\tNV12\t X \tSYS\tSYS\tPHB\t0-27,56-83\t0\t\tN/A\n"
	    "GPU2\tPXB\tSYS\t X \tNODE\tSYS\t28-55\t1\t\tN/A\n"
	    "GPU3\tSYS\tSYS\tNODE\t X \tSYS\t28-55\t1\t\tN/A\n"
	    "NIC0\tPIX\tPHB\tSYS\tSYS\t X \n\nLegend:\n\n  X    = Self\n  NV#  = Connection traversing a bonded set of # NVLinks\n";
	char link[GPU_LINK_MAX];
	CU_ASSERT(gpu_topo_link(four, 0, 1, link) && strcmp(link, "NV12") == 0);
	CU_ASSERT(gpu_topo_link(four, 1, 0, link) && strcmp(link, "NV12") == 0);
	CU_ASSERT(gpu_topo_link(four, 0, 2, link) && strcmp(link, "PXB") == 0);
	CU_ASSERT(gpu_topo_link(four, 3, 2, link) && strcmp(link, "NODE") == 0);
	CU_ASSERT(gpu_topo_link(four, 2, 2, link) && strcmp(link, "X") == 0);
	CU_ASSERT_FALSE(gpu_topo_link(four, 0, 4, link));        /* no GPU4 */
	CU_ASSERT_FALSE(gpu_topo_link(four, 5, 0, link));
	CU_ASSERT_FALSE(gpu_topo_link("", 0, 1, link));
	CU_ASSERT_FALSE(gpu_topo_link("No devices were found\n", 0, 1, link));
	CU_ASSERT_FALSE(gpu_topo_link("\tGPU0\tGPU1\nGPU0\t X\n", 0, 1, link));   /* a short row */
}

void
suite_model_table_place(void)
{
	CU_pSuite s = CU_add_suite("model_table_place", setup, teardown);
	CU_add_test(s, "placements and ranks read back; none without hosts:", test_reads_back);
	CU_add_test(s, "damaged placements and ranks", test_damage);
	CU_add_test(s, "nvidia-smi topo -m links", test_topo);
}
