/* --alert-journal: each incident as one systemd journal entry (sd_journal_send), so
 * `journalctl -t celerywatch -p warning` lists them. The send runs in a thread of its own
 * with a bounded queue: journald's socket is a blocking datagram socket, and a journald that
 * stopped reading must not stop the record loop. */
#ifndef CW_ALERT_JOURNAL_H
#define CW_ALERT_JOURNAL_H

#include <stdint.h>

#include "engine/incident.h"

#define CW_JOURNAL_QUEUE 256

struct cw_alert_journal_stats {
	uint64_t sent;
	uint64_t failed;	/* no journald listening (ENOENT, ECONNREFUSED: checked with a
				 * connect of our own, as sd_journal_send hides it), or refused */
	uint64_t dropped;	/* the queue was full (journald not taking them), or left at stop */
};

struct cw_alert_journal;

/* Returns 0, or -errno (the thread). */
int cw_alert_journal_new(struct cw_alert_journal **out);
/* Copy the incident into the queue; never waits on journald. */
void cw_alert_journal_incident(struct cw_alert_journal *j, const struct cw_incident *inc);
/* Entries sent until deadline (CLOCK_MONOTONIC ns); the rest are dropped and counted. A
 * thread stuck in a send is left behind (detached). Then the stats are final. */
void cw_alert_journal_stop(struct cw_alert_journal *j, uint64_t deadline_ns);
void cw_alert_journal_stats(struct cw_alert_journal *j, struct cw_alert_journal_stats *s);
/* After stop. */
void cw_alert_journal_free(struct cw_alert_journal *j);

/* One entry, sent now (the thread's work; exposed for tests). Returns 0, or -errno. */
int cw_alert_journal_send_one(const struct cw_incident *inc);

#endif
