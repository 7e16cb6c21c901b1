/* switch-proxy: one OpenAI-compatible endpoint for every role (switch proxy execs it). */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "px.h"
#include "pxconn.h"
#include "pxdry.h"
#include "pxinst.h"
#include "size.h"
#include "swcmd.h"
#include "swtable.h"

struct px_opts px_opt;
struct px_inst px_inst[PX_MAX_ROLES];
size_t px_ninst;
struct px_conn px_conn[PX_MAX_CONN];
struct px_metrics px_m;
volatile int px_stopping;

static const char usage[] =
    "switch proxy [--listen ADDRESS:PORT] [--port-base PORT] [--preload ROLE]... [--queue N] [--max-body BYTES]\n"
    "       [--drain-timeout S] [--ttl [ROLE=]S]... [--sleep-level [ROLE=]0|1|2]... [--start-base S]\n"
    "       [--disk-speed MB/S] [--api-key-file FILE] [--dry-run]";
static const char help[] =
    "The catalog's ttl and sleep_mode win; --ttl S and --sleep-level N apply to roles that set none;\n"
    "--ttl ROLE=S and --sleep-level ROLE=N override the catalog for one role. The catalog's load\n"
    "timeouts win too, unless --start-base or --disk-speed is given. docs/proxy.md has the rest.\n";

static int sigpipe_w = -1;

double
px_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
px_log(struct px_inst *in, const char *s, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		in->log[in->log_pos++] = s[k];
		if (in->log_pos == PX_LOG_MAX) {
			in->log_pos = 0;
			in->log_full = 1;
		}
	}
}

ssize_t
px_read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return n;
}

int
px_authorized(const struct pxhttp_req *r)
{
	if (!px_opt.api_key)
		return 1;
	if (!r->auth || r->auth_len < 7 || strncmp(r->auth, "Bearer ", 7) != 0)
		return 0;
	/* Constant time in the key's length: every byte is compared whatever differs first. */
	const char *k = r->auth + 7;
	size_t kl = r->auth_len - 7;
	unsigned char d = (unsigned char)(kl != px_opt.api_key_len);
	for (size_t i = 0; i < px_opt.api_key_len; i++)
		d |= (unsigned char)(px_opt.api_key[i] ^ (i < kl ? k[i] : 0));
	return d == 0;
}

static void
on_signal(int sig)
{
	if (sig != SIGCHLD)
		px_stopping = 1;
	int saved = errno;
	(void)!write(sigpipe_w, "x", 1);
	errno = saved;
}

static long
number(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return *s && !*end && !errno && v >= lo && v <= hi ? v : -1;
}

static int
is_loopback(const char *h)
{
	return strncmp(h, "127.", 4) == 0 || strcmp(h, "localhost") == 0;
}

static int
read_key(const char *path)
{
	static char key[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		swcmd_error("proxy: --api-key-file '%s': %s\n", path, strerror(errno));
		return -1;
	}
	ssize_t n = read(fd, key, sizeof key - 1);
	close(fd);
	while (n > 0 && (key[n - 1] == '\n' || key[n - 1] == '\r' || key[n - 1] == ' '))
		n--;
	if (n < 16) {
		swcmd_error("proxy: --api-key-file '%s' holds %s; expected a key of at least 16 characters\n", path,
		    n <= 0 ? "nothing" : "a key shorter than 16 characters");
		return -1;
	}
	key[n] = '\0';
	px_opt.api_key = key;
	px_opt.api_key_len = (size_t)n;
	return 0;
}

/* --ttl [ROLE=]S, --sleep-level [ROLE=]N: a default, or an override for one role. */
static int
serving_opt(const char *name, const char *v, int sleep, long hi)
{
	const char *eq = strchr(v, '=');
	long x = number(eq ? eq + 1 : v, 0, hi);
	if (x < 0 || eq == v) {
		swcmd_error("proxy: %s '%s' is not %s from 0 to %ld, or ROLE=%s\n", name, v, sleep ? "a level" : "a number",
		    hi, sleep ? "N" : "S");
		return -1;
	}
	if (!eq) {
		if (sleep)
			px_opt.sleep_level = (int)x;
		else
			px_opt.ttl_s = (double)x;
		return 0;
	}
	static char roles[2 * PX_MAX_ROLES][64];
	if (px_opt.nov == sizeof px_opt.ov / sizeof px_opt.ov[0] || (size_t)(eq - v) >= sizeof roles[0]) {
		swcmd_error("proxy: %s '%s': too many overrides or too long a role name\n", name, v);
		return -1;
	}
	size_t k = px_opt.nov++;
	snprintf(roles[k], sizeof roles[0], "%.*s", (int)(eq - v), v);
	px_opt.ov[k] = (struct px_override){ roles[k], sleep, x };
	return 0;
}

int
main(int argc, char **argv)
{
	const char *table = NULL, *keyfile = NULL, *v, *preload[PX_MAX_ROLES];
	size_t npreload = 0;
	int dry = 0;

	snprintf(px_opt.host, sizeof px_opt.host, "127.0.0.1");
	px_opt.port = 8080;
	px_opt.queue_max = 256;
	px_opt.max_body = 32 * SIZE_MIB;
	px_opt.drain_s = 30;
	px_opt.start_base_s = 120;
	px_opt.disk_bps = 200e6;
	argv[0] = "proxy";
	for (int i = 1; i < argc; i++) {
		/* switch proxy passes its own words: [--table FILE] proxy OPTIONS */
		if (strcmp(argv[i], "proxy") == 0 && !dry && !npreload && i <= 3)
			continue;
		int m;
		long x;
#define OPT(name) ((m = swcmd_option(argc, argv, &i, name, &v)) != 0)
#define NUM(name, lo, hi) \
	if (m < 0 || (x = number(v, lo, hi)) < 0) { \
		if (m > 0) \
			swcmd_error("proxy: %s '%s' is not a number from %ld to %ld\n", name, v, (long)(lo), (long)(hi)); \
		return EXITCODE_USAGE; \
	}
		if (OPT("--table")) {
			if (m < 0)
				return EXITCODE_USAGE;
			table = v;
		} else if (OPT("--listen")) {
			if (m < 0)
				return EXITCODE_USAGE;
			const char *colon = strrchr(v, ':');
			long p = colon ? number(colon + 1, 1, 65535) : -1;
			if (!colon || p < 0 || (size_t)(colon - v) >= sizeof px_opt.host || colon == v) {
				swcmd_error("proxy: --listen '%s' is not ADDRESS:PORT (e.g. 127.0.0.1:8080)\n", v);
				return EXITCODE_USAGE;
			}
			snprintf(px_opt.host, sizeof px_opt.host, "%.*s", (int)(colon - v), v);
			px_opt.port = (unsigned)p;
		} else if (OPT("--port-base")) {
			NUM("--port-base", 1, 65535);
			px_opt.port_base = (unsigned)x;
		} else if (OPT("--queue")) {
			NUM("--queue", 0, PX_MAX_CONN);
			px_opt.queue_max = (unsigned)x;
		} else if (OPT("--max-body")) {
			NUM("--max-body", 1, 1L << 30);
			px_opt.max_body = (uint64_t)x;
		} else if (OPT("--drain-timeout")) {
			NUM("--drain-timeout", 0, 86400);
			px_opt.drain_s = (double)x;
		} else if (OPT("--ttl")) {
			if (m < 0 || serving_opt("--ttl", v, 0, 864000) != 0)
				return EXITCODE_USAGE;
		} else if (OPT("--sleep-level")) {
			if (m < 0 || serving_opt("--sleep-level", v, 1, 2) != 0)
				return EXITCODE_USAGE;
		} else if (OPT("--start-base")) {
			NUM("--start-base", 0, 86400);
			px_opt.start_base_s = (double)x;
			px_opt.start_set = 1;
		} else if (OPT("--disk-speed")) {
			NUM("--disk-speed", 1, 1000000);
			px_opt.disk_bps = (double)x * 1e6;
			px_opt.start_set = 1;
		} else if (OPT("--preload")) {
			if (m < 0)
				return EXITCODE_USAGE;
			if (npreload < PX_MAX_ROLES)
				preload[npreload++] = v;
		} else if (OPT("--api-key-file")) {
			if (m < 0)
				return EXITCODE_USAGE;
			keyfile = v;
		} else if (strcmp(argv[i], "--dry-run") == 0) {
			dry = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			swcmd_usage(stdout, usage);
			return fputs(help, stdout) >= 0 ? EXITCODE_OK : EXITCODE_SYSTEM;
		} else {
			return swcmd_unknown_option("proxy", argv[i], usage);
		}
	}
	int rc = swtable_load(table, false);
	if (rc != EXITCODE_OK)
		return rc;
	if (!px_opt.port_base)
		px_opt.port_base = swtable_table()->port + 1;
	if (keyfile && read_key(keyfile) != 0)
		return EXITCODE_SYSTEM;
	const char *envkey = getenv("SWITCH_PROXY_API_KEY");
	if (!px_opt.api_key && envkey && *envkey) {
		px_opt.api_key = envkey;
		px_opt.api_key_len = strlen(envkey);
		unsetenv("SWITCH_PROXY_API_KEY"); /* the servers do not need it */
	}
	if (!is_loopback(px_opt.host) && !px_opt.api_key) {
		swcmd_error("proxy: --listen '%s' is not a loopback address; an API key is required for it "
		    "(--api-key-file FILE or $SWITCH_PROXY_API_KEY)\n", px_opt.host);
		return EXITCODE_USAGE;
	}
	if (!is_loopback(px_opt.host))
		swcmd_warning("proxy: listening on '%s' without TLS: requests and the API key cross the network in "
		    "clear text; put this proxy behind a TLS reverse proxy\n", px_opt.host);
	if ((rc = px_inst_init()) != 0)
		return rc;
	for (size_t k = 0; k < npreload; k++) {
		int r = px_inst_find(preload[k]);
		if (r < 0) {
			swtable_report_unknown(stderr, preload[k]);
			return EXITCODE_REJECTED;
		}
		px_inst[r].want = 1;
		px_inst[r].want_t = px_now() + (double)k * 1e-6;
	}
	if (dry) {
		px_dry_run();
		return fflush(stdout) == 0 ? EXITCODE_OK : EXITCODE_SYSTEM;
	}
	for (size_t i = 0; i < px_ninst; i++)
		if (px_inst[i].sleep_level)
			setenv("VLLM_SERVER_DEV_MODE", "1", 1); /* what vLLM's /sleep and /wake_up need */
	int lfd = px_conn_listen(px_opt.host, px_opt.port);
	if (lfd < 0)
		return EXITCODE_SYSTEM;
	int sp[2];
	if (pipe2(sp, O_CLOEXEC | O_NONBLOCK) != 0) {
		swcmd_error("proxy: pipe: %s\n", strerror(errno));
		return EXITCODE_SYSTEM;
	}
	sigpipe_w = sp[1];
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	swcmd_note("proxy: listening on http://%s:%u for %zu roles (ports %u-%zu)\n", px_opt.host, px_opt.port,
	    px_ninst, px_opt.port_base, px_opt.port_base + px_ninst - 1);
	fflush(stderr);
	rc = px_conn_run(lfd, sp[0]);
	px_inst_stop_all(10);
	swcmd_note("proxy: stopped every server; exiting\n");
	return rc;
}
