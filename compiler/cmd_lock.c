/*
 * modelc lock: resolve each Hub role of models.yaml to a commit with its files, hashes,
 * config and exact weight bytes, and write models.lock (sorted, atomically). Entries of roles
 * not named on the command line are kept as they are. Nothing is written when any role fails.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "catalog.h"
#include "commands.h"
#include "diag.h"
#include "exitcode.h"
#include "frontend.h"
#include "hub.h"
#include "hubresolve.h"
#include "lock.h"

static void
usage(FILE *out)
{
	fputs("usage: modelc lock [ROLE...] [FILE] [--lock FILE]\n"
	      "  ROLE        roles to resolve again (default: every role with a repo)\n"
	      "  FILE        the catalog (default models.yaml)\n"
	      "  --lock FILE where to write (default models.lock next to FILE)\n"
	      "Reads HF_ENDPOINT and HF_TOKEN (or the token file of 'hf auth login'); the token is sent\n"
	      "to the Hub's host only.\n", out);
}

static bool
is_role_name(const char *s)
{
	if (!(*s >= 'a' && *s <= 'z'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return strlen(s) <= CATALOG_MAX_ROLE_NAME;
}

int
cmd_lock(int argc, char **argv)
{
	const char *catalog_path = "models.yaml", *lock_path = NULL;
	const char **roles = calloc((size_t)argc + 1, sizeof *roles);
	size_t nroles = 0;
	bool catalog_set = false;
	if (!roles)
		return EXITCODE_SYSTEM;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			free(roles);
			return EXITCODE_OK;
		} else if (!strcmp(arg, "--version")) {
			printf("modelc %s\n", MODELC_VERSION);
			free(roles);
			return EXITCODE_OK;
		} else if (!strcmp(arg, "--lock")) {
			if (i + 1 >= argc) {
				diag_print(stderr, "modelc: lock: --lock needs an argument\n");
				goto bad;
			}
			lock_path = argv[++i];
		} else if (arg[0] == '-' && arg[1]) {
			diag_print(stderr, "modelc: lock: unknown option '%s'\n", arg);
			goto bad;
		} else if (is_role_name(arg) && !strchr(arg, '.')) {
			roles[nroles++] = arg;
		} else if (catalog_set) {
			diag_print(stderr, "modelc: lock: more than one catalog ('%s' and '%s')\n", catalog_path, arg);
			goto bad;
		} else {
			catalog_path = arg;
			catalog_set = true;
		}
	}
	struct arena a = {0};
	struct diag_sink diag;
	diag_init(&diag, stderr, "modelc");
	struct catalog cat;
	int rc = frontend_load(&a, &diag, catalog_path, NULL, &cat);
	if (rc != EXITCODE_OK)
		goto out;
	if (!lock_path)
		lock_path = lock_path_next_to(&a, catalog_path);
	/* Roles named on the command line must exist. */
	for (size_t r = 0; r < nroles; r++) {
		bool found = false;
		for (size_t k = 0; k < cat.nroles; k++)
			found |= !strcmp(cat.roles[k].name, roles[r]);
		if (!found) {
			diag_error(&diag, diag_file(catalog_path), "no role '%s' in the catalog", roles[r]);
			rc = EXITCODE_REJECTED;
		}
	}
	if (rc)
		goto out;
	struct lock old = {0};
	FILE *probe = fopen(lock_path, "r");
	if (probe) {
		fclose(probe);
		if (lock_read(&a, &diag, lock_path, frontend_schema_dir(&a, catalog_path), &old)) {
			diag_note(&diag, diag_file(lock_path), "fix it or delete it, then run 'modelc lock' again");
			rc = EXITCODE_REJECTED;
			goto out;
		}
	}
	char err[3 * HUB_URL_MAX];
	struct hub hub;
	if (hub_open(&hub, err, sizeof err)) {
		diag_print(stderr, "modelc: lock: %s\n", err);
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	if (hub.offline) {
		diag_print(stderr, "modelc: lock: HF_HUB_OFFLINE is set, and 'modelc lock' must ask the Hub; unset it "
		    "(models.lock was not changed)\n");
		hub_close(&hub);
		rc = EXITCODE_REJECTED;
		goto out;
	}
	/* Start from the old entries; replace the ones resolved now. */
	size_t cap = old.nmodels + cat.nroles + 1;
	struct lock nl = {.path = lock_path, .models = arena_alloc(&a, cap * sizeof *nl.models)};
	for (size_t i = 0; i < old.nmodels; i++)
		nl.models[nl.nmodels++] = old.models[i];
	unsigned resolved = 0;
	for (size_t k = 0; k < cat.nroles; k++) {
		const struct catalog_role *role = &cat.roles[k];
		bool wanted = nroles == 0;
		for (size_t r = 0; r < nroles; r++)
			wanted |= !strcmp(roles[r], role->name);
		if (!wanted || !role->repo)
			continue;
		const char *rev = role->revision ? role->revision : "main";
		const char *key = arena_printf(&a, "%s@%s", role->repo, rev);
		size_t slot = 0;
		while (slot < nl.nmodels && strcmp(nl.models[slot].key, key))
			slot++;
		bool done_now = false;
		for (size_t j = 0; j < k; j++)
			done_now |= cat.roles[j].repo && !strcmp(arena_printf(&a, "%s@%s", cat.roles[j].repo,
			    cat.roles[j].revision ? cat.roles[j].revision : "main"), key) && (nroles == 0);
		if (done_now)
			continue;
		struct lock_model m;
		int r = hubresolve_model(&hub, &a, role->repo, rev, &m, stderr, err, sizeof err);
		if (r) {
			struct diag_pos pos = yamldoc_key_pos(role->node, "repo");
			diag_error(&diag, pos, "roles.%s: %s", role->name, err);
			rc = r > rc ? r : rc;
			continue;
		}
		if (slot == nl.nmodels)
			nl.nmodels++;
		nl.models[slot] = m;
		resolved++;
		uint64_t total = 0;
		for (size_t f = 0; f < m.nfiles; f++)
			total += m.files[f].size.known ? m.files[f].size.value : 0;
		printf("modelc: lock: %s: %s -> %s (%zu files, %llu bytes; weights %s%llu bytes)\n", role->name, key,
		    m.commit, m.nfiles, (unsigned long long)total, m.weights_bytes.known ? "" : "unknown, ",
		    (unsigned long long)m.weights_bytes.value);
	}
	hub_close(&hub);
	if (rc) {
		diag_print(stderr, "modelc: lock: %u error%s; %s was not changed\n", diag.errors, diag.errors == 1 ? "" : "s",
		    lock_path);
		goto out;
	}
	if (lock_write(&nl, lock_path)) {
		diag_print(stderr, "%s: %s\n", lock_path, strerror(errno));
		rc = EXITCODE_SYSTEM;
		goto out;
	}
	printf("modelc: lock: wrote %s (%u resolved, %zu entries)\n", lock_path, resolved, nl.nmodels);
out:
	arena_free(&a);
	free(roles);
	return rc;
bad:
	usage(stderr);
	free(roles);
	return EXITCODE_USAGE;
}
