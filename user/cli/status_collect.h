/* `celerywatch status` inside: the snapshot status_collect.c gathers (/proc, the broker, the
 * log) and the queues it judges. status.c runs the steps; status_render.h shows the result. */
#ifndef CW_CLI_STATUS_COLLECT_H
#define CW_CLI_STATUS_COLLECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "broker/broker.h"
#include "explain/causes.h"
#include "explain/timeline.h"
#include "identity/celery.h"

struct sproc {
	int pid, ppid;
	unsigned uid;
	unsigned long long pstart;
	char comm[17];
	char *cmdline, *cgroup;	/* cmdline: argv joined by spaces, redacted */
	struct cw_identity id;
	int npool;		/* live pool children (mains) */
	double uptime_s;
};

struct snapshot {
	struct sproc *p;
	size_t n, cap;
	double boot_uptime_s;	/* /proc/uptime */
	long ticks;
};

struct squeue {
	const char *name;
	int64_t depth;		/* CW_NONE: not sampled */
	int consumers, pool;
	bool any_other_pool;
	enum cw_verdict verdict;
	const struct cw_death *log_cause;	/* from --log, when the log agrees */
	const struct cw_qverdict *logv;	/* the log's judgement of it (--log), or NULL */
	int not_connected;	/* live mains the log saw not connected (not counted) */
	const char *dup_worker;	/* a worker name two live MainProcesses use, or NULL */
	int dup_pids[8], ndup;
};

struct status {
	const char *host;
	int64_t now;
	struct snapshot snap;
	struct squeue *queues;
	size_t nqueues;
	const char *redis_shown;	/* redacted URL, or NULL */
	bool redis_ok;
	char redis_err[300];
	char shown[512];		/* redis_shown's text */
	char *redis_env;		/* the URL taken from $CELERY_BROKER_URL */
	struct cw_sample sample;
	bool have_sample;
	struct cw_timeline tl;
	struct cw_analysis an;
	bool have_log;
	const char *log;
	struct cw_judge_opts judge;	/* how the log is judged */
};

static inline bool status_is_main(const struct sproc *p)
{
	return !strcmp(p->id.role, CW_ROLE_MAIN) && !p->id.detach;
}

static inline bool status_consumes(const struct sproc *p, const char *q)
{
	for (size_t i = 0; p->id.queues && i < p->id.nqueues; i++)
		if (!strcmp(p->id.queues[i], q))
			return true;
	return false;
}

/* status_collect.c */
/* The Celery processes under proc (normally /proc). Returns 0 or -errno. */
int status_scan(struct status *st, const char *proc);
/* One broker sample when redis (or $CELERY_BROKER_URL) names one. Returns 1 if it failed. */
int status_sample(struct status *st, const char *redis);
/* st->log through explain's reader. Returns 1 if it could not be read. */
int status_read_log(struct status *st);
/* Queues and their verdicts. Returns how many are not ok, or -ENOMEM. */
int status_judge(struct status *st);
void status_free(struct status *st);

#endif
