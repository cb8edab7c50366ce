/* The metrics sink of record's live engine: after each judgement, each queue's consumers and
 * verdict, each worker's MainProcess up or not with its pool, and deaths counted by worker and
 * kind go to the metrics feed, which publishes them. */
#ifndef CW_LIVE_METRICS_H
#define CW_LIVE_METRICS_H

#include <stdbool.h>

#include "cli/live.h"
#include "metrics/feed.h"

struct cw_live_metrics {
	struct cw_metrics_feed *feed;
	bool *counted;		/* per timeline proc: its death is in the counts */
	int ncounted;
	bool *fail_counted;	/* per timeline exec_fail */
	int nfail_counted;
	struct cw_metrics_death *deaths;	/* cumulative; copied to the feed each time */
	size_t ndeaths, capdeaths;
};

/* The sink to add to the live engine (ctx is m). */
struct cw_live_sink cw_live_metrics_sink(struct cw_live_metrics *m, struct cw_metrics_feed *feed);
void cw_live_metrics_free(struct cw_live_metrics *m);

#endif
