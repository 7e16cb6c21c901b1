#include <CUnit/CUnit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"

void suite_hub(void);

static const char *
pcheck(const char *p)
{
	static char err[128];
	err[0] = '\0';
	return hub_path_check(p, strlen(p), err, sizeof err) ? err : NULL;
}

static void
test_paths(void)
{
	CU_ASSERT_PTR_NULL(pcheck("config.json"));
	CU_ASSERT_PTR_NULL(pcheck("sub/dir/a b.json"));
	CU_ASSERT_PTR_NULL(pcheck("..hidden/x"));
	CU_ASSERT_STRING_EQUAL(pcheck("/etc/passwd"), "is absolute");
	CU_ASSERT_STRING_EQUAL(pcheck("a/../../x"), "contains '..'");
	CU_ASSERT_STRING_EQUAL(pcheck(".."), "contains '..'");
	CU_ASSERT_STRING_EQUAL(pcheck("a/./b"), "contains a '.' component");
	CU_ASSERT_STRING_EQUAL(pcheck("a\\b"), "contains a backslash");
	CU_ASSERT_STRING_EQUAL(pcheck("a//b"), "has an empty component");
	CU_ASSERT_STRING_EQUAL(pcheck("a/"), "has an empty component");
	CU_ASSERT_STRING_EQUAL(pcheck(""), "is empty");
	CU_ASSERT_STRING_EQUAL(pcheck("a\nb"), "contains a control character");
	char err[64];
	CU_ASSERT_EQUAL(hub_path_check("a\0b", 3, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "contains a NUL byte");
	char longp[1100];
	memset(longp, 'a', sizeof longp - 1);
	longp[sizeof longp - 1] = '\0';
	CU_ASSERT_STRING_EQUAL(pcheck(longp), "is longer than 1024 bytes");
}

/* Every request checks its repository id first, before any I/O (the rule: test_repoid.c). */
static void
test_request_repo_id(void)
{
	struct hub h;
	struct hub_response r;
	char err[256];
	memset(&h, 0, sizeof h);
	CU_ASSERT_EQUAL(hub_request(&h, "GET", "http://127.0.0.1:1/api/models/a--b/c", 0, UINT64_MAX, false, 0,
	    "a--b/c", "main", NULL, &r, err, sizeof err), EXITCODE_REJECTED);
	CU_ASSERT_STRING_EQUAL(err, "'a--b/c' is not a Hugging Face repository id: contains '--'");
	CU_ASSERT_PTR_NULL(r.body);
}

static void
test_hosts(void)
{
	char h[HUB_HOST_MAX];
	CU_ASSERT_EQUAL(hub_url_host("https://HuggingFace.co:443/x", h, sizeof h), 0);
	CU_ASSERT_STRING_EQUAL(h, "huggingface.co");
	CU_ASSERT_EQUAL(hub_url_host("http://user:pw@127.0.0.2:9/x?y", h, sizeof h), 0);
	CU_ASSERT_STRING_EQUAL(h, "127.0.0.2");
	CU_ASSERT_EQUAL(hub_url_host("not a url", h, sizeof h), -1);
	struct hub hub;
	memset(&hub, 0, sizeof hub);
	strcpy(hub.host, "127.0.0.1");
	/* Same host name, other port: the Hub (as huggingface_hub decides). */
	CU_ASSERT_TRUE(hub_is_hub_host(&hub, "http://127.0.0.1:1234/a"));
	CU_ASSERT_FALSE(hub_is_hub_host(&hub, "http://127.0.0.2:1234/a"));
	CU_ASSERT_FALSE(hub_is_hub_host(&hub, "http://127.0.0.1.evil.example/a"));
}

static int
has_auth(struct curl_slist *l)
{
	for (; l; l = l->next)
		if (!strncmp(l->data, "Authorization:", 14))
			return 1;
	return 0;
}

static void
test_headers_and_env(void)
{
	char err[256];
	struct hub hub;
	setenv("HF_ENDPOINT", "http://127.0.0.1:9999/", 1);
	setenv("HF_TOKEN", "  hf_unit_token\n", 1);
	setenv("MODELC_HUB_BACKOFF_MS", "100", 1);
	unsetenv("HF_HUB_OFFLINE");
	CU_ASSERT_EQUAL_FATAL(hub_open(&hub, err, sizeof err), 0);
	CU_ASSERT_STRING_EQUAL(hub.endpoint, "http://127.0.0.1:9999");
	CU_ASSERT_STRING_EQUAL(hub.token, "hf_unit_token");
	CU_ASSERT_STRING_EQUAL(hub.token_source, "HF_TOKEN");
	struct curl_slist *l = hub_headers(&hub, "http://127.0.0.1:1/x", 0, UINT64_MAX);
	CU_ASSERT_TRUE(has_auth(l));
	int identity = 0, range = 0;
	for (struct curl_slist *p = l; p; p = p->next) {
		identity |= !strcmp(p->data, "Accept-Encoding: identity");
		range |= !strncmp(p->data, "Range:", 6);
	}
	CU_ASSERT_TRUE(identity);
	CU_ASSERT_FALSE(range);
	hub_headers_free(l);
	l = hub_headers(&hub, "http://127.0.0.2:9999/cdn", 100, UINT64_MAX);
	CU_ASSERT_FALSE(has_auth(l));
	CU_ASSERT_STRING_EQUAL(l->next->next->data, "Range: bytes=100-");
	hub_headers_free(l);
	l = hub_headers(&hub, "http://127.0.0.2/x", 0, 7);
	CU_ASSERT_STRING_EQUAL(l->next->next->data, "Range: bytes=0-7");
	hub_headers_free(l);
	CU_ASSERT_EQUAL(hub_retry_delay_ms(&hub, 1, -1), 100);
	CU_ASSERT_EQUAL(hub_retry_delay_ms(&hub, 3, -1), 400);
	CU_ASSERT_EQUAL(hub_retry_delay_ms(&hub, 30, -1), 30000);
	CU_ASSERT_EQUAL(hub_retry_delay_ms(&hub, 1, 7), 7000);
	char *u = hub_resolve_url(&hub, "org/m", "refs/pr/1", "sub dir/a+b.json");
	CU_ASSERT_STRING_EQUAL(u, "http://127.0.0.1:9999/org/m/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json");
	free(u);
	u = hub_api_url(&hub, "org/m", "tree", "main", "?recursive=true");
	CU_ASSERT_STRING_EQUAL(u, "http://127.0.0.1:9999/api/models/org/m/tree/main?recursive=true");
	free(u);
	hub_close(&hub);
	CU_ASSERT_PTR_NULL(hub.token);

	setenv("HF_TOKEN", "bad token", 1);
	CU_ASSERT_EQUAL(hub_open(&hub, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "HF_TOKEN is not a usable token (too long or contains spaces or control bytes)");
	hub_close(&hub);
	unsetenv("HF_TOKEN");
	setenv("HF_ENDPOINT", "ftp://x", 1);
	CU_ASSERT_EQUAL(hub_open(&hub, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "HF_ENDPOINT 'ftp://x' is not an http:// or https:// URL");
	setenv("HF_ENDPOINT", "http://127.0.0.1:1", 1);
	setenv("MODELC_HUB_BACKOFF_MS", "soon", 1);
	CU_ASSERT_EQUAL(hub_open(&hub, err, sizeof err), -1);
	CU_ASSERT_STRING_EQUAL(err, "MODELC_HUB_BACKOFF_MS 'soon' is not a number of milliseconds up to 60000");
	unsetenv("MODELC_HUB_BACKOFF_MS");
	unsetenv("HF_ENDPOINT");
}

static size_t
feed(struct hub_hdrs *hd, const char *line)
{
	return hub_header_cb((char *)line, 1, strlen(line), hd);
}

static void
test_header_parse(void)
{
	struct hub_hdrs hd;
	hub_hdrs_reset(&hd);
	feed(&hd, "HTTP/1.1 302 Found\r\n");
	feed(&hd, "X-Linked-Etag: \"abc\"\r\n");
	feed(&hd, "etag: W/\"def\"\r\n");
	feed(&hd, "X-Linked-Size: 12345\r\n");
	feed(&hd, "X-Repo-Commit: 0123\r\n");
	feed(&hd, "Retry-After: 9999\r\n");
	feed(&hd, "Link: <http://h/a?cursor=2>; rel=\"next\", <http://h/x>; rel=\"xet-auth\"\r\n");
	CU_ASSERT_EQUAL(hd.status, 302);
	CU_ASSERT_STRING_EQUAL(hd.linked_etag, "abc");
	CU_ASSERT_STRING_EQUAL(hd.etag, "def");
	CU_ASSERT_TRUE(hd.has_linked_size);
	CU_ASSERT_EQUAL(hd.linked_size, 12345);
	CU_ASSERT_STRING_EQUAL(hd.commit, "0123");
	CU_ASSERT_EQUAL(hd.retry_after_s, HUB_RETRY_AFTER_MAX_S);
	CU_ASSERT_STRING_EQUAL(hd.link_next, "http://h/a?cursor=2");
	feed(&hd, "HTTP/1.1 206 Partial Content\r\n");
	CU_ASSERT_EQUAL(hd.status, 206);
	CU_ASSERT_STRING_EQUAL(hd.etag, "");
	feed(&hd, "Content-Range: bytes 10-19/20\r\n");
	CU_ASSERT_TRUE(hd.has_content_range);
	CU_ASSERT_EQUAL(hd.range_start, 10);
	CU_ASSERT_EQUAL(hd.range_total, 20);
	CU_ASSERT_TRUE(hd.has_range_total);
	feed(&hd, "Link: <http://h/x>; rel=\"xet-auth\"\r\n");
	CU_ASSERT_STRING_EQUAL(hd.link_next, "");
	feed(&hd, "HTTP/1.1 416 Range Not Satisfiable\r\n");
	CU_ASSERT_FALSE(hd.has_range_total);
	feed(&hd, "Content-Range: bytes */3000192\r\n");
	CU_ASSERT_FALSE(hd.has_content_range);
	CU_ASSERT_TRUE(hd.has_range_total);
	CU_ASSERT_EQUAL(hd.range_total, 3000192);
	CU_ASSERT_STRING_EQUAL(hd.link_next, "");
}

static void
expect_msg(struct hub *h, const char *code, long status, const char *want, int want_rc)
{
	struct hub_hdrs hd;
	char err[512];
	hub_hdrs_reset(&hd);
	hd.status = status;
	snprintf(hd.error_code, sizeof hd.error_code, "%s", code);
	int rc = hub_error_message(h, "org/m", "v1", "f.json", "http://hub/x", &hd, err, sizeof err);
	CU_ASSERT_EQUAL(rc, want_rc);
	CU_ASSERT_STRING_EQUAL(err, want);
	if (strcmp(err, want))
		fprintf(stderr, "\n  got: %s\n want: %s\n", err, want);
}

static void
test_errors(void)
{
	struct hub h;
	memset(&h, 0, sizeof h);
	strcpy(h.endpoint, "https://hub");
	expect_msg(&h, "GatedRepo", 401, "org/m is a gated model: accept its licence at https://hub/org/m, then "
	    "set HF_TOKEN (or run 'hf auth login') and run again", EXITCODE_REJECTED);
	expect_msg(&h, "RepoNotFound", 401, "repository 'org/m' was not found on https://hub (or it is private "
	    "and no token is set)", EXITCODE_REJECTED);
	expect_msg(&h, "RevisionNotFound", 404, "revision 'v1' was not found in org/m", EXITCODE_REJECTED);
	expect_msg(&h, "EntryNotFound", 404, "file 'f.json' was not found in org/m at revision 'v1'", EXITCODE_REJECTED);
	expect_msg(&h, "DisabledRepo", 403, "repository 'org/m' is disabled on https://hub", EXITCODE_REJECTED);
	expect_msg(&h, "", 401, "http://hub/x: HTTP 401: the Hub wants a token; set HF_TOKEN", EXITCODE_REJECTED);
	expect_msg(&h, "", 404, "http://hub/x: HTTP 404 (not found)", EXITCODE_REJECTED);
	expect_msg(&h, "", 502, "http://hub/x: HTTP 502", EXITCODE_SYSTEM);
	char tok[] = "t";
	h.token = tok;
	h.token_source = "token file";
	expect_msg(&h, "GatedRepo", 403, "org/m is a gated model and the token from token file is not approved "
	    "for it: accept its licence at https://hub/org/m (with the account the token belongs to), then run "
	    "again", EXITCODE_REJECTED);
	expect_msg(&h, "RepoNotFound", 401, "repository 'org/m' was not found on https://hub (or it is private "
	    "and the token has no access)", EXITCODE_REJECTED);
	expect_msg(&h, "", 403, "http://hub/x: HTTP 403: the token was refused; check HF_TOKEN", EXITCODE_REJECTED);
	CU_ASSERT_TRUE(hub_retryable(429, CURLE_OK));
	CU_ASSERT_TRUE(hub_retryable(503, CURLE_OK));
	CU_ASSERT_FALSE(hub_retryable(404, CURLE_OK));
	CU_ASSERT_TRUE(hub_retryable(0, CURLE_RECV_ERROR));
	CU_ASSERT_FALSE(hub_retryable(0, CURLE_WRITE_ERROR));
	CU_ASSERT_TRUE(hub_is_hex("0123456789abcdef", 16));
	CU_ASSERT_FALSE(hub_is_hex("0123456789ABCDEF", 16));
	CU_ASSERT_FALSE(hub_is_hex("0123", 3));
}

static void
test_offline(void)
{
	struct hub h;
	char err[256];
	setenv("HF_HUB_OFFLINE", "1", 1);
	CU_ASSERT_EQUAL_FATAL(hub_open(&h, err, sizeof err), 0);
	struct hub_response r;
	CU_ASSERT_EQUAL(hub_request(&h, "GET", "http://127.0.0.1:1/x", 0, UINT64_MAX, false, 10, "o/m", "main",
	    NULL, &r, err, sizeof err), EXITCODE_REJECTED);
	CU_ASSERT_STRING_EQUAL(err, "HF_HUB_OFFLINE is set, so http://127.0.0.1:1/x cannot be reached; unset it to use the Hub");
	unsetenv("HF_HUB_OFFLINE");
	hub_close(&h);
}

void
suite_hub(void)
{
	CU_pSuite s = CU_add_suite("hub", NULL, NULL);
	CU_add_test(s, "repo paths", test_paths);
	CU_add_test(s, "a request checks its repository id first", test_request_repo_id);
	CU_add_test(s, "host names, not ports", test_hosts);
	CU_add_test(s, "environment, token and headers", test_headers_and_env);
	CU_add_test(s, "response headers", test_header_parse);
	CU_add_test(s, "error messages", test_errors);
	CU_add_test(s, "offline", test_offline);
}
