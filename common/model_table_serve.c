/*
 * The runtime table's serving sections (6 to 9: together: groups, their members, each role's
 * serving record and its aliases), which only the proxy reads: model_table_check_serving checks
 * them after model_table_parse, so that switch, which does not call it, links none of this.
 */
#include "model_table.h"
#include "model_table_int.h"

#include <stdbool.h>
#include <string.h>

static const struct mt_field alias_fields[] = {
	{MT_ARG_STRING, K_STR_REQ, MT_NOWHERE, 0},
};

#define G(m) (uint16_t)offsetof(struct model_group, m)
#define M(m) (uint16_t)offsetof(struct model_group_member, m)
#define R(m) (uint16_t)offsetof(struct model_role_serve, m)

static const struct mt_field group_fields[] = {
	{MT_GRP_NAME, K_STR_REQ, G(name), 0},
	{MT_GRP_MEMBERS_FIRST, K_U32, G(members_first), MT_LEN},
	{MT_GRP_MEMBERS_COUNT, K_U32, G(nmembers), MODEL_TABLE_MAX_GROUP},
	{MT_GRP_FLAGS, K_MASK, MT_NOWHERE, MT_GRP_F_ALL},
	{MT_GRP_FLAGS, K_BIT, G(all_pairs), MT_GRP_F_ALL_PAIRS},
	{MT_GRP_GPU_BYTES, K_U64, G(gpu_bytes), 0},
	{MT_GRP_SLEEP_HOST_BYTES, K_U64, G(sleep_host_bytes), 0},
};

static const struct mt_field member_fields[] = {
	{MT_GM_ROLE, K_U32, M(role), MT_LEN},
	{MT_GM_START_ORDER, K_U32, M(start_order), MODEL_TABLE_MAX_GROUP - 1},
	{MT_GM_UTILIZATION, K_UTIL, M(gpu_memory_utilization), 0},
	{MT_GM_KV_CACHE_BYTES, K_U64, M(kv_cache_bytes), 0},
	{MT_GM_MAX_MODEL_LEN, K_U32 | K_NONZERO, M(max_model_len), MT_LEN},
	{MT_GM_FLAGS, K_MASK, MT_NOWHERE, MT_GM_F_ALL},
	{MT_GM_FLAGS, K_BIT, M(use_kv_cache_bytes), MT_GM_F_KV_BYTES},
	{MT_GM_GPU_BYTES, K_U64, M(gpu_bytes), 0},
	{MT_GM_FREE_AT_START, K_U64, M(free_at_start), 0},
	{MT_GM_SLEEP_GPU_BYTES, K_U64, M(sleep_gpu_bytes), 0},
	{MT_GM_SLEEP_HOST_BYTES, K_U64, M(sleep_host_bytes), 0},
};

static const struct mt_field serve_fields[] = {
	{MT_RS_TTL, K_U32, R(ttl_seconds), MT_LEN},
	{MT_RS_SLEEP_LEVEL, K_U32, R(sleep_level), 2},
	{MT_RS_ALIASES_FIRST, K_U32, R(aliases_first), MT_LEN},
	{MT_RS_ALIASES_COUNT, K_U32, R(naliases), MT_LEN},
	{MT_RS_SLEEP_GPU_BYTES, K_U64, R(sleep_gpu_bytes), 0},
	{MT_RS_SLEEP_HOST_BYTES, K_U64, R(sleep_host_bytes), 0},
	{MT_RS_AWAKE_GPU_BYTES, K_U64, R(awake_gpu_bytes), 0},
	{MT_RS_LOAD_TIMEOUT, K_U32, R(load_timeout_seconds), MT_LEN},
};


/* Group i's members: distinct roles that exist, start orders a permutation, sizes that add up. */
static int
check_group(const struct model_table *t, size_t i, char *why)
{
	struct model_group g;
	model_table_group(t, i, &g);
	uint64_t orders = 0;
	bool ok = g.nmembers >= 2 && (uint64_t)g.members_first + g.nmembers <= t->sec[MT_SECTION_GROUP_MEMBERS].count;
	for (uint32_t k = 0; ok && k < g.nmembers; k++) {
		const unsigned char *r = mt_record(t, MT_SECTION_GROUP_MEMBERS, g.members_first + k);
		if (mt_check_fields(t, r, member_fields, MT_NFIELDS(member_fields), "group member", g.members_first + k, why))
			return -1;
		struct model_group_member m;
		model_table_group_member(t, &g, k, &m);
		ok = m.role < t->count && m.start_order < g.nmembers && !(orders >> m.start_order & 1) &&
		    m.gpu_bytes <= g.gpu_bytes && m.sleep_gpu_bytes <= m.gpu_bytes &&
		    m.free_at_start <= g.gpu_bytes && (!m.use_kv_cache_bytes || m.kv_cache_bytes);
		orders |= UINT64_C(1) << (m.start_order & 63);
		for (uint32_t j = 0; ok && j < k; j++)
			ok = mt_get32(mt_record(t, MT_SECTION_GROUP_MEMBERS, g.members_first + j) + MT_GM_ROLE) != m.role;
	}
	return ok ? 0 : mt_bad(why, "group %zu ('%s'): its members do not hold together", i, g.name);
}

int
model_table_check_serving(struct model_table *t, char *why)
{
	t->ngroups = t->naliases = 0;
	t->serving_checked = false;
	if ((t->sec[MT_SECTION_GROUPS].count && !t->sec[MT_SECTION_GROUP_MEMBERS].at) ||
	    (t->sec[MT_SECTION_ROLE_SERVE].at && t->sec[MT_SECTION_ROLE_SERVE].count != t->count))
		return mt_bad(why, "has groups without members, or serving records that are not one per role");
	for (uint32_t i = 0; i < t->sec[MT_SECTION_ALIASES].count; i++)
		if (mt_check_fields(t, mt_record(t, MT_SECTION_ALIASES, i), alias_fields, 1, "alias", i, why))
			return -1;
	t->naliases = t->sec[MT_SECTION_ALIASES].count;
	for (uint32_t i = 0; i < t->sec[MT_SECTION_GROUPS].count; i++)
		if (mt_check_fields(t, mt_record(t, MT_SECTION_GROUPS, i), group_fields, MT_NFIELDS(group_fields), "group", i,
		    why) || check_group(t, i, why))
			return -1;
	for (uint32_t i = 0; t->sec[MT_SECTION_ROLE_SERVE].at && i < t->count; i++) {
		struct model_role_serve s;
		if (mt_check_fields(t, mt_record(t, MT_SECTION_ROLE_SERVE, i), serve_fields, MT_NFIELDS(serve_fields), "serving",
		    i, why))
			return -1;
		memset(&s, 0, sizeof s);
		mt_decode_fields(t, mt_record(t, MT_SECTION_ROLE_SERVE, i), serve_fields, MT_NFIELDS(serve_fields), &s);
		if ((uint64_t)s.aliases_first + s.naliases > t->naliases ||
		    (s.awake_gpu_bytes && s.sleep_gpu_bytes > s.awake_gpu_bytes) || (s.sleep_level != 1 && s.sleep_host_bytes))
			return mt_bad(why, "serving %u: its aliases or sleep numbers do not hold together", (unsigned)i);
	}
	t->ngroups = t->sec[MT_SECTION_GROUPS].count;
	t->serving_checked = true;
	return 0;
}


uint32_t
model_table_group_count(const struct model_table *t)
{
	return t->ngroups;
}

void
model_table_group(const struct model_table *t, size_t i, struct model_group *g)
{
	memset(g, 0, sizeof *g);
	mt_decode_fields(t, mt_record(t, MT_SECTION_GROUPS, i), group_fields, MT_NFIELDS(group_fields), g);
	g->index = i;
}

void
model_table_group_member(const struct model_table *t, const struct model_group *g, size_t k,
    struct model_group_member *m)
{
	memset(m, 0, sizeof *m);
	mt_decode_fields(t, mt_record(t, MT_SECTION_GROUP_MEMBERS, g->members_first + k), member_fields,
	    MT_NFIELDS(member_fields), m);
}

void
model_table_role_serve(const struct model_table *t, size_t i, struct model_role_serve *s)
{
	memset(s, 0, sizeof *s);
	if (t->serving_checked && t->sec[MT_SECTION_ROLE_SERVE].at)
		mt_decode_fields(t, mt_record(t, MT_SECTION_ROLE_SERVE, i), serve_fields, MT_NFIELDS(serve_fields), s);
}

const char *
model_table_alias(const struct model_table *t, size_t i)
{
	return mt_str_at(t, mt_record(t, MT_SECTION_ALIASES, i) + MT_ARG_STRING);
}
