#ifndef MODELC_EMIT_ENV_H
#define MODELC_EMIT_ENV_H

/*
 * generated/.env and generated/.env.example (shared/reference/envfile.md; docs/outputs.md).
 * Values are written with envfile_write; plan_env.c has already rejected values and keys the
 * rule cannot represent, at their lines in models.yaml, using the key lists below.
 */

#include <stdio.h>

#include "plan.h"

/* Keys .env always sets, NULL-terminated; a role's keys must not collide with them. */
extern const char *const emit_env_global_keys[];

/* Suffixes of each role's keys (<ROLE> + suffix, ROLE upper-cased), NULL-terminated. */
extern const char *const emit_env_role_suffixes[];

/* Suffixes of each together: group member's keys, NULL-terminated: the share, then the context. */
extern const char *const emit_env_group_suffixes[];

/*
 * Room for any key: the longest is a pair's member, GROUP_ + two 32-byte role names joined by
 * '+' + '_' + a role name + the longest suffix (127 bytes), and a NUL.
 */
enum { EMIT_ENV_KEY_MAX = 160 };

/* The .env key of member role of group: GROUP_<GROUP>_<ROLE><suffix>, upper case, '+' as '_'. */
void emit_env_group_key(char buf[EMIT_ENV_KEY_MAX], const char *group, const char *role, const char *suffix);

/* Write generated/.env for p to out; 0, or -1 when a value fails the .env rule (errno EINVAL). */
int emit_env(FILE *out, const struct plan *p);

/* Write generated/.env.example (every variable documented, same values); 0 or -1 as emit_env. */
int emit_env_example(FILE *out, const struct plan *p);

#endif
