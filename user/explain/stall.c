/* Stalled and saturated: what a live, connected consumer is doing with the tasks waiting.
 * Its working processes are the live pool processes of a prefork worker, or the MainProcess
 * itself for solo/threads/gevent pools. Progress is CPU time or context switches used between
 * two proc_sample lines: a slow task that computes or talks is progress, a read that never
 * returns is not.
 *  - stalled: tasks waiting, the depth not lower than when the last of them progressed, and
 *    none progressed for --stall-after up to their latest sample;
 *  - saturated: not stalled, some progressing, tasks waiting and the depth grew over the last
 *    --stall-after: arrivals outpace the drain. Rates from the samples' arrived/drained when
 *    the recorder knew them (either one gives the other with the depth change), else the
 *    growth is a floor for arrivals and the drain is unknown. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "explain/connect.h"
#include "explain/stall.h"
#include "identity/celery.h"

struct workers {
	int v[64];
	int n;
	bool unknown;		/* one without facts, or too many: nothing is judged */
	int64_t concurrency;	/* of the counted consumers; CW_NONE unknown */
};

static bool live_at(const struct cw_tproc *p, int64_t t)
{
	int64_t e = cw_tproc_live_end(p);

	return p->start_ts <= t && (e == CW_NONE || e > t);
}

static void add_worker(struct workers *w, const struct cw_timeline *tl, int i)
{
	if (w->n == (int)(sizeof(w->v) / sizeof(w->v[0])) || tl->procs[i].pf.last_ts == CW_NONE)
		w->unknown = true;
	else
		w->v[w->n++] = i;
}

/* The working processes of the counted consumers, and their concurrency. */
static void find_workers(const struct cw_qconsumers *qc, const struct cw_qverdict *v,
			 struct workers *w)
{
	const struct cw_timeline *tl = qc->tl;
	int64_t to = qc->a->to;

	w->concurrency = 0;
	for (int k = 0; k < v->ncons; k++) {
		const struct cw_consumer *c = &v->cons[k];
		const struct cw_tproc *m = &tl->procs[c->proc];
		if (c->conn != CW_CONN_YES && c->conn != CW_CONN_UNKNOWN)
			continue;
		int pool = 0;
		if (!cw_pool_is_prefork(m->pool)) {
			add_worker(w, tl, c->proc);
			pool = 1;
		} else {
			for (int i = 0; i < tl->nprocs; i++)
				if (tl->procs[i].parent == c->proc &&
				    tl->procs[i].role == CW_RL_POOL && live_at(&tl->procs[i], to)) {
					add_worker(w, tl, i);
					pool++;
				}
		}
		if (w->concurrency != CW_NONE)
			w->concurrency += m->concurrency != CW_NONE && m->concurrency > 0 ?
					  m->concurrency : pool;
	}
	if (!w->n)
		w->unknown = true;
}

/* index of the last sample at or before t in the window, or -1 */
static int sample_before(const struct cw_tqueue *tq, int64_t from, int64_t t)
{
	int r = -1;

	for (int i = 0; i < tq->nsamples && tq->samples[i].ts <= t; i++)
		if (tq->samples[i].ts >= from)
			r = i;
	return r;
}

static void where_blocked(const struct cw_timeline *tl, const struct workers *w,
			  struct cw_stall *s)
{
	const struct cw_pfacts *f0 = &tl->procs[w->v[0]].pf;

	s->syscall = f0->syscall;
	s->wchan = f0->wchan;
	for (int k = 1; k < w->n; k++) {
		const struct cw_pfacts *f = &tl->procs[w->v[k]].pf;
		if (f->syscall != s->syscall)
			s->syscall = NULL;
		if (f->wchan != s->wchan)
			s->wchan = NULL;
	}
}

/* true when stalled: v->stall is filled */
static bool judge_stall(const struct cw_qconsumers *qc, const struct workers *w,
			struct cw_qverdict *v)
{
	const struct cw_timeline *tl = qc->tl;
	int64_t since = CW_NONE, seen = CW_NONE;

	for (int k = 0; k < w->n; k++) {
		const struct cw_pfacts *f = &tl->procs[w->v[k]].pf;
		if (since == CW_NONE || f->progress_ts > since)
			since = f->progress_ts;
		if (seen == CW_NONE || f->last_ts < seen)
			seen = f->last_ts;
	}
	if (seen - since < qc->a->opts.stall_after_us)
		return false;
	int last = sample_before(qc->tq, qc->a->from, qc->a->to);
	int at = sample_before(qc->tq, qc->a->from, since);
	if (last < 0 || qc->tq->samples[last].depth <= 0)
		return false;	/* nothing waits: idle, not stalled */
	if (at >= 0 && qc->tq->samples[last].depth < qc->tq->samples[at].depth)
		return false;	/* the queue went down: someone consumes */
	struct cw_stall *s = &v->stall;
	s->since = since;
	s->for_us = seen - since;
	s->depth = qc->tq->samples[last].depth;
	for (int k = 0; k < w->n && s->npids < 8; k++)
		s->pids[s->npids++] = tl->procs[w->v[k]].pid;
	where_blocked(tl, w, s);
	s->pool = tl->procs[w->v[0]].role == CW_RL_POOL;
	v->stalled = true;
	return true;
}

/* Arrivals (or drains) per minute over samples (s0, s1], from the samples that know them:
 * each covers the time since the one before. A few unknown ones (the recorder could not
 * tell: a message too big, a restart) leave the rate to the others; false when those cover
 * less than half the span. */
static bool rate_of(const struct cw_tqueue *tq, int s0, int s1, bool arrived, double *per_min)
{
	int64_t covered = 0;
	double sum = 0;	/* counts are <= 2^53 each (logread): a double never overflows */

	for (int i = s0 + 1; i <= s1; i++) {
		int64_t c = arrived ? tq->samples[i].arrived : tq->samples[i].drained;
		if (c == CW_NONE)
			continue;
		sum += (double)c;
		covered += tq->samples[i].ts - tq->samples[i - 1].ts;
	}
	if (covered <= 0 || covered * 2 < tq->samples[s1].ts - tq->samples[s0].ts)
		return false;
	*per_min = sum * 60e6 / (double)covered;
	return true;
}

/* the rates, either one from the other and the growth when only one is known */
static void saturation_rates(const struct cw_tqueue *tq, int s0, int s1, struct cw_qverdict *v)
{
	double span_min = (double)(tq->samples[s1].ts - tq->samples[s0].ts) / 60e6;
	double growth = (double)(tq->samples[s1].depth - tq->samples[s0].depth) / span_min;
	double in = 0, out = 0;
	bool has_in = rate_of(tq, s0, s1, true, &in), has_out = rate_of(tq, s0, s1, false, &out);

	if (!has_in && has_out) {
		in = growth + out;	/* depth change = arrivals - drains */
		has_in = true;
	} else if (has_in && !has_out && in >= growth) {
		out = in - growth;
		has_out = true;
	}
	v->has_arrival = true;
	v->arrival_at_least = !has_in;
	v->arrival_per_min = has_in ? in : growth;
	v->has_drain = has_out;
	v->drain_per_min = has_out ? out : 0;
}

static void judge_saturation(const struct cw_qconsumers *qc, const struct workers *w,
			     struct cw_qverdict *v)
{
	const struct cw_tqueue *tq = qc->tq;
	int s1 = sample_before(tq, qc->a->from, qc->a->to);

	if (s1 < 0 || tq->samples[s1].depth <= 0)
		return;
	/* progressing: one of them moved in the last half of --stall-after (a stall on its way
	 * is not saturation: its drain is nil) */
	int64_t moved = CW_NONE;
	for (int k = 0; k < w->n; k++)
		if (moved == CW_NONE || qc->tl->procs[w->v[k]].pf.progress_ts > moved)
			moved = qc->tl->procs[w->v[k]].pf.progress_ts;
	if (moved < tq->samples[s1].ts - qc->a->opts.stall_after_us / 2)
		return;
	int s0 = sample_before(tq, qc->a->from, tq->samples[s1].ts - qc->a->opts.stall_after_us);
	if (s0 < 0 || tq->samples[s1].depth <= tq->samples[s0].depth ||
	    tq->samples[s1].ts <= tq->samples[s0].ts)
		return;
	v->verdict = CW_SATURATED;
	v->has_eta = false;
	saturation_rates(tq, s0, s1, v);
	v->concurrency_now = w->concurrency;
	if (v->has_drain && !v->arrival_at_least && v->drain_per_min > 0 &&
	    w->concurrency != CW_NONE) {
		double need = ceil((double)w->concurrency * v->arrival_per_min / v->drain_per_min -
				   1e-9);
		if (need >= 1 && need <= 9007199254740992.0)	/* hostile counts: never cast */
			v->concurrency_needed = (int64_t)need;
	}
}

void cw_stall_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v)
{
	struct workers w = {0};

	v->concurrency_now = v->concurrency_needed = CW_NONE;
	if (!v->consumers_now)
		return;
	find_workers(qc, v, &w);
	if (w.unknown)
		return;	/* facts missing (v1 log, or not sampled): alive is all we know */
	v->concurrency_now = w.concurrency;
	bool over = v->verdict == CW_OK || v->verdict == CW_DEGRADED;
	if (judge_stall(qc, &w, v)) {
		if (over)
			v->verdict = CW_STALLED;
		return;
	}
	if (over)
		judge_saturation(qc, &w, v);
}

/* ---- duplicate worker names ---- */

struct mlife {
	const char *worker;
	int64_t from, to, pid;
};

static int cmp_mlife(const void *x, const void *y)
{
	const struct mlife *a = x, *b = y;

	if (a->worker != b->worker)
		return a->worker < b->worker ? -1 : 1;
	return a->from < b->from ? -1 : a->from > b->from;
}

static void add_dup(struct cw_qverdict *v, const struct mlife *a, const struct mlife *b)
{
	struct cw_dup *d = v->ndups ? &v->dups[v->ndups - 1] : NULL;

	if (!d || d->worker != a->worker) {
		if (v->ndups == (int)(sizeof(v->dups) / sizeof(v->dups[0])))
			return;
		d = &v->dups[v->ndups++];
		d->worker = a->worker;
		d->npids = 0;
	}
	for (int k = 0; k < 2; k++) {
		int64_t pid = k ? b->pid : a->pid;
		bool have = false;
		for (int j = 0; j < d->npids; j++)
			have |= d->pids[j] == pid;
		if (!have && d->npids < 8)
			d->pids[d->npids++] = pid;
	}
}

/* Lives by name then start: a start before the latest end of the same name overlaps. */
int cw_dups_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v)
{
	struct mlife *m = malloc(sizeof(*m) * (size_t)(qc->n + 1));
	int n = 0;

	if (!m)
		return -ENOMEM;
	for (int i = 0; i < qc->n; i++) {
		const struct cw_tproc *p = &qc->tl->procs[qc->procs[i]];
		int64_t e = cw_tproc_live_end(p);
		if (!p->worker || (e != CW_NONE && e < qc->a->from))
			continue;
		m[n++] = (struct mlife){p->worker, p->start_ts, e == CW_NONE ? INT64_MAX : e, p->pid};
	}
	qsort(m, (size_t)n, sizeof(*m), cmp_mlife);
	for (int i = 1, top = 0; i < n; i++) {
		if (m[i].worker != m[top].worker) {
			top = i;
			continue;
		}
		if (m[i].from < m[top].to)
			add_dup(v, &m[top], &m[i]);
		if (m[i].to > m[top].to)
			top = i;
	}
	free(m);
	return 0;
}
