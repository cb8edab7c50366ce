/* The engine: explain's timeline and analysis, fed one event at a time, judging each queue
 * as events arrive and saying what changed as incidents. `record` feeds it the lines it
 * writes (live: alerts, metrics), `watch` the lines of a followed log, `explain` a whole log
 * at once; all three decide with the same code (explain/causes.c), so a verdict live and the
 * verdict of a later `explain` over the same log are the same answer. */
#ifndef CW_ENGINE_H
#define CW_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/incident.h"
#include "explain/analysis.h"
#include "explain/timeline.h"

struct cw_engine_opts {
	int64_t window_us;	/* a live judgement looks this far back (default 1 h) */
	const struct cw_judge_opts *judge;	/* --connect-grace, --stall-after; NULL: defaults
						 * (copied by cw_engine_new) */
};

struct cw_engine;

typedef void (*cw_incident_cb)(const struct cw_incident *inc, void *ctx);

int cw_engine_new(struct cw_engine **out, const struct cw_engine_opts *o);
void cw_engine_free(struct cw_engine *e);

/* One log line as written ('\n'-terminated). Returns 0, -EINVAL (why says why the line is
 * unreadable; it is skipped), or -ENOMEM. */
int cw_engine_feed_line(struct cw_engine *e, const char *line, size_t n, char *why, size_t whylen);
/* One event already read (cw_event_cb-shaped, for cw_logread_*). */
int cw_engine_feed_event(const struct cw_event *ev, void *engine);
/* Something was fed since the last judgement. */
bool cw_engine_dirty(const struct cw_engine *e);
/* An exit or oom event was fed since the last judgement: a death to judge now. */
bool cw_engine_death_pending(const struct cw_engine *e);

/* Fold recycled pool children past the first `keep` that ended at or after `from` (CW_NONE:
 * any) into counts (explain/timeline_fold.h): explain before a replay, record's live engine
 * (keep 0) before its first line. */
void cw_engine_fold_recycled(struct cw_engine *e, int keep, int64_t from);
/* Judge now: analyse the last window (until the latest event), compare with the previous
 * judgement and call cb once per incident (deaths first, then queues whose verdict changed,
 * lost events, the broker going down or up). The first judgement reports every queue that
 * is not ok. Returns 0 or -ENOMEM. */
int cw_engine_judge(struct cw_engine *e, cw_incident_cb cb, void *ctx);

/* explain: whole logs into the engine (cw_timeline_load: files put in time order, events
 * after `until` ignored), the books closed at the end. Returns 0, or -1 if a file could not
 * be read (the others are). */
int cw_engine_replay(struct cw_engine *e, char *const *files, int nfiles, int64_t until,
		     struct cw_logread_stats *st, FILE *errf);
/* explain: the analysis of one window (since/until CW_NONE: the log's own bounds), for one
 * queue or all (NULL); the caller frees it (cw_analysis_free). 0 or -ENOMEM. */
int cw_engine_analyze(const struct cw_engine *e, int64_t since, int64_t until, const char *queue,
		      struct cw_analysis *out);

/* The last judgement (NULL before the first) and the facts it was made of. */
const struct cw_analysis *cw_engine_analysis(const struct cw_engine *e);
const struct cw_timeline *cw_engine_timeline(const struct cw_engine *e);
/* The broker's state from the last sample line: 1 up, 0 down, -1 never sampled. */
int cw_engine_broker_up(const struct cw_engine *e);

#endif
