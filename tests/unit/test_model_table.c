/*
 * The runtime table's reader (common/model_table.c) on a table emit_table wrote for the seed-like
 * plan: the good file reads back, and each kind of damage is refused with its own message.
 */
#define _DEFAULT_SOURCE
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emit_fixture.h"
#include "emit_table.h"
#include "model_table.h"

void suite_model_table(void);

static unsigned char *good;
static size_t good_len;

/*
 * The seed plan with serving settings and one together: group, lightweight + code, so that
 * every section has records.
 */
static int
setup(void)
{
	static struct fix_seed s;
	static const char *aliases[] = {"phi", "phi-3.5"};
	static const struct catalog_role *group_roles[2];
	static struct catalog_group cg = {.name = "lightweight+code", .roles = group_roles, .nroles = 2,
	    .all_pairs = true};
	static struct plan_group_member members[2];
	static struct plan_group g = {.group = &cg, .members = members, .nmembers = 2, .fits = true};
	char *buf = NULL;
	fix_seed_init(&s);
	s.roles[1].ttl_seconds = 300;
	s.roles[1].sleep_level = 1;
	s.roles[1].aliases = aliases;
	s.roles[1].naliases = 2;
	s.pr[1].awake_gpu_bytes = 4 * (uint64_t)FIX_GIB;
	s.pr[1].sleep_gpu_bytes = 600 * (uint64_t)FIX_MIB;
	s.pr[1].sleep_host_bytes = 2 * (uint64_t)FIX_GIB;
	s.pr[1].load_timeout_seconds = 45;
	group_roles[0] = &s.roles[1];
	group_roles[1] = &s.roles[2];
	members[0] = (struct plan_group_member){.role = 1, .start_order = 1, .utilization = 0.35, .max_model_len = 2048,
	    .kv_cache_bytes = 512 * (uint64_t)FIX_MIB, .gpu_bytes = 3 * (uint64_t)FIX_GIB, .free_at_start = 3 * (uint64_t)FIX_GIB,
	    .sleep_gpu_bytes = 600 * (uint64_t)FIX_MIB, .sleep_host_bytes = 2 * (uint64_t)FIX_GIB};
	members[1] = (struct plan_group_member){.role = 2, .start_order = 0, .utilization = 0.55, .max_model_len = 4096,
	    .kv_cache_bytes = 256 * (uint64_t)FIX_MIB, .gpu_bytes = 4 * (uint64_t)FIX_GIB, .free_at_start = 4 * (uint64_t)FIX_GIB,
	    .use_kv_cache_bytes = true};
	g.gpu_bytes = (uint64_t)7 * FIX_GIB + 700 * (uint64_t)FIX_MIB;
	g.sleep_host_bytes = 2 * (uint64_t)FIX_GIB;
	s.plan.groups = &g;
	s.plan.ngroups = 1;
	FILE *m = open_memstream(&buf, &good_len);
	int rc = emit_table(m, &s.plan);
	fclose(m);
	good = (unsigned char *)buf;
	return rc;
}

static int
teardown(void)
{
	free(good);
	return 0;
}

static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A copy of the good table, to damage; len may be larger (the rest zeroed). */
static unsigned char *
copy(size_t len)
{
	unsigned char *b = calloc(1, len + 1);
	memcpy(b, good, len < good_len ? len : good_len);
	return b;
}

/* The directory entry of a section type, in b. */
static unsigned char *
dir_of(unsigned char *b, uint32_t type)
{
	uint32_t n = get32(b + MT_HDR_NSECTIONS), at = get32(b + MT_HDR_SECTIONS);
	for (uint32_t i = 0; i < n; i++)
		if (get32(b + at + i * MT_DIR_SIZE + MT_DIR_TYPE) == type)
			return b + at + i * MT_DIR_SIZE;
	return NULL;
}

/* Record i of a section in b. */
static unsigned char *
rec(unsigned char *b, uint32_t type, uint32_t i)
{
	unsigned char *d = dir_of(b, type);
	return b + get32(d + MT_DIR_OFFSET) + i * get32(d + MT_DIR_RECORD_SIZE);
}

/* Parse b (len bytes) and return the message ("" when it parsed). */
static const char *
parse(const unsigned char *b, size_t len)
{
	static char why[MODEL_TABLE_WHY_MAX];
	struct model_table t;
	why[0] = '\0';
	if (model_table_parse(b, len, &t, why) == 0 && model_table_check_serving(&t, why) == 0)
		return "";
	return why;
}

static void
expect(unsigned char *b, size_t len, const char *want)
{
	const char *got = parse(b, len);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  got:  %s\n  want: %s\n", got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(b);
}

static void
test_good(void)
{
	struct model_table t;
	struct model_entry e;
	char why[MODEL_TABLE_WHY_MAX], hex[65];
	CU_ASSERT_EQUAL_FATAL(model_table_parse(good, good_len, &t, why), 0);
	CU_ASSERT_EQUAL(t.version, MODEL_TABLE_VERSION);
	CU_ASSERT_EQUAL(t.count, 3);
	CU_ASSERT_EQUAL(t.engine, BUDGET_ENGINE_V1);
	CU_ASSERT_EQUAL(t.port, 8000);
	CU_ASSERT_STRING_EQUAL(t.host, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(t.built, "1970-01-01T00:00:00Z");   /* a plan built in code */
	CU_ASSERT_DOUBLE_EQUAL(t.calibration.forward_factor, budget_calibration_default.forward_factor, 0);
	model_table_digest_hex(&t, hex);
	CU_ASSERT_STRING_EQUAL(hex, "");
	model_table_entry(&t, 0, &e);
	CU_ASSERT_STRING_EQUAL(e.role, "primary");
	CU_ASSERT_PTR_EQUAL(e.params.calibration, &t.calibration);
	CU_ASSERT_EQUAL(e.params.tensor_parallel, 1);
	CU_ASSERT_EQUAL(e.params.block_size, 16);
	CU_ASSERT_EQUAL(e.arch.layers, 32);
	/* Exactly the bytes modelc wrote: the utilization it fitted with and the one .env exports. */
	CU_ASSERT_DOUBLE_EQUAL(e.params.utilization, 0.9, 0);
	CU_ASSERT_DOUBLE_EQUAL(e.gpu_memory_utilization, 0.9, 0);
}

static void
test_groups(void)
{
	struct model_table t;
	struct model_group g;
	struct model_group_member m;
	struct model_role_serve rs;
	char why[MODEL_TABLE_WHY_MAX];
	CU_ASSERT_EQUAL_FATAL(model_table_parse(good, good_len, &t, why), 0);
	/* Nothing of the serving sections before they are checked. */
	CU_ASSERT_EQUAL(model_table_group_count(&t), 0);
	model_table_role_serve(&t, 1, &rs);
	CU_ASSERT_EQUAL(rs.ttl_seconds, 0);
	CU_ASSERT_EQUAL_FATAL(model_table_check_serving(&t, why), 0);
	CU_ASSERT_EQUAL_FATAL(model_table_group_count(&t), 1);
	model_table_group(&t, 0, &g);
	CU_ASSERT_STRING_EQUAL(g.name, "lightweight+code");
	CU_ASSERT_EQUAL(g.nmembers, 2);
	CU_ASSERT(g.all_pairs);
	CU_ASSERT_EQUAL(g.gpu_bytes, (uint64_t)7 * FIX_GIB + 700 * (uint64_t)FIX_MIB);
	CU_ASSERT_EQUAL(g.sleep_host_bytes, 2 * (uint64_t)FIX_GIB);
	model_table_group_member(&t, &g, 0, &m);
	CU_ASSERT_EQUAL(m.role, 1);
	CU_ASSERT_EQUAL(m.start_order, 1);
	CU_ASSERT_DOUBLE_EQUAL(m.gpu_memory_utilization, 0.35, 0);
	CU_ASSERT_EQUAL(m.max_model_len, 2048);
	CU_ASSERT_EQUAL(m.kv_cache_bytes, 512 * (uint64_t)FIX_MIB);
	CU_ASSERT(!m.use_kv_cache_bytes);
	CU_ASSERT_EQUAL(m.free_at_start, 3 * (uint64_t)FIX_GIB);
	CU_ASSERT_EQUAL(m.sleep_gpu_bytes, 600 * (uint64_t)FIX_MIB);
	CU_ASSERT_EQUAL(m.sleep_host_bytes, 2 * (uint64_t)FIX_GIB);
	model_table_group_member(&t, &g, 1, &m);
	CU_ASSERT_EQUAL(m.role, 2);
	CU_ASSERT_EQUAL(m.start_order, 0);
	CU_ASSERT(m.use_kv_cache_bytes);
	CU_ASSERT_EQUAL(m.gpu_bytes, 4 * (uint64_t)FIX_GIB);
	model_table_role_serve(&t, 1, &rs);
	CU_ASSERT_EQUAL(rs.ttl_seconds, 300);
	CU_ASSERT_EQUAL(rs.sleep_level, 1);
	CU_ASSERT_EQUAL(rs.naliases, 2);
	CU_ASSERT_EQUAL(rs.sleep_gpu_bytes, 600 * (uint64_t)FIX_MIB);
	CU_ASSERT_EQUAL(rs.sleep_host_bytes, 2 * (uint64_t)FIX_GIB);
	CU_ASSERT_EQUAL(rs.awake_gpu_bytes, 4 * (uint64_t)FIX_GIB);
	CU_ASSERT_EQUAL(rs.load_timeout_seconds, 45);
	CU_ASSERT_STRING_EQUAL(model_table_alias(&t, rs.aliases_first), "phi");
	CU_ASSERT_STRING_EQUAL(model_table_alias(&t, rs.aliases_first + 1), "phi-3.5");
	model_table_role_serve(&t, 0, &rs);
	CU_ASSERT_EQUAL(rs.ttl_seconds, 0);
	CU_ASSERT_EQUAL(rs.sleep_level, 0);
	CU_ASSERT_EQUAL(rs.naliases, 0);
}

/* A table from before groups: the optional sections absent read as none and the defaults. */
static void
test_without_serving(void)
{
	static const uint32_t optional[] = {MT_SECTION_GROUPS, MT_SECTION_GROUP_MEMBERS, MT_SECTION_ROLE_SERVE,
	    MT_SECTION_ALIASES};
	struct model_table t;
	struct model_role_serve rs;
	char why[MODEL_TABLE_WHY_MAX];
	unsigned char *b = copy(good_len);
	for (size_t k = 0; k < sizeof optional / sizeof optional[0]; k++)
		model_table_put_u32(dir_of(b, optional[k]) + MT_DIR_TYPE, 77);
	CU_ASSERT_EQUAL_FATAL(model_table_parse(b, good_len, &t, why), 0);
	CU_ASSERT_EQUAL_FATAL(model_table_check_serving(&t, why), 0);
	CU_ASSERT_EQUAL(model_table_group_count(&t), 0);
	CU_ASSERT_EQUAL(t.naliases, 0);
	model_table_role_serve(&t, 1, &rs);
	CU_ASSERT_EQUAL(rs.ttl_seconds, 0);
	CU_ASSERT_EQUAL(rs.naliases, 0);
	CU_ASSERT_EQUAL(rs.load_timeout_seconds, 0);
	free(b);
	/* Groups whose members section is gone. */
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_GROUP_MEMBERS) + MT_DIR_TYPE, 77);
	expect(b, good_len, "has groups without members, or serving records that are not one per role");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_ROLE_SERVE) + MT_DIR_COUNT, 2);
	expect(b, good_len, "has groups without members, or serving records that are not one per role");
}

/* Each damage to a group, a member, a serving record or an alias has its message. */
static void
test_group_damage(void)
{
	static const struct {
		uint32_t type, i, off;
		uint64_t value;
		int width;
		const char *want;
	} cases[] = {
		{MT_SECTION_GROUPS, 0, MT_GRP_MEMBERS_COUNT, 1, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUPS, 0, MT_GRP_MEMBERS_COUNT, 3, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUPS, 0, MT_GRP_MEMBERS_COUNT, 65, 4, "group 0: the number at byte 12 is out of range"},
		{MT_SECTION_GROUPS, 0, MT_GRP_MEMBERS_FIRST, 1, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUPS, 0, MT_GRP_FLAGS, 2, 4, "group 0: the number at byte 16 is out of range"},
		{MT_SECTION_GROUPS, 0, MT_GRP_GPU_BYTES, (uint64_t)FIX_GIB, 8, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUPS, 0, MT_GRP_NAME, MODEL_TABLE_NO_STRING, 4, "group 0: the string at byte 0 is missing"},
		{MT_SECTION_GROUP_MEMBERS, 1, MT_GM_ROLE, 1, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUP_MEMBERS, 1, MT_GM_ROLE, 3, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUP_MEMBERS, 1, MT_GM_START_ORDER, 1, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUP_MEMBERS, 1, MT_GM_START_ORDER, 2, 4, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUP_MEMBERS, 1, MT_GM_KV_CACHE_BYTES, 0, 8, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUP_MEMBERS, 0, MT_GM_SLEEP_GPU_BYTES, 4 * (uint64_t)FIX_GIB, 8, "group 0 ('lightweight+code'): its members do not hold together"},
		{MT_SECTION_GROUP_MEMBERS, 0, MT_GM_MAX_MODEL_LEN, 0, 4, "group member 0: the number at byte 24 is out of range"},
		{MT_SECTION_GROUP_MEMBERS, 1, MT_GM_FLAGS, 2, 4, "group member 1: the number at byte 28 is out of range"},
		{MT_SECTION_ROLE_SERVE, 1, MT_RS_SLEEP_LEVEL, 3, 4, "serving 1: the number at byte 4 is out of range"},
		{MT_SECTION_ROLE_SERVE, 1, MT_RS_ALIASES_COUNT, 3, 4, "serving 1: its aliases or sleep numbers do not hold together"},
		{MT_SECTION_ROLE_SERVE, 1, MT_RS_SLEEP_LEVEL, 2, 4, "serving 1: its aliases or sleep numbers do not hold together"},
		{MT_SECTION_ROLE_SERVE, 1, MT_RS_SLEEP_GPU_BYTES, 5 * (uint64_t)FIX_GIB, 8, "serving 1: its aliases or sleep numbers do not hold together"},
		{MT_SECTION_ALIASES, 1, MT_ARG_STRING, MODEL_TABLE_NO_STRING, 4, "alias 1: the string at byte 0 is missing"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char *b = copy(good_len);
		unsigned char *p = rec(b, cases[i].type, cases[i].i) + cases[i].off;
		if (cases[i].width == 4)
			model_table_put_u32(p, (uint32_t)cases[i].value);
		else
			model_table_put_u64(p, cases[i].value);
		if (cases[i].value == MODEL_TABLE_NO_STRING)
			model_table_put_u32(p + 4, 0);
		expect(b, good_len, cases[i].want);
	}
	/* A utilization share outside (0, 1]. */
	unsigned char *b = copy(good_len);
	model_table_put_f64(rec(b, MT_SECTION_GROUP_MEMBERS, 0) + MT_GM_UTILIZATION, 1.25);
	expect(b, good_len, "group member 0: the number at byte 8 is out of range");
}

/* Forward compatibility: a section type this reader does not know, and a record grown longer. */
static void
test_later_writer(void)
{
	/* A type this reader does not know is skipped (so the settings are then missing)... */
	unsigned char *b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_SETTINGS) + MT_DIR_TYPE, 99);
	CU_ASSERT_STRING_EQUAL(parse(b, good_len), "has no section of type 1");
	/* ...and settings grown by 16 bytes at the end of the file are read by their first bytes. */
	unsigned char *n = calloc(1, good_len + MT_SET_SIZE + 16);
	memcpy(n, good, good_len);
	unsigned char *nd = dir_of(n, MT_SECTION_SETTINGS);
	memcpy(n + good_len, rec(n, MT_SECTION_SETTINGS, 0), MT_SET_SIZE);
	model_table_put_u32(nd + MT_DIR_OFFSET, (uint32_t)good_len);
	model_table_put_u32(nd + MT_DIR_RECORD_SIZE, MT_SET_SIZE + 16);
	model_table_put_u64(n + MT_HDR_TOTAL_SIZE, good_len + MT_SET_SIZE + 16);
	/* The string pool must still be where its strings are: move nothing else. */
	CU_ASSERT_STRING_EQUAL(parse(n, good_len + MT_SET_SIZE + 16), "");
	free(n);
	free(b);
}

static void
test_header(void)
{
	unsigned char *b = copy(good_len);
	b[0] = 'X';
	expect(b, good_len, "is not a runtime table (it does not start with MODELCTB)");
	expect(copy(good_len), 4, "is not a runtime table (it does not start with MODELCTB)");
	expect(copy(good_len), 100, "is truncated: 100 bytes, less than its header");
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_VERSION, 1);
	expect(b, good_len, "has format version 1; this switch reads version 2");
	char want[128];
	snprintf(want, sizeof want, "is truncated or damaged: the header says %zu bytes, the file has %zu", good_len,
	    good_len - 1);
	expect(copy(good_len), good_len - 1, want);
	snprintf(want, sizeof want, "is truncated or damaged: the header says %zu bytes, the file has %zu", good_len,
	    good_len + 8);
	expect(copy(good_len + 8), good_len + 8, want);
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_HEADER_SIZE, 12);
	expect(b, good_len, "has a damaged header");
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_NSECTIONS, 1000);
	expect(b, good_len, "has a damaged header");
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_SECTIONS, (uint32_t)good_len - 8);
	expect(b, good_len, "has a damaged header");
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_FLAGS, 6);
	expect(b, good_len, "header 0: the number at byte 40 is out of range");
	/* A digest without the catalog it digests. */
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_FLAGS, MT_HDR_F_DIGEST);
	expect(b, good_len, "has no GPU memory, server command, roles or catalog");
	/* A source whose path is relative. */
	b = copy(good_len);
	memcpy(b + MT_HDR_CATALOG + MT_SRC_PATH, b + MT_HDR_CATALOG_PATH, 8);   /* "models.yaml" */
	model_table_put_u32(b + MT_HDR_CATALOG + MT_SRC_PRESENT, 1);
	expect(b, good_len, "source 0: the string at byte 0 is not a path or commit switch may use");
	b = copy(good_len);
	model_table_put_u32(b + MT_HDR_LOCK + MT_SRC_MTIME_NSEC, 1000000000);
	expect(b, good_len, "source 1: the number at byte 24 is out of range");
}

static void
test_sections(void)
{
	unsigned char *b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_ROLES) + MT_DIR_COUNT, 1000);
	expect(b, good_len, "is truncated: section 1 runs past the end");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_FILES) + MT_DIR_TYPE, MT_SECTION_ROLES);
	expect(b, good_len, "has a section of type 2 this switch cannot read");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_ROLES) + MT_DIR_RECORD_SIZE, MT_ROLE_SIZE - 8);
	expect(b, good_len, "has a section of type 2 this switch cannot read");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_SETTINGS) + MT_DIR_COUNT, 0);
	expect(b, good_len, "has a section of type 1 this switch cannot read");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_STRINGS) + MT_DIR_RECORD_SIZE, 0);
	expect(b, good_len, "has a section of type 5 this switch cannot read");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_ARGS) + MT_DIR_TYPE, 42);
	expect(b, good_len, "has no section of type 4");
	b = copy(good_len);
	model_table_put_u32(dir_of(b, MT_SECTION_ROLES) + MT_DIR_COUNT, 0);
	expect(b, good_len, "has no GPU memory, server command, roles or catalog");
}

static void
test_strings(void)
{
	unsigned char *pool_dir = dir_of(good, MT_SECTION_STRINGS);
	uint32_t pool_len = get32(pool_dir + MT_DIR_COUNT);
	unsigned char *b = copy(good_len);
	unsigned char *r = rec(b, MT_SECTION_ROLES, 1);
	model_table_put_u32(r + MT_ROLE_MODEL_ID, pool_len);
	expect(b, good_len, "role 1: the string at byte 8 does not end inside the string pool");
	/* Offset and length that wrap 32 bits must not pass. */
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 1);
	model_table_put_u32(r + MT_ROLE_MODEL_ID, 16);
	model_table_put_u32(r + MT_ROLE_MODEL_ID + 4, 0xfffffff8u);
	expect(b, good_len, "role 1: the string at byte 8 does not end inside the string pool");
	/* Not NUL-terminated where the length says: one byte too long. */
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 0);
	model_table_put_u32(r + MT_ROLE_NAME + 4, get32(r + MT_ROLE_NAME + 4) + 1);
	expect(b, good_len, "role 0: the string at byte 0 does not end inside the string pool");
	/* One byte too short: a NUL... would be inside at the old end; the byte at the new end is no NUL. */
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 0);
	model_table_put_u32(r + MT_ROLE_NAME + 4, get32(r + MT_ROLE_NAME + 4) - 1);
	expect(b, good_len, "role 0: the string at byte 0 does not end inside the string pool");
	/* A NUL inside. */
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 0);
	b[get32(dir_of(b, MT_SECTION_STRINGS) + MT_DIR_OFFSET) + get32(r + MT_ROLE_NAME) + 2] = '\0';
	expect(b, good_len, "role 0: the string at byte 0 does not end inside the string pool");
	/* NULL with a length; a required string NULL; a required string empty. */
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 2);
	model_table_put_u32(r + MT_ROLE_REPO, MODEL_TABLE_NO_STRING);
	model_table_put_u32(r + MT_ROLE_REPO + 4, 5);
	expect(b, good_len, "role 2: the string at byte 16 is damaged");
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 2);
	model_table_put_u32(r + MT_ROLE_VERDICT, MODEL_TABLE_NO_STRING);
	model_table_put_u32(r + MT_ROLE_VERDICT + 4, 0);
	expect(b, good_len, "role 2: the string at byte 80 is missing");
	b = copy(good_len);
	unsigned char *s = rec(b, MT_SECTION_SETTINGS, 0);
	/* "127.0.0.1" becomes the empty string at its own NUL. */
	model_table_put_u32(s + MT_SET_HOST, get32(s + MT_SET_HOST) + get32(s + MT_SET_HOST + 4));
	model_table_put_u32(s + MT_SET_HOST + 4, 0);
	expect(b, good_len, "settings 0: the string at byte 32 is missing");
	/* A file path that leaves the model's folder, or is absolute; a commit that is a path. */
	static const char *const paths[] = {"../../etc/passwd", "/etc/passwd", "a//b", "./x", "x/..", ""};
	for (size_t k = 0; k < sizeof paths / sizeof paths[0]; k++) {
		/* Write the bad path over the first file's own string, which is long enough ("config.json"). */
		b = copy(good_len);
		unsigned char *f = rec(b, MT_SECTION_FILES, 0);
		unsigned char *at = b + get32(dir_of(b, MT_SECTION_STRINGS) + MT_DIR_OFFSET) + get32(f + MT_FILE_PATH);
		size_t n = strlen(paths[k]);
		if (n > get32(f + MT_FILE_PATH + 4)) {
			free(b);
			continue;
		}
		memcpy(at, paths[k], n + 1);
		model_table_put_u32(f + MT_FILE_PATH + 4, (uint32_t)n);
		expect(b, good_len, "file 0: the string at byte 0 is not a path or commit switch may use");
	}
	b = copy(good_len);
	r = rec(b, MT_SECTION_ROLES, 0);
	uint32_t commit = get32(r + MT_ROLE_COMMIT);
	b[get32(dir_of(b, MT_SECTION_STRINGS) + MT_DIR_OFFSET) + commit] = '/';
	expect(b, good_len, "role 0: the string at byte 32 is not a path or commit switch may use");
}

static void
test_numbers(void)
{
	static const struct {
		uint32_t type, off;
		uint64_t value;
		int width;
		const char *want;
	} cases[] = {
		{MT_SECTION_SETTINGS, MT_SET_PORT, 0, 4, "settings 0: the number at byte 80 is out of range"},
		{MT_SECTION_SETTINGS, MT_SET_PORT, 65536, 4, "settings 0: the number at byte 80 is out of range"},
		{MT_SECTION_SETTINGS, MT_SET_ENGINE, 2, 4, "settings 0: the number at byte 84 is out of range"},
		{MT_SECTION_SETTINGS, MT_SET_CAL_NON_TORCH, 2000 * SIZE_GIB, 8, "settings 0: the number at byte 104 is out of range"},
		{MT_SECTION_SETTINGS, MT_SET_GPU_TOTAL, 0, 8, "has no GPU memory, server command, roles or catalog"},
		{MT_SECTION_ROLES, MT_ROLE_P_TENSOR_PARALLEL, 0, 4, "role 0: the number at byte 152 is out of range"},
		{MT_SECTION_ROLES, MT_ROLE_P_MAX_NUM_SEQS, 1u << 21, 4, "role 0: the number at byte 140 is out of range"},
		{MT_SECTION_ROLES, MT_ROLE_A_LAYERS, 1u << 17, 4, "role 0: the number at byte 184 is out of range"},
		{MT_SECTION_ROLES, MT_ROLE_A_LAYERS + 40, 5, 4, "role 0: the number at byte 224 is out of range"},
		{MT_SECTION_ROLES, MT_ROLE_FLAGS, 32 | MT_ROLE_F_BUDGET, 4, "role 0: the number at byte 116 is out of range"},
		{MT_SECTION_ROLES, MT_ROLE_A_FLAGS, 64, 4, "role 0: the number at byte 228 is out of range"},
		{MT_SECTION_ROLES, MT_ROLE_P_ENGINE, 7, 4, "role 0: the number at byte 160 is out of range"},
		/* Numbers that hold alone but not together. */
		{MT_SECTION_ROLES, MT_ROLE_FILES_FIRST, 100, 4, "role 0 ('primary'): its verdict, files or budget numbers do not hold together"},
		{MT_SECTION_ROLES, MT_ROLE_A_LAYERS + 36, 33, 4, "role 0 ('primary'): its verdict, files or budget numbers do not hold together"},
		{MT_SECTION_ROLES, MT_ROLE_P_WEIGHTS, 0, 8, "role 0 ('primary'): its verdict, files or budget numbers do not hold together"},
		{MT_SECTION_ROLES, MT_ROLE_P_KV_DTYPE_BYTES, 3, 4, "role 0 ('primary'): its verdict, files or budget numbers do not hold together"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char *b = copy(good_len);
		unsigned char *p = rec(b, cases[i].type, 0) + cases[i].off;
		if (cases[i].width == 4)
			model_table_put_u32(p, (uint32_t)cases[i].value);
		else
			model_table_put_u64(p, cases[i].value);
		expect(b, good_len, cases[i].want);
	}
	static const double utils[] = {0, -0.5, 1.5, NAN, INFINITY};
	for (size_t i = 0; i < sizeof utils / sizeof utils[0]; i++) {
		unsigned char *b = copy(good_len);
		model_table_put_f64(rec(b, MT_SECTION_ROLES, 1) + MT_ROLE_P_UTILIZATION, utils[i]);
		expect(b, good_len, "role 1: the number at byte 128 is out of range");
	}
	unsigned char *b = copy(good_len);
	model_table_put_f64(rec(b, MT_SECTION_SETTINGS, 0) + MT_SET_CAL_FORWARD, NAN);
	expect(b, good_len, "settings 0: the number at byte 88 is out of range");
	/* The verdict is one of two words; the primary role must be one of the roles. */
	b = copy(good_len);
	unsigned char *r = rec(b, MT_SECTION_ROLES, 1);
	b[get32(dir_of(b, MT_SECTION_STRINGS) + MT_DIR_OFFSET) + get32(r + MT_ROLE_VERDICT)] = 'U';
	expect(b, good_len, "role 1 ('lightweight'): its verdict, files or budget numbers do not hold together");
	b = copy(good_len);
	unsigned char *s = rec(b, MT_SECTION_SETTINGS, 0);
	memcpy(s + MT_SET_PRIMARY_ROLE, s + MT_SET_HOST, 8);
	expect(b, good_len, "names a primary role '127.0.0.1' it does not have");
}

static void
test_open(void)
{
	struct model_table t;
	char why[MODEL_TABLE_WHY_MAX], dir[64], path[96];
	snprintf(dir, sizeof dir, "/tmp/modelc-table-unit.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/none", dir);
	CU_ASSERT_EQUAL(model_table_open(path, &t, why), -1);
	CU_ASSERT_STRING_EQUAL(why, "cannot open: No such file or directory");
	CU_ASSERT_EQUAL(model_table_open(dir, &t, why), -1);
	CU_ASSERT_STRING_EQUAL(why, "is not a runtime table (not a regular file of 1 byte to 1 GiB)");
	snprintf(path, sizeof path, "%s/switch.table", dir);
	FILE *f = fopen(path, "wb");
	fwrite(good, 1, good_len, f);
	fclose(f);
	CU_ASSERT_EQUAL(model_table_open(path, &t, why), 0);
	CU_ASSERT_EQUAL(t.count, 3);
	/* The staleness check: a recorded source that changed size or time, or went away. */
	struct model_table_source src = {path, good_len, 0, 0};
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	src.mtime_sec = st.st_mtim.tv_sec;
	src.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	CU_ASSERT_EQUAL(model_table_source_changed(&src), 0);
	src.size++;
	CU_ASSERT_EQUAL(model_table_source_changed(&src), 1);
	src.size--;
	src.mtime_nsec ^= 1;
	CU_ASSERT_EQUAL(model_table_source_changed(&src), 1);
	src.path = dir;                 /* exists, and differs */
	CU_ASSERT_EQUAL(model_table_source_changed(&src), 1);
	src.path = "/nonexistent/models.yaml";
	CU_ASSERT_EQUAL(model_table_source_changed(&src), 0);
	src.path = NULL;
	CU_ASSERT_EQUAL(model_table_source_changed(&src), 0);
	unlink(path);
	rmdir(dir);
}

void
suite_model_table(void)
{
	CU_pSuite s = CU_add_suite("model_table", setup, teardown);
	CU_add_test(s, "a good table reads back", test_good);
	CU_add_test(s, "unknown sections and longer records", test_later_writer);
	CU_add_test(s, "groups, members, serving records and aliases read back", test_groups);
	CU_add_test(s, "a table without the serving sections", test_without_serving);
	CU_add_test(s, "damaged groups, members, serving records, aliases", test_group_damage);
	CU_add_test(s, "header: magic, version, sizes, flags, sources", test_header);
	CU_add_test(s, "sections: bounds, types, record sizes, counts", test_sections);
	CU_add_test(s, "strings: pool bounds, NUL, required, paths, commits", test_strings);
	CU_add_test(s, "numbers in range, and together", test_numbers);
	CU_add_test(s, "open, map, staleness", test_open);
}
