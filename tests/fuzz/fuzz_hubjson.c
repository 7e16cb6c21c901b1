/* fuzz-covers: compiler/hubresolve.c */
/*
 * Every reply `modelc lock` parses from the Hub, as a hostile or broken Hub could send them:
 * the revision answer, the tree pages, the small files (config.json, the safetensors index)
 * and the safetensors headers read with Range requests. hubresolve.c is compiled into this
 * target with hub_request replaced by a stub that answers each request with the next part of
 * the input; parts are separated by a line "----". A tree part that starts with '+' has a
 * Link header to one more page.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"

int fuzz_hub_request(const struct hub *h, const char *method, const char *url, uint64_t range_from,
    uint64_t range_to, bool stop_cross_host, size_t max_body, const char *repo, const char *rev,
    const char *path, struct hub_response *out, char *err, size_t errlen);

#define hub_request fuzz_hub_request
#include "hubresolve.c"
#undef hub_request

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fz_data;
static size_t fz_size, fz_pos;

int
fuzz_hub_request(const struct hub *h, const char *method, const char *url, uint64_t range_from,
    uint64_t range_to, bool stop_cross_host, size_t max_body, const char *repo, const char *rev,
    const char *path, struct hub_response *out, char *err, size_t errlen)
{
	(void)method, (void)range_from, (void)stop_cross_host, (void)repo, (void)rev, (void)path;
	memset(out, 0, sizeof *out);
	hub_hdrs_reset(&out->h);
	if (fz_pos > fz_size)
		return fail(EXITCODE_SYSTEM, err, errlen, "no more replies");
	const char *p = fz_data + fz_pos;
	size_t left = fz_size - fz_pos, n = left;
	const char *sep = NULL;
	for (size_t i = 0; i + 6 <= left; i++)
		if (!memcmp(p + i, "\n----\n", 6)) {
			sep = p + i;
			break;
		}
	if (sep) {
		n = (size_t)(sep - p);
		fz_pos += n + 6;
	} else
		fz_pos = fz_size + 1;
	out->h.status = 200;
	if (strstr(url, "/tree/") && n && p[0] == '+') {
		p++, n--;
		snprintf(out->h.link_next, sizeof out->h.link_next, "%s/api/models/x/tree/next", h->endpoint);
	}
	/* A Range request gets at most the bytes it asked for, as a server that honours it sends. */
	if (range_to != UINT64_MAX && n > range_to + 1)
		n = (size_t)range_to + 1;
	if (n > max_body)
		return fail(EXITCODE_SYSTEM, err, errlen, "reply too large");
	out->body = malloc(n + 1);
	if (!out->body)
		return fail(EXITCODE_SYSTEM, err, errlen, "out of memory");
	memcpy(out->body, p, n);
	out->body[n] = '\0';
	out->len = n;
	snprintf(out->url, sizeof out->url, "%s", url);
	return EXITCODE_OK;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hub h;
	if (!h.host[0]) {
		snprintf(h.endpoint, sizeof h.endpoint, "https://huggingface.co");
		snprintf(h.host, sizeof h.host, "huggingface.co");
	}
	fz_data = (const char *)data;
	fz_size = size;
	fz_pos = 0;
	struct arena a = {0};
	struct lock_model m;
	char err[HUB_ERR_MAX];
	/* Sizes come from JSON integers: one the Hub sends negative must not become a huge size. */
	if (hubresolve_model(&h, &a, "org/model", "main", &m, NULL, err, sizeof err) == EXITCODE_OK)
		for (size_t i = 0; i < m.nfiles; i++)
			if (m.files[i].size.known && m.files[i].size.value > (uint64_t)INT64_MAX)
				abort();
	arena_free(&a);
	return 0;
}
