/* The timeline rebuilt from an event log: processes keyed by (host, pid, pstart), their
 * parentage, images, signals received and ends; queue depth samples; lost-event marks;
 * failed execs. Facts only: causes.c decides what they mean. */
#ifndef CW_TIMELINE_H
#define CW_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/strset.h"
#include "log/logread.h"

/* An interned list of queue names (shared by all processes with the same list). */
struct cw_qset {
	int n;
	const char **names;	/* interned */
};

struct cw_sender {
	int64_t pid, uid, pstart;
	const char *comm, *cmdline;
};

/* A signal generated for a process; only signals that can end or stop it are kept. They
 * live in one array (tl->sigs), each process chaining its own from the latest backwards. */
struct cw_sigrec {
	int prev;		/* the process' previous record, or -1 */
	int64_t ts;
	int signo;
	const char *signame, *code, *result;
	bool has_sender;
	struct cw_sender sender;
};

struct cw_oomrec {
	int64_t ts;
	int64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, oom_score_adj;
	const char *cgroup;
};

/* How we know a process ended. */
enum cw_end {
	CW_END_NONE = 0,	/* alive at the end of the log */
	CW_END_EXIT,		/* an exit line */
	CW_END_OOM,		/* an oom line and nothing after it */
	CW_END_KILLED,		/* SIGKILL delivered, then silence: no exit line */
	CW_END_REUSED,		/* its pid came back with another pstart */
	CW_END_VANISHED,	/* not in the scan of a restarted recorder */
};

struct cw_tproc {
	const char *host;
	int64_t pid, pstart, ppid;
	int parent;		/* index in tl->procs, or -1 */
	int64_t uid;
	const char *comm, *cmdline, *cgroup, *worker, *pool, *command;
	const struct cw_qset *queues;
	enum cw_role role;
	int64_t concurrency;
	bool detach;		/* argv has --detach: this image only hands over */
	bool handover;		/* forked by a --detach process and not exec'd since */
	bool scanned;		/* seen by a start-up scan */
	unsigned scan_epoch;
	int64_t start_ts, last_ts;
	/* the end */
	enum cw_end end;
	int64_t end_ts;		/* CW_NONE while alive */
	int64_t exit_code;	/* CW_NONE: killed by a signal or no exit line */
	const char *exit_signal;
	bool core_dumped;
	const char *stderr_tail;
	int64_t maxrss_kb;
	/* what happened to it */
	int last_sig;		/* latest record in tl->sigs since the last exec, or -1 */
	bool has_oom;
	struct cw_oomrec oom;
	int64_t stopped_at;	/* SIGSTOP/SIGTSTP... and no SIGCONT since; CW_NONE otherwise */
	int stop_sig;		/* index in tl->sigs of the stop signal */
};

struct cw_depth_sample {
	int64_t ts, depth;
};

struct cw_tqueue {
	const char *name;
	struct cw_depth_sample *samples;
	int nsamples, cap;
	bool from_worker;	/* named by a worker process or exec_fail */
};

struct cw_lost {
	const char *host;
	int64_t ts, count;
};

/* An OOM kill of a process we do not follow: not a death of ours, but memory pressure
 * on the host is context for what happened to the workers. */
struct cw_other_oom {
	const char *host, *comm, *cgroup;
	int64_t ts, pid, anon_rss_kb;
};

/* A failed execve. A shell or Python's subprocess searching PATH fails once per directory
 * before the exec that works: a failure followed by another exec attempt of the same process
 * (a later exec_fail or a successful exec, same (host, pid, pstart), or same host and pid
 * within EXECFAIL_SAME_US when a pstart is null) is `superseded` and explains nothing. */
struct cw_execfail {
	int64_t ts, pid, ppid, uid;
	int64_t pstart;		/* CW_NONE when the line had none */
	int prev;		/* the previous exec_fail of the same host and pid, or -1 */
	bool superseded;	/* not the process' last exec attempt */
	const char *host, *comm, *cmdline, *worker, *errname;
	const struct cw_qset *queues;
	enum cw_role role;
	int64_t err;
};

struct cw_ptab;

struct cw_timeline {
	struct cw_tproc *procs;
	int nprocs, capprocs;
	struct cw_tqueue *queues;
	int nqueues, capqueues;
	struct cw_sigrec *sigs;
	int nsigs, capsigs;
	struct cw_lost *lost;
	int nlost, caplost;
	struct cw_execfail *execfails;
	int nexecfails, capexecfails;
	struct cw_other_oom *other_ooms;
	int nother_ooms, capother_ooms;
	const char **hosts;	/* interned, in order of appearance */
	int nhosts, caphosts;
	/* per host (same index): the key of its current boot, "host\x1f<boot_id>" interned, or
	 * the host itself when the recorder did not say (logs before boot_id) */
	const char **boot_keys;
	int capboot_keys;
	int64_t first_ts, last_ts;	/* of events taken in; CW_NONE if none */
	int64_t until;		/* events after this are ignored; CW_NONE: no limit */
	bool past_until;	/* some were: the log covers the whole window */
	int64_t lost_total;
	long events;
	/* internals */
	struct cw_strset strs;	/* every string kept, interned: compare by pointer */
	struct cw_ptab *bykey;	/* (host's boot, pid, pstart) -> proc */
	struct cw_ptab *bypid;	/* (host's boot, pid) -> latest proc */
	struct cw_ptab *failbypid;	/* (host's boot, pid) -> latest exec_fail */
	struct cw_ptab *qsets, *qnames;
	const struct cw_qset **qsetv;	/* qsets' values, each malloc'd */
	int nqsetv, capqsetv;
	unsigned epoch;		/* tracer_start count */
	const char *scanning_host;	/* host whose start-up scan is being read */
	int64_t scan_ts;
};

int cw_timeline_init(struct cw_timeline *tl);
void cw_timeline_free(struct cw_timeline *tl);
/* Take in one event (a cw_event_cb). Returns 0, or -ENOMEM. */
int cw_timeline_add(const struct cw_event *ev, void *tl);
/* Close the books after the last event (ends that are only known by silence). */
void cw_timeline_finish(struct cw_timeline *tl);

/* Read logs into tl (cw_timeline_add per event, then cw_timeline_finish). Files are taken
 * in the order of their first timestamps, so `log log.1 log.2` works; "-" is stdin and stays
 * where it is. Read errors are reported on errf. Returns 0, or -1 if a file could not be
 * read (the others are still read). */
int cw_timeline_load(struct cw_timeline *tl, char *const *files, int nfiles,
		     struct cw_logread_stats *st, FILE *errf);

/* Intern a string in the timeline's table (NULL stays NULL). */
const char *cw_timeline_intern(struct cw_timeline *tl, const char *s);
bool cw_qset_has(const struct cw_qset *qs, const char *interned_name);

/* when the process stopped consuming: its end, or an earlier stop (SIGSTOP); CW_NONE = open */
int64_t cw_tproc_live_end(const struct cw_tproc *p);

int cw_signo(const char *signame);	/* "SIGKILL" -> 9, 0 if unknown */

#endif
