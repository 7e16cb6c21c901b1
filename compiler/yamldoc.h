#ifndef MODELC_YAMLDOC_H
#define MODELC_YAMLDOC_H

/*
 * models.yaml as a tree of nodes that remember where they came from. libyaml parses;
 * this module resolves scalars by the YAML 1.2 core schema and rejects what libyaml lets
 * through silently: duplicate keys, anchors, aliases and tags.
 */

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "size.h"

/* Limits that keep a hostile or broken file from exhausting memory or the stack. */
enum { YAMLDOC_MAX_DEPTH = 64, YAMLDOC_MAX_BYTES = 16 * SIZE_MIB };

enum ynode_kind { YNODE_NULL, YNODE_BOOL, YNODE_INT, YNODE_FLOAT, YNODE_STRING, YNODE_SEQ, YNODE_MAP };

struct ynode {
	enum ynode_kind kind;
	struct diag_pos pos;            /* where the value starts */
	const char *text;               /* scalar as written (after YAML unescaping) */
	size_t text_len;                /* may contain NUL from "\0" escapes */
	bool quoted;                    /* a quoted or block scalar: always a string */
	bool boolean;
	long long integer;
	double number;                  /* also set for YNODE_INT */
	size_t count;                   /* items of a sequence, pairs of a map */
	struct ynode **items;           /* sequence items, or map values */
	const char **keys;              /* map keys, in document order */
	struct diag_pos *key_pos;
};

/* Parse text (len bytes) from path into *root; report every problem to diag; 0 on success. */
int yamldoc_parse(struct arena *a, struct diag_sink *diag, const char *path,
    const char *text, size_t len, struct ynode **root);

/* The value of key in a map node, or NULL. */
const struct ynode *yamldoc_get(const struct ynode *map, const char *key);

/* The position of key in a map node (for "unknown key" errors), or the map's position. */
struct diag_pos yamldoc_key_pos(const struct ynode *map, const char *key);

/* Short name of a kind for messages: "string", "integer", "mapping", ... */
const char *yamldoc_kind_name(enum ynode_kind kind);

/* "string 'abc'", "integer '0x10'", "mapping": a node's kind and value for messages; arena-owned. */
const char *yamldoc_describe(struct arena *a, const struct ynode *n);

/* A scalar's text for a message: control characters escaped, long text cut with "..."; arena-owned. */
const char *yamldoc_quote(struct arena *a, const char *text, size_t len);

/* True when n is an integer, or a float with no fraction (1e3): JSON Schema's "integer". */
int yamldoc_integral(const struct ynode *n, double *value);

#endif
