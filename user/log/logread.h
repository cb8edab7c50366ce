/* Event log reader for explain/status: streams JSON lines (docs/events.md, v1 and v2) with
 * getline + json_tokener, checks each line, and hands out one flat struct per event.
 * Bad lines are reported as "FILE:LINE: reason" and skipped; nothing here keeps json objects. */
#ifndef CW_LOGREAD_H
#define CW_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/timeutil.h"	/* cw_parse_ts, cw_format_ts: the log's time format */

/* "absent or null" for integer fields */
#define CW_NONE INT64_MIN

enum cw_log_type {
	CW_LOG_NONE = 0,
	CW_LOG_TRACER_START,
	CW_LOG_SCAN,
	CW_LOG_EXEC,
	CW_LOG_EXEC_FAIL,
	CW_LOG_FORK,
	CW_LOG_EXIT,
	CW_LOG_SIGNAL,
	CW_LOG_OOM,
	CW_LOG_RENAME,
	CW_LOG_LOST,
	CW_LOG_SAMPLE,
	CW_LOG_SUPPRESSED,
	CW_LOG_TRACER_STOP,
	CW_LOG_PROC_SAMPLE,	/* v2: per-process facts at a broker sample */
};

enum cw_role {
	CW_RL_NONE = 0,	/* field absent */
	CW_RL_MAIN,
	CW_RL_POOL,
	CW_RL_BEAT,
	CW_RL_OTHER,
};

#define CW_LOG_MAX_QUEUES 64
#define CW_LOG_MAX_ARGS 256
#define CW_LOG_MAX_SAMPLES 256
#define CW_LOG_MAX_PROCS 512	/* the writer's own bound per proc_sample line */

struct cw_ev_sender {
	bool present;
	bool kernel;		/* "kind":"kernel": pid... are only what was running */
	const char *reason;	/* the kernel's reason ("timer", "sigchld", ...) */
	int64_t pid, uid, pstart;
	const char *comm, *cmdline;
};

struct cw_ev_depth {
	const char *queue;
	int64_t depth;
	int64_t arrived, drained;	/* v2: since the previous sample; CW_NONE: unknown */
};

/* One process in a proc_sample line (v2). */
struct cw_ev_proc {
	int64_t pid, pstart;
	char state;		/* 'R', 'S', 'D', ...; 0 when absent */
	int64_t cpu_ticks, ctxsw;
	const char *wchan, *syscall;	/* only when it made no progress since the last round */
	int64_t broker_conns;	/* CW_NONE: not known (conn_known false) */
	int64_t idle_s;		/* smallest idle_s of its CLIENT LIST connections; CW_NONE: none */
	const char *conn_cmd;	/* the first connection's last command */
};

/* One line, flattened. Strings point into the parsed line and are valid only during the
 * callback: keepers copy (the timeline interns them). Absent strings are NULL, absent ints
 * CW_NONE. */
struct cw_event {
	enum cw_log_type type;
	const char *file;
	long line;
	int64_t ts;		/* microseconds since the epoch, UTC */
	const char *host;
	int64_t pid, pstart, ppid, parent_pstart, uid;
	const char *comm, *cgroup;
	const char *untracked;	/* exec/fork/scan: why the kernel does not follow it ("map_full") */
	int argc;		/* argv[] at the end */
	/* worker fields */
	const char *worker;
	int nqueues;		/* queues[] at the end */
	bool has_queues;
	enum cw_role role;
	int64_t concurrency;
	const char *pool, *command;
	/* exit */
	int64_t exit_code;
	const char *signame;	/* exit: killing signal; signal: the signal */
	bool core_dumped;
	const char *stderr_tail;
	bool stderr_unwatched;	/* "stderr_watched": false (--tail-window: the hook was off) */
	int64_t maxrss_kb;
	/* signal */
	int64_t signo;
	const char *code, *result;
	struct cw_ev_sender sender;
	/* oom */
	int64_t total_vm_kb, anon_rss_kb, file_rss_kb, shmem_rss_kb, oom_score_adj;
	bool tracked;
	/* exec_fail */
	const char *errname;
	int64_t err;
	/* lost; suppressed (count) */
	int64_t lost_count;
	/* tracer_start */
	const char *boot_id;
	/* sample */
	bool redis_ok;
	int nsamples;
	/* exec, scan (v2): the executable; NULL when absent or null */
	const char *exe;
	/* proc_sample (v2) */
	bool conn_known, client_list;
	int nprocs;
	int64_t procs_omitted;
	/* arrays last: the reader clears only what comes before them */
	const char *argv[CW_LOG_MAX_ARGS];
	const char *queues[CW_LOG_MAX_QUEUES];
	struct cw_ev_depth samples[CW_LOG_MAX_SAMPLES];
	struct cw_ev_proc procs[CW_LOG_MAX_PROCS];
};

struct cw_logread_stats {
	long lines;		/* lines read */
	long events;		/* lines handed to the callback */
	long skipped;		/* lines reported and skipped */
	long unread;		/* lines a pre-filter declined unparsed (not checked either) */
};

/* Return non-zero to stop reading (that value is returned). */
typedef int (*cw_event_cb)(const struct cw_event *ev, void *ctx);
/* A pre-filter: called with a line's type and ts when loghead.h reads them for sure, before
 * the full parse; false: the line is dropped unparsed (so a bad line it drops is not
 * reported). Lines it is not sure about are parsed and go to the callback as usual. */
typedef bool (*cw_line_want)(enum cw_log_type type, int64_t ts, void *ctx);

/* Read one stream; name is used in messages. Bad lines go to errf as "NAME:LINE: reason".
 * Returns 0, the callback's non-zero value, or -errno on a read error. */
int cw_logread_stream(FILE *in, const char *name, cw_event_cb cb, void *ctx,
		      struct cw_logread_stats *st, FILE *errf);
/* Read a file ("-" is stdin). Returns as above; -errno if it cannot be opened. */
int cw_logread_file(const char *path, cw_event_cb cb, void *ctx,
		    struct cw_logread_stats *st, FILE *errf);
/* The same with a pre-filter (NULL: none); want gets ctx too. */
int cw_logread_file_want(const char *path, cw_line_want want, cw_event_cb cb, void *ctx,
			 struct cw_logread_stats *st, FILE *errf);
/* One line at a time, for lines that come from elsewhere: the recorder's own (its live
 * engine), a followed file (watch --follow). line[0..n) must end with '\n' (a line without
 * one is "truncated"). Returns 0 (also for a blank line), the callback's value, or -EINVAL
 * with the reason in why. name and lineno are what ev->file/line say. */
struct cw_lineparser;
struct cw_lineparser *cw_lineparser_new(void);
void cw_lineparser_free(struct cw_lineparser *p);
int cw_lineparser_feed(struct cw_lineparser *p, const char *line, size_t n, const char *name,
		       long lineno, cw_event_cb cb, void *ctx, char *why, size_t whylen);

/* The ts of the first valid line of a file (to put rotated logs in order), or CW_NONE. */
int64_t cw_logread_first_ts(const char *path);

const char *cw_role_name(enum cw_role r);

#endif
