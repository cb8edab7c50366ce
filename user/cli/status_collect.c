/* `celerywatch status`, gathering and judging: the Celery processes in /proc with their pool
 * sizes, one broker sample, the recorder's log through explain's reader, and from those the
 * queues with a verdict each. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/redisurl.h"
#include "capture/procscan.h"
#include "common/grow.h"
#include "identity/redact.h"
#include "cli/status_collect.h"

/*
 * "argv[0] argv[1] ...", the command line as one string, each argument redacted as the event
 * log's argv is (URL passwords -> ***). Built in one pass: strcat rescanned the whole string
 * for every argument, and a worker's argv may hold hundreds of thousands of them.
 */
static char *join_argv(const struct cw_proc *cp)
{
	size_t cap = 1, pos = 0;
	char *s;

	for (size_t i = 0; i < cp->argc; i++)
		cap += 2 * strlen(cp->argv[i]) + 16 + 1;	/* cw_redact_arg's bound, a space */
	if (!(s = malloc(cap)))
		return NULL;
	for (size_t i = 0; i < cp->argc; i++) {
		if (i)
			s[pos++] = ' ';
		size_t n = strlen(cp->argv[i]);
		pos += cp->id.from_title ? cw_redact_words(cp->argv[i], n, s + pos, cap - 1 - pos) :
					   cw_redact_arg(cp->argv[i], n, s + pos, cap - 1 - pos);
	}
	s[pos] = '\0';
	char *fit = realloc(s, pos + 1);	/* give back the room redaction did not use */
	return fit ? fit : s;
}

static int scan_cb(const struct cw_proc *cp, void *ctx)
{
	struct snapshot *s = ctx;

	if (cw_grow_from((void **)&s->p, &s->cap, s->n + 1, sizeof(*s->p), 32))
		return -ENOMEM;
	struct sproc *p = &s->p[s->n];
	memset(p, 0, sizeof(*p));
	p->pid = cp->pid;
	p->ppid = cp->ppid;
	p->uid = cp->uid;
	p->pstart = cp->pstart;
	snprintf(p->comm, sizeof(p->comm), "%s", cp->comm);
	if (!(p->cmdline = join_argv(cp)))
		return -ENOMEM;
	p->cgroup = cp->cgroup ? strdup(cp->cgroup) : NULL;
	if (cw_identity_copy(&p->id, &cp->id)) {
		free(p->cmdline);
		free(p->cgroup);
		return -ENOMEM;
	}
	if (s->ticks > 0 && s->boot_uptime_s > 0)
		p->uptime_s = s->boot_uptime_s - (double)cp->pstart / (double)s->ticks;
	s->n++;
	return 0;
}

static double read_uptime(const char *root)
{
	char path[4096];
	double up = 0;

	snprintf(path, sizeof(path), "%s/uptime", root);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	return up;
}

int status_scan(struct status *st, const char *proc)
{
	struct snapshot *s = &st->snap;

	s->ticks = sysconf(_SC_CLK_TCK);
	s->boot_uptime_s = read_uptime(proc);
	struct cw_scan_cbs cbs = {.each = scan_cb, .ctx = s};
	int n = cw_procscan(proc, st->host, &cbs);
	if (n < 0)
		return n;
	/* each pool child counts for its MainProcess */
	for (size_t i = 0; i < s->n; i++) {
		const struct sproc *ch = &s->p[i];
		if (strcmp(ch->id.role, CW_ROLE_POOL))
			continue;
		for (size_t k = 0; k < s->n; k++)
			if (s->p[k].pid == ch->ppid && status_is_main(&s->p[k]))
				s->p[k].npool++;
	}
	return 0;
}

/* Every queue a Celery process names, for the broker to sample (duplicates are fine). */
static const char **process_queues(const struct snapshot *s, size_t *nq)
{
	const char **qn = NULL;

	*nq = 0;
	for (size_t i = 0; i < s->n; i++)
		for (size_t k = 0; s->p[i].id.queues && k < s->p[i].id.nqueues; k++) {
			const char **nn = realloc(qn, (*nq + 1) * sizeof(*qn));
			if (!nn)
				break;
			qn = nn;
			qn[(*nq)++] = s->p[i].id.queues[k];
		}
	return qn;
}

int status_sample(struct status *st, const char *redis)
{
	const char *env = getenv("CELERY_BROKER_URL");

	if (!redis && env && *env) {
		bool from_env;
		redis = st->redis_env = cw_redis_url_default(&from_env);
	}
	if (!redis)
		return 0;

	size_t nq;
	const char **qn = process_queues(&st->snap, &nq);
	struct cw_broker_config cfg = {.url = redis, .queues = qn, .nqueues = nq,
				       .discover = true, .timeout_s = 2};
	cw_redis_url_redacted(redis, st->shown, sizeof(st->shown));
	st->redis_shown = st->shown;
	st->have_sample = true;
	int r = cw_broker_sample_once(&cfg, &st->sample, st->redis_err, sizeof(st->redis_err));
	st->redis_ok = r == 0 && st->sample.redis_ok;
	if (r == 0 && !st->sample.redis_ok)
		snprintf(st->redis_err, sizeof(st->redis_err), "%s", st->sample.error);
	free(qn);
	return st->redis_ok ? 0 : 1;
}

int status_read_log(struct status *st)
{
	char *files[] = {(char *)st->log};

	if (!st->log || cw_timeline_init(&st->tl))
		return 0;
	if (cw_timeline_load(&st->tl, files, 1, NULL, stderr) == 0 &&
	    cw_analyze_opts(&st->tl, CW_NONE, CW_NONE, NULL, &st->judge, &st->an) == 0) {
		st->have_log = true;
		return 0;
	}
	return 1;
}

static int add_queue(struct squeue **qs, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*qs)[i].name, name))
			return (int)i;
	void *np = realloc(*qs, (*n + 1) * sizeof(**qs));
	if (!np)
		return -1;
	*qs = np;
	memset(&(*qs)[*n], 0, sizeof(**qs));
	(*qs)[*n].name = name;
	(*qs)[*n].depth = CW_NONE;
	return (int)(*n)++;
}

/* The queues: those workers consume, those the log knows, those the broker has. */
static int gather_queues(struct status *st)
{
	for (size_t i = 0; i < st->snap.n; i++)
		for (size_t k = 0; st->snap.p[i].id.queues && k < st->snap.p[i].id.nqueues; k++)
			if (status_is_main(&st->snap.p[i]) &&
			    add_queue(&st->queues, &st->nqueues, st->snap.p[i].id.queues[k]) < 0)
				return -ENOMEM;
	/* a queue whose every worker is gone is known only to the log (or the broker) */
	for (int i = 0; st->have_log && i < st->an.nqueues; i++)
		if (add_queue(&st->queues, &st->nqueues, st->an.queues[i].queue) < 0)
			return -ENOMEM;
	if (st->redis_ok)
		for (size_t i = 0; i < st->sample.nqueues; i++) {
			int q = add_queue(&st->queues, &st->nqueues, st->sample.queues[i].queue);
			if (q < 0)
				return -ENOMEM;
			st->queues[q].depth = st->sample.queues[i].depth;
		}
	return 0;
}

/* Two live MainProcesses consuming q with one worker name (Celery's DuplicateNodenameWarning:
 * a start script run twice): the first such name and its pids. */
static void find_dups(const struct status *st, struct squeue *q)
{
	for (size_t a = 0; a < st->snap.n && !q->dup_worker; a++) {
		const struct sproc *p = &st->snap.p[a];
		if (!status_is_main(p) || !status_consumes(p, q->name) || !p->id.worker)
			continue;
		for (size_t b = a + 1; b < st->snap.n; b++) {
			const struct sproc *r = &st->snap.p[b];
			if (!status_is_main(r) || !status_consumes(r, q->name) || !r->id.worker ||
			    strcmp(p->id.worker, r->id.worker))
				continue;
			if (!q->dup_worker) {
				q->dup_worker = p->id.worker;
				q->dup_pids[q->ndup++] = p->pid;
			}
			if (q->ndup < 8)
				q->dup_pids[q->ndup++] = r->pid;
		}
	}
}

/* With --log: the log's judgement, and its stalled or saturated verdict over a live
 * consumer's ok (/proc alone cannot see progress). */
static void log_verdict(const struct status *st, struct squeue *q)
{
	for (int k = 0; st->have_log && k < st->an.nqueues; k++)
		if (!strcmp(st->an.queues[k].queue, q->name))
			q->logv = &st->an.queues[k];
	if (q->logv && q->verdict == CW_OK &&
	    (q->logv->verdict == CW_STALLED || q->logv->verdict == CW_SATURATED))
		q->verdict = q->logv->verdict;
}

/* The log (--log) saw this live process never connect to the broker after its grace (or
 * lose it): /proc alone cannot tell, so it is not counted. Same pid and start time only. */
static bool log_not_connected(const struct status *st, const char *queue, const struct sproc *p)
{
	for (int k = 0; st->have_log && k < st->an.nqueues; k++) {
		const struct cw_qverdict *v = &st->an.queues[k];
		if (strcmp(v->queue, queue))
			continue;
		for (int i = 0; i < v->ncons; i++) {
			const struct cw_tproc *t = &st->tl.procs[v->cons[i].proc];
			if (v->cons[i].conn == CW_CONN_NO && t->pid == p->pid &&
			    t->pstart == (int64_t)p->pstart)
				return true;
		}
	}
	return false;
}

static void judge_queue(const struct status *st, struct squeue *q)
{
	for (size_t k = 0; k < st->snap.n; k++) {
		const struct sproc *p = &st->snap.p[k];
		if (!status_is_main(p) || !status_consumes(p, q->name))
			continue;
		if (log_not_connected(st, q->name, p)) {
			q->not_connected++;
			continue;
		}
		q->consumers++;
		q->pool += p->npool;
		q->any_other_pool |= !cw_pool_is_prefork(p->id.pool);
	}
	q->verdict = !q->consumers ? CW_NO_CONSUMER :
		     q->pool || q->any_other_pool ? CW_OK : CW_DEGRADED;
	for (int k = 0; st->have_log && k < st->an.nqueues; k++) {
		const struct cw_qverdict *v = &st->an.queues[k];
		/* the log's crash loop that left the queue without consumers is why it has none */
		bool same = v->verdict == q->verdict ||
			    (v->verdict == CW_FLAPPING && !v->consumers_now && !q->consumers);
		if (!strcmp(v->queue, q->name) && v->cause >= 0 && same && q->verdict != CW_OK)
			q->log_cause = &st->an.deaths[v->cause];
	}
	find_dups(st, q);
	log_verdict(st, q);
}

int status_judge(struct status *st)
{
	int bad = 0;

	if (gather_queues(st))
		return -ENOMEM;
	for (size_t i = 0; i < st->nqueues; i++) {
		judge_queue(st, &st->queues[i]);
		bad += st->queues[i].verdict != CW_OK;
	}
	return bad;
}

void status_free(struct status *st)
{
	if (st->have_sample)
		cw_sample_free(&st->sample);
	if (st->log) {
		cw_analysis_free(&st->an);
		cw_timeline_free(&st->tl);
	}
	free(st->queues);
	free(st->redis_env);
	for (size_t i = 0; i < st->snap.n; i++) {
		free(st->snap.p[i].cmdline);
		free(st->snap.p[i].cgroup);
		cw_identity_free(&st->snap.p[i].id);
	}
	free(st->snap.p);
}
