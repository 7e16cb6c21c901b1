/*
 * Prints a compiled model table in the form tests/integration/test_table_compiles.sh derives
 * from the manifests: strings as hex (any byte survives), NULL as "null". libc only, so it
 * links with musl-gcc as switch does.
 */
#include <inttypes.h>
#include <stdio.h>

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

int
main(void)
{
	printf("count=%zu\n", model_table.count);
	for (size_t i = 0; i < model_table.count; i++) {
		const struct model_entry *e = &model_table.entries[i];
		hex("role", e->role);
		hex("repo", e->repo);
		hex("revision", e->revision);
		hex("commit", e->commit);
		hex("local_dir", e->local_dir);
		for (size_t k = 0; k < e->nfiles; k++) {
			hex("path", e->files[k].path);
			printf("size=%" PRIu64 "\n", e->files[k].size);
		}
		printf("total=%" PRIu64 "\n", e->total_bytes);
	}
	return 0;
}
