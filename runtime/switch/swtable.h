#ifndef MODELC_SWTABLE_H
#define MODELC_SWTABLE_H

/*
 * switch's view of the runtime table modelc wrote (generated/switch.table, common/model_table.h):
 * loading it, finding an entry by what a user types, and where its files live. Paths come from
 * the table; $MODELC_HF_HOME overrides the Hugging Face home (its hub cache is then
 * $MODELC_HF_HOME/hub), which tests use to point at a scratch cache.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model_table.h"

enum { SWTABLE_PATH_MAX = 4096 };

/* Where the table is when neither --table nor $MODELC_TABLE names one. */
#define SWTABLE_DEFAULT "generated/switch.table"

/*
 * Load the table: option (--table FILE) when not NULL, else $MODELC_TABLE, else
 * SWTABLE_DEFAULT; map it and check all of it. On failure print an error that names the file
 * and what is wrong, with what to do, and return the exit code: EXITCODE_SYSTEM when it cannot
 * be read, EXITCODE_REJECTED when it is not a table this switch reads. 0 when loaded; then,
 * unless quiet, warn when models.yaml or models.lock changed since the build (swtable_stale), or
 * note the build time and digest when they are not here to compare (swtable_unchecked).
 */
int swtable_load(const char *option, bool quiet);

/* The loaded table. */
const struct model_table *swtable_table(void);

/* The path it was loaded from. */
const char *swtable_path(void);

/*
 * The first of the catalog files recorded in the table that exists and differs now in size or
 * modification time (generated/ is older than it), or NULL.
 */
const char *swtable_stale(void);

/*
 * The first catalog file recorded in the table that does not exist here (a GPU host that got a
 * copy of generated/ only), or NULL: then the staleness check cannot run.
 */
const char *swtable_unchecked(void);

/* Role i of the table, decoded into *e. */
void swtable_entry(size_t i, struct model_entry *e);

/* What swtable_files found for an entry's manifest. */
struct swtable_files {
	size_t present;          /* files with the manifest's size */
	size_t total;            /* files in the manifest */
	uint64_t present_bytes;
	uint64_t total_bytes;    /* the manifest's sizes summed */
	const char *dir;         /* the folder checked, or NULL when there is none (no commit known) */
	int dir_exists;
};

/* The entry whose role, local directory, repo id or model id is arg into *e; false when none. */
bool swtable_find(const char *arg, struct model_entry *e);

/* The entry for role, exactly, into *e; false when none. */
bool swtable_role(const char *role, struct model_entry *e);

/* Print "switch: error: unknown role, path or repo 'x'" with the known ones and the nearest. */
void swtable_report_unknown(FILE *out, const char *arg);

/* HF_HOME for the server: $MODELC_HF_HOME, else the table's. */
const char *swtable_hf_home(void);

/* The hub cache folder (static storage). */
const char *swtable_hub_cache(void);

/*
 * <hub cache>/models--owner--name/snapshots/<commit> into buf; the commit is the table's or, when
 * not locked, the one refs/<revision> names. Returns 0, or -1 when the entry has no repo or no
 * commit is known yet.
 */
int swtable_snapshot(const struct model_entry *e, char *buf, size_t cap);

/*
 * The model id the server is launched under and VLLM_MODEL_ID: the local directory when it exists
 * now (stat), else the repo id, else the table's model id (a local-only role).
 */
const char *swtable_model_id(const struct model_entry *e);

/*
 * Stat the entry's files in its local directory (when it exists: its own list when the table has
 * one, else the manifest's) or its snapshot folder (the manifest's).
 */
void swtable_files(const struct model_entry *e, struct swtable_files *f);

/* "present", "partial", "missing" or "unlisted" (a folder exists but the table has no manifest). */
const char *swtable_files_word(const struct swtable_files *f);

#endif
