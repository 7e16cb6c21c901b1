#include "pxdry.h"

#include <stdio.h>

#include "px.h"
#include "pxgroup.h"
#include "pxinst.h"
#include "size.h"

static const char *const src_names[] = { "", "catalog", "default", "override" };

static void
roles(void)
{
	printf("%-12s %5s %13s %11s %10s %13s %10s %5s  %s\n", "role", "port", "max_model_len", "utilization",
	    "weights", "start timeout", "ttl", "sleep", "aliases");
	for (size_t i = 0; i < px_ninst; i++) {
		const struct px_inst *in = &px_inst[i];
		char ttl[32];
		if (in->ttl_s > 0)
			snprintf(ttl, sizeof ttl, "%.0f s %s", in->ttl_s, src_names[in->ttl_src]);
		else
			snprintf(ttl, sizeof ttl, "never");
		printf("%-12s %5u %13u %11.4g %6.2f GiB %11.0f s %10s %5d%s%s  ", in->e.role, in->port,
		    (unsigned)in->e.max_model_len, in->e.gpu_memory_utilization, size_gib(px_weights_bytes(in)),
		    px_inst_start_timeout(in), ttl, in->sleep_level, in->sleep_src ? " " : "", src_names[in->sleep_src]);
		for (size_t k = 0; k < in->sv.naliases; k++)
			printf("%s%s", k ? ", " : "", px_inst_alias(in, k));
		printf("%s\n", in->sv.naliases ? "" : "-");
	}
}

static void
groups(void)
{
	uint32_t n = model_table_group_count(&px_table);
	if (!n) {
		printf("groups: none in this table: every role needs the whole GPU, so one role is resident at a time\n");
		return;
	}
	printf("groups: %u (members resident together start with these limits, in this start order)\n", (unsigned)n);
	for (uint32_t g = 0; g < n; g++) {
		struct model_group grp;
		model_table_group(&px_table, g, &grp);
		printf("  %s: %.2f GiB at the peak with every member awake, %.2f GiB of host memory for all asleep "
		    "(level 1)\n", grp.name, size_gib(grp.gpu_bytes), size_gib(grp.sleep_host_bytes));
		for (uint32_t order = 0; order < grp.nmembers; order++)
			for (uint32_t k = 0; k < grp.nmembers; k++) {
				struct model_group_member m;
				model_table_group_member(&px_table, &grp, k, &m);
				if (m.start_order != order || m.role >= px_ninst)
					continue;
				printf("    %u. %-12s max_model_len %u, ", (unsigned)order + 1, px_inst[m.role].e.role,
				    (unsigned)m.max_model_len);
				if (m.use_kv_cache_bytes)
					printf("kv_cache_memory_bytes %llu", (unsigned long long)m.kv_cache_bytes);
				else
					printf("gpu_memory_utilization %.4g", m.gpu_memory_utilization);
				printf("; needs %.2f GiB free at its start, holds %.2f GiB awake, %.2f GiB asleep (%.2f GiB of host "
				    "memory at level 1)\n", size_gib(m.free_at_start), size_gib(m.gpu_bytes),
				    size_gib(m.sleep_gpu_bytes), size_gib(m.sleep_host_bytes));
			}
	}
}

void
px_dry_run(void)
{
	printf("listen %s:%u, ports %u-%zu, queue %u, body limit %llu bytes, drain timeout %.0f s\n", px_opt.host,
	    px_opt.port, px_opt.port_base, px_opt.port_base + px_ninst - 1, px_opt.queue_max,
	    (unsigned long long)px_opt.max_body, px_opt.drain_s);
	roles();
	groups();
	printf("ttl and sleep: the catalog's, else --ttl and --sleep-level (default), unless --ttl ROLE=S or "
	    "--sleep-level ROLE=N (override); sleep level 0 stops a role to put it away\n");
	if (model_table_group_count(&px_table))
		printf("residency: a role asked for joins the group that holds it and the awake members used most "
		    "recently (ties: catalog order), with that group's limits; with no member awake, the group with the "
		    "most members waiting to start; else it starts alone, with its own limits\n");
	printf("eviction order: least recently used first, among the instances in the asked role's way: those not "
	    "started with the limits of its group (every one, when it starts alone); when a start or wake lacks "
	    "free memory, the least recently used asleep instance is stopped first\n");
}
