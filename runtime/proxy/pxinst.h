#ifndef MODELC_PXINST_H
#define MODELC_PXINST_H

/*
 * The role instances: starting a role's server (pxstart.c), probing GET /health until its load
 * timeout (the table's, else px_opts.start_base_s + bytes / disk_bps), sleeping and waking it
 * through vLLM's sleep mode at its sleep level, stopping it (its process group), and the swap
 * policy: the role whose request has waited longest is made resident, in the together: group
 * pxgroup.c chooses for it; those in its way (least recently used first) drain their requests in
 * flight, bounded by the drain timeout, and are put to sleep or stopped.
 */

#include <poll.h>
#include <stddef.h>

#include "px.h"

/*
 * Fill px_inst from the table (its serving sections checked into px_table): ports, states, TTL
 * and sleep level; report a port something else holds (leftovers). 0, or the exit code after an
 * error (a bad table, an override for an unknown role, no free port).
 */
int px_inst_init(void);

/* The instance that serves name: role, served model id, repo id, local directory or alias; -1: none. */
int px_inst_find(const char *name);

/* The role name, repo id or alias nearest to name (did-you-mean), or NULL. */
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

/* A line of the proxy's own in in's output ring (GET /logs). */
void px_inst_logf(struct px_inst *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Move in to state s as of now (in->since). */
void px_inst_set_state(struct px_inst *in, enum px_state s, double now);

/* Stop in's server: SIGTERM to its process group (SIGKILL after 10 s). */
void px_inst_stop(struct px_inst *in, double now);

/* A start of in failed (in->why says why): retried with a backoff, unless final or the third. */
void px_inst_start_failed(struct px_inst *in, double now, int final);

/* Alias k of in's role (the table's), or NULL past the last. */
const char *px_inst_alias(const struct px_inst *in, size_t k);

/* Put role i away now (POST /unload): stop it once its requests in flight are done. */
void px_inst_unload(struct px_inst *in);

#endif
