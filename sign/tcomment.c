#include "tcomment.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errmsg.h"

enum { QUOTE_MAX = 60 };

bool
tcomment_is_hex64(const char *s)
{
	size_t i = 0;
	for (; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == TCOMMENT_HEX;
}

/* The field starting at *p up to the next tab: NAME in name, VALUE's start and length. */
static bool
next_field(const char **p, const char **name, size_t *namelen, const char **value, size_t *valuelen)
{
	if (!*p)
		return false;
	const char *s = *p, *tab = strchr(s, '\t');
	size_t l = tab ? (size_t)(tab - s) : strlen(s);
	*p = tab ? tab + 1 : NULL;
	const char *colon = memchr(s, ':', l);
	*name = s;
	*namelen = colon ? (size_t)(colon - s) : l;
	*value = colon ? colon + 1 : s + l;
	*valuelen = colon ? l - *namelen - 1 : 0;
	return true;
}

static bool
is_name(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && !memcmp(name, want, len);
}

/* A short, quoted excerpt of the comment for messages. */
static const char *
excerpt(const char *text, char *buf, size_t n)
{
	size_t l = strlen(text);
	if (l <= QUOTE_MAX)
		snprintf(buf, n, "'%s'", text);
	else
		snprintf(buf, n, "'%.*s...'", QUOTE_MAX, text);
	for (char *q = buf; *q; q++)
		if (*q == '\t')
			*q = ' ';
	return buf;
}

/* Copy a value of len bytes into dst (n bytes); false when it does not fit. */
static bool
copy_value(char *dst, size_t n, const char *v, size_t len)
{
	if (len >= n)
		return false;
	memcpy(dst, v, len);
	dst[len] = '\0';
	return true;
}

int
tcomment_parse(const char *text, struct tcomment *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	char q[QUOTE_MAX + 8];
	const char *p = text, *name, *v;
	size_t nl, vl;
	if (!next_field(&p, &name, &nl, &v, &vl) || !is_name(name, nl, "modelc"))
		return errmsg_fail(err, errlen, "the trusted comment %s is not one modelc wrote (it does not start "
		    "with 'modelc:%d')", excerpt(text, q, sizeof q), TCOMMENT_VERSION);
	if (vl != 1 || *v != '0' + TCOMMENT_VERSION)
		return errmsg_fail(err, errlen, "the trusted comment is version '%.*s' of modelc's format; this modelc "
		    "reads version %d", (int)(vl > 16 ? 16 : vl), v, TCOMMENT_VERSION);
	static const char *const fixed[] = {"file", "catalog-sha256", "lock-sha256"};
	char *dst[] = {out->file, out->catalog_sha256, out->lock_sha256};
	size_t dstn[] = {sizeof out->file, sizeof out->catalog_sha256, sizeof out->lock_sha256};
	for (size_t i = 0; i < 3; i++) {
		if (!next_field(&p, &name, &nl, &v, &vl) || !is_name(name, nl, fixed[i]))
			return errmsg_fail(err, errlen, "the trusted comment %s has no '%s:' field where modelc writes it "
			    "(field %zu)", excerpt(text, q, sizeof q), fixed[i], i + 2);
		if (!copy_value(dst[i], dstn[i], v, vl) || !vl || (i > 0 && !tcomment_is_hex64(dst[i])))
			return errmsg_fail(err, errlen, "the trusted comment's '%s:' is '%.*s', not %s", fixed[i],
			    (int)(vl > QUOTE_MAX ? QUOTE_MAX : vl), v, i ? "64 lower-case hex digits" : "a file name");
	}
	if (!next_field(&p, &name, &nl, &v, &vl))
		return errmsg_fail(err, errlen, "the trusted comment %s ends before its commits", excerpt(text, q, sizeof q));
	if (is_name(name, nl, "commit"))
		out->kind = TCOMMENT_COMMIT;
	else if (is_name(name, nl, "commits"))
		out->kind = TCOMMENT_COMMITS;
	else if (is_name(name, nl, "commits-sha256")) {
		out->kind = TCOMMENT_COMMITS_SHA256;
		char *end;
		const char *colon = memchr(v, ':', vl);
		out->ncommits = strtoul(v, &end, 10);
		/* N as tcomment_format writes it: decimal, no sign, no leading zero, at most 9 digits. */
		if (!colon || end != colon || v[0] < '0' || v[0] > '9' || (v[0] == '0' && colon - v > 1) ||
		    colon - v > 9 || (size_t)(v + vl - colon - 1) != TCOMMENT_HEX)
			return errmsg_fail(err, errlen, "the trusted comment's 'commits-sha256:' is '%.*s', not "
			    "N:64 hex digits", (int)(vl > QUOTE_MAX ? QUOTE_MAX : vl), v);
		vl -= (size_t)(colon + 1 - v);
		v = colon + 1;
	} else
		return errmsg_fail(err, errlen, "the trusted comment's field 5 is '%.*s', not 'commit:', 'commits:' or "
		    "'commits-sha256:'", (int)(nl > QUOTE_MAX ? QUOTE_MAX : nl), name);
	if (!copy_value(out->commits, sizeof out->commits, v, vl) ||
	    (out->kind == TCOMMENT_COMMITS_SHA256 && !tcomment_is_hex64(out->commits)))
		return errmsg_fail(err, errlen, "the trusted comment's 'commits-sha256:' digest is not 64 lower-case "
		    "hex digits");
	if (p)
		return errmsg_fail(err, errlen, "the trusted comment has a field after its commits: %s",
		    excerpt(p, q, sizeof q));
	return 0;
}

int
tcomment_format(const struct tcomment *c, char *buf, size_t n)
{
	int w;
	if (c->kind == TCOMMENT_COMMITS_SHA256)
		w = snprintf(buf, n, "modelc:%d\tfile:%s\tcatalog-sha256:%s\tlock-sha256:%s\tcommits-sha256:%lu:%s",
		    TCOMMENT_VERSION, c->file, c->catalog_sha256, c->lock_sha256, c->ncommits, c->commits);
	else
		w = snprintf(buf, n, "modelc:%d\tfile:%s\tcatalog-sha256:%s\tlock-sha256:%s\t%s:%s", TCOMMENT_VERSION,
		    c->file, c->catalog_sha256, c->lock_sha256, c->kind == TCOMMENT_COMMIT ? "commit" : "commits",
		    c->commits);
	return w < 0 || (size_t)w >= n ? -1 : w;
}
