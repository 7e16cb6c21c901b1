/* The roles as the proxy serves them: their ports (a leftover on one is reported) and names. */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pxinst.h"
#include "swcmd.h"
#include "swtable.h"

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

int
px_inst_init(void)
{
	const struct model_table *t = swtable_table();
	unsigned next = px_opt.port_base;

	px_ninst = t->count < PX_MAX_ROLES ? t->count : PX_MAX_ROLES;
	for (size_t i = 0; i < px_ninst; i++) {
		struct px_inst *in = &px_inst[i];
		memset(in, 0, sizeof *in);
		swtable_entry(i, &in->e);
		in->logfd = in->ctl_fd = -1;
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
			return -1;
		}
	}
	return 0;
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
	}
	return -1;
}

const char *
px_inst_nearest(const char *name)
{
	const char *best = NULL;
	size_t bd = (size_t)-1;
	for (size_t i = 0; i < px_ninst; i++) {
		const struct model_entry *e = &px_inst[i].e;
		size_t d = swtable_distance(name, e->role);
		if (d < bd) {
			bd = d;
			best = e->role;
		}
		if (e->repo && (d = swtable_distance(name, e->repo)) < bd) {
			bd = d;
			best = e->repo;
		}
	}
	return best && bd <= strlen(name) / 3 + 2 ? best : NULL;
}
