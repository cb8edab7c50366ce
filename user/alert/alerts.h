/* Alerts: where the record loop hands each incident the engine emits. One object holds the
 * --alert-exec runner (alert_exec.h) and the --alert-journal sender (alert_journal.h); the
 * loop polls one fd, services it on that fd and on its 1 s tick, and stops it at the end.
 * All calls come from the loop's thread. */
#ifndef CW_ALERTS_H
#define CW_ALERTS_H

#include <stdbool.h>
#include <stdint.h>

#include "alert/alert_exec.h"
#include "alert/alert_journal.h"
#include "engine/incident.h"

struct cw_alerts_opts {
	const char *exec_cmd;		/* --alert-exec CMD; NULL: none */
	double timeout_s;		/* --alert-timeout; 0: 10 */
	unsigned max_running;		/* --alert-max; 0: 4 */
	unsigned queue_max;		/* 0: 64 */
	bool journal;			/* --alert-journal */
	bool exec_stderr;		/* the commands' stderr is ours (cw_alerts_stderr_ok) */
};

struct cw_alerts_stats {
	bool exec, journal;		/* which are on: which counts mean anything */
	struct cw_alert_exec_stats x;
	struct cw_alert_journal_stats j;
};

struct cw_alerts;

/* NULL in *out (and 0) when no alert option is set. Returns 0, or -errno. */
int cw_alerts_new(struct cw_alerts **out, const struct cw_alerts_opts *o);
/* The engine's callback calls this for each incident. a may be NULL (no alerts): nothing.
 * Copies what it keeps; returns at once whatever the commands or journald do. */
void cw_alerts_incident(struct cw_alerts *a, const struct cw_incident *inc);
/* The fd to poll for EPOLLIN, or -1 (no --alert-exec: nothing to service). */
int cw_alerts_fd(const struct cw_alerts *a);
/* On that fd's readiness and on the loop's tick; now: CLOCK_MONOTONIC ns. */
void cw_alerts_service(struct cw_alerts *a, uint64_t now_ns);
/* At stop: running commands and queued journal entries get until deadline (CLOCK_MONOTONIC
 * ns), then commands are killed; the counts are final after this. */
void cw_alerts_stop(struct cw_alerts *a, uint64_t deadline_ns);
void cw_alerts_stats(struct cw_alerts *a, struct cw_alerts_stats *s);
void cw_alerts_free(struct cw_alerts *a);

/* Whether a command's stderr may be ours: not when our fd 2 is the event log itself
 * (`-o -` with 2>&1, or -o naming our stderr's file), so nothing a command prints can land
 * in the log. output: the -o value (NULL or "-": stdout). */
bool cw_alerts_stderr_ok(const char *output);

#endif
