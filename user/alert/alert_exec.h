/* --alert-exec: one `/bin/sh -c CMD` per incident, its JSON on stdin, without ever blocking
 * the record loop. At most max_running at once; more wait in a bounded queue, beyond it they
 * are dropped and counted. Each child is its own process group with a deadline (SIGTERM to
 * the group, SIGKILL 2 s later) and is reaped through a pidfd in the runner's epoll fd.
 * Single-threaded: every call comes from the record loop's thread. */
#ifndef CW_ALERT_EXEC_H
#define CW_ALERT_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/incident.h"

/* The JSON a child reads is at most this big (a pipe buffer holds it whole): a larger one is
 * replaced by the incident's plain fields, "cause": null and "json_truncated": true. */
#define CW_ALERT_JSON_MAX (60 * 1024)
#define CW_ALERT_KILL_GRACE_NS 2000000000ull	/* SIGTERM, then SIGKILL this much later */

struct cw_alert_exec_opts {
	const char *cmd;		/* run as /bin/sh -c CMD */
	uint64_t timeout_ns;		/* --alert-timeout; 0: 10 s */
	unsigned max_running;		/* --alert-max; 0: 4 */
	unsigned queue_max;		/* incidents waiting for a slot; 0: 64 */
	bool stderr_to_ours;		/* the child's stderr is ours (else /dev/null) */
};

/* Every incident handed in ends in exactly one of sent, failed, timed_out, dropped (once it
 * finished); running and queued are what is in flight now. */
struct cw_alert_exec_stats {
	uint64_t sent;			/* the command exited 0 */
	uint64_t failed;		/* non-zero exit, killed by a signal it was not sent by us,
					 * or could not be started */
	uint64_t timed_out;		/* killed at --alert-timeout, or at the stop deadline */
	uint64_t dropped;		/* the queue was full, or still waiting at stop */
	uint64_t truncated;		/* sent with the reduced JSON (over CW_ALERT_JSON_MAX) */
	unsigned running, queued;
};

struct cw_alert_exec;

/* Returns 0, or -errno (epoll/timerfd). The runner sets SIGPIPE to SIG_IGN: a child that
 * exits without reading its stdin must not kill the recorder. */
int cw_alert_exec_new(struct cw_alert_exec **out, const struct cw_alert_exec_opts *o);
/* Start the command now, or queue it. Copies what it keeps; never waits on the child. */
void cw_alert_exec_incident(struct cw_alert_exec *x, const struct cw_incident *inc);
/* One fd (epoll) readable when a child exited, a stdin pipe takes more, or a deadline came. */
int cw_alert_exec_fd(const struct cw_alert_exec *x);
/* Reap, write pending stdin, enforce deadlines, start queued commands. now: CLOCK_MONOTONIC ns. */
void cw_alert_exec_service(struct cw_alert_exec *x, uint64_t now_ns);
/* Drop what waits; let the running ones finish until deadline (CLOCK_MONOTONIC ns), then
 * SIGKILL their process groups and reap them. */
void cw_alert_exec_stop(struct cw_alert_exec *x, uint64_t deadline_ns);
void cw_alert_exec_stats(const struct cw_alert_exec *x, struct cw_alert_exec_stats *s);
void cw_alert_exec_free(struct cw_alert_exec *x);

#endif
