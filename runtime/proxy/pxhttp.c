#include "pxhttp.h"

#include <string.h>

/* tchar of RFC 9110 5.6.2 */
static int
tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c && strchr("!#$%&'*+-.^_`|~", c));
}

int
pxhttp_name_is(const char *s, size_t n, const char *name)
{
	size_t k = strlen(name);
	if (n != k)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char a = s[i], b = name[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static const char *
find_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return buf + i + 4;
	return NULL;
}

int
pxhttp_parse(const char *buf, size_t len, uint64_t max_body, struct pxhttp_req *r, const char **why)
{
	const char *end = find_end(buf, len < PXHTTP_HEAD_MAX ? len : PXHTTP_HEAD_MAX);
	int have_len = 0;

	memset(r, 0, sizeof *r);
	if (!end) {
		/* A bare LF anywhere in what came is an error now, not after 16 KiB. */
		for (size_t i = 0; i < len && i < PXHTTP_HEAD_MAX; i++)
			if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r')) {
				*why = "a line of the request head ends in a bare LF; expected CRLF";
				return 400;
			}
		if (len >= PXHTTP_HEAD_MAX) {
			*why = "the request head is longer than 16384 bytes";
			return 431;
		}
		return 0;
	}
	r->head_len = (size_t)(end - buf);
	/* request-line = method SP request-target SP HTTP-version CRLF */
	const char *p = buf, *eol = memchr(buf, '\r', r->head_len);
	size_t m = 0;
	while (p < eol && tchar((unsigned char)*p) && m + 1 < sizeof r->method)
		r->method[m++] = *p++;
	if (m == 0 || p >= eol || *p != ' ') {
		*why = "the request line is not METHOD SP TARGET SP HTTP-VERSION";
		return 400;
	}
	p++;
	r->target = p;
	while (p < eol && *p > ' ' && *p < 0x7f)
		p++;
	r->target_len = (size_t)(p - r->target);
	if (r->target_len == 0 || r->target[0] != '/' || p >= eol || *p != ' ') {
		*why = "the request target must be an absolute path (origin-form) followed by one space";
		return 400;
	}
	p++;
	if ((size_t)(eol - p) != 8 || strncmp(p, "HTTP/", 5) != 0 || p[6] != '.') {
		*why = "the request line is not METHOD SP TARGET SP HTTP-VERSION";
		return 400;
	}
	if (p[5] != '1' || (p[7] != '1' && p[7] != '0')) {
		*why = "only HTTP/1.0 and HTTP/1.1 are served";
		return 505;
	}
	r->http10 = p[7] == '0';
	for (p = eol + 2; p < end - 2;) {
		const char *le = p;
		while (le < end && *le != '\r' && *le != '\n')
			le++;
		if (*le != '\r' || le[1] != '\n') {
			*why = "a line of the request head ends in a bare LF; expected CRLF";
			return 400;
		}
		const char *name = p, *colon = p;
		while (colon < le && tchar((unsigned char)*colon))
			colon++;
		if (colon == name || colon >= le || *colon != ':') {
			*why = (*p == ' ' || *p == '\t') ? "obsolete line folding is not accepted" :
			    "a header line is not NAME: VALUE (a token, then a colon with no space before it)";
			return 400;
		}
		size_t nlen = (size_t)(colon - name);
		const char *v = colon + 1, *ve = le;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *q = v; q < ve; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t') {
				*why = "a header value holds a control character";
				return 400;
			}
		size_t vlen = (size_t)(ve - v);
		if (pxhttp_name_is(name, nlen, "content-length")) {
			uint64_t n = 0;
			if (have_len || vlen == 0 || vlen > 19) {
				*why = have_len ? "more than one Content-Length" : "Content-Length is not a number";
				return 400;
			}
			for (size_t i = 0; i < vlen; i++) {
				if (v[i] < '0' || v[i] > '9') {
					*why = "Content-Length is not a number";
					return 400;
				}
				n = n * 10 + (uint64_t)(v[i] - '0');
			}
			have_len = 1;
			r->content_length = n;
		} else if (pxhttp_name_is(name, nlen, "transfer-encoding")) {
			*why = "request bodies must come with Content-Length; Transfer-Encoding is not accepted";
			return 501;
		} else if (pxhttp_name_is(name, nlen, "expect")) {
			r->expect_continue = pxhttp_name_is(v, vlen, "100-continue");
		} else if (pxhttp_name_is(name, nlen, "authorization")) {
			r->auth = v;
			r->auth_len = vlen;
		} else if (pxhttp_name_is(name, nlen, "content-type")) {
			r->ctype = v;
			r->ctype_len = vlen;
		}
		p = le + 2;
	}
	if (r->content_length > max_body) {
		*why = "the request body is larger than the proxy's limit (--max-body)";
		return 413;
	}
	return 1;
}

/* ---- the model field ---- */

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* Past a JSON string starting at p (a quote); NULL when it does not end. */
static const char *
skip_string(const char *p, const char *e)
{
	for (p++; p < e; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

/* Past one JSON value; NULL when malformed. */
static const char *
skip_value(const char *p, const char *e)
{
	int depth = 0;
	p = skip_ws(p, e);
	do {
		if (p >= e)
			return NULL;
		if (*p == '"') {
			if (!(p = skip_string(p, e)))
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if (*p == '}' || *p == ']')
			depth--;
		else if (depth == 0) {
			while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' &&
			    *p != '\t')
				p++;
			return p;
		}
		p++;
	} while (depth > 0);
	return depth == 0 ? p : NULL;
}

/* Decode the JSON string at p (a quote) into out; -1 when it has escapes beyond ASCII or is long. */
static int
decode(const char *p, const char *e, char *out)
{
	size_t n = 0;
	for (p++; p < e && *p != '"'; p++) {
		char c = *p;
		if (c == '\\') {
			if (++p >= e)
				return -1;
			switch (*p) {
			case '"': case '\\': case '/': c = *p; break;
			case 'u': {
				unsigned v = 0;
				for (int i = 1; i <= 4; i++) {
					char h = p + i < e ? p[i] : 0;
					v = v * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
					    h >= 'A' && h <= 'F' ? h - 'A' + 10 : 999);
				}
				if (v < 0x20 || v > 0x7e)
					return -1;
				c = (char)v;
				p += 4;
				break;
			}
			default: return -1;
			}
		}
		if (n + 1 >= PXHTTP_MODEL_MAX)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return p < e ? 0 : -1;
}

static int
model_json(const char *p, const char *e, char *out)
{
	p = skip_ws(p, e);
	if (p >= e || *p != '{')
		return -1;
	p = skip_ws(p + 1, e);
	while (p < e && *p == '"') {
		const char *key = p, *ke = skip_string(p, e);
		if (!ke)
			return -1;
		p = skip_ws(ke, e);
		if (p >= e || *p != ':')
			return -1;
		p = skip_ws(p + 1, e);
		if (ke - key == 7 && memcmp(key, "\"model\"", 7) == 0)
			return p < e && *p == '"' ? decode(p, e, out) : -1;
		if (!(p = skip_value(p, e)))
			return -1;
		p = skip_ws(p, e);
		if (p < e && *p == ',')
			p = skip_ws(p + 1, e);
	}
	return -1;
}

static const char *
mem_find(const char *h, size_t hn, const char *n)
{
	size_t nn = strlen(n);
	for (size_t i = 0; i + nn <= hn; i++)
		if (memcmp(h + i, n, nn) == 0)
			return h + i;
	return NULL;
}

int
pxhttp_model(const char *body, size_t len, const char *ctype, size_t ctype_len, char out[PXHTTP_MODEL_MAX])
{
	if (ctype && ctype_len >= 19 && pxhttp_name_is(ctype, 19, "multipart/form-data")) {
		const char *f = mem_find(body, len, "name=\"model\"");
		if (!f)
			return -1;
		const char *v = mem_find(f, len - (size_t)(f - body), "\r\n\r\n");
		if (!v)
			return -1;
		v += 4;
		const char *ve = mem_find(v, len - (size_t)(v - body), "\r\n");
		if (!ve || (size_t)(ve - v) >= PXHTTP_MODEL_MAX)
			return -1;
		memcpy(out, v, (size_t)(ve - v));
		out[ve - v] = '\0';
		return 0;
	}
	return model_json(body, body + len, out);
}

/* ---- chunked bodies ---- */

enum { CK_SIZE, CK_EXT, CK_SIZE_LF, CK_DATA, CK_DATA_CR, CK_DATA_LF, CK_TRAILER, CK_TRAILER_LINE, CK_END_LF,
	CK_TLINE_LF, CK_DONE };

int
pxhttp_chunks_feed(struct pxhttp_chunks *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		switch (c->state) {
		case CK_SIZE: {
			int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 :
			    ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
			if (d >= 0 && c->digits < 15) {
				c->left = c->left * 16 + (uint64_t)d;
				c->digits++;
			} else if (c->digits && (ch == ';' || ch == ' ' || ch == '\t')) {
				c->state = CK_EXT;
			} else if (c->digits && ch == '\r') {
				c->state = CK_SIZE_LF;
			} else {
				return -1;
			}
			break;
		}
		case CK_EXT:
			if (ch == '\r')
				c->state = CK_SIZE_LF;
			break;
		case CK_SIZE_LF:
			if (ch != '\n')
				return -1;
			c->state = c->left ? CK_DATA : CK_TRAILER;
			break;
		case CK_DATA: {
			size_t take = n - i < c->left ? n - i : (size_t)c->left;
			c->left -= take;
			i += take - 1;
			if (!c->left)
				c->state = CK_DATA_CR;
			break;
		}
		case CK_DATA_CR:
			if (ch != '\r')
				return -1;
			c->state = CK_DATA_LF;
			break;
		case CK_DATA_LF:
			if (ch != '\n')
				return -1;
			c->state = CK_SIZE;
			c->digits = 0;
			c->left = 0;
			break;
		case CK_TRAILER:
			c->state = ch == '\r' ? CK_END_LF : CK_TRAILER_LINE;
			break;
		case CK_TRAILER_LINE:
			if (ch == '\r')
				c->state = CK_TLINE_LF;
			break;
		case CK_TLINE_LF:
			if (ch != '\n')
				return -1;
			c->state = CK_TRAILER;
			break;
		case CK_END_LF:
			if (ch != '\n')
				return -1;
			c->state = CK_DONE;
			return 1;
		case CK_DONE:
			return 1;
		}
	}
	return c->state == CK_DONE ? 1 : 0;
}

int
pxhttp_chunks_at_boundary(const struct pxhttp_chunks *c)
{
	return c->state == CK_SIZE && c->digits == 0;
}
