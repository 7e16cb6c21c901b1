/* fuzz-covers: common/model_table.c common/model_table_place.c common/model_table_serve.c */
/*
 * The runtime table switch maps: model_table_parse on any bytes must refuse or accept without
 * reading outside them, and every view of an accepted table (each entry, file and command word,
 * read through as switch reads them, and the serving sections as the proxy reads them) must
 * stay inside the bytes too.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model_table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct model_table t;
	char why[MODEL_TABLE_WHY_MAX];
	/* A copy of exactly size bytes, so that AddressSanitizer sees any read past the end. */
	unsigned char *b = malloc(size ? size : 1);
	if (!b)
		return 0;
	memcpy(b, data, size);
	if (model_table_parse(b, size, &t, why) == 0) {
		size_t sum = strlen(t.hf_home) + strlen(t.hub_cache) + strlen(t.host) + strlen(t.built);
		char hex[2 * MODEL_TABLE_DIGEST_BYTES + 1];
		model_table_digest_hex(&t, hex);
		for (size_t i = 0; i < t.nargs; i++)
			sum += strlen(model_table_arg(&t, i));
		for (size_t i = 0; i < t.count; i++) {
			struct model_entry e;
			struct model_file f;
			model_table_entry(&t, i, &e);
			sum += strlen(e.role) + strlen(e.model_id) + strlen(e.verdict) + (e.repo ? strlen(e.repo) : 0);
			for (uint32_t k = 0; k < e.nfiles; k++) {
				model_table_file(&t, e.files_first + k, &f);
				sum += strlen(f.path);
			}
			for (uint32_t k = 0; k < e.nlocal; k++) {
				model_table_file(&t, e.local_first + k, &f);
				sum += strlen(f.path);
			}
			/* The budget switch re-fits with: bounded inputs, no overflow trap under UBSan. */
			struct budget_result r;
			struct budget_params p = e.params;
			if (e.budget_known) {
				p.gpu_total_bytes = 80 * SIZE_GIB;
				budget_fit_context(&e.arch, &p, 256, &r, NULL);
			}
		}
		/* The placements switch serve re-fits: every rank of every placed role. */
		for (size_t i = 0; i < t.count; i++) {
			struct model_placement p;
			struct model_rank r;
			if (!model_table_placement(&t, i, &p))
				continue;
			sum += strlen(p.host) + (p.interface ? strlen(p.interface) : 0);
			for (uint32_t k = 0; k < p.nranks; k++) {
				model_table_rank(&t, &p, k, &r);
				sum += r.gpu + r.layers;
			}
		}
		/* The serving sections the proxy reads: groups, members, serving records, aliases. */
		if (model_table_check_serving(&t, why) == 0) {
			for (uint32_t i = 0; i < model_table_group_count(&t); i++) {
				struct model_group g;
				struct model_group_member m;
				model_table_group(&t, i, &g);
				sum += strlen(g.name);
				for (uint32_t k = 0; k < g.nmembers; k++) {
					model_table_group_member(&t, &g, k, &m);
					model_table_entry(&t, m.role, &(struct model_entry){0});
				}
			}
			for (size_t i = 0; i < t.count; i++) {
				struct model_role_serve s;
				model_table_role_serve(&t, i, &s);
				for (uint32_t k = 0; k < s.naliases; k++)
					sum += strlen(model_table_alias(&t, s.aliases_first + k));
			}
		}
		(void)sum;
	}
	free(b);
	return 0;
}
