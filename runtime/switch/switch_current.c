#include <errno.h>
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
	static struct activefile af;
	const char *file = NULL;
	unsigned line;

	int rc = swcmd_active_file_only(argc, argv, current_usage, &file);
	if (rc >= 0)
		return rc;
	const char *path = activefile_path(file);
	rc = activefile_read(path, &af, &line);
	if (rc == -1 && errno == ENOENT) {
		swcmd_error("no active model: '%s' does not exist; run: eval \"$(switch --set %s)\"\n",
		    path, swtable_table()->primary_role);
		return EXITCODE_REJECTED;
	}
	if (rc == -1) {
		swcmd_error("%s: %s\n", path, strerror(errno));
		return EXITCODE_SYSTEM;
	}
	if (rc == -2) {
		swcmd_error("%s:%u: not a file switch wrote (expected role=... and model_id=...)\n",
		    path, line);
		return EXITCODE_REJECTED;
	}
	struct model_entry entry, *e = &entry;
	if (!swtable_role(af.role, e)) {
		swcmd_error("%s: role '%s' is not in this build's catalog '%s'\n", path, af.role,
		    swtable_table()->catalog_path);
		return EXITCODE_REJECTED;
	}
	/* The id as switch resolves it now: the local directory when it exists, else the repo. */
	const char *id = swtable_model_id(e);
	printf("%s %s\n", e->role, id);
	if (strcmp(af.model_id, id) != 0)
		swcmd_warning("%s names model '%s' for '%s', but the catalog now has '%s'; "
		    "run switch --set %s again\n", path, af.model_id, e->role, id, e->role);
	const char *env = getenv("VLLM_MODEL_ID");
	if (env && strcmp(env, id) != 0)
		swcmd_warning("$VLLM_MODEL_ID is '%s' but %s says '%s' (wrong model loaded?); "
		    "run: eval \"$(switch --set %s)\"\n", env, path, id, e->role);
	return EXITCODE_OK;
}
