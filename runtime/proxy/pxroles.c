/* The roles as the proxy serves them: their ports (a leftover on one is reported), names and
 * serving settings (the table's, the command line's defaults and overrides). */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exitcode.h"
#include "pxinst.h"
#include "swcmd.h"
#include "suggest.h"
#include "swtable.h"

struct model_table px_table;

/* Something answers on 127.0.0.1:port now. */
static int
port_taken(unsigned port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&a, 0, sizeof a);
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
	close(fd);
	return r;
}

/*
 * The catalog's ttl and sleep mode win; a role that sets neither (0, the catalog's default)
 * takes --ttl and --sleep-level; --ttl ROLE=S and --sleep-level ROLE=N override the catalog.
 */
static int
serving(void)
{
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *in = &px_inst[i];
		model_table_role_serve(&px_table, i, &in->sv);
		in->ttl_s = in->sv.ttl_seconds ? (double)in->sv.ttl_seconds : px_opt.ttl_s;
		in->ttl_src = in->sv.ttl_seconds ? PXSRC_CATALOG : px_opt.ttl_s > 0 ? PXSRC_DEFAULT : PXSRC_NONE;
		in->sleep_level = in->sv.sleep_level ? (int)in->sv.sleep_level : px_opt.sleep_level;
		in->sleep_src = in->sv.sleep_level ? PXSRC_CATALOG : px_opt.sleep_level ? PXSRC_DEFAULT : PXSRC_NONE;
	}
	for (size_t k = 0; k < px_opt.nov; k++) {
		const struct px_override *o = &px_opt.ov[k];
		int r = px_inst_find(o->role);
		if (r < 0) {
			swtable_report_unknown(stderr, o->role);
			return EXITCODE_REJECTED;
		}
		if (o->sleep) {
			px_inst[r].sleep_level = (int)o->v;
			px_inst[r].sleep_src = PXSRC_OVERRIDE;
		} else {
			px_inst[r].ttl_s = (double)o->v;
			px_inst[r].ttl_src = PXSRC_OVERRIDE;
		}
	}
	return 0;
}

int
px_inst_init(void)
{
	char why[MODEL_TABLE_WHY_MAX];
	unsigned next = px_opt.port_base;

	px_table = *swtable_table();
	if (model_table_check_serving(&px_table, why) != 0) {
		swcmd_error("proxy: '%s': its serving sections (groups, ttl, sleep mode, aliases) are not valid: %s; "
		    "rebuild it with 'modelc build'\n", swtable_path(), why);
		return EXITCODE_REJECTED;
	}
	px_ninst = px_table.count < PX_MAX_ROLES ? px_table.count : PX_MAX_ROLES;
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *in = &px_inst[i];
		memset(in, 0, sizeof *in);
		swtable_entry(i, &in->e);
		in->logfd = in->ctl_fd = -1;
		in->grp = -1;
		in->join = -2;
		in->port = next++;
		/* A server left by an earlier proxy (or anything else) on the port: say so, take the next. */
		while (port_taken(in->port)) {
			swcmd_warning("proxy: port %u (for role '%s') already answers: a server left by an earlier proxy, "
			    "or another program; using port %u for '%s' (stop the leftover to free its GPU memory)\n",
			    in->port, in->e.role, in->port + 1, in->e.role);
			in->port = ++next;
		}
		if (in->port > 65535) {
			swcmd_error("proxy: no free port for role '%s' from --port-base %u\n", in->e.role, px_opt.port_base);
			return EXITCODE_SYSTEM;
		}
	}
	return serving();
}

const char *
px_inst_alias(const struct px_inst *in, size_t k)
{
	return k < in->sv.naliases ? model_table_alias(&px_table, in->sv.aliases_first + k) : NULL;
}

int
px_inst_find(const char *name)
{
	for (size_t i = 0; i < px_ninst; i++)
		if (strcmp(px_inst[i].e.role, name) == 0)
			return (int)i;
	for (size_t i = 0; i < px_ninst; i++) {
		const struct model_entry *e = &px_inst[i].e;
		if (strcmp(e->model_id, name) == 0 || strcmp(swtable_model_id(e), name) == 0 ||
		    (e->repo && strcmp(e->repo, name) == 0) || (e->local_dir && strcmp(e->local_dir, name) == 0))
			return (int)i;
		for (size_t k = 0; k < px_inst[i].sv.naliases; k++)
			if (strcmp(px_inst_alias(&px_inst[i], k), name) == 0)
				return (int)i;
	}
	return -1;
}

/* name's distance to cand when cand is nearer than *bd so far. */
static void
nearer(const char *name, const char *cand, size_t *bd, const char **best)
{
	size_t d;
	if (cand && (d = suggest_distance(name, cand)) < *bd) {
		*bd = d;
		*best = cand;
	}
}

const char *
px_inst_nearest(const char *name)
{
	const char *best = NULL;
	size_t bd = (size_t)-1;
	for (size_t i = 0; i < px_ninst; i++) {
		nearer(name, px_inst[i].e.role, &bd, &best);
		nearer(name, px_inst[i].e.repo, &bd, &best);
		for (size_t k = 0; k < px_inst[i].sv.naliases; k++)
			nearer(name, px_inst_alias(&px_inst[i], k), &bd, &best);
	}
	return best && bd <= strlen(name) / 3 + 2 ? best : NULL;
}
