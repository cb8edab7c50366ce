/* Queue discovery: which queues the broker binds, kept current at every sample without a
 * full keyspace SCAN per tick. The state and every reply are handled by pure functions, so
 * tests and fuzzers feed them hiredis replies; the round trips (cw_disc_tick, cw_disc_full)
 * run on the sampler's connections (broker/conn.h).
 *
 * Three sources, cheapest first (docs/architecture.md, "Queue discovery"):
 *  - the binding sets already known are re-read (SMEMBERS, pipelined) at every tick: a new
 *    route on a known exchange is seen at once;
 *  - new binding keys are announced by Redis itself: CLIENT TRACKING in BCAST mode on the
 *    prefix "<keyprefix>_kombu.binding." sends their names to a subscribed connection
 *    (cw_disc_read_invalidate), at no keyspace cost;
 *  - an incremental SCAN, one budget of keys per tick with the cursor kept between ticks,
 *    sized from DBSIZE and from the measured cost of a scanned key: the whole net when
 *    tracking is refused (Redis < 6, an ACL without CLIENT), a slow safety net otherwise. */
#ifndef CW_DISCOVER_H
#define CW_DISCOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strset.h"

#define CW_DISC_BINDING_PREFIX	"_kombu.binding."
#define CW_DISC_MAX_KEYS	4096	/* binding keys kept at most */
#define CW_DISC_STEP_MAX	20000	/* COUNT of one SCAN call: ~20 ms of a Redis core */
#define CW_DISC_STEP_MIN	1000

struct redisReply;

struct cw_disc {
	char *prefix;			/* kombu's global_keyprefix ("" for none) */
	size_t prefix_len;
	char *pattern;			/* SCAN MATCH: the prefix escaped, then the binding prefix */
	char *track_prefix;		/* CLIENT TRACKING PREFIX: prefix + binding prefix, literal */
	struct cw_strset keys;		/* binding keys known */
	struct cw_strset found;		/* the queues they bind, as of the last round */
	char cursor[32];		/* SCAN cursor, "0" at the start of a pass */
	uint64_t passes;		/* full SCAN passes completed */
	uint64_t scanned;		/* keys covered by SCAN COUNTs (the budget's unit) */
	int64_t dbsize;			/* from the last round; -1 unknown */
	double key_cost_s;		/* broker time per scanned key, measured (an upper bound) */
	bool tracking;			/* Redis sends new binding keys' names */
	bool rebuild;			/* keys added since the last round: read them */
	/* the sampler's side */
	bool full_scan;			/* a whole pass is due (start, reconnect) */
	bool track_refused;		/* CLIENT TRACKING refused: the scan alone from now on */
	double track_retry_at;		/* monotonic: tracking lost, ask again then */
};

/* prefix: NULL or "" for none. 0 or -ENOMEM (d is then still safe to free). */
int cw_disc_init(struct cw_disc *d, const char *prefix);
void cw_disc_free(struct cw_disc *d);

/*
 * Keys the next SCAN steps of this tick should cover: none with tracking on once a pass
 * completed but a slow safety net (CW_DISC_NET_SHARE of a core), else enough for a pass
 * every CW_DISC_PASS_S, cut to CW_DISC_COST_SHARE of one Redis core at the measured cost.
 * interval_s: the sampling interval.
 */
#define CW_DISC_PASS_S		4.0
#define CW_DISC_COST_SHARE	0.01
#define CW_DISC_NET_SHARE	0.001
long cw_disc_scan_budget(const struct cw_disc *d, double interval_s);
/* The COUNT of the next SCAN call, out of the budget left (at least CW_DISC_STEP_MIN). */
long cw_disc_step_count(long left);

/* argv of "SCAN <cursor> MATCH <pattern> COUNT <count>"; countbuf holds the number. */
void cw_disc_scan_argv(const struct cw_disc *d, long count, const char *argv[6],
		       size_t lens[6], char countbuf[24]);
/* A SCAN call of count keys took secs (round trip): refine the cost per key. */
void cw_disc_scan_cost(struct cw_disc *d, double secs, long count);

/*
 * One SCAN reply: its binding keys into d->keys, its cursor into d->cursor (a pass is
 * complete when it comes back to "0"). 0; -EPROTO with *bad = sr when sr is an error reply,
 * *bad = NULL when sr is not a SCAN reply; -ENOMEM.
 */
int cw_disc_read_scan(struct cw_disc *d, const struct redisReply *sr,
		      const struct redisReply **bad);
/* The same on its own: keys under prefix into keys, the cursor into cursor. */
int cw_disc_scan_reply(const char *prefix, const struct redisReply *sr, char cursor[32],
		       struct cw_strset *keys, const struct redisReply **bad);

/* The keys of the next round, sorted: "DBSIZE" then "SMEMBERS <key>" for each. malloc'd
 * (free it), NULL when out of memory; *n gets their count. */
const char **cw_disc_round_keys(const struct cw_disc *d, size_t *n);
/*
 * The round's 1 + n replies (DBSIZE, then SMEMBERS of keys[i]): d->found is replaced by the
 * queues they bind; keys whose set is gone (empty, or not a set) are forgotten; d->dbsize
 * is updated (-1 when DBSIZE errs: an ACL may deny it). An error reply to SMEMBERS binds
 * nothing. 0 or -ENOMEM (d unchanged but dbsize).
 */
int cw_disc_read_round(struct cw_disc *d, const char *const *keys, size_t n,
		       struct redisReply **rep);

/* The queues one SMEMBERS reply binds, into found (control queues and members kombu would
 * not unpack are left out; anything but an array binds nothing). 0 or -ENOMEM. */
int cw_disc_bound_queues(const struct redisReply *set, struct cw_strset *found);

/*
 * One message read on the tracking connection (SUBSCRIBE __redis__:invalidate, RESP2):
 * ["message", "__redis__:invalidate", [key, ...] | nil]. The binding keys it names join
 * d->keys (read at the next round). 1 a message, 0 another push (the subscribe
 * confirmation), -EPROTO not what a subscribed connection sends, -ENOMEM.
 */
int cw_disc_read_invalidate(struct cw_disc *d, const struct redisReply *msg);

/*
 * The round trips (broker.c's connections, broker/conn.h); each returns an enum rc of
 * conn.h: 0, or why it failed with one sentence in err (RC_REPLY keeps the connection and
 * the queues known; the sample goes on). d->found is then the queues to sample.
 *
 * cw_disc_full: a whole SCAN pass and the sets, for the one-shot `status` sample.
 * cw_disc_tick: one sampler tick on main connection k: tracking (re)opened on sub when due,
 * its news read, the SCAN budget (a whole pass when due), the sets. final_end >= 0: the
 * stop's last tick, its SCAN bounded by that monotonic time (none while tracking works).
 * cw_disc_reconnected: k was (re)connected; tracking and a whole pass are due again.
 */
struct conn;
int cw_disc_full(struct cw_disc *d, struct conn *k, char *err, size_t errlen);
int cw_disc_tick(struct cw_disc *d, struct conn *k, struct conn *sub, double interval_s,
		 double final_end, char *err, size_t errlen);
void cw_disc_reconnected(struct cw_disc *d, struct conn *sub);

#endif
