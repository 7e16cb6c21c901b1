#ifndef MODELC_CATALOG_SERVE_H
#define MODELC_CATALOG_SERVE_H

/*
 * The catalog's serving keys (issue 13): each role's ttl, aliases and sleep_mode, server's
 * sleep_mode and disk_read_rate, and the together: groups. The schema has checked their
 * shapes; this resolves them and reports what it cannot say: a group that names no role or
 * one role twice, a name two roles claim, all_pairs over too many roles.
 */

#include "catalog.h"

/* The most roles together: all_pairs pairs up (64 roles are 2,016 pairs). */
enum { CATALOG_MAX_ALL_PAIRS_ROLES = 64 };

/* Default server.disk_read_rate: 100 MB/s, the schema's default. */
#define CATALOG_DEFAULT_DISK_READ_RATE 100000000ull

/* Fill c's serving fields and its roles' from root (c's roles already loaded). */
void catalog_serve_from_yaml(struct arena *a, struct diag_sink *diag, const struct ynode *root,
    struct catalog *c);

#endif
