/* The recorder's side of the metrics: what the loop learns (lines it writes, broker samples,
 * kernel losses) kept as counters and the latest sample, rendered (metrics.h) and published
 * to the HTTP thread (server.h) when the loop says so. Loop thread only. */
#ifndef CW_METRICS_FEED_H
#define CW_METRICS_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "metrics/metrics.h"

struct cw_metrics_server;
struct cw_sample;

/* Line types counted by name; anything else is counted as "other". */
#define CW_FEED_NTYPES 16

struct cw_metrics_feed {
	struct cw_metrics_server *server;	/* NULL: the feed does nothing */
	bool broker;				/* a broker is configured (--redis) */
	struct cw_sample *last;			/* the latest broker sample, owned */
	uint64_t lines[CW_FEED_NTYPES];
	uint64_t lost[CW_LOST_SLOTS];
	const char *version;
	char kernel[65];
	bool pending;				/* an exit line since the last publish */
	/* the engine's last judgement (cw_feed_judged), owned; its strings are the engine's */
	struct cw_metrics_queue *jqueues;	/* name, consumers, verdict */
	size_t njqueues;
	struct cw_metrics_worker *workers;
	size_t nworkers;
	struct cw_metrics_death *deaths;	/* cumulative since the recorder started */
	size_t ndeaths;
};

void cw_feed_init(struct cw_metrics_feed *f, struct cw_metrics_server *server, bool broker,
		  const char *version);
/* A line queued to the log, of this type (cw_line_type): counted. True when it is an
 * `exit` line (a death must reach the endpoint within a second: publish once the batch is
 * done). */
bool cw_feed_count(struct cw_metrics_feed *f, const char *type);
/* The latest broker sample; the feed keeps it (and frees the one before). */
void cw_feed_sample(struct cw_metrics_feed *f, struct cw_sample *s);
/* The kernel's cumulative loss counters. */
void cw_feed_lost(struct cw_metrics_feed *f, const uint64_t by[CW_LOST_SLOTS]);
/* The engine's judgement: each queue's consumers and verdict (matched by name to the
 * sample's depths; a queue the sample lacks is shown without a depth), the workers and the
 * deaths counted so far. The feed takes the three arrays (malloc'd) and frees the previous
 * ones; the strings they point to must live until the next call or cw_feed_free. */
void cw_feed_judged(struct cw_metrics_feed *f, struct cw_metrics_queue *q, size_t nq,
		    struct cw_metrics_worker *w, size_t nw, struct cw_metrics_death *d, size_t nd);
/* Render and hand the text to the server. */
void cw_feed_publish(struct cw_metrics_feed *f);
/* The index of a type's name in f->lines (exported for tests), and the name of an index. */
int cw_feed_type(const char *type);
const char *cw_feed_type_name(int i);
void cw_feed_free(struct cw_metrics_feed *f);

#endif
