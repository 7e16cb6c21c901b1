/* Reading the Hub's and the CDN's response headers (hub.h: struct hub_hdrs), line by line as
 * libcurl hands them over: ETags, sizes, ranges, Retry-After, the error code headers. */
#define _DEFAULT_SOURCE
#include "hub.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void
hub_hdrs_reset(struct hub_hdrs *hd)
{
	memset(hd, 0, sizeof *hd);
	hd->retry_after_s = -1;
}

/* Copy a header value, trimmed, and strip W/ and quotes when etag. */
static void
copy_value(char *dst, size_t n, const char *v, size_t len, bool etag)
{
	while (len && (*v == ' ' || *v == '\t'))
		v++, len--;
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' ' || v[len - 1] == '\t'))
		len--;
	if (etag) {
		if (len >= 2 && v[0] == 'W' && v[1] == '/')
			v += 2, len -= 2;
		if (len >= 2 && v[0] == '"' && v[len - 1] == '"')
			v++, len -= 2;
	}
	if (len >= n)
		len = n - 1;
	memcpy(dst, v, len);
	dst[len] = '\0';
}

static bool
parse_u64(const char *s, uint64_t *out)
{
	char *end;
	while (*s == ' ')
		s++;
	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return false;
	*out = v;
	return true;
}

size_t
hub_header_cb(char *buf, size_t size, size_t n, void *userdata)
{
	struct hub_hdrs *hd = userdata;
	size_t len = size * n;
	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
		/* A new response (a 100 Continue or the next hop): start over. */
		hub_hdrs_reset(hd);
		/* libcurl's header lines are not NUL-terminated: read at most the line's bytes. */
		const char *sp = memchr(buf, ' ', len);
		long status = 0;
		for (const char *p = sp ? sp + 1 : buf + len; p < buf + len && *p >= '0' && *p <= '9' &&
		    status < 1000; p++)
			status = status * 10 + (*p - '0');
		hd->status = status;
		return len;
	}
	const char *colon = memchr(buf, ':', len);
	if (!colon)
		return len;
	size_t klen = (size_t)(colon - buf);
	const char *v = colon + 1;
	size_t vlen = len - klen - 1;
	char val[HUB_URL_MAX];
	copy_value(val, sizeof val, v, vlen, false);
#define KEY(s) (klen == sizeof(s) - 1 && strncasecmp(buf, s, klen) == 0)
	if (KEY("Location"))
		copy_value(hd->location, sizeof hd->location, v, vlen, false);
	else if (KEY("ETag"))
		copy_value(hd->etag, sizeof hd->etag, v, vlen, true);
	else if (KEY("X-Linked-Etag"))
		copy_value(hd->linked_etag, sizeof hd->linked_etag, v, vlen, true);
	else if (KEY("X-Repo-Commit"))
		copy_value(hd->commit, sizeof hd->commit, v, vlen, false);
	else if (KEY("X-Error-Code"))
		copy_value(hd->error_code, sizeof hd->error_code, v, vlen, false);
	else if (KEY("X-Error-Message"))
		copy_value(hd->error_message, sizeof hd->error_message, v, vlen, false);
	else if (KEY("X-Linked-Size"))
		hd->has_linked_size = parse_u64(val, &hd->linked_size);
	else if (KEY("Content-Length"))
		hd->has_content_length = parse_u64(val, &hd->content_length);
	else if (KEY("Retry-After")) {
		uint64_t s;
		if (parse_u64(val, &s))
			hd->retry_after_s = s > HUB_RETRY_AFTER_MAX_S ? HUB_RETRY_AFTER_MAX_S : (long)s;
	} else if (KEY("Content-Range")) {
		/* "bytes a-b/total", or on a 416 "bytes", an asterisk, "/total" */
		unsigned long long a, b, t;
		if (sscanf(val, "bytes %llu-%llu/%llu", &a, &b, &t) == 3) {
			hd->range_start = a;
			hd->range_total = t;
			hd->has_content_range = hd->has_range_total = true;
		} else if (sscanf(val, "bytes */%llu", &t) == 1) {
			hd->range_total = t;
			hd->has_range_total = true;
		}
	} else if (KEY("Link")) {
		/* <url>; rel="next", <url2>; rel="other" */
		const char *p = val;
		while ((p = strchr(p, '<'))) {
			const char *e = strchr(p, '>');
			if (!e)
				break;
			const char *rel = strstr(e, "rel=");
			const char *next = strchr(e, '<');
			if (rel && (!next || rel < next) &&
			    (!strncmp(rel, "rel=\"next\"", 10) || !strncmp(rel, "rel=next", 8))) {
				size_t ul = (size_t)(e - p - 1);
				if (ul < sizeof hd->link_next) {
					memcpy(hd->link_next, p + 1, ul);
					hd->link_next[ul] = '\0';
				}
				break;
			}
			p = e;
		}
	}
#undef KEY
	return len;
}
