/* Hub URLs: the host a URL names, repo-relative path checks, percent-quoting, and the resolve
 * and API URLs built from them (hub.h). */
#define _DEFAULT_SOURCE
#include "hub.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errmsg.h"

int
hub_url_host(const char *url, char *host, size_t n)
{
	CURLU *u = curl_url();
	if (!u)
		return -1;
	char *hp = NULL;
	int rc = -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &hp, 0) == CURLUE_OK && hp && strlen(hp) < n) {
		for (size_t i = 0; hp[i]; i++)
			host[i] = (char)tolower((unsigned char)hp[i]);
		host[strlen(hp)] = '\0';
		rc = 0;
	}
	curl_free(hp);
	curl_url_cleanup(u);
	return rc;
}

bool
hub_is_hub_host(const struct hub *h, const char *url)
{
	char host[HUB_HOST_MAX];
	return hub_url_host(url, host, sizeof host) == 0 && strcmp(host, h->host) == 0;
}

int
hub_path_check(const char *path, size_t len, char *err, size_t errlen)
{
	if (len == 0)
		return errmsg_fail(err, errlen, "is empty");
	if (memchr(path, '\0', len))
		return errmsg_fail(err, errlen, "contains a NUL byte");
	if (path[0] == '/')
		return errmsg_fail(err, errlen, "is absolute");
	if (memchr(path, '\\', len))
		return errmsg_fail(err, errlen, "contains a backslash");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
			return errmsg_fail(err, errlen, "contains a control character");
	size_t start = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		size_t cl = i - start;
		if (cl == 0)
			return errmsg_fail(err, errlen, "has an empty component");
		if (cl == 2 && path[start] == '.' && path[start + 1] == '.')
			return errmsg_fail(err, errlen, "contains '..'");
		if (cl == 1 && path[start] == '.')
			return errmsg_fail(err, errlen, "contains a '.' component");
		start = i + 1;
	}
	if (len > 1024)
		return errmsg_fail(err, errlen, "is longer than 1024 bytes");
	return 0;
}

char *
hub_quote(const char *s, bool keep_slash)
{
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/'))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

static char *
join(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *out = n < 0 ? NULL : malloc((size_t)n + 1);
	if (out)
		vsnprintf(out, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	return out;
}

char *
hub_resolve_url(const struct hub *h, const char *repo, const char *rev, const char *path)
{
	char *r = hub_quote(rev, false), *p = hub_quote(path, true), *u = NULL;
	if (r && p)
		u = join("%s/%s/resolve/%s/%s", h->endpoint, repo, r, p);
	free(r);
	free(p);
	return u;
}

char *
hub_api_url(const struct hub *h, const char *repo, const char *what, const char *rev,
    const char *suffix)
{
	char *r = hub_quote(rev, false), *u = NULL;
	if (r)
		u = join("%s/api/models/%s/%s/%s%s", h->endpoint, repo, what, r, suffix ? suffix : "");
	free(r);
	return u;
}
