#include "yamledit.h"

#include <string.h>

/* Byte offset of the start of 1-based line, or (size_t)-1. */
static size_t
line_start(const char *text, size_t len, unsigned line)
{
	size_t off = 0;
	for (unsigned n = 1; n < line; n++) {
		const char *nl = memchr(text + off, '\n', len - off);
		if (!nl)
			return (size_t)-1;
		off = (size_t)(nl - text) + 1;
	}
	return off;
}

static size_t
line_end(const char *text, size_t len, size_t off)
{
	const char *nl = memchr(text + off, '\n', len - off);
	return nl ? (size_t)(nl - text) : len;
}

/* A YAML string scalar: plain when nothing in it means anything to YAML, else single-quoted. */
static char *
yaml_scalar(struct arena *a, const char *v)
{
	/* A plain scalar that YAML would read as null, a boolean or a number must be quoted. */
	static const char *const special[] = {"null", "Null", "NULL", "true", "True", "TRUE", "false", "False",
		"FALSE", NULL};
	/* "7991 MiB": a number and a unit is no YAML number, so it may start with a digit. */
	size_t n0 = strlen(v);
	bool size = n0 > 2 && v[0] >= '0' && v[0] <= '9' && strchr(v, ' ');
	bool plain = size || v[0] == '/' || (v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z');
	for (size_t i = 0; special[i] && plain; i++)
		plain = strcmp(v, special[i]) != 0;
	for (const char *p = v; *p && plain; p++)
		plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("/._+-@", *p) || (*p == ' ' && p > v && p[1] && p[1] != ' ');
	if (plain)
		return arena_strdup(a, v);
	size_t n = 2;
	for (const char *p = v; *p; p++)
		n += *p == '\'' ? 2 : 1;
	char *s = arena_alloc(a, n + 1), *o = s;
	*o++ = '\'';
	for (const char *p = v; *p; p++) {
		if (*p == '\'')
			*o++ = '\'';
		*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return s;
}

/* The end of the scalar value that starts at off on its line; (size_t)-1 when it does not end there. */
static size_t
value_end(const char *text, size_t off, size_t eol)
{
	if (off >= eol)
		return off;
	char q = text[off];
	if (q == '\'' || q == '"') {
		for (size_t i = off + 1; i < eol; i++) {
			if (q == '"' && text[i] == '\\') {
				i++;
				continue;
			}
			if (text[i] == q) {
				if (q == '\'' && i + 1 < eol && text[i + 1] == '\'') {
					i++;
					continue;
				}
				return i + 1;
			}
		}
		return (size_t)-1;
	}
	if (q == '|' || q == '>' || q == '[' || q == '{' || q == '&' || q == '*' || q == '!')
		return (size_t)-1;
	if (q == '#')
		return off;
	size_t end = off;
	for (size_t i = off; i < eol; i++) {
		if (text[i] == '#' && i > off && (text[i - 1] == ' ' || text[i - 1] == '\t'))
			break;
		/* A CRLF file's '\r' belongs to the line end, not to the value. */
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\r')
			end = i + 1;
	}
	return end;
}

/* Is the line after the one ending at eol a continuation of a value (more indented than col)? */
static bool
continues(const char *text, size_t len, size_t eol, unsigned key_col)
{
	size_t off = eol + 1;
	while (off < len) {
		size_t e = line_end(text, len, off);
		size_t i = off;
		while (i < e && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i == e || text[i] == '#') {
			off = e + 1;
			continue;
		}
		return i - off + 1 > key_col;
	}
	return false;
}

static char *
splice(struct arena *a, const char *text, size_t len, size_t from, size_t to, const char *ins, size_t *out_len)
{
	size_t n = strlen(ins);
	char *s = arena_alloc(a, len - (to - from) + n + 1);
	memcpy(s, text, from);
	memcpy(s + from, ins, n);
	memcpy(s + from + n, text + to, len - to);
	*out_len = len - (to - from) + n;
	s[*out_len] = '\0';
	return s;
}

/* Set key in the mapping map of text, as yamledit_set says; the new text, or NULL with *why. */
static char *
set_in(struct arena *a, const char *text, size_t len, const struct ynode *map, const char *noun, const char *key,
    const char *value, const char *after_key, size_t *out_len, const char **why)
{
	if (strchr(value, '\n') || strchr(value, '\r')) {
		*why = "the value contains a line break";
		return NULL;
	}
	if (!map || map->kind != YNODE_MAP || map->count == 0) {
		*why = arena_printf(a, "%s is not a mapping with keys", noun);
		return NULL;
	}
	size_t rs = line_start(text, len, map->pos.line);
	if (rs != (size_t)-1 && rs + map->pos.col - 1 < len && text[rs + map->pos.col - 1] == '{') {
		*why = arena_printf(a, "%s is written as a flow mapping ({...})", noun);
		return NULL;
	}
	const char *scalar = yaml_scalar(a, value);
	for (size_t i = 0; i < map->count; i++) {
		if (strcmp(map->keys[i], key) != 0)
			continue;
		struct diag_pos kp = map->key_pos[i];
		size_t ls = line_start(text, len, kp.line);
		if (ls == (size_t)-1) {
			*why = "the key's position is outside the file";
			return NULL;
		}
		size_t eol = line_end(text, len, ls);
		size_t k = ls + kp.col - 1;
		/* Past the key (which may be quoted) to its ':'. */
		size_t ke = value_end(text, k, eol);
		if (text[k] != '\'' && text[k] != '"')
			ke = k + strcspn(text + k, ":\n");
		if (ke == (size_t)-1 || ke >= eol || (text[ke] != ':' && (ke = ke + strcspn(text + ke, ":\n")) >= eol)) {
			*why = "the key is not followed by ':' on its line";
			return NULL;
		}
		size_t vs = ke + 1;
		while (vs < eol && (text[vs] == ' ' || text[vs] == '\t'))
			vs++;
		size_t ve = value_end(text, vs, eol);
		if (ve == (size_t)-1 || (vs == eol && continues(text, len, eol, kp.col))) {
			*why = "the value spans lines or is not a plain or quoted scalar";
			return NULL;
		}
		/* An inline comment keeps its column (one space at least), so aligned comments stay aligned. */
		size_t c = ve;
		while (c < eol && (text[c] == ' ' || text[c] == '\t'))
			c++;
		if (c < eol && text[c] == '#') {
			size_t at = ke + 1 - ls + 1 + strlen(scalar), col = c - ls;
			return splice(a, text, len, ke + 1, c, arena_printf(a, " %s%*s", scalar,
			    (int)(col > at ? col - at : 1), ""), out_len);
		}
		return splice(a, text, len, ke + 1, ve, arena_printf(a, " %s", scalar), out_len);
	}
	/* No such key yet: a new line after after_key's, or before the first key, at the keys' indentation. */
	size_t at_key = 0;
	bool after = false;
	for (size_t i = 0; after_key && i < map->count; i++)
		if (strcmp(map->keys[i], after_key) == 0) {
			at_key = i;
			after = true;
		}
	struct diag_pos kp = map->key_pos[at_key];
	size_t ls = line_start(text, len, kp.line);
	if (ls == (size_t)-1) {
		*why = "the key's position is outside the file";
		return NULL;
	}
	for (size_t i = ls; i < ls + kp.col - 1; i++)
		if (i >= len || (text[i] != ' ' && text[i] != '\t')) {
			*why = arena_printf(a, "%s's keys do not start their lines", noun);
			return NULL;
		}
	size_t eol = line_end(text, len, ls);
	if (after) {
		const struct ynode *v = map->items[at_key];
		size_t vs = line_start(text, len, v->pos.line);
		vs = vs == (size_t)-1 ? (size_t)-1 : vs + v->pos.col - 1;
		if (v->pos.line != kp.line || value_end(text, vs, eol) == (size_t)-1 || continues(text, len, eol, kp.col))
			after = false;
	}
	const char *indent = arena_strndup(a, text + ls, kp.col - 1);
	const char *line = arena_printf(a, "%s%s: %s\n", indent, key, scalar);
	if (!after)
		return splice(a, text, len, ls, ls, line, out_len);
	if (eol < len)
		return splice(a, text, len, eol + 1, eol + 1, line, out_len);
	/* The after_key line ends the file without a newline. */
	return splice(a, text, len, len, len, arena_printf(a, "\n%s", line), out_len);
}

void
yamledit_init(struct yamledit *e, struct arena *a, struct diag_sink *diag, const char *file, const char *text,
    size_t len)
{
	memset(e, 0, sizeof *e);
	e->a = a;
	e->diag = diag;
	e->file = file;
	e->text = text;
	e->len = len;
}

const struct ynode *
yamledit_get(struct yamledit *e, const char *const *path)
{
	if (!e->root && !e->broken) {
		struct ynode *root;
		if (yamldoc_parse(e->a, e->diag, e->file, e->text, e->len, &root) == 0)
			e->root = root;
		else
			e->broken = true;
	}
	const struct ynode *n = e->root;
	for (size_t i = 0; n && path[i]; i++)
		n = yamldoc_get(n, path[i]);
	return n;
}

int
yamledit_set(struct yamledit *e, const char *const *path, const char *key, const char *value, const char *after,
    const char **why)
{
	const struct ynode *map = yamledit_get(e, path);
	const char *noun = e->noun ? e->noun : "the mapping";
	*why = NULL;
	if (!map) {
		*why = e->broken ? "the text is not valid YAML" : arena_printf(e->a, "%s is not in the text", noun);
		return -1;
	}
	size_t len;
	char *text = set_in(e->a, e->text, e->len, map, noun, key, value, after, &len, why);
	if (!text)
		return -1;
	e->text = text;
	e->len = len;
	e->root = NULL;
	return 0;
}

/* The offset just past the last line that belongs to map's last entry (its key's line and what is indented under it). */
static size_t
entry_end(const char *text, size_t len, const struct ynode *map)
{
	struct diag_pos kp = map->key_pos[map->count - 1];
	size_t off = line_start(text, len, kp.line);
	if (off == (size_t)-1)
		return (size_t)-1;
	size_t end = line_end(text, len, off);
	for (size_t ls = end + 1; ls < len;) {
		size_t e = line_end(text, len, ls), i = ls;
		while (i < e && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i < e && text[i] != '#' && text[i] != '\r') {
			if (i - ls + 1 <= kp.col)
				break;
			end = e;
		}
		ls = e + 1;
	}
	return end;
}

int
yamledit_add_map(struct yamledit *e, const char *const *path, const char *key, const char *const *pairs,
    const char **why)
{
	const struct ynode *map = yamledit_get(e, path);
	const char *noun = e->noun ? e->noun : "the mapping";
	*why = NULL;
	if (!map || map->kind != YNODE_MAP || map->count == 0) {
		*why = e->broken ? "the text is not valid YAML" : arena_printf(e->a, "%s is not a mapping with keys", noun);
		return -1;
	}
	if (yamldoc_get(map, key)) {
		*why = arena_printf(e->a, "%s already has '%s'", noun, key);
		return -1;
	}
	struct diag_pos kp = map->key_pos[map->count - 1];
	size_t ls = line_start(e->text, e->len, kp.line);
	size_t rs = line_start(e->text, e->len, map->pos.line);
	if (ls == (size_t)-1 || (rs != (size_t)-1 && e->text[rs + map->pos.col - 1] == '{')) {
		*why = arena_printf(e->a, "%s is written as a flow mapping ({...})", noun);
		return -1;
	}
	for (size_t i = ls; i < ls + kp.col - 1; i++)
		if (e->text[i] != ' ') {
			*why = arena_printf(e->a, "%s's keys do not start their lines", noun);
			return -1;
		}
	/* The children's indentation: the last entry's own children's, else two more spaces. */
	unsigned child = kp.col - 1 + 2;
	const struct ynode *last = map->items[map->count - 1];
	if (last && last->kind == YNODE_MAP && last->count && last->key_pos[0].col > kp.col)
		child = last->key_pos[0].col - 1;
	const char *indent = arena_strndup(e->a, e->text + ls, kp.col - 1);
	const char *block = arena_printf(e->a, "%s%s:\n", indent, key);
	for (size_t i = 0; pairs[i] && pairs[i + 1]; i += 2) {
		if (strchr(pairs[i + 1], '\n') || strchr(pairs[i + 1], '\r')) {
			*why = "a value contains a line break";
			return -1;
		}
		const char *v = pairs[i + 1];
		bool number = *v && strspn(v, "0123456789") == strlen(v) && (v[0] != '0' || !v[1]);
		block = arena_printf(e->a, "%s%*s%s: %s\n", block, (int)child, "", pairs[i], number ? v : yaml_scalar(e->a, v));
	}
	size_t end = entry_end(e->text, e->len, map), len;
	char *text = end < e->len ? splice(e->a, e->text, e->len, end + 1, end + 1, block, &len)
	    : splice(e->a, e->text, e->len, e->len, e->len, arena_printf(e->a, "\n%s", block), &len);
	e->text = text;
	e->len = len;
	e->root = NULL;
	return 0;
}
