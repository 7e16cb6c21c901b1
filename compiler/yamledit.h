#ifndef MODELC_YAMLEDIT_H
#define MODELC_YAMLEDIT_H

/*
 * Comment-preserving edits of a YAML text such as models.yaml: give a block mapping, found by
 * its path of keys, a `key: value` line, replacing the value where it stands or inserting a
 * line at the mapping's indentation. Every other byte is kept, comments, blank lines, quoting
 * and line ends included. The text is parsed with yamldoc only to learn where things are;
 * layouts it cannot change safely (a flow mapping, a value over several lines) are refused
 * with the reason, so the caller can tell the user what to write by hand.
 */

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"
#include "diag.h"
#include "yamldoc.h"

/* A text being edited. Fill it with yamledit_init; each edit replaces text and len. */
struct yamledit {
	struct arena *a;                /* owns every text and parse */
	struct diag_sink *diag;         /* where the text's parse errors go */
	const char *file;               /* the text's name in those errors */
	const char *noun;               /* what refusals call the mapping ("the role"); NULL: "the mapping" */
	const char *text;               /* the current text, NUL-terminated */
	size_t len;
	const struct ynode *root;       /* its parse, made when first needed */
	bool broken;                    /* the text does not parse (reported once) */
};

/* Start editing the len bytes of text (borrowed until the first edit replaces it). */
void yamledit_init(struct yamledit *e, struct arena *a, struct diag_sink *diag, const char *file,
    const char *text, size_t len);

/*
 * The node at path, a NULL-terminated list of mapping keys ({NULL} is the document), in the
 * current text; NULL when there is none or the text does not parse (reported to diag).
 */
const struct ynode *yamledit_get(struct yamledit *e, const char *const *path);

/*
 * Give the block mapping at path `key: value`, value a string (written plain when YAML reads
 * it back as that string, else single-quoted): an existing key's value is replaced in place,
 * keeping its comment; a new key gets a line of its own after the line of the key named after
 * when the mapping has it (before that line when its value goes on over more lines), else
 * before the mapping's first key. 0, or -1 with *why (arena-owned) saying why the text was
 * left as it was.
 */
int yamledit_set(struct yamledit *e, const char *const *path, const char *key, const char *value,
    const char *after, const char **why);

/*
 * Give the block mapping at path a new key whose value is a block mapping of pairs (key,
 * value, ..., NULL; a decimal integer as that number, other values as yamledit_set writes
 * them), after the mapping's last entry and
 * what belongs to it, at the indentation its entries use. -1 with *why when the key exists
 * or the layout cannot take it.
 */
int yamledit_add_map(struct yamledit *e, const char *const *path, const char *key, const char *const *pairs,
    const char **why);

#endif
