/* Gaps: every period in the window a queue had no live consumer, from its consumers' lives
 * (start to the end of consuming: death, SIGSTOP or the broker connection lost; connect.c), with the backlog sampled in it and the
 * drain after it. Comparing the window's first and last samples hides an outage that built a
 * backlog and drained before the end (0 → 0 says "stayed at 0"): this is where it shows. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "explain/connect.h"
#include "explain/gaps.h"

/* one consumer's time consuming; to is INT64_MAX while it still does */
struct life {
	int64_t from, to;
	int proc;
};

struct gapv {
	struct cw_gap *v;
	int n, cap;
};

static int cmp_life(const void *x, const void *y)
{
	const struct life *a = x, *b = y;

	return a->from < b->from ? -1 : a->from > b->from;
}

/* index of the first sample at or after t (samples are in time order) */
static int first_at(const struct cw_tqueue *tq, int64_t t)
{
	int lo = 0, hi = tq->nsamples;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (tq->samples[mid].ts < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int push_gap(struct gapv *g, int64_t from, int64_t to, int cause)
{
	if (cw_grow((void **)&g->v, &g->cap, g->n + 1, sizeof(*g->v)))
		return -ENOMEM;
	struct cw_gap *x = &g->v[g->n++];
	memset(x, 0, sizeof(*x));
	x->from = from;
	x->to = to;
	x->cause = cause;
	x->peak = x->emptied_at = CW_NONE;
	return 0;
}

/* No consumer seen before `until` (CW_NONE: none at all). Tasks waiting in the window before
 * then make a gap: from the window's start if its first sample already had tasks, else from
 * the first sample that had (an empty queue misses nobody). Its start, or CW_NONE. */
static int64_t waiting_since(const struct cw_qconsumers *qc, int64_t until)
{
	const struct cw_tqueue *tq = qc->tq;
	const struct cw_analysis *a = qc->a;

	for (int i = first_at(tq, a->from); i < tq->nsamples; i++) {
		const struct cw_depth_sample *s = &tq->samples[i];
		if (s->ts > a->to || (until != CW_NONE && s->ts >= until))
			break;
		if (s->depth > 0)
			return i == first_at(tq, a->from) ? a->from : s->ts;
	}
	return CW_NONE;
}

/* The complement of the lives (sorted by start), up to the window's end. A gap's cause is
 * the death of the consumer whose end opened it (the one that lasted longest). */
static int sweep(const struct cw_qconsumers *qc, const struct life *lv, int n,
		 int never_cause, struct gapv *g)
{
	int64_t covered = CW_NONE;	/* consuming up to here; CW_NONE: nobody yet */
	int last = -1;

	for (int i = 0; i < n; i++) {
		if (covered == CW_NONE) {
			int64_t w = waiting_since(qc, lv[i].from);
			if (w != CW_NONE && w < lv[i].from && push_gap(g, w, lv[i].from, -1))
				return -ENOMEM;
		} else if (lv[i].from > covered &&
			   push_gap(g, covered, lv[i].from, qc->cause_of[lv[last].proc])) {
			return -ENOMEM;
		}
		if (covered == CW_NONE || lv[i].to > covered) {
			covered = lv[i].to;
			last = i;
		}
	}
	if (covered == CW_NONE) {
		int64_t w = waiting_since(qc, CW_NONE);
		return w == CW_NONE ? 0 : push_gap(g, w, CW_NONE, never_cause);
	}
	if (covered <= qc->a->to)
		return push_gap(g, covered, CW_NONE, qc->cause_of[lv[last].proc]);
	return 0;
}

/* The peak sampled in g, and the growth while nobody consumed: between its first and last
 * samples, or from the sample before it began (the depth then) when it has only one. */
static void gap_backlog(const struct cw_qconsumers *qc, struct cw_gap *g)
{
	const struct cw_tqueue *tq = qc->tq;
	const struct cw_analysis *a = qc->a;
	int64_t end = g->to == CW_NONE || g->to > a->to ? a->to : g->to;
	int i = first_at(tq, g->from > a->from ? g->from : a->from);
	int s0 = i, s1 = -1;

	if (i > 0 && tq->samples[i - 1].ts >= a->from &&
	    (i + 1 >= tq->nsamples || tq->samples[i + 1].ts > end))
		s0 = i - 1;
	for (; i < tq->nsamples && tq->samples[i].ts <= end; i++) {
		if (g->peak == CW_NONE || tq->samples[i].depth > g->peak)
			g->peak = tq->samples[i].depth;
		s1 = i;
	}
	if (s1 < 0 || tq->samples[s1].ts <= tq->samples[s0].ts)
		return;
	g->has_arrival = true;
	g->arrival_per_min = (double)(tq->samples[s1].depth - tq->samples[s0].depth) * 60e6 /
			     (double)(tq->samples[s1].ts - tq->samples[s0].ts);
}

/* After g closed, up to `until` (the next gap's start, or past the window's end): from the
 * highest sample since the consumer came back (it may take a few seconds to start eating)
 * down to the first empty sample, or the last one. The runbook's "LLEN, wait, LLEN again",
 * over every sample there is, so a slow drain through noisy depths still shows. */
static void gap_drain(const struct cw_qconsumers *qc, struct cw_gap *g, int64_t until)
{
	const struct cw_tqueue *tq = qc->tq;
	const struct cw_depth_sample *s = tq->samples;
	int k = first_at(tq, g->to), top = -1, e = -1;

	if (k > 0 && s[k - 1].ts >= qc->a->from && s[k - 1].ts >= g->from)
		k--;	/* the depth the consumer came back to */
	for (int i = k; i < tq->nsamples && s[i].ts < until; i++) {
		if (top < 0 || s[i].depth > s[top].depth)
			top = i;
		e = i;
		if (s[i].depth == 0)
			break;
	}
	if (e < 0 || s[top].depth <= 0)
		return;	/* nothing to drain */
	if (s[e].depth == 0)
		g->emptied_at = s[e].ts;
	if (s[e].ts <= s[top].ts || s[e].depth >= s[top].depth)
		return;
	g->has_drain = true;
	g->drain_per_min = (double)(s[top].depth - s[e].depth) * 60e6 / (double)(s[e].ts - s[top].ts);
}

/* The queue's own figures come from its last gap: arrivals during it, and once it closed,
 * the drain and the time to empty at that rate (not when empty already, nor not draining). */
static void queue_rates(struct cw_qverdict *v)
{
	if (!v->ngaps)
		return;
	const struct cw_gap *g = &v->gaps[v->ngaps - 1];
	v->has_arrival = g->has_arrival;
	v->arrival_per_min = g->arrival_per_min;
	cw_rates_after(v, g);
}

void cw_period_figures(const struct cw_qconsumers *qc, struct cw_gap *g, int64_t until)
{
	gap_backlog(qc, g);
	if (g->to != CW_NONE)
		gap_drain(qc, g, until);
}

void cw_rates_after(struct cw_qverdict *v, const struct cw_gap *g)
{
	if (g->to == CW_NONE || !g->has_drain)
		return;
	v->has_drain = true;
	v->drain_per_min = g->drain_per_min;
	if (g->emptied_at == CW_NONE && v->depth_last != CW_NONE && v->depth_last > 0) {
		v->has_eta = true;
		v->eta_empty_s = (double)v->depth_last * 60.0 / g->drain_per_min;
	}
}

static int collect_lives(const struct cw_qconsumers *qc, struct life **out)
{
	struct life *lv = malloc(sizeof(*lv) * (size_t)(qc->n + 1));
	int n = 0;

	if (!lv)
		return -ENOMEM;
	for (int i = 0; i < qc->n; i++) {
		const struct cw_tproc *p = &qc->tl->procs[qc->procs[i]];
		/* connected (or within its grace, or no facts): a worker never connected
		 * covers nothing, so the gap runs from the last connected one's end */
		if (!cw_consuming_span(p, qc->a->to, qc->a->opts.connect_grace_us, &lv[n].from,
				       &lv[n].to))
			continue;
		lv[n].proc = qc->procs[i];
		n += lv[n].to >= lv[n].from;
	}
	qsort(lv, (size_t)n, sizeof(*lv), cmp_life);
	*out = lv;
	return n;
}

int cw_gaps_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v)
{
	struct gapv g = {0};
	struct life *lv;
	int n = collect_lives(qc, &lv), kept = 0;

	if (n < 0)
		return -ENOMEM;
	int r = sweep(qc, lv, n, v->cause, &g);
	free(lv);
	if (r) {
		free(g.v);
		return -ENOMEM;
	}
	for (int i = 0; i < g.n; i++)	/* gaps over before the window are not its story */
		if (g.v[i].to == CW_NONE || g.v[i].to >= qc->a->from)
			g.v[kept++] = g.v[i];
	for (int i = 0; i < kept; i++) {
		gap_backlog(qc, &g.v[i]);
		if (g.v[i].to != CW_NONE)
			gap_drain(qc, &g.v[i], i + 1 < kept ? g.v[i + 1].from : qc->a->to + 1);
	}
	v->gaps = g.v;
	v->ngaps = kept;
	queue_rates(v);
	return 0;
}
