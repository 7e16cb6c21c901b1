/* fuzz-covers: compiler/yamldoc.c compiler/jsonschema.c compiler/jsonschema_load.c compiler/jsonschema_scalar.c compiler/catalog.c */
/*
 * The catalog front end as models.yaml from a pull request reaches it: YAML parse, schema
 * check, conversion to a catalog. Any input must end in a verdict, never a crash or a leak.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "jsonschema.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct arena schema_arena;
static struct jschema *schema;
static FILE *devnull;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag_sink diag;
	struct arena a = {0};
	const struct ynode *root = NULL;
	struct ynode *tree = NULL;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	diag_init(&diag, devnull, "fuzz");
	if (!schema) {
		schema = jschema_load(&schema_arena, &diag, "schemas/models.schema.json");
		if (!schema)
			abort();
	}
	if (yamldoc_parse(&a, &diag, "fuzz.yaml", (const char *)data, size, &tree) == 0 && tree) {
		root = tree;
		if (jschema_validate(schema, &a, &diag, root) == 0) {
			struct catalog c;
			(void)catalog_from_yaml(&a, &diag, "schemas", root, "fuzz.yaml", &c);
		}
	}
	arena_free(&a);
	return 0;
}
