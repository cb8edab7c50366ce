/* The metrics sink of record's live engine: after each judgement, each queue's consumers and
 * verdict, each worker's MainProcess up or not with its pool, and deaths counted by worker and
 * kind go to the metrics feed, which publishes them. */
#ifndef CW_LIVE_METRICS_H
#define CW_LIVE_METRICS_H

#include <stdbool.h>

#include "cli/live.h"
#include "engine/deathmarks.h"
#include "metrics/feed.h"

struct cw_live_metrics {
	struct cw_metrics_feed *feed;
	struct cw_death_marks counted;	/* deaths in the counts */
	long folded_counted;	/* folded children counted (forgotten ones included) */
	struct cw_metrics_death *deaths;	/* cumulative; copied to the feed each time */
	size_t ndeaths, capdeaths;
};

/* Deaths judged since the last call, and recycled children folded since, added to the
 * counts (done after each judgement by the sink). */
void cw_live_metrics_count(struct cw_live_metrics *m, const struct cw_engine *e);

/* The sink to add to the live engine (ctx is m). */
struct cw_live_sink cw_live_metrics_sink(struct cw_live_metrics *m, struct cw_metrics_feed *feed);
void cw_live_metrics_free(struct cw_live_metrics *m);

#endif
