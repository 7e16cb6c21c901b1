#include "pxapi.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxconn.h"
#include "pxgroup.h"
#include "pxinst.h"
#include "swjson.h"
#include "swtable.h"

/* vLLM's routes under VLLM_SERVER_DEV_MODE=1 and its other operator routes: never from clients. */
static const char *const dev_routes[] = { "/sleep", "/wake_up", "/is_sleeping", "/collective_rpc",
	"/reset_prefix_cache", "/reset_mm_cache", "/start_profile", "/stop_profile", "/server_info", "/pause",
	"/resume", "/is_paused", "/scale_elastic_ep", "/is_scaling_elastic_ep", "/update_weights",
	"/init_weight_transfer", "/get_world_size", "/abort_requests" };

/* Routed by the body's model. */
static const char *const model_routes[] = { "/v1/chat/completions", "/v1/completions", "/v1/embeddings",
	"/v1/rerank", "/v1/score", "/v1/responses", "/v2/rerank", "/rerank", "/score", "/pooling",
	"/classify" };

/* A growing text buffer for local answers (bounded by what the proxy holds). */
struct out {
	char *p;
	size_t len, cap;
};

static void
outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = o->cap - o->len;
		va_start(ap, fmt);
		int n = o->p ? vsnprintf(o->p + o->len, room, fmt, ap) : -1;
		va_end(ap);
		if (n >= 0 && (size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t cap = o->cap ? o->cap * 2 : 4096;
		while (n >= 0 && cap - o->len <= (size_t)n)
			cap *= 2;
		char *q = realloc(o->p, cap);
		if (!q)
			return;
		o->p = q;
		o->cap = cap;
	}
}

static void
out_json_string(struct out *o, const char *s)
{
	char esc[2 * SWTABLE_PATH_MAX];
	if (swjson_escape(esc, sizeof esc, s ? s : "") == 0)
		outf(o, "%s", esc);
	else
		outf(o, "\"\"");
}

static void
out_send(struct px_conn *c, int status, const char *ctype, struct out *o)
{
	px_conn_respond(c, status, "", ctype, o->p ? o->p : "", o->len);
	free(o->p);
}

static int
path_is(const struct px_conn *c, size_t plen, const char *p)
{
	return plen == strlen(p) && memcmp(c->req.target, p, plen) == 0;
}

static int
method_is(const struct px_conn *c, const char *m)
{
	return strcmp(c->req.method, m) == 0;
}

static void
models(struct px_conn *c)
{
	struct out o = { 0 };
	outf(&o, "{\"object\": \"list\", \"data\": [");
	for (size_t i = 0; i < px_ninst; i++) {
		const struct px_inst *in = &px_inst[i];
		outf(&o, "%s{\"id\": ", i ? ", " : "");
		out_json_string(&o, in->e.role);
		outf(&o, ", \"object\": \"model\", \"created\": 0, \"owned_by\": \"switch\", \"state\": \"%s\", "
		    "\"max_model_len\": %u, \"aliases\": [", px_state_name(in->st), (unsigned)in->e.max_model_len);
		out_json_string(&o, swtable_model_id(&in->e));
		if (in->e.repo && strcmp(in->e.repo, swtable_model_id(&in->e)) != 0) {
			outf(&o, ", ");
			out_json_string(&o, in->e.repo);
		}
		for (size_t k = 0; k < in->sv.naliases; k++) {
			outf(&o, ", ");
			out_json_string(&o, px_inst_alias(in, k));
		}
		outf(&o, "]}");
	}
	outf(&o, "]}\n");
	out_send(c, 200, "application/json", &o);
}

/* The group and limits the running instance was started with; null when it holds no process. */
static void
running_limits(struct out *o, const struct px_inst *in)
{
	if (in->pid > 0 && in->grp >= 0)
		out_json_string(o, px_group_name(in->grp));
	else
		outf(o, "null");
	if (in->pid <= 0) {
		outf(o, ", \"limits\": null");
		return;
	}
	outf(o, ", \"limits\": {\"max_model_len\": %u, ", (unsigned)in->lim_len);
	if (in->lim_kv)
		outf(o, "\"kv_cache_memory_bytes\": %llu}", (unsigned long long)in->lim_kv);
	else
		outf(o, "\"gpu_memory_utilization\": %.4g}", in->lim_util);
}

static void
running(struct px_conn *c)
{
	struct out o = { 0 };
	double now = px_now();
	outf(&o, "{\"instances\": [");
	for (size_t i = 0; i < px_ninst; i++) {
		const struct px_inst *in = &px_inst[i];
		outf(&o, "%s{\"role\": ", i ? ", " : "");
		out_json_string(&o, in->e.role);
		outf(&o, ", \"state\": \"%s\", \"port\": %u, \"pid\": %ld, \"gpu_budget_bytes\": %llu, "
		    "\"weights_bytes\": %llu, \"inflight\": %d, \"queued\": %d, \"last_use_s_ago\": ", px_state_name(in->st),
		    in->port, (long)in->pid,
		    (unsigned long long)((double)swtable_table()->gpu_total_bytes *
		    (in->pid > 0 && in->lim_util > 0 ? in->lim_util : in->e.gpu_memory_utilization)),
		    (unsigned long long)px_weights_bytes(in), in->inflight,
		    in->queued);
		if (in->last_use > 0)
			outf(&o, "%.1f", now - in->last_use);
		else
			outf(&o, "null");
		outf(&o, ", \"start_timeout_s\": %.0f, \"ttl_s\": %.0f, \"sleep_level\": %d, \"group\": ",
		    px_inst_start_timeout(in), in->ttl_s, in->sleep_level);
		running_limits(&o, in);
		outf(&o, ", \"last_error\": ");
		if (in->why[0])
			out_json_string(&o, in->why);
		else
			outf(&o, "null");
		outf(&o, "}");
	}
	outf(&o, "], \"queued\": %u, \"connections\": %u}\n", px_conn_queued(), px_conn_open());
	out_send(c, 200, "application/json", &o);
}

static void
log_of(struct out *o, const struct px_inst *in, int prefix)
{
	size_t start = in->log_full ? in->log_pos : 0, n = in->log_full ? PX_LOG_MAX : in->log_pos;
	int bol = 1;
	for (size_t k = 0; k < n; k++) {
		char ch = in->log[(start + k) % PX_LOG_MAX];
		if (bol && prefix)
			outf(o, "[%s] ", in->e.role);
		outf(o, "%c", ch);
		bol = ch == '\n';
	}
	if (!bol)
		outf(o, "\n");
}

/* RSS in bytes from /proc/self/statm; 0 when unknown. */
static unsigned long long
rss_bytes(void)
{
	char buf[128];
	if (px_read_small("/proc/self/statm", buf, sizeof buf) < 0)
		return 0;
	char *p = strchr(buf, ' ');
	return p ? strtoull(p + 1, NULL, 10) * (unsigned long long)sysconf(_SC_PAGESIZE) : 0;
}

static void
metrics(struct px_conn *c)
{
	struct out o = { 0 };
	outf(&o, "# HELP switch_proxy_requests_total Requests forwarded to a role's server.\n"
	    "# TYPE switch_proxy_requests_total counter\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_requests_total{role=\"%s\"} %lu\n", px_inst[i].e.role, px_inst[i].requests);
	outf(&o, "# HELP switch_proxy_swaps_total Times a role was made resident, by how.\n"
	    "# TYPE switch_proxy_swaps_total counter\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_swaps_total{role=\"%s\",how=\"start\"} %lu\n"
		    "switch_proxy_swaps_total{role=\"%s\",how=\"wake\"} %lu\n", px_inst[i].e.role, px_inst[i].starts,
		    px_inst[i].e.role, px_inst[i].wakes);
	outf(&o, "# HELP switch_proxy_swap_seconds Time from the first request to the role being ready.\n"
	    "# TYPE switch_proxy_swap_seconds summary\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_swap_seconds_sum{role=\"%s\"} %.6f\nswitch_proxy_swap_seconds_count{role=\"%s\"} %lu\n",
		    px_inst[i].e.role, px_inst[i].swap_sum_s, px_inst[i].e.role, px_inst[i].swap_count);
	outf(&o, "# HELP switch_proxy_puts_away_total Instances put to sleep or stopped.\n"
	    "# TYPE switch_proxy_puts_away_total counter\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_puts_away_total{role=\"%s\",how=\"sleep\"} %lu\n"
		    "switch_proxy_puts_away_total{role=\"%s\",how=\"stop\"} %lu\n", px_inst[i].e.role, px_inst[i].sleeps,
		    px_inst[i].e.role, px_inst[i].stops);
	outf(&o, "# TYPE switch_proxy_server_failures_total counter\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_server_failures_total{role=\"%s\"} %lu\n", px_inst[i].e.role, px_inst[i].failures);
	outf(&o, "# HELP switch_proxy_queue_depth Requests waiting for a swap.\n# TYPE switch_proxy_queue_depth gauge\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_queue_depth{role=\"%s\"} %d\n", px_inst[i].e.role, px_inst[i].queued);
	outf(&o, "# TYPE switch_proxy_inflight gauge\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_inflight{role=\"%s\"} %d\n", px_inst[i].e.role, px_inst[i].inflight);
	outf(&o, "# TYPE switch_proxy_instance_state gauge\n");
	for (size_t i = 0; i < px_ninst; i++)
		outf(&o, "switch_proxy_instance_state{role=\"%s\",state=\"%s\"} 1\n", px_inst[i].e.role,
		    px_state_name(px_inst[i].st));
	outf(&o, "# HELP switch_proxy_instance_max_model_len The limits a running instance was started with "
	    "(group empty: alone).\n# TYPE switch_proxy_instance_max_model_len gauge\n");
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].pid > 0)
			outf(&o, "switch_proxy_instance_max_model_len{role=\"%s\",group=\"%s\"} %u\n", px_inst[i].e.role,
			    px_inst[i].grp >= 0 ? px_group_name(px_inst[i].grp) : "", (unsigned)px_inst[i].lim_len);
	outf(&o, "# TYPE switch_proxy_instance_gpu_memory_utilization gauge\n");
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].pid > 0 && !px_inst[i].lim_kv)
			outf(&o, "switch_proxy_instance_gpu_memory_utilization{role=\"%s\",group=\"%s\"} %.4g\n",
			    px_inst[i].e.role, px_inst[i].grp >= 0 ? px_group_name(px_inst[i].grp) : "", px_inst[i].lim_util);
	outf(&o, "# TYPE switch_proxy_instance_kv_cache_memory_bytes gauge\n");
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].pid > 0 && px_inst[i].lim_kv)
			outf(&o, "switch_proxy_instance_kv_cache_memory_bytes{role=\"%s\",group=\"%s\"} %llu\n",
			    px_inst[i].e.role, px_inst[i].grp >= 0 ? px_group_name(px_inst[i].grp) : "",
			    (unsigned long long)px_inst[i].lim_kv);
	outf(&o, "# TYPE switch_proxy_rejected_total counter\n"
	    "switch_proxy_rejected_total{reason=\"queue_full\"} %lu\n"
	    "switch_proxy_rejected_total{reason=\"connections\"} %lu\n"
	    "switch_proxy_rejected_total{reason=\"bad_request\"} %lu\n"
	    "switch_proxy_rejected_total{reason=\"unknown_model\"} %lu\n"
	    "switch_proxy_rejected_total{reason=\"forbidden_route\"} %lu\n"
	    "switch_proxy_rejected_total{reason=\"unauthorized\"} %lu\n"
	    "# TYPE switch_proxy_upstream_errors_total counter\nswitch_proxy_upstream_errors_total %lu\n"
	    "# TYPE switch_proxy_client_disconnects_total counter\nswitch_proxy_client_disconnects_total %lu\n"
	    "# TYPE switch_proxy_connections_accepted_total counter\nswitch_proxy_connections_accepted_total %lu\n"
	    "# TYPE switch_proxy_connections gauge\nswitch_proxy_connections %u\n"
	    "# TYPE switch_proxy_resident_memory_bytes gauge\nswitch_proxy_resident_memory_bytes %llu\n",
	    px_m.rejected_full, px_m.rejected_conn, px_m.bad_requests, px_m.unknown_model, px_m.forbidden,
	    px_m.unauthorized, px_m.upstream_errors, px_m.client_gone, px_m.accepted, px_conn_open(), rss_bytes());
	out_send(c, 200, "text/plain; version=0.0.4", &o);
}

/* The role named by the rest of a path (/load/ROLE): its index, or -1 after answering 404. */
static int
role_of(struct px_conn *c, const char *s, size_t n)
{
	char name[PXHTTP_MODEL_MAX];
	if (n >= sizeof name)
		n = sizeof name - 1;
	memcpy(name, s, n);
	name[n] = '\0';
	int r = px_inst_find(name);
	if (r < 0) {
		const char *near = px_inst_nearest(name);
		px_m.unknown_model++;
		px_conn_error(c, 404, "NotFoundError", "model", "unknown role '%s'%s%s%s", name, near ? " (did you mean '" : "",
		    near ? near : "", near ? "'?)" : "");
	}
	return r;
}

static void
route_by_model(struct px_conn *c, size_t plen)
{
	char model[PXHTTP_MODEL_MAX];
	if (pxhttp_model(c->in + c->req.head_len, (size_t)c->req.content_length, c->req.ctype, c->req.ctype_len,
	    model) != 0) {
		px_m.bad_requests++;
		px_conn_error(c, 400, "BadRequestError", "model", "the request body names no \"model\" (a string); "
		    "GET /v1/models lists the roles");
		return;
	}
	int r = px_inst_find(model);
	if (r < 0) {
		const char *near = px_inst_nearest(model);
		struct out o = { 0 };
		for (size_t i = 0; i < px_ninst; i++)
			outf(&o, "%s%s", i ? ", " : "", px_inst[i].e.role);
		px_m.unknown_model++;
		px_conn_error(c, 404, "NotFoundError", "model", "the model '%s' does not exist%s%s%s; known roles: %s", model,
		    near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "", o.p ? o.p : "");
		free(o.p);
		return;
	}
	px_conn_forward(c, r, c->req.target, c->req.target_len);
	(void)plen;
}

static int
dev_route(const char *p, size_t n)
{
	for (size_t i = 0; i < sizeof dev_routes / sizeof dev_routes[0]; i++) {
		size_t k = strlen(dev_routes[i]);
		if (n >= k && memcmp(p, dev_routes[i], k) == 0 && (n == k || p[k] == '?' || p[k] == '/'))
			return 1;
	}
	return 0;
}

void
px_api_route(struct px_conn *c)
{
	const char *t = c->req.target;
	size_t n = c->req.target_len, plen = n;
	for (size_t i = 0; i < n; i++)
		if (t[i] == '?') {
			plen = i;
			break;
		}
	if (method_is(c, "OPTIONS")) {
		px_conn_respond(c, 204, "Access-Control-Max-Age: 600\r\n", "text/plain", "", 0);
		return;
	}
	if (path_is(c, plen, "/health")) {
		px_conn_respond(c, 200, "", "application/json", "{\"status\": \"ok\"}\n", 17);
		return;
	}
	if (!px_authorized(&c->req)) {
		px_m.unauthorized++;
		px_conn_error(c, 401, "AuthenticationError", NULL, "this proxy needs 'Authorization: Bearer KEY'");
		return;
	}
	if (dev_route(t, plen)) {
		px_m.forbidden++;
		px_conn_error(c, 403, "PermissionDeniedError", NULL, "the proxy does not forward vLLM's development "
		    "route '%.*s'; it manages sleep and wake itself", (int)plen, t);
		return;
	}
	if (path_is(c, plen, "/v1/models") && method_is(c, "GET"))
		{
			models(c);
			return;
		}
	if (path_is(c, plen, "/running") && method_is(c, "GET"))
		{
			running(c);
			return;
		}
	if (path_is(c, plen, "/metrics") && method_is(c, "GET"))
		{
			metrics(c);
			return;
		}
	if (path_is(c, plen, "/logs") && method_is(c, "GET")) {
		struct out o = { 0 };
		for (size_t i = 0; i < px_ninst; i++)
			log_of(&o, &px_inst[i], 1);
		{
			out_send(c, 200, "text/plain; charset=utf-8", &o);
			return;
		}
	}
	if (plen > 6 && memcmp(t, "/logs/", 6) == 0 && method_is(c, "GET")) {
		int r = role_of(c, t + 6, plen - 6);
		if (r >= 0) {
			struct out o = { 0 };
			log_of(&o, &px_inst[r], 0);
			out_send(c, 200, "text/plain; charset=utf-8", &o);
		}
		return;
	}
	if (plen > 6 && memcmp(t, "/load/", 6) == 0 && method_is(c, "POST")) {
		int r = role_of(c, t + 6, plen - 6);
		if (r >= 0) {
			struct px_inst *in = &px_inst[r];
			if (in->st != PXS_READY && !in->want) {
				in->want = 1;
				in->want_t = px_now();
			}
			char body[256];
			int k = snprintf(body, sizeof body, "{\"role\": \"%s\", \"state\": \"%s\"}\n", in->e.role,
			    px_state_name(in->st));
			px_conn_respond(c, 202, "", "application/json", body, (size_t)k);
		}
		return;
	}
	if (plen > 8 && memcmp(t, "/unload/", 8) == 0 && method_is(c, "POST")) {
		int r = role_of(c, t + 8, plen - 8);
		if (r >= 0) {
			struct px_inst *in = &px_inst[r];
			px_inst_unload(in);
			char body[256];
			int k = snprintf(body, sizeof body, "{\"role\": \"%s\", \"state\": \"%s\"}\n", in->e.role,
			    px_state_name(in->st));
			px_conn_respond(c, 202, "", "application/json", body, (size_t)k);
		}
		return;
	}
	if (plen > 10 && memcmp(t, "/upstream/", 10) == 0) {
		const char *role = t + 10, *slash = memchr(role, '/', n - 10);
		size_t rl = slash ? (size_t)(slash - role) : plen - 10;
		if (slash && dev_route(slash, (size_t)(t + plen - slash))) {
			px_m.forbidden++;
			px_conn_error(c, 403, "PermissionDeniedError", NULL, "the proxy does not forward vLLM's development "
			    "route '%.*s'; it manages sleep and wake itself", (int)(t + plen - slash), slash);
			return;
		}
		int r = role_of(c, role, rl);
		if (r >= 0)
			px_conn_forward(c, r, slash ? slash : "/", slash ? (size_t)(t + n - slash) : 1);
		return;
	}
	if (method_is(c, "POST")) {
		for (size_t i = 0; i < sizeof model_routes / sizeof model_routes[0]; i++)
			if (path_is(c, plen, model_routes[i]))
				{
					route_by_model(c, plen);
					return;
				}
		if (plen > 10 && memcmp(t, "/v1/audio/", 10) == 0)
			{
				route_by_model(c, plen);
				return;
			}
	}
	px_conn_error(c, 404, "NotFoundError", NULL, "no route '%s %.*s' (the proxy serves /v1/models, "
	    "/v1/chat/completions, /v1/completions, /v1/embeddings, /v1/audio/*, /v1/rerank, /v1/score, "
	    "/upstream/ROLE/..., /running, /load/ROLE, /unload/ROLE, /logs, /metrics, /health)", c->req.method,
	    (int)plen, t);
}
