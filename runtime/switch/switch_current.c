#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activefile.h"
#include "exitcode.h"
#include "swcmd.h"
#include "swtable.h"

static const char current_usage[] = "switch current [--active-file FILE]";

int
swcmd_current(int argc, char **argv)
{
	const char *file = NULL, *recorded = NULL;
	struct model_entry entry, *e = &entry;

	int rc = swcmd_parse_active(argc, argv, current_usage, &file, NULL);
	if (rc >= 0)
		return rc;
	if (!swcmd_pick_entry(NULL, file, true, e, &rc, &recorded))
		return rc;
	const char *path = activefile_path(file);
	/* The id as switch resolves it now: the local directory when it exists, else the repo. */
	const char *id = swtable_model_id(e);
	printf("%s %s\n", e->role, id);
	if (strcmp(recorded, id) != 0)
		swcmd_warning("%s names model '%s' for '%s', but the catalog now has '%s'; "
		    "run switch --set %s again\n", path, recorded, e->role, id, e->role);
	const char *env = getenv("VLLM_MODEL_ID");
	if (env && strcmp(env, id) != 0)
		swcmd_warning("$VLLM_MODEL_ID is '%s' but %s says '%s' (wrong model loaded?); "
		    "run: eval \"$(switch --set %s)\"\n", env, path, id, e->role);
	return EXITCODE_OK;
}
