/* Past stalls. The timeline keeps, per process, the runs without progress that ended
 * (cw_still, at least CW_STILL_MIN_US long). A queue was stalled when each of its consumers
 * was: a consumer is still when all of its working processes are (a working process is still
 * in its runs and outside its life; one without facts never is); the queue, when some
 * consumer consumed and every consumer was still or not consuming. Periods of at least
 * --stall-after with tasks waiting and the depth not lower at their end are stalls; the one
 * still going at the window's end is stall.c's. Interval lists are sorted and disjoint. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/grow.h"
#include "explain/connect.h"
#include "explain/gaps.h"
#include "explain/stills.h"
#include "identity/celery.h"

struct ivl {
	int64_t a, b;
};

struct iv {
	struct ivl *v;
	int n, cap;
};

static int push(struct iv *s, int64_t a, int64_t b)
{
	if (b <= a)
		return 0;
	if (s->n && a <= s->v[s->n - 1].b) {	/* sorted input: merge with the last */
		if (b > s->v[s->n - 1].b)
			s->v[s->n - 1].b = b;
		return 0;
	}
	if (cw_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return -ENOMEM;
	s->v[s->n++] = (struct ivl){a, b};
	return 0;
}

static void take(struct iv *dst, struct iv *src)	/* dst = src, src emptied */
{
	free(dst->v);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static int intersect(const struct iv *x, const struct iv *y, struct iv *out)
{
	for (int i = 0, j = 0; i < x->n && j < y->n;) {
		int64_t a = x->v[i].a > y->v[j].a ? x->v[i].a : y->v[j].a;
		int64_t b = x->v[i].b < y->v[j].b ? x->v[i].b : y->v[j].b;
		if (push(out, a, b))
			return -ENOMEM;
		if (x->v[i].b < y->v[j].b)
			i++;
		else
			j++;
	}
	return 0;
}

static int unite(const struct iv *x, const struct iv *y, struct iv *out)
{
	for (int i = 0, j = 0; i < x->n || j < y->n;) {
		bool fx = j >= y->n || (i < x->n && x->v[i].a <= y->v[j].a);
		const struct ivl *e = fx ? &x->v[i++] : &y->v[j++];
		if (push(out, e->a, e->b))
			return -ENOMEM;
	}
	return 0;
}

/* [lo, hi) minus [a, b) */
static int outside(int64_t lo, int64_t hi, int64_t a, int64_t b, struct iv *out)
{
	return push(out, lo, a < hi ? a : hi) || push(out, b > lo ? b : lo, hi) ? -ENOMEM : 0;
}

static int cmp_still(const void *x, const void *y)
{
	const struct cw_still *a = x, *b = y;

	if (a->proc != b->proc)
		return a->proc < b->proc ? -1 : 1;
	return a->from < b->from ? -1 : a->from > b->from;
}

struct ctx {
	const struct cw_qconsumers *qc;
	struct cw_still *by_proc;	/* tl->stills sorted by (proc, from) */
	int n;
	int64_t lo, hi;			/* the window */
};

/* When working process w made no progress: its runs, and outside its life. */
static int nonprog(const struct ctx *c, int w, struct iv *out)
{
	const struct cw_tproc *p = &c->qc->tl->procs[w];
	int64_t e = cw_tproc_live_end(p);
	struct iv runs = {0}, dead = {0};
	int lo = 0, hi = c->n, r = -ENOMEM;

	while (lo < hi) {	/* first run of w */
		int mid = lo + (hi - lo) / 2;
		if (c->by_proc[mid].proc < w)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < c->n && c->by_proc[i].proc == w; i++)
		if (push(&runs, c->by_proc[i].from, c->by_proc[i].to))
			goto out;
	if (outside(c->lo, c->hi, p->start_ts, e == CW_NONE ? c->hi : e, &dead) ||
	    unite(&runs, &dead, out))
		goto out;
	r = 0;
out:
	free(runs.v);
	free(dead.v);
	return r;
}

/* A folded recycled child (timeline_fold.h) has no still runs: outside its life only. */
static int folded_nonprog(const struct ctx *c, const struct cw_folded *f, struct iv *out)
{
	struct iv runs = {0}, dead = {0};
	int r = -ENOMEM;

	if (!outside(c->lo, c->hi, f->start_ts, f->end_ts, &dead) && !unite(&runs, &dead, out))
		r = 0;
	free(runs.v);
	free(dead.v);
	return r;
}

/* acc = acc ∩ (when each folded child of m was not working); *nw counts them */
static int folded_still(const struct ctx *c, int m, struct iv *acc, int *nw)
{
	const struct cw_timeline *tl = c->qc->tl;
	struct iv one = {0}, tmp = {0};
	int r = -ENOMEM;

	for (int k = 0; k < tl->nfolded; k++) {
		if (tl->fprofs[tl->folded[k].profile].parent != m)
			continue;
		(*nw)++;
		one.n = tmp.n = 0;
		if (folded_nonprog(c, &tl->folded[k], &one) || intersect(acc, &one, &tmp))
			goto out;
		take(acc, &tmp);
	}
	r = 0;
out:
	free(one.v);
	free(tmp.v);
	return r;
}

/* When consumer m (consuming over [from, to)) was still: all its working processes were. */
static int consumer_still(const struct ctx *c, int m, int64_t from, int64_t to, struct iv *out)
{
	const struct cw_timeline *tl = c->qc->tl;
	struct iv acc = {0}, one = {0}, tmp = {0};
	int r = -ENOMEM, nw = 0;

	bool prefork = cw_pool_is_prefork(tl->procs[m].pool);

	if (push(&acc, from, to))
		goto out;
	for (int i = prefork ? 0 : m; i < (prefork ? tl->nprocs : m + 1); i++) {
		if (prefork && (tl->procs[i].parent != m || tl->procs[i].role != CW_RL_POOL))
			continue;
		nw++;
		one.n = tmp.n = 0;
		if (nonprog(c, i, &one) || intersect(&acc, &one, &tmp))
			goto out;
		take(&acc, &tmp);
	}
	if (prefork && folded_still(c, m, &acc, &nw))
		goto out;
	if (nw)
		take(out, &acc);
	r = 0;
out:
	free(acc.v);
	free(one.v);
	free(tmp.v);
	return r;
}

/* The queue's still periods: some consumer consuming, each still or not consuming. */
static int queue_still(const struct ctx *c, struct iv *out)
{
	const struct cw_qconsumers *qc = c->qc;
	struct iv cover = {0}, acc = {0}, st = {0}, x = {0}, tmp = {0};
	int64_t grace = qc->a->opts.connect_grace_us, from, to;
	int r = -ENOMEM;

	if (push(&acc, c->lo, c->hi))
		goto out;
	for (int k = 0; k < qc->n; k++) {
		int m = qc->procs[k];
		if (!cw_consuming_span(&qc->tl->procs[m], qc->a->to, grace, &from, &to))
			continue;
		if (to > c->hi)
			to = c->hi;
		st.n = x.n = tmp.n = 0;
		if (consumer_still(c, m, from, to, &st) || outside(c->lo, c->hi, from, to, &x))
			goto out;
		if (unite(&st, &x, &tmp))
			goto out;
		st.n = 0;
		if (intersect(&acc, &tmp, &st))
			goto out;
		take(&acc, &st);
		tmp.n = 0;
		struct iv life = {0};
		if (push(&life, from, to) || unite(&cover, &life, &tmp)) {
			free(life.v);
			goto out;
		}
		free(life.v);
		take(&cover, &tmp);
	}
	r = intersect(&acc, &cover, out);
out:
	free(cover.v);
	free(acc.v);
	free(st.v);
	free(x.v);
	free(tmp.v);
	return r;
}

/* tasks waited in [a, b] and were not fewer at its end */
static bool waiting_not_down(const struct cw_tqueue *tq, int64_t a, int64_t b)
{
	int first = -1, last = -1;
	bool any = false;

	for (int i = 0; i < tq->nsamples && tq->samples[i].ts <= b; i++) {
		if (tq->samples[i].ts < a)
			continue;
		if (first < 0)
			first = i;
		last = i;
		any |= tq->samples[i].depth > 0;
	}
	return any && tq->samples[last].depth >= tq->samples[first].depth;
}

static int keep(const struct ctx *c, const struct iv *q, struct cw_qverdict *v)
{
	const struct cw_qconsumers *qc = c->qc;

	v->stalls = calloc((size_t)q->n + 1, sizeof(*v->stalls));
	if (!v->stalls)
		return -ENOMEM;
	for (int i = 0; i < q->n; i++) {
		int64_t a = q->v[i].a, b = q->v[i].b;
		if (b >= c->hi || (v->stalled && b >= v->stall.since))
			continue;	/* not over: the present stall is stall.c's */
		if (b - a < qc->a->opts.stall_after_us || !waiting_not_down(qc->tq, a, b))
			continue;
		struct cw_gap *g = &v->stalls[v->nstalls++];
		*g = (struct cw_gap){.from = a, .to = b, .cause = -1, .peak = CW_NONE,
				     .emptied_at = CW_NONE};
	}
	for (int i = 0; i < v->nstalls; i++)
		cw_period_figures(qc, &v->stalls[i], i + 1 < v->nstalls ? v->stalls[i + 1].from :
						     qc->a->to + 1);
	return 0;
}

int cw_stills_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v)
{
	const struct cw_timeline *tl = qc->tl;
	struct ctx c = {.qc = qc, .n = tl->nstills, .lo = qc->a->from, .hi = qc->a->to};
	struct iv q = {0};
	int r = -ENOMEM;

	if (!tl->nstills || !qc->n)
		return 0;
	if (!(c.by_proc = malloc(sizeof(*c.by_proc) * (size_t)tl->nstills)))
		return -ENOMEM;
	memcpy(c.by_proc, tl->stills, sizeof(*c.by_proc) * (size_t)tl->nstills);
	qsort(c.by_proc, (size_t)c.n, sizeof(*c.by_proc), cmp_still);
	if (queue_still(&c, &q) || keep(&c, &q, v))
		goto out;
	const struct cw_gap *last = v->nstalls ? &v->stalls[v->nstalls - 1] : NULL;
	const struct cw_gap *gap = cw_last_closed_gap(v);
	if (last && v->verdict != CW_SATURATED && (!gap || last->to > gap->to)) {
		v->has_drain = v->has_eta = false;
		cw_rates_after(v, last);
	}
	r = 0;
out:
	free(c.by_proc);
	free(q.v);
	return r;
}
