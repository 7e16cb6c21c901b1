#include "ftrust.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "errmsg.h"
#include "msfile.h"

struct reader {
	const char *path;
	struct mskey_public *keys;
	size_t n;
	char *err;
	size_t errlen;
};

static int
fail_at(struct reader *r, yaml_mark_t m, const char *what)
{
	return errmsg_fail(r->err, r->errlen, "%s:%zu:%zu: %s", r->path, m.line + 1, m.column + 1, what);
}

/* An anchor or an explicit tag on a node: modelc refuses both, and so does this reader. */
static bool
decorated(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return ev->data.scalar.anchor || ev->data.scalar.tag;
	case YAML_SEQUENCE_START_EVENT:
		return ev->data.sequence_start.anchor || ev->data.sequence_start.tag;
	case YAML_MAPPING_START_EVENT:
		return ev->data.mapping_start.anchor || ev->data.mapping_start.tag;
	default:
		return false;
	}
}

static int
add_key(struct reader *r, const yaml_event_t *ev)
{
	char why[160], what[400];
	const char *text = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	struct mskey_public k;
	if (r->n == FTRUST_MAX_KEYS)
		return fail_at(r, ev->start_mark, "trust: more keys than fetch reads (1024)");
	if (mskey_public_decode(text, len, &k, why, sizeof why)) {
		snprintf(what, sizeof what, "trust[%zu]: '%.*s': %s", r->n, (int)(len > 80 ? 80 : len), text, why);
		return fail_at(r, ev->start_mark, what);
	}
	struct mskey_public *nk = realloc(r->keys, (r->n + 1) * sizeof *nk);
	if (!nk)
		return errmsg_fail(r->err, r->errlen, "%s: out of memory", r->path);
	r->keys = nk;
	r->keys[r->n++] = k;
	return 0;
}

int
ftrust_parse(const char *path, const char *text, size_t len, struct mskey_public **keys, size_t *n, char *err,
    size_t errlen)
{
	struct reader r = {.path = path, .err = err, .errlen = errlen};
	yaml_parser_t p;
	yaml_event_t ev;
	*keys = NULL;
	*n = 0;
	if (!yaml_parser_initialize(&p))
		return errmsg_fail(err, errlen, "%s: out of memory", path);
	yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
	/*
	 * depth counts open collections; at depth 1 (the top-level mapping) the events alternate
	 * key, value. in_trust: the value being read is trust:'s; in_list: inside its sequence.
	 */
	int depth = 0, docs = 0, rc = 0;
	bool want_key = true, in_trust = false, in_list = false, seen_trust = false, done = false;
	while (!done && rc == 0) {
		if (!yaml_parser_parse(&p, &ev)) {
			char what[256];
			snprintf(what, sizeof what, "not valid YAML: %s", p.problem ? p.problem : "unknown error");
			rc = fail_at(&r, p.problem_mark, what);
			break;
		}
		if (ev.type == YAML_ALIAS_EVENT || decorated(&ev)) {
			rc = fail_at(&r, ev.start_mark, "anchors, aliases and tags are not allowed in a catalog");
			yaml_event_delete(&ev);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1)
				rc = fail_at(&r, ev.start_mark, "more than one YAML document");
			break;
		case YAML_SCALAR_EVENT:
			if (depth == 0)
				rc = fail_at(&r, ev.start_mark, "not a catalog: the top level is not a mapping");
			else if (depth == 1 && want_key) {
				in_trust = !strcmp((const char *)ev.data.scalar.value, "trust");
				if (in_trust && seen_trust)
					rc = fail_at(&r, ev.start_mark, "trust: appears twice");
				seen_trust |= in_trust;
				want_key = false;
			} else if (depth == 1) {
				if (in_trust)
					rc = fail_at(&r, ev.start_mark, "trust: is not a list of public keys");
				in_trust = false;
				want_key = true;
			} else if (in_list && depth == 2)
				rc = add_key(&r, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > FTRUST_MAX_DEPTH)
				rc = fail_at(&r, ev.start_mark, "nested deeper than a catalog may be (64 levels)");
			else if (depth == 1 && ev.type != YAML_MAPPING_START_EVENT)
				rc = fail_at(&r, ev.start_mark, "not a catalog: the top level is not a mapping");
			else if (depth == 2 && want_key)
				rc = fail_at(&r, ev.start_mark, "a key that is not a string");
			else if (depth == 2 && in_trust) {
				if (ev.type != YAML_SEQUENCE_START_EVENT)
					rc = fail_at(&r, ev.start_mark, "trust: is not a list of public keys");
				in_list = true;
			} else if (depth == 3 && in_list)
				rc = fail_at(&r, ev.start_mark, "trust: each item must be a public key (a string)");
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (--depth == 1) {
				if (in_list && r.n == 0)
					rc = fail_at(&r, ev.start_mark, "trust: is empty; list at least one key, or leave trust: out");
				in_trust = in_list = false;
				want_key = true;
			}
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	if (rc) {
		free(r.keys);
		return -1;
	}
	*keys = r.keys;
	*n = r.n;
	return 0;
}

int
ftrust_read(const char *path, struct mskey_public **keys, size_t *n, char *err, size_t errlen)
{
	char *text;
	size_t len;
	*keys = NULL;
	*n = 0;
	if (msfile_read(path, FTRUST_MAX_BYTES, false, &text, &len, err, errlen))
		return -1;
	int rc = ftrust_parse(path, text, len, keys, n, err, errlen);
	free(text);
	return rc;
}
