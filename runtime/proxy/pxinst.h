#ifndef MODELC_PXINST_H
#define MODELC_PXINST_H

/*
 * The role instances: starting a role's server with the argv switch serve builds (the same
 * re-fit against nvidia-smi), probing GET /health until its start timeout (sized to the
 * weights: px_opts.start_base_s + bytes / disk_bps), sleeping and waking it through vLLM's sleep
 * mode, stopping it (its process group), and the swap policy: the role whose request has waited
 * longest is made resident; those that must go for it to fit (least recently used first) drain
 * their requests in flight, bounded by the drain timeout, and are put to sleep or stopped.
 */

#include <poll.h>
#include <stddef.h>

#include "px.h"

/* Fill px_inst from the table: ports, states; report a port something else holds (leftovers). */
int px_inst_init(void);

/* The instance that serves name: role, served model id, repo id or local directory; -1 when none. */
int px_inst_find(const char *name);

/* The role name nearest to name (did-you-mean), or NULL. */
const char *px_inst_nearest(const char *name);

/* Run the policy and the timers; called once per loop turn. */
void px_inst_tick(double now);

/* Add the instances' descriptors to fds; returns how many were added. */
size_t px_inst_pollfds(struct pollfd *fds, size_t room);

/* Handle an event on one of those descriptors. */
void px_inst_event(int fd, short revents, double now);

/* Reap exited servers (after SIGCHLD). */
void px_inst_reap(double now);

/* Stop every server: SIGTERM to each process group, SIGKILL after grace_s; waits for them. */
void px_inst_stop_all(double grace_s);

/* How long the loop may sleep, in ms, given what is in transition. */
int px_inst_timeout_ms(void);

/* The state's name as /running and /v1/models print it. */
const char *px_state_name(enum px_state s);

/* The start timeout of role i, in seconds. */
double px_inst_start_timeout(const struct px_inst *in);

/* Put role i away now (POST /unload): stop it once its requests in flight are done. */
void px_inst_unload(struct px_inst *in);

#endif
