#ifndef MODELC_REPOID_H
#define MODELC_REPOID_H

/*
 * Hugging Face repository ids ("name" or "owner/name"), by the rule of huggingface_hub's
 * validate_repo_id: one '/' at most; each part 1 to 96 of [A-Za-z0-9_.-], starting and ending
 * with [A-Za-z0-9_]; no "--" or ".." anywhere; no ".git" at the end. Two deviations, both
 * stricter: the client leaves the owner's length open, modelc bounds it by 96 like the name, so
 * that the cache folder "models--owner--name" always fits in one file name; and the client's
 * Python '$' lets one final newline through, modelc does not. libc only.
 * schemas/models.schema.json and schemas/models.lock.schema.json spell the same rule as a
 * pattern; tests/unit/test_repoid.c holds the three to agreement over tests/schema/repo-ids.txt.
 */

#include <stddef.h>

enum { REPOID_MAX_PART = 96 };

/* 0 when id is a repository id; -1 with the reason ("contains '--'") in why (n bytes, may be 0). */
int repoid_check(const char *id, char *why, size_t n);

#endif
