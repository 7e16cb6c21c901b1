#ifndef MODELC_SERVEDNAMES_H
#define MODELC_SERVEDNAMES_H

/*
 * The names a role's server answers to (vLLM's --served-model-name), in the one order every
 * launcher uses: switch serve, switch-proxy, llama-swap.yaml, Compose, Kubernetes, the
 * production-stack values and plan.json. vLLM reports the first name in responses and
 * metrics, so it is the catalog's name for the role, the same on every machine. The repo id
 * and the local directory follow, whichever of them is the model id (VLLM_MODEL_ID, what
 * switch users' clients send), so that the list does not depend on which machine built it
 * and a request with any of the names is served whichever launcher started the server.
 */

#include <stddef.h>

enum { SERVEDNAMES_MAX = 40 };  /* 4 names + the catalog's 32 aliases + the role name */

struct servednames_role {
	const char *served;             /* served_model_name; NULL: the role name */
	const char *role;
	const char *const *aliases;     /* catalog order */
	size_t naliases;
	const char *model_id;           /* VLLM_MODEL_ID where the server runs */
	const char *repo, *local_dir;   /* NULL when none */
};

/*
 * The names into out: served, role, aliases, repo id, local directory, model id (when it is
 * neither), each once (NULL and empty ones skipped). Returns how many; at most SERVEDNAMES_MAX.
 */
size_t servednames_list(const struct servednames_role *r, const char *out[SERVEDNAMES_MAX]);

#endif
