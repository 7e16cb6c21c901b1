/*
 * The runtime table's placements (sections 10 and 11): the roles of a hosts: catalog that modelc
 * split over GPUs, and each rank's GPU and budget inputs. model_table_parse checks them last,
 * since switch serve and doctor start and re-fit from them: sizes that multiply to the ranks,
 * stages in vLLM's order, layers that add up to the model's, one rank per GPU of a host.
 */
#include "model_table.h"
#include "model_table_int.h"

#include <string.h>

#include "budget_rank.h"

#define P(m) (uint16_t)offsetof(struct model_placement, m)
#define K(m) (uint16_t)offsetof(struct model_rank, m)

/* One placement's ranks; their order is checked pairwise, and the runs follow each other. */
enum { MT_MAX_RANKS = 4096 };

static const struct mt_field placement_fields[] = {
	{MT_PL_ROLE, K_U32, P(role), MT_LEN},
	{MT_PL_TP, K_U32 | K_NONZERO, P(tp), 1024},
	{MT_PL_PP, K_U32 | K_NONZERO, P(pp), BUDGET_RANK_MAX_PP},
	{MT_PL_DP, K_U32 | K_NONZERO, P(dp), 1024},
	{MT_PL_NODES, K_U32 | K_NONZERO, P(nodes), 1024},
	{MT_PL_FLAGS, K_MASK, MT_NOWHERE, MT_PL_F_ALL},
	{MT_PL_FLAGS, K_BIT, P(p2p_disable), MT_PL_F_P2P_DISABLE},
	{MT_PL_FLAGS, K_BIT, P(nvlink), MT_PL_F_NVLINK},
	{MT_PL_FLAGS, K_BIT, P(partition_set), MT_PL_F_PARTITION},
	{MT_PL_FLAGS, K_BIT, P(expert_parallel), MT_PL_F_EXPERT},
	{MT_PL_FLAGS, K_BIT, P(ray), MT_PL_F_RAY},
	{MT_PL_HOST, K_STR_REQ, P(host), 0},
	{MT_PL_INTERFACE, K_STR, P(interface), 0},
	{MT_PL_UTILIZATION, K_UTIL, P(utilization), 0},
	{MT_PL_KV_CACHE_BYTES, K_U64, P(kv_cache_bytes), 1024},
	{MT_PL_RANKS_FIRST, K_U32, P(ranks_first), MT_LEN},
	{MT_PL_RANKS_COUNT, K_U32 | K_NONZERO, P(nranks), MT_MAX_RANKS},
};

static const struct mt_field rank_fields[] = {
	{MT_RK_GPU, K_U32, K(gpu), 1u << 16},
	{MT_RK_NODE, K_U32, K(node), 1024},
	{MT_RK_STAGE, K_U32, K(stage), 63},
	{MT_RK_LAYERS, K_U32 | K_NONZERO, K(layers), 1u << 16},
	{MT_RK_WEIGHTS, K_U64, K(weights_bytes), 1u << 20},
	{MT_RK_GPU_TOTAL, K_U64, K(gpu_total_bytes), 1u << 20},
};

static void
decode_placement(const struct model_table *t, size_t i, struct model_placement *p)
{
	memset(p, 0, sizeof *p);
	mt_decode_fields(t, mt_record(t, MT_SECTION_PLACEMENTS, i), placement_fields, MT_NFIELDS(placement_fields), p);
}

/* Placement i's ranks: in vLLM's order, on hosts in order, a GPU once per host, whole stages. */
static int
check_ranks(const struct model_table *t, size_t i, const struct model_placement *p, char *why)
{
	struct model_entry e;
	struct model_rank r, q;
	uint64_t layers = 0;
	model_table_entry(t, p->role, &e);
	bool ok = (uint64_t)p->tp * p->pp * p->dp == p->nranks &&
	    (uint64_t)p->ranks_first + p->nranks <= t->sec[MT_SECTION_RANKS].count &&
	    (!e.budget_known || e.params.tensor_parallel == p->tp);
	for (uint32_t k = 0; ok && k < p->nranks; k++) {
		if (mt_check_fields(t, mt_record(t, MT_SECTION_RANKS, p->ranks_first + k), rank_fields,
		    MT_NFIELDS(rank_fields), "rank", p->ranks_first + k, why))
			return -1;
		model_table_rank(t, p, k, &r);
		ok = r.stage == k / p->tp % p->pp && r.node < p->nodes && (k + 1 < p->nranks || r.node + 1 == p->nodes);
		if (k < p->tp * p->pp && k % p->tp == 0)
			layers += r.layers;     /* the first replica's stages */
		for (uint32_t j = 0; ok && j < k; j++) {
			model_table_rank(t, p, j, &q);
			ok = q.node < r.node || (q.node == r.node && q.gpu != r.gpu);
		}
	}
	if (ok && (!e.budget_known || layers == e.arch.layers))
		return 0;
	return mt_bad(why, "placement %zu ('%s'): its sizes, ranks or GPUs do not hold together", i, e.role);
}

int
mt_check_placements(const struct model_table *t, char *why)
{
	uint32_t n = t->sec[MT_SECTION_PLACEMENTS].count, next = 0, last = 0;
	if (n && !t->sec[MT_SECTION_RANKS].at)
		return mt_bad(why, "has placements without ranks");
	for (uint32_t i = 0; i < n; i++) {
		struct model_placement p;
		if (mt_check_fields(t, mt_record(t, MT_SECTION_PLACEMENTS, i), placement_fields,
		    MT_NFIELDS(placement_fields), "placement", i, why))
			return -1;
		decode_placement(t, i, &p);
		if (p.role >= t->count || (i && p.role <= last) || p.ranks_first != next)
			return mt_bad(why, "placement %u: role %u or its first rank %u is out of order", (unsigned)i,
			    (unsigned)p.role, (unsigned)p.ranks_first);
		if (check_ranks(t, i, &p, why))
			return -1;
		last = p.role;
		next = p.ranks_first + p.nranks;
	}
	return 0;
}

bool
model_table_placement(const struct model_table *t, size_t i, struct model_placement *p)
{
	for (uint32_t k = 0; k < t->sec[MT_SECTION_PLACEMENTS].count; k++) {
		decode_placement(t, k, p);
		if (p->role == i)
			return true;
	}
	return false;
}

void
model_table_rank(const struct model_table *t, const struct model_placement *p, size_t k, struct model_rank *r)
{
	memset(r, 0, sizeof *r);
	mt_decode_fields(t, mt_record(t, MT_SECTION_RANKS, p->ranks_first + k), rank_fields, MT_NFIELDS(rank_fields), r);
}
