/*
 * Prints a runtime table (generated/switch.table) through the reader switch uses, in the form
 * tests/integration/test_table_reads.sh derives from the manifests: strings as hex (any byte
 * survives), NULL as "null". libc only, so it links with musl-gcc as switch does. With
 * --check it only validates: exit 0, or 1 with the reader's message on stderr. With --serving
 * it prints the serving sections instead, as the proxy reads them: each role's serving record
 * and every group with its members (test_table_groups.sh).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "model_table.h"

static void
hex(const char *label, const char *s)
{
	printf("%s=", label);
	if (!s) {
		puts("null");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		printf("%02x", *p);
	putchar('\n');
}

static int
print_serving(struct model_table *t)
{
	char why[MODEL_TABLE_WHY_MAX];
	if (model_table_check_serving(t, why) != 0) {
		fprintf(stderr, "serving: %s\n", why);
		return 1;
	}
	for (uint32_t i = 0; i < t->count; i++) {
		struct model_entry e;
		struct model_role_serve s;
		model_table_entry(t, i, &e);
		model_table_role_serve(t, i, &s);
		printf("role %s ttl=%u sleep=%u awake=%" PRIu64 " asleep=%" PRIu64 " host=%" PRIu64 " timeout=%u aliases=",
		    e.role, (unsigned)s.ttl_seconds, (unsigned)s.sleep_level, s.awake_gpu_bytes, s.sleep_gpu_bytes,
		    s.sleep_host_bytes, (unsigned)s.load_timeout_seconds);
		for (uint32_t k = 0; k < s.naliases; k++)
			printf("%s%s", k ? "," : "", model_table_alias(t, s.aliases_first + k));
		putchar('\n');
	}
	for (uint32_t i = 0; i < model_table_group_count(t); i++) {
		struct model_group g;
		model_table_group(t, i, &g);
		printf("group %s pairs=%d gpu=%" PRIu64 " host=%" PRIu64 "\n", g.name, g.all_pairs, g.gpu_bytes,
		    g.sleep_host_bytes);
		for (uint32_t k = 0; k < g.nmembers; k++) {
			struct model_group_member m;
			struct model_entry e;
			model_table_group_member(t, &g, k, &m);
			model_table_entry(t, m.role, &e);
			printf("  member %s start=%u util=%.4f len=%u kv=%" PRIu64 " gpu=%" PRIu64 " free=%" PRIu64
			    " asleep=%" PRIu64 " host=%" PRIu64 "\n", e.role, (unsigned)m.start_order,
			    m.gpu_memory_utilization, (unsigned)m.max_model_len, m.kv_cache_bytes, m.gpu_bytes,
			    m.free_at_start, m.sleep_gpu_bytes, m.sleep_host_bytes);
		}
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static struct model_table t;
	char why[MODEL_TABLE_WHY_MAX];
	int check = argc == 3 && strcmp(argv[1], "--check") == 0;
	int serving = argc == 3 && strcmp(argv[1], "--serving") == 0;
	const char *path = argv[argc - 1];

	if (argc < 2 || argc > 3 || (argc == 3 && !check && !serving)) {
		fputs("usage: table_print [--check|--serving] FILE\n", stderr);
		return 2;
	}
	if (model_table_open(path, &t, why) != 0) {
		fprintf(stderr, "%s: %s\n", path, why);
		return 1;
	}
	if (check)
		return 0;
	if (serving)
		return print_serving(&t);
	printf("count=%u\n", (unsigned)t.count);
	for (uint32_t i = 0; i < t.count; i++) {
		struct model_entry e;
		struct model_file f;
		model_table_entry(&t, i, &e);
		hex("role", e.role);
		hex("repo", e.repo);
		hex("revision", e.revision);
		hex("commit", e.commit);
		hex("local_dir", e.local_dir);
		for (uint32_t k = 0; k < e.nfiles; k++) {
			model_table_file(&t, e.files_first + k, &f);
			hex("path", f.path);
			printf("size=%" PRIu64 "\n", f.size);
		}
		printf("total=%" PRIu64 "\n", e.total_bytes);
	}
	return 0;
}
