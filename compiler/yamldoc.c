#include "yamldoc.h"
#include "size.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "diag.h"
#include "yamlscalar.h"
#include "yamlwords.h"

enum { YAMLDOC_QUOTE_MAX = 60, YAMLDOC_FIRST_CAP = 4 };

/* A collection being built, with the key that waits for its value when it is a mapping. */
struct yamldoc_frame {
	struct ynode *node;
	size_t cap;
	bool have_key;          /* a key was read; the next node is its value */
	bool key_ok;            /* the key was a usable string; otherwise the pair is dropped */
	const char *key;
	const char *key_text;   /* the key as written, usable or not, for paths in messages */
	size_t key_len;
	struct diag_pos key_pos;
};

struct yamldoc_state {
	struct arena *a;
	struct diag_sink *diag;
	const char *path;
	const char *text;
	size_t len;
	struct yamldoc_frame stack[YAMLDOC_MAX_DEPTH];
	int depth;
	struct ynode *root;
};

static const char *const yamldoc_kind_names[] = {
	"null", "boolean", "integer", "float", "string", "sequence", "mapping",
};

const char *
yamldoc_kind_name(enum ynode_kind kind)
{
	return yamldoc_kind_names[kind];
}

static struct diag_pos
yamldoc_mark(const struct yamldoc_state *st, yaml_mark_t m)
{
	struct diag_pos pos = {st->path, (unsigned)m.line + 1, (unsigned)m.column + 1};
	return pos;
}

/* Memory for libyaml's own buffers ran out: nothing sensible can follow (as in arena.c). */
static _Noreturn void
yamldoc_oom(void)
{
	diag_print(stderr, "out of memory\n");
	abort();
}

const char *
yamldoc_quote(struct arena *a, const char *text, size_t len)
{
	/* Each byte needs at most 4 characters ("\x1f"), plus "..." and the NUL. */
	size_t shown = len > YAMLDOC_QUOTE_MAX ? YAMLDOC_QUOTE_MAX : len;
	char *out = arena_alloc(a, shown * 4 + 4);
	size_t o = 0;
	for (size_t i = 0; i < shown; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else if (c == '\t') {
			out[o++] = '\\';
			out[o++] = 't';
		} else if (c < 0x20 || c == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	if (shown < len) {
		/* Do not cut a UTF-8 sequence in half. */
		while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
			o--;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

const char *
yamldoc_describe(struct arena *a, const struct ynode *n)
{
	const char *kind = yamldoc_kind_name(n->kind);
	if (n->kind == YNODE_SEQ || n->kind == YNODE_MAP)
		return kind;
	if (n->kind == YNODE_NULL && n->text_len == 0)
		return kind;
	return arena_printf(a, "%s '%s'", kind, yamldoc_quote(a, n->text, n->text_len));
}

int
yamldoc_integral(const struct ynode *n, double *value)
{
	if (n->kind == YNODE_INT) {
		*value = n->number;
		return 1;
	}
	if (n->kind == YNODE_FLOAT && isfinite(n->number) && floor(n->number) == n->number) {
		*value = n->number;
		return 1;
	}
	return 0;
}

/* Refuse anchors and tags on any node: models.yaml is plain data, read the same everywhere. */
static void
yamldoc_check_props(struct yamldoc_state *st, yaml_mark_t mark, const yaml_char_t *anchor,
    const yaml_char_t *tag)
{
	struct diag_pos pos = yamldoc_mark(st, mark);
	if (anchor)
		diag_error(st->diag, pos, "anchors are not allowed: '&%s'", (const char *)anchor);
	if (tag) {
		const char *t = (const char *)tag;
		const char *core = "tag:yaml.org,2002:";
		if (strncmp(t, core, strlen(core)) == 0)
			diag_error(st->diag, pos, "tags are not allowed: '!!%s'", t + strlen(core));
		else
			diag_error(st->diag, pos, "tags are not allowed: '%s'", t);
	}
}

static void
yamldoc_grow(struct arena *a, struct yamldoc_frame *f)
{
	struct ynode *n = f->node;
	if (n->count < f->cap)
		return;
	size_t cap = f->cap ? f->cap * 2 : YAMLDOC_FIRST_CAP;
	struct ynode **items = arena_alloc(a, cap * sizeof *items);
	if (n->count)
		memcpy(items, n->items, n->count * sizeof *items);
	n->items = items;
	if (n->kind == YNODE_MAP) {
		const char **keys = arena_alloc(a, cap * sizeof *keys);
		struct diag_pos *kp = arena_alloc(a, cap * sizeof *kp);
		if (n->count) {
			memcpy(keys, n->keys, n->count * sizeof *keys);
			memcpy(kp, n->key_pos, n->count * sizeof *kp);
		}
		n->keys = keys;
		n->key_pos = kp;
	}
	f->cap = cap;
}

/*
 * The path messages write ("roles.chat.files[2]") of the node about to be attached below the
 * first levels open collections: all of them for a value, all but the innermost for a key.
 */
static const char *
yamldoc_path(struct yamldoc_state *st, int levels)
{
	const char *path = "";
	for (int d = 0; d < levels; d++) {
		const struct yamldoc_frame *f = &st->stack[d];
		if (f->node->kind == YNODE_SEQ) {
			path = arena_printf(st->a, "%s[%zu]", path, f->node->count);
			continue;
		}
		const char *k = yamldoc_quote(st->a, f->key_text, f->key_len);
		path = *path ? arena_printf(st->a, "%s.%s", path, k) : k;
	}
	return path;
}

/*
 * A "\0" escape puts a NUL inside a value. Everything downstream (paths, names, .env, the
 * compiled table) holds C strings, which would end there silently: refuse it here.
 */
static bool
yamldoc_check_nul(struct yamldoc_state *st, const struct ynode *n, bool key)
{
	if (n->kind != YNODE_STRING || !memchr(n->text, '\0', n->text_len))
		return false;
	const char *path = yamldoc_path(st, key ? st->depth - 1 : st->depth);
	const char *what = key ? "a key " : *path ? "" : "the document ";
	if (*path)
		what = arena_printf(st->a, "%s: %s", path, what);
	diag_error(st->diag, n->pos, "%scontains a NUL character ('%s'), which no path, name or text "
	    "may hold", what, yamldoc_quote(st->a, n->text, n->text_len));
	return true;
}

/* Put a finished node into the collection being built, or make it the document. */
static void
yamldoc_attach(struct yamldoc_state *st, struct ynode *n)
{
	if (st->depth == 0) {
		yamldoc_check_nul(st, n, false);
		st->root = n;
		return;
	}
	struct yamldoc_frame *f = &st->stack[st->depth - 1];
	struct ynode *parent = f->node;
	if (parent->kind == YNODE_SEQ) {
		yamldoc_check_nul(st, n, false);
		yamldoc_grow(st->a, f);
		parent->items[parent->count++] = n;
		return;
	}
	if (!f->have_key) {
		f->have_key = true;
		f->key_pos = n->pos;
		f->key_ok = false;
		f->key_text = n->text;
		f->key_len = n->text_len;
		if (n->kind != YNODE_STRING) {
			diag_error(st->diag, n->pos, "keys must be strings, found %s",
			    yamldoc_describe(st->a, n));
		} else if (!yamldoc_check_nul(st, n, true)) {
			f->key = n->text;
			f->key_ok = true;
		}
		return;
	}
	yamldoc_check_nul(st, n, false);
	f->have_key = false;
	if (!f->key_ok)
		return;
	/* "key:" with nothing after it: point at the key, not at wherever libyaml stopped. */
	if (n->kind == YNODE_NULL && n->text_len == 0 && !n->quoted)
		n->pos = f->key_pos;
	yamldoc_grow(st->a, f);
	parent->keys[parent->count] = f->key;
	parent->key_pos[parent->count] = f->key_pos;
	parent->items[parent->count] = n;
	parent->count++;
}

struct yamldoc_keyref {
	const char *key;
	size_t index;
};

static int
yamldoc_keyref_cmp(const void *x, const void *y)
{
	const struct yamldoc_keyref *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	if (c)
		return c;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Report every repeated key at its place, naming the first, and keep only the first. */
static void
yamldoc_check_duplicates(struct yamldoc_state *st, struct ynode *map)
{
	size_t n = map->count;
	if (n < 2)
		return;
	struct yamldoc_keyref *refs = arena_alloc(st->a, n * sizeof *refs);
	size_t *first = arena_alloc(st->a, n * sizeof *first);
	for (size_t i = 0; i < n; i++) {
		refs[i].key = map->keys[i];
		refs[i].index = i;
		first[i] = i;
	}
	/* Sorting keeps this linear-ish for the thousands of roles a generated catalog may hold. */
	qsort(refs, n, sizeof *refs, yamldoc_keyref_cmp);
	bool any = false;
	for (size_t i = 1; i < n; i++) {
		if (strcmp(refs[i].key, refs[i - 1].key) == 0) {
			first[refs[i].index] = first[refs[i - 1].index];
			any = true;
		}
	}
	if (!any)
		return;
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (first[i] != i) {
			diag_error(st->diag, map->key_pos[i], "duplicate key '%s' (first defined at line %u)",
			    yamldoc_quote(st->a, map->keys[i], strlen(map->keys[i])),
			    map->key_pos[first[i]].line);
			continue;
		}
		map->keys[kept] = map->keys[i];
		map->key_pos[kept] = map->key_pos[i];
		map->items[kept] = map->items[i];
		kept++;
	}
	map->count = kept;
}

/* Line and column of a byte offset, for reader errors that give only the offset. */
static struct diag_pos
yamldoc_offset_pos(const struct yamldoc_state *st, size_t offset)
{
	struct diag_pos pos = {st->path, 1, 1};
	for (size_t i = 0; i < offset && i < st->len; i++) {
		if (st->text[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else if (((unsigned char)st->text[i] & 0xc0) != 0x80) {
			pos.col++;
		}
	}
	return pos;
}

/*
 * NEL, LS and PS are line breaks to YAML 1.1 parsers (libyaml) and ordinary characters to
 * YAML 1.2 ones (editors, npm yaml): the same file would mean two things and its line numbers
 * would disagree. Report each; returns how many there were.
 */
static unsigned
yamldoc_check_breaks(struct yamldoc_state *st)
{
	static const struct {
		const char *bytes;
		const char *name;
	} breaks[] = {
		{"\xc2\x85", "U+0085 (next line)"},
		{"\xe2\x80\xa8", "U+2028 (line separator)"},
		{"\xe2\x80\xa9", "U+2029 (paragraph separator)"},
	};
	unsigned found = 0;
	for (size_t i = 0; i + 1 < st->len; i++) {
		unsigned char c = (unsigned char)st->text[i];
		if (c != 0xc2 && c != 0xe2)
			continue;
		for (size_t k = 0; k < sizeof breaks / sizeof breaks[0]; k++) {
			size_t n = strlen(breaks[k].bytes);
			if (i + n <= st->len && memcmp(st->text + i, breaks[k].bytes, n) == 0) {
				diag_error(st->diag, yamldoc_offset_pos(st, i), "character %s is not allowed: "
				    "YAML 1.1 parsers break the line there and YAML 1.2 parsers do not",
				    breaks[k].name);
				found++;
			}
		}
	}
	return found;
}

static void
yamldoc_syntax_error(struct yamldoc_state *st, const yaml_parser_t *p)
{
	const char *problem = p->problem ? yamlwords_problem(p->problem) : "cannot parse the document";
	if (p->error == YAML_READER_ERROR) {
		struct diag_pos pos = yamldoc_offset_pos(st, p->problem_offset);
		if (p->problem_value != -1)
			diag_error(st->diag, pos, "%s (byte 0x%02x)", problem, (unsigned)p->problem_value);
		else
			diag_error(st->diag, pos, "%s", problem);
		return;
	}
	if (p->error == YAML_MEMORY_ERROR)
		yamldoc_oom();
	struct diag_pos pos = yamldoc_mark(st, p->problem_mark);
	if (p->context)
		diag_error(st->diag, pos, "%s (in %s at %zu:%zu)", problem, yamlwords_context(p->context),
		    p->context_mark.line + 1, p->context_mark.column + 1);
	else
		diag_error(st->diag, pos, "%s", problem);
}

static struct ynode *
yamldoc_new(struct yamldoc_state *st, enum ynode_kind kind, yaml_mark_t mark)
{
	struct ynode *n = arena_alloc(st->a, sizeof *n);
	n->kind = kind;
	n->pos = yamldoc_mark(st, mark);
	n->text = "";
	return n;
}

/* Handle one event; returns 0 to go on, 1 at the end of the stream, -1 to stop on an error. */
static int
yamldoc_event(struct yamldoc_state *st, const yaml_event_t *ev, int *documents)
{
	struct ynode *n;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++*documents > 1) {
			diag_error(st->diag, yamldoc_mark(st, ev->start_mark),
			    "a second document starts here; the file must hold exactly one");
			return -1;
		}
		if (ev->data.document_start.version_directive) {
			const yaml_version_directive_t *v = ev->data.document_start.version_directive;
			if (v->major != 1 || v->minor != 2)
				diag_error(st->diag, yamldoc_mark(st, ev->start_mark),
				    "'%%YAML %d.%d' is not supported: the file is read as YAML 1.2",
				    v->major, v->minor);
		}
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_ALIAS_EVENT:
		diag_error(st->diag, yamldoc_mark(st, ev->start_mark), "aliases are not allowed: '*%s'",
		    (const char *)ev->data.alias.anchor);
		/* Stand in a null so the surrounding mapping stays in step. */
		yamldoc_attach(st, yamldoc_new(st, YNODE_NULL, ev->start_mark));
		return 0;
	case YAML_SCALAR_EVENT:
		yamldoc_check_props(st, ev->start_mark, ev->data.scalar.anchor, ev->data.scalar.tag);
		n = yamldoc_new(st, YNODE_STRING, ev->start_mark);
		n->text = arena_strndup(st->a, (const char *)ev->data.scalar.value, ev->data.scalar.length);
		n->text_len = ev->data.scalar.length;
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		if (!n->quoted)
			yamlscalar_resolve(n);
		yamldoc_attach(st, n);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		if (seq)
			yamldoc_check_props(st, ev->start_mark, ev->data.sequence_start.anchor,
			    ev->data.sequence_start.tag);
		else
			yamldoc_check_props(st, ev->start_mark, ev->data.mapping_start.anchor,
			    ev->data.mapping_start.tag);
		if (st->depth == YAMLDOC_MAX_DEPTH) {
			diag_error(st->diag, yamldoc_mark(st, ev->start_mark),
			    "nesting is deeper than %d levels", YAMLDOC_MAX_DEPTH);
			return -1;
		}
		n = yamldoc_new(st, seq ? YNODE_SEQ : YNODE_MAP, ev->start_mark);
		struct yamldoc_frame *f = &st->stack[st->depth++];
		memset(f, 0, sizeof *f);
		f->node = n;
		return 0;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		n = st->stack[--st->depth].node;
		if (n->kind == YNODE_MAP)
			yamldoc_check_duplicates(st, n);
		yamldoc_attach(st, n);
		return 0;
	default:
		return 0;
	}
}

int
yamldoc_parse(struct arena *a, struct diag_sink *diag, const char *path,
    const char *text, size_t len, struct ynode **root)
{
	struct yamldoc_state st = {.a = a, .diag = diag, .path = path, .text = text, .len = len};
	yaml_parser_t parser;
	yaml_event_t ev;
	int documents = 0;
	bool broken = false;
	unsigned errors_before = diag->errors;

	*root = NULL;
	if (len > YAMLDOC_MAX_BYTES) {
		diag_error(diag, diag_file(path), "the file is larger than %d MiB",
		    (int)(YAMLDOC_MAX_BYTES / SIZE_MIB));
		return -1;
	}
	if (yamldoc_check_breaks(&st))
		return -1;
	if (!yaml_parser_initialize(&parser))
		yamldoc_oom();
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			/* Mappings left open still get their duplicate check: report all we know. */
			for (int d = 0; d < st.depth; d++)
				if (st.stack[d].node->kind == YNODE_MAP)
					yamldoc_check_duplicates(&st, st.stack[d].node);
			yamldoc_syntax_error(&st, &parser);
			broken = true;
			break;
		}
		int r = yamldoc_event(&st, &ev, &documents);
		yaml_event_delete(&ev);
		if (r < 0)
			broken = true;
		if (r != 0)
			break;
	}
	yaml_parser_delete(&parser);
	if (broken)
		return -1;
	if (!st.root) {
		/* An empty file is an empty document: null, which the schema then rejects. */
		yaml_mark_t start = {0, 0, 0};
		st.root = yamldoc_new(&st, YNODE_NULL, start);
	}
	/* A complete tree comes back even with errors (duplicates, anchors) for tools that show it. */
	*root = st.root;
	return diag->errors != errors_before ? -1 : 0;
}

const struct ynode *
yamldoc_get(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YNODE_MAP)
		return NULL;
	for (size_t i = 0; i < map->count; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

struct diag_pos
yamldoc_key_pos(const struct ynode *map, const char *key)
{
	for (size_t i = 0; map && map->kind == YNODE_MAP && i < map->count; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->key_pos[i];
	return map ? map->pos : diag_file(NULL);
}
