/* What the Prometheus endpoint shows: a plain-data snapshot of what the recorder's loop knows,
 * and the pure function that renders it in the text exposition format 0.0.4. Unknown values
 * are left out of the output, never shown as 0 (a consumer count nobody measured is no 0). */
#ifndef CW_METRICS_H
#define CW_METRICS_H

#include <stddef.h>
#include <stdint.h>

/* The verdicts a queue can have: celerywatch_queue_verdict has one series for each. */
#define CW_METRICS_NVERDICTS 6
extern const char *const cw_metrics_verdicts[CW_METRICS_NVERDICTS];

struct cw_metrics_queue {
	const char *name;		/* any bytes but NUL */
	int64_t depth;			/* all priority lists summed; -1 unknown */
	int consumers;			/* -1 unknown */
	const char *verdict;		/* one of cw_metrics_verdicts; NULL unknown */
	int64_t unacked;		/* -1 unknown */
};

struct cw_metrics_worker {
	const char *name;
	int up;				/* 0 or 1 */
	int pool_processes;		/* -1 unknown */
};

struct cw_metrics_death {		/* celerywatch_deaths_total{worker,kind} */
	const char *worker, *kind;
	uint64_t count;
};

struct cw_metrics_count {		/* a counter by one label: a line type, a loss slot */
	const char *type;
	uint64_t count;
};

struct cw_metrics_snapshot {
	const struct cw_metrics_queue *queues;
	size_t nqueues;
	const struct cw_metrics_worker *workers;
	size_t nworkers;
	const struct cw_metrics_death *deaths;
	size_t ndeaths;
	const struct cw_metrics_count *events;		/* lines written, by type */
	size_t nevents;
	const struct cw_metrics_count *lost;		/* kernel records lost, by type */
	size_t nlost;
	int broker_up;				/* 0/1; -1: no broker configured */
	double broker_sample_duration_seconds;	/* < 0 unknown */
	int64_t broker_unacked;			/* kombu's unacked hash, all queues; -1 unknown */
	const char *version, *kernel;		/* NULL: no build_info */
};

/*
 * The snapshot as exposition text (HELP and TYPE lines, one family per metric, families with
 * no known sample left out). Label values are escaped as the format says (\\, \", \n); bytes
 * that are not UTF-8 become U+FFFD, and a series whose labels then equal an earlier one's is
 * left out, so hostile names can neither break a line nor make a duplicate series.
 * Returns a malloc'd NUL-terminated text with its length in *len, or NULL (out of memory).
 */
char *cw_metrics_render(const struct cw_metrics_snapshot *s, size_t *len);

#endif
