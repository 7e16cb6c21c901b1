#include "pxgroup.h"

#include <string.h>

#include "pxconn.h"

static int
awake(const struct px_inst *o)
{
	return o->st == PXS_STARTING || o->st == PXS_READY || o->st == PXS_WAKING;
}

int
px_group_member(int g, size_t role, struct model_group_member *m)
{
	struct model_group grp;
	if (g < 0 || (uint32_t)g >= model_table_group_count(&px_table))
		return -1;
	model_table_group(&px_table, (size_t)g, &grp);
	for (size_t k = 0; k < grp.nmembers; k++) {
		model_table_group_member(&px_table, &grp, k, m);
		if (m->role == role)
			return 0;
	}
	return -1;
}

const char *
px_group_name(int g)
{
	struct model_group grp;
	model_table_group(&px_table, (size_t)g, &grp);
	return grp.name;
}

/* The last uses of g's awake members but t, newest first, into u; how many. */
static size_t
kept_uses(int g, const struct px_inst *t, double u[PX_MAX_ROLES])
{
	struct model_group_member m;
	size_t n = 0;
	for (size_t i = 0; i < px_ninst; i++) {
		const struct px_inst *o = &px_inst[i];
		if (o == t || !awake(o) || px_group_member(g, i, &m) != 0)
			continue;
		size_t k = n++;
		for (; k > 0 && u[k - 1] < o->last_use; k--)
			u[k] = u[k - 1];
		u[k] = o->last_use;
	}
	return n;
}

/* With no member awake: the group of t with the most other members waiting to start (requests
 * queued, POST /load, --preload), so that they start together; ties in catalog order; -1: none. */
static int
waiting_group(const struct px_inst *t)
{
	struct model_group_member m;
	size_t most = 0;
	int g = -1;
	for (uint32_t i = 0; i < model_table_group_count(&px_table); i++) {
		if (px_group_member((int)i, (size_t)(t - px_inst), &m) != 0)
			continue;
		size_t n = 0;
		for (size_t k = 0; k < px_ninst; k++)
			n += &px_inst[k] != t && px_inst[k].pid <= 0 && (px_inst[k].want || px_conn_oldest((int)k) > 0) &&
			    px_group_member((int)i, k, &m) == 0;
		if (n > most) {
			most = n;
			g = (int)i;
		}
	}
	return g;
}

int
px_group_choose(const struct px_inst *t)
{
	struct model_group_member m;
	double best[PX_MAX_ROLES], cand[PX_MAX_ROLES];
	size_t nbest = 0;
	int g = -1;

	for (uint32_t i = 0; i < model_table_group_count(&px_table); i++) {
		if (px_group_member((int)i, (size_t)(t - px_inst), &m) != 0)
			continue;
		size_t n = kept_uses((int)i, t, cand), k = 0;
		while (k < n && k < nbest && cand[k] == best[k])
			k++;
		if (!n || (k < n && k < nbest && cand[k] < best[k]) || (k == n && n <= nbest))
			continue;
		g = (int)i;
		nbest = n;
		memcpy(best, cand, n * sizeof cand[0]);
	}
	return g >= 0 ? g : waiting_group(t);
}

int
px_group_in_the_way(const struct px_inst *o, const struct px_inst *t, int g)
{
	if (o == t)
		return 0;
	if (o->st == PXS_SLEEPING || o->st == PXS_STOPPING)
		return 1; /* its memory is changing: wait for it */
	if (!awake(o) && o->st != PXS_DRAINING)
		return 0;
	return g < 0 || o->grp != g;
}

uint64_t
px_weights_bytes(const struct px_inst *in)
{
	return in->e.total_bytes ? in->e.total_bytes : in->e.params.weights_bytes;
}

uint64_t
px_group_need_bytes(const struct px_inst *t, int g, int waking)
{
	struct model_group_member m;
	/* Alone, the start's re-fit decides, and a wake gets back what the instance had (its limits
	 * may be lowered ones the table's figures do not describe). */
	if (g < 0 || px_group_member(g, (size_t)(t - px_inst), &m) != 0)
		return 0;
	if (!waking)
		return m.free_at_start;
	return m.gpu_bytes > m.sleep_gpu_bytes ? m.gpu_bytes - m.sleep_gpu_bytes : 0;
}

uint64_t
px_sleep_host_bytes(const struct px_inst *in)
{
	struct model_group_member m;
	uint64_t b = in->sv.sleep_host_bytes;
	if (in->grp >= 0 && px_group_member(in->grp, (size_t)(in - px_inst), &m) == 0 && m.sleep_host_bytes)
		b = m.sleep_host_bytes;
	return b ? b : px_weights_bytes(in);
}
