#include "jsondoc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"

/* Where the walk is in the text: the next byte, and its line and column (1-based). */
struct jsondoc_scan {
	struct arena *a;
	const char *path;
	const char *t;
	size_t len;
	size_t i;
	unsigned line;
	unsigned col;
	bool lost;              /* the text and jansson's tree disagreed: a bug, reported once */
};

static void
jsondoc_next(struct jsondoc_scan *s)
{
	if (s->i >= s->len)
		return;
	unsigned char c = (unsigned char)s->t[s->i++];
	if (c == '\n') {
		s->line++;
		s->col = 1;
	} else if ((c & 0xc0) != 0x80 && c != '\r') {
		/* Columns count characters, as libyaml's do for the catalog. */
		s->col++;
	}
}

static void
jsondoc_blank(struct jsondoc_scan *s)
{
	while (s->i < s->len && strchr(" \t\r\n", s->t[s->i]) && s->t[s->i])
		jsondoc_next(s);
}

static struct diag_pos
jsondoc_pos(const struct jsondoc_scan *s)
{
	struct diag_pos pos = {s->path, s->line, s->col};
	return pos;
}

/* Step over the expected byte c after blanks; false (and lost) when another comes. */
static bool
jsondoc_expect(struct jsondoc_scan *s, char c)
{
	jsondoc_blank(s);
	if (s->i >= s->len || s->t[s->i] != c) {
		s->lost = true;
		return false;
	}
	jsondoc_next(s);
	return true;
}

/* Step over a string token; *raw and *n are its text between the quotes, escapes as written. */
static bool
jsondoc_string(struct jsondoc_scan *s, const char **raw, size_t *n)
{
	if (!jsondoc_expect(s, '"'))
		return false;
	size_t start = s->i;
	while (s->i < s->len && s->t[s->i] != '"') {
		if (s->t[s->i] == '\\')
			jsondoc_next(s);
		jsondoc_next(s);
	}
	*raw = s->t + start;
	*n = s->i - start;
	return jsondoc_expect(s, '"');
}

static struct ynode *
jsondoc_node(struct jsondoc_scan *s, enum ynode_kind kind)
{
	struct ynode *n = arena_alloc(s->a, sizeof *n);
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->pos = jsondoc_pos(s);
	n->text = "";
	return n;
}

static struct ynode *jsondoc_value(struct jsondoc_scan *s, json_t *v);

static struct ynode *
jsondoc_object(struct jsondoc_scan *s, json_t *v)
{
	struct ynode *n = jsondoc_node(s, YNODE_MAP);
	size_t cap = json_object_size(v);
	n->items = arena_alloc(s->a, (cap + 1) * sizeof *n->items);
	n->keys = arena_alloc(s->a, (cap + 1) * sizeof *n->keys);
	n->key_pos = arena_alloc(s->a, (cap + 1) * sizeof *n->key_pos);
	if (!jsondoc_expect(s, '{'))
		return n;
	/* jansson keeps an object's keys in the order the text gives them. */
	const char *key;
	json_t *item;
	json_object_foreach(v, key, item) {
		if (n->count && !jsondoc_expect(s, ','))
			return n;
		jsondoc_blank(s);
		struct diag_pos kpos = jsondoc_pos(s);
		const char *raw;
		size_t rn;
		if (!jsondoc_string(s, &raw, &rn))
			return n;
		if (!memchr(raw, '\\', rn) && (rn != strlen(key) || memcmp(raw, key, rn) != 0)) {
			s->lost = true;
			return n;
		}
		if (!jsondoc_expect(s, ':'))
			return n;
		n->keys[n->count] = arena_strdup(s->a, key);
		n->key_pos[n->count] = kpos;
		n->items[n->count++] = jsondoc_value(s, item);
		if (s->lost)
			return n;
	}
	jsondoc_expect(s, '}');
	return n;
}

static struct ynode *
jsondoc_array(struct jsondoc_scan *s, json_t *v)
{
	struct ynode *n = jsondoc_node(s, YNODE_SEQ);
	n->items = arena_alloc(s->a, (json_array_size(v) + 1) * sizeof *n->items);
	if (!jsondoc_expect(s, '['))
		return n;
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		if (i && !jsondoc_expect(s, ','))
			return n;
		n->items[n->count++] = jsondoc_value(s, item);
		if (s->lost)
			return n;
	}
	jsondoc_expect(s, ']');
	return n;
}

/* A number, true, false or null: the bytes up to the next delimiter, as written. */
static struct ynode *
jsondoc_scalar(struct jsondoc_scan *s, enum ynode_kind kind)
{
	struct ynode *n = jsondoc_node(s, kind);
	size_t start = s->i;
	while (s->i < s->len && !strchr(" \t\r\n,]}", s->t[s->i]))
		jsondoc_next(s);
	if (s->i == start)
		s->lost = true;
	if (kind != YNODE_NULL) {
		n->text = arena_strndup(s->a, s->t + start, s->i - start);
		n->text_len = s->i - start;
	}
	return n;
}

static struct ynode *
jsondoc_value(struct jsondoc_scan *s, json_t *v)
{
	jsondoc_blank(s);
	struct ynode *n;
	const char *raw;
	size_t rn;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return jsondoc_object(s, v);
	case JSON_ARRAY:
		return jsondoc_array(s, v);
	case JSON_STRING:
		n = jsondoc_node(s, YNODE_STRING);
		jsondoc_string(s, &raw, &rn);
		n->text = arena_strndup(s->a, json_string_value(v), json_string_length(v));
		n->text_len = json_string_length(v);
		n->quoted = true;
		return n;
	case JSON_INTEGER:
		n = jsondoc_scalar(s, YNODE_INT);
		n->integer = json_integer_value(v);
		n->number = (double)n->integer;
		return n;
	case JSON_REAL:
		n = jsondoc_scalar(s, YNODE_FLOAT);
		n->number = json_real_value(v);
		return n;
	case JSON_TRUE:
	case JSON_FALSE:
		n = jsondoc_scalar(s, YNODE_BOOL);
		n->boolean = json_is_true(v);
		return n;
	case JSON_NULL:
		return jsondoc_scalar(s, YNODE_NULL);
	}
	s->lost = true;
	return jsondoc_node(s, YNODE_NULL);
}

int
jsondoc_parse(struct arena *a, struct diag_sink *diag, const char *path, const char *text,
    size_t len, struct ynode **root, json_t **json)
{
	json_error_t je;
	*root = NULL;
	*json = NULL;
	/*
	 * No JSON text holds a NUL byte, but jansson drops one that follows a number or a literal
	 * ("5\0," reads as "5,"): refuse it first, or the walk below would lose its place.
	 */
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		struct jsondoc_scan at = {a, path, text, (size_t)(nul - text), 0, 1, 1, false};
		while (at.i < at.len)
			jsondoc_next(&at);
		diag_error(diag, jsondoc_pos(&at), "invalid JSON: a NUL byte");
		return -1;
	}
	*json = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!*json) {
		struct diag_pos pos = {path, je.line > 0 ? (unsigned)je.line : 1,
		    je.column > 0 ? (unsigned)je.column : 1};
		diag_error(diag, pos, "invalid JSON: %s", je.text);
		return -1;
	}
	struct jsondoc_scan s = {a, path, text, len, 0, 1, 1, false};
	*root = jsondoc_value(&s, *json);
	if (s.lost) {
		/*
		 * jansson accepted the text, so the walk finds every token it read; anything else is a
		 * bug in this file, and the fuzz target (tests/fuzz/fuzz_lock.c) is there to find it.
		 */
		diag_print(stderr, "modelc: %s:%u:%u: internal error: jsondoc lost its place in the text\n", path,
		    s.line, s.col);
		abort();
	}
	return 0;
}

/* Read all of path into the arena, refusing files over max bytes; NULL with errno. */
static char *
jsondoc_slurp(struct arena *a, const char *path, size_t max, size_t *len, bool *too_big, struct srcfile *src)
{
	*too_big = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (src)
		srcfile_stat(src, fd);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		*too_big = true;
		*len = (size_t)st.st_size;
		return NULL;
	}
	char *buf = arena_alloc(a, (size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			errno = e;
			return NULL;
		}
		got += (size_t)n;
	}
	close(fd);
	*len = got;
	return buf;
}

int
jsondoc_load(struct arena *a, struct diag_sink *diag, const char *path, size_t max,
    struct ynode **root, json_t **json, struct srcfile *src)
{
	size_t len = 0;
	bool too_big;

	*root = NULL;
	*json = NULL;
	char *text = jsondoc_slurp(a, path, max, &len, &too_big, src);
	if (too_big) {
		diag_error(diag, diag_file(path), "is %zu bytes, more than the limit of %zu bytes", len, max);
		return 1;
	}
	if (!text) {
		int e = errno;
		diag_error(diag, diag_file(path), "cannot read: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (src) {
		src->text = text;
		src->len = len;
	}
	return jsondoc_parse(a, diag, path, text, len, root, json) ? 1 : 0;
}
