/* The answer explain gives: each death with its kind, each queue with its verdict. Data and
 * names only; causes.c decides them, causes_summary.c words them, report_*.c render them. */
#ifndef CW_ANALYSIS_H
#define CW_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "explain/timeline.h"

enum cw_kind {
	CW_K_OOM_KILL,
	CW_K_SIGNAL,
	CW_K_CRASH,
	CW_K_EXIT_ERROR,
	CW_K_EXIT_CLEAN,
	CW_K_RECYCLED,
	CW_K_TIME_LIMIT,
	CW_K_PARENT_DIED,
	CW_K_EXEC_FAILED,
	CW_K_NEVER_STARTED,
	CW_K_UNKNOWN,
	CW_K__COUNT,
};

struct cw_death {
	enum cw_kind kind;
	int64_t ts;
	int proc;		/* index in tl->procs, or -1 */
	int execfail;		/* index in tl->execfails, or -1 */
	const char *host, *worker, *comm, *cmdline;
	int64_t pid;		/* CW_NONE for never_started */
	enum cw_role role;
	const struct cw_qset *queues;
	const char *queue;	/* never_started: the queue */
	const char *signame;	/* the killing (or stopping) signal */
	int64_t exit_code;
	bool core_dumped;
	bool stopped;		/* stopped by a signal, not dead */
	bool has_sender;
	struct cw_sender sender;
	bool from_main;		/* pool child: the signal used came from its own MainProcess */
	const char *sig_code;	/* "user", "kernel", ... of the signal record used */
	bool has_oom;
	struct cw_oomrec oom;
	const char *stderr_tail;
	bool stderr_unwatched;	/* the tail may lack the last writes: the hook was off (--tail-window) */
	const char *errname;	/* exec_failed */
	int64_t parent_pid;	/* pool children: their MainProcess */
	int parent_death;	/* parent_died: index in deaths of the parent's death, or -1 */
	int64_t lost_near;	/* events lost within LOST_NEAR of it */
	int64_t depth;		/* never_started: the largest depth seen */
	bool incident;		/* worth a person's attention (not recycling, not a follower) */
	bool shown;		/* in the window (and about the --queue asked for) */
	int seq;		/* internal: index before sorting */
	long order;		/* internal: its process' creation order (ties in time) */
	bool folded;		/* a folded recycled child brought back (counted in recycled_unlisted) */
	int followers;		/* pool children that died with this main */
	char *summary;		/* one sentence; owned by the analysis */
};

/* In rising precedence: the worst that applies wins. `stalled` and `saturated` need the
 * proc_sample facts of schema v2 (CPU time, context switches, wait channels): v1 logs never
 * get them. */
enum cw_verdict {
	CW_OK,
	CW_DEGRADED,
	CW_SATURATED,
	CW_STALLED,
	CW_FLAPPING,
	CW_NO_CONSUMER,
};

/* The judgement's knobs (explain/status --connect-grace, --stall-after). */
struct cw_judge_opts {
	int64_t connect_grace_us;	/* a worker not connected this long after exec is none */
	int64_t stall_after_us;	/* no progress this long with tasks waiting: stalled */
};
#define CW_CONNECT_GRACE_DEFAULT_US (20 * 1000000LL)
#define CW_STALL_AFTER_DEFAULT_US (30 * 1000000LL)

/* A consumer's connection to the broker at the window's end (connect.c). */
enum cw_conn {
	CW_CONN_UNKNOWN,	/* no facts (v1 log, broker address unknown): alive is enough */
	CW_CONN_YES,
	CW_CONN_STARTING,	/* not yet, within its connect grace */
	CW_CONN_NO,		/* not connected after its grace: not a consumer */
};

/* A live MainProcess for the queue at the window's end. */
struct cw_consumer {
	int proc;		/* index in tl->procs */
	enum cw_conn conn;
};

/* The consumers' working processes made no progress with tasks waiting (stall.c). */
struct cw_stall {
	int64_t since;		/* the last progress of any of them */
	int64_t for_us;		/* up to their latest sample */
	int64_t pids[8];
	int npids;
	const char *syscall, *wchan;	/* where they wait, when all wait in the same place */
	int64_t depth;		/* tasks waiting at the window's end */
	bool pool;		/* the pids are pool processes (else MainProcesses) */
};

/* Two or more live MainProcesses with one worker name at once (DuplicateNodenameWarning). */
struct cw_dup {
	const char *worker;
	int64_t pids[8];
	int npids;
};

/* A period in which a queue had no live consumer (gaps.c). */
struct cw_gap {
	int64_t from;		/* the last consumer went away (or tasks waited, none ever seen) */
	int64_t to;		/* a consumer was back; CW_NONE: still none at the window's end */
	int cause;		/* index in deaths of the death that removed the last consumer, or -1 */
	int64_t peak;		/* largest depth sampled in it; CW_NONE: no sample */
	bool has_arrival;	/* growth while nobody consumed: arrivals, from >= 2 samples */
	double arrival_per_min;
	bool has_drain;		/* after it: from the highest sample after the return down to
				 * the first empty sample, or the last one before the next gap */
	double drain_per_min;
	int64_t emptied_at;	/* first sample at 0 after the backlog; CW_NONE if none */
};

/* A crash loop (flapping.c): one worker name started and died >= FLAP_DEATHS times within
 * FLAP_SPAN. */
struct cw_flap {
	const char *worker;
	int deaths;		/* deaths in the loop */
	int64_t first_start, last_death;
	int last;		/* index in deaths of the loop's last death */
	char *summary;		/* "exited with status 2 five times in 9 s: <stderr line>"; owned */
};

struct cw_qverdict {
	const char *queue;
	enum cw_verdict verdict;
	int64_t depth_first, depth_last;	/* samples in the window; CW_NONE if none */
	int64_t depth_max;
	bool has_growth;
	double growth_per_min;
	int64_t growth_from_ts, growth_from_depth, growth_to_ts, growth_to_depth;
	int consumers_now;	/* connected consumers (alive ones when the log has no facts) */
	int pool_now;		/* live pool children of those consumers */
	const char *consumer_names[8];	/* distinct worker names of live consumers */
	int nconsumer_names;
	int64_t uncovered_since;	/* CW_NONE unless no_consumer after having one */
	int cause;		/* index in deaths, or -1 */
	bool had_consumer;	/* a consumer was alive at some time up to the window's end */
	int untracked;		/* its processes the kernel could not follow (tracked map full):
				 * alive for all we know, so the verdict is uncertain */
	int restarts;		/* consumer starts in the window after the first, per worker name */
	bool flapping;		/* flap holds a loop (the verdict says whether it is recent) */
	struct cw_flap flap;
	struct cw_gap *gaps;	/* in time order; owned */
	int ngaps;
	/* about the last gap: arrivals during it; after it, the drain and the time to empty */
	bool has_arrival, has_drain, has_eta;
	double arrival_per_min, drain_per_min, eta_empty_s;
	/* issue 9: who consumes as they really are (connect.c) */
	struct cw_consumer *cons;	/* live mains at the window's end, connected or not; owned */
	int ncons;
	int starting;		/* within their connect grace, not yet connected */
	int not_connected;	/* CW_CONN_NO among cons */
	bool stalled;		/* stall holds a stall up to the window's end (stall.c) */
	struct cw_stall stall;
	/* saturated: arrival_per_min/drain_per_min above are over the last --stall-after */
	bool arrival_at_least;	/* arrivals unknown: arrival_per_min is the growth, a floor */
	int64_t concurrency_now;	/* CW_NONE unknown */
	int64_t concurrency_needed;	/* ceil(now * arrival / drain); CW_NONE unknown */
	struct cw_dup dups[4];
	int ndups;
	struct cw_gap *stalls;	/* past stalls that ended in the window (stills.c), with the
				 * backlog and the drain after each, as gaps; owned */
	int nstalls;
};

struct cw_analysis {
	int64_t from, to;	/* the window */
	struct cw_death *deaths;	/* in time order; only those within the window */
	int ndeaths, capdeaths;
	struct cw_qverdict *queues;
	int nqueues;
	int kinds[CW_K__COUNT];	/* death counts by kind */
	int recycled_unlisted;	/* of kinds[CW_K_RECYCLED]: folded children (timeline_fold.h),
				 * counted and not in deaths */
	int nworkers;		/* main processes seen */
	int64_t lost_in_window;
	struct cw_judge_opts opts;
};

void cw_analysis_free(struct cw_analysis *a);

const char *cw_kind_name(enum cw_kind k);
const char *cw_verdict_name(enum cw_verdict v);
/* a length of time for a sentence: "9 s", "2 min 5 s", "3 h 4 min", "2 d 3 h" */
void cw_fmt_span(int64_t us, char *out, size_t len);
/* the gap that ended last (a closed one), or NULL: the queue recovered from it */
const struct cw_gap *cw_last_closed_gap(const struct cw_qverdict *v);
/* "worker_low@web1 (pid 4766)" or "pool child pid 4770 of worker_low@web1" */
void cw_death_who(const struct cw_death *d, char *out, size_t len);

#endif
