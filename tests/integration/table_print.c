/*
 * Prints a runtime table (generated/switch.table) through the reader switch uses, in the form
 * tests/integration/test_table_reads.sh derives from the manifests: strings as hex (any byte
 * survives), NULL as "null". libc only, so it links with musl-gcc as switch does. With
 * --check it only validates: exit 0, or 1 with the reader's message on stderr.
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

int
main(int argc, char **argv)
{
	static struct model_table t;
	char why[MODEL_TABLE_WHY_MAX];
	int check = argc == 3 && strcmp(argv[1], "--check") == 0;
	const char *path = argv[argc - 1];

	if (argc < 2 || argc > 3 || (argc == 3 && !check)) {
		fputs("usage: table_print [--check] FILE\n", stderr);
		return 2;
	}
	if (model_table_open(path, &t, why) != 0) {
		fprintf(stderr, "%s: %s\n", path, why);
		return 1;
	}
	if (check)
		return 0;
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
