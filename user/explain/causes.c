/* Causes: classify each ended worker process from the facts the timeline kept, link pool
 * children to their MainProcess' death, and judge each queue at the end of the window.
 *
 * One kind per end of a worker process (role main, pool or beat; a --detach launcher's exit 0
 * is a handover, not an end); rules 2-5 are checked in this order and the first that matches
 * decides:
 *  1. Stopped (SIGSTOP/TSTP/TTIN/TTOU, no SIGCONT since): a `signal` death of its own, marked
 *     stopped, when the queue lost it; a later end is classified by 2-5 as well.
 *  2. An `oom` record (matched by (host, pid, pstart), or by (host, pid) to the latest live
 *     process when pstart is null): `oom_kill`; the OOM SIGKILL's sender, when another
 *     process, is named as the one that was allocating.
 *  3. Killed by signal S (an exit line with a signal, or SIGKILL then 5 s of silence):
 *     a. a pool child whose MainProcess ends within 30 s before / 10 s after (after: only if
 *        the MainProcess had been asked to stop by then, or ended on its own), S from the
 *        kernel, from that MainProcess, unrecorded, or from a process that sent the
 *        MainProcess TERM/INT/QUIT/KILL within 2 s of it (kill -PGID, systemd stopping the
 *        unit's cgroup: one request for the whole worker): `parent_died`;
 *     b. a pool child, S = SIGKILL, code `user`, sent by its own MainProcess (pid, and pstart
 *        when the sender has one): `time_limit` (billiard: SIGTERM, 100 ms, SIGKILL);
 *     c. a fault signal (SEGV, BUS, ILL, FPE, TRAP, SYS, ABRT): `signal` when another process
 *        sent it (code not `kernel`), else `crash`;
 *     d. a signal record: `signal` with its sender; from a pool child's own MainProcess
 *        (SIGTERM alone) it says so: a revoke with terminate=True, a pool shrink or restart;
 *     e. no record: `signal` without a sender. Events lost within 10 s make this, and 3d
 *        when the end is only silence after a SIGKILL, `unknown`.
 *  4. An exit code: a pool child's 155 is `recycled`; a pool child whose MainProcess ends as
 *     in 3a, with no shutdown signal (TERM/INT/QUIT) or one as in 3a (the kernel's, that
 *     MainProcess', the same request's), is `parent_died`; after a shutdown signal, `signal`
 *     with that sender (its own MainProcess said so as in 3d; never `time_limit`); else
 *     `exit_error` (non-zero, with the stderr tail) or `exit_clean` (0).
 *  5. No exit line (pid reused, or missing from a restarted recorder's scan): `parent_died`
 *     for a pool child as in 3a (not when missing from a scan), else `unknown`.
 *  6. A failed exec is `exec_failed` only when it was its process's last exec attempt: a
 *     failure followed by another attempt of the same process (exec or exec_fail, same
 *     (host, pid, pstart), or host and pid within 5 s when a pstart is null) is a PATH
 *     search's miss, neither an incident nor a death.
 *  7. A queue that had tasks, never a live consumer and no `exec_failed` naming it:
 *     `never_started`.
 * Every kind but `recycled` and `parent_died` is an incident; a child that died with its
 * MainProcess points at that death (`followers`). Queues: a consumer is a live worker
 * MainProcess, connected to the broker when the log says (connect.c: not connected after
 * --connect-grace is listed, not counted; within it, starting). `ok` with a consumer (and,
 * for prefork, a live pool child), `degraded` with consumers but no pool (cause: the last
 * pool child death), `no_consumer` otherwise (cause: the death of the last consumer, or
 * 6/7 for a queue never consumed); `stalled`, then `saturated` over ok and degraded
 * (stall.c); `flapping` over all those, and over no_consumer when the loop's last death is
 * what left the queue without consumers (flapping.c). Each queue's gaps (no consumer) and
 * the drain after them: gaps.c; stalls that ended: stills.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain/causes.h"
#include "common/grow.h"
#include "explain/causes_summary.h"
#include "explain/causes_folded.h"
#include "explain/connect.h"
#include "explain/stall.h"
#include "explain/stills.h"
#include "explain/flapping.h"
#include "explain/gaps.h"
#include "identity/celery.h"

#define SEC 1000000LL
/* lost events this close to a death make its evidence doubtful */
#define LOST_NEAR (10 * SEC)
/* a pool child dying this close to its MainProcess' exit died with it (PDEATHSIG, shutdown) */
#define PARENT_BEFORE (30 * SEC)
#define PARENT_AFTER (10 * SEC)
/* a signal to a pool child this close to the same sender's signal to its MainProcess was
 * one request for the whole worker (a process group, a cgroup) */
#define SAME_REQUEST (2 * SEC)

enum { SIGHUP_ = 1, SIGINT_ = 2, SIGQUIT_ = 3, SIGILL_ = 4, SIGTRAP_ = 5, SIGABRT_ = 6,
       SIGBUS_ = 7, SIGFPE_ = 8, SIGKILL_ = 9, SIGSEGV_ = 11, SIGTERM_ = 15, SIGSYS_ = 31 };

static bool fault_signal(int s)
{
	return s == SIGSEGV_ || s == SIGBUS_ || s == SIGILL_ || s == SIGFPE_ || s == SIGTRAP_ ||
	       s == SIGSYS_ || s == SIGABRT_;
}

static bool shutdown_signal(int s)
{
	return s == SIGTERM_ || s == SIGINT_ || s == SIGQUIT_;
}

static bool from_kernel(const struct cw_sigrec *r)
{
	return (r->has_sender && r->sender.kernel) || (r->code && !strcmp(r->code, "kernel"));
}

/* the most recent signal record with this number (any, if signo is 0) */
static const struct cw_sigrec *last_sig(const struct cw_timeline *tl, const struct cw_tproc *p,
				       int signo)
{
	for (int i = p->last_sig; i >= 0; i = tl->sigs[i].prev)
		if (!signo || tl->sigs[i].signo == signo)
			return &tl->sigs[i];
	return NULL;
}

static const struct cw_sigrec *last_shutdown_sig(const struct cw_timeline *tl,
						 const struct cw_tproc *p)
{
	for (int i = p->last_sig; i >= 0; i = tl->sigs[i].prev)
		if (shutdown_signal(tl->sigs[i].signo))
			return &tl->sigs[i];
	return NULL;
}

/* ---- deaths array ---- */

struct cw_death *cw_death_new(struct cw_analysis *a)
{
	if (cw_grow((void **)&a->deaths, &a->capdeaths, a->ndeaths + 1, sizeof(*a->deaths)))
		return NULL;
	struct cw_death *d = &a->deaths[a->ndeaths++];
	memset(d, 0, sizeof(*d));
	d->proc = d->execfail = d->parent_death = -1;
	d->pid = d->exit_code = d->parent_pid = d->depth = CW_NONE;
	return d;
}

static void use_sig(struct cw_death *d, const struct cw_sigrec *r)
{
	if (!r)
		return;
	if (!d->signame)
		d->signame = r->signame;
	d->sig_code = r->code;
	if (r->has_sender) {
		d->has_sender = true;
		d->sender = r->sender;
	}
}

static bool also_to_parent(const struct cw_timeline *tl, const struct cw_tproc *par,
			   const struct cw_sigrec *r);

/* Is p's MainProcess ending at about the time p ends? If p went first, only when the parent
 * had been told to stop (or killed) by then, or by the request that killed p: a parent
 * stopped after p was gone did not take p with it (a time limit or an os._exit(0), then a
 * restart seconds later), but a kill -PGID reaches a pool child before its MainProcess as
 * often as after, and the child can be gone before the sender gets to the parent. */
static bool parent_dying(const struct cw_timeline *tl, const struct cw_tproc *p, int64_t ts)
{
	if (p->parent < 0)
		return false;
	const struct cw_tproc *par = &tl->procs[p->parent];
	int64_t e = par->end_ts;
	if (e == CW_NONE || e < ts - PARENT_BEFORE || e > ts + PARENT_AFTER)
		return false;
	if (e <= ts)
		return true;
	const struct cw_sigrec *own = last_sig(tl, p, 0);
	if (own && (shutdown_signal(own->signo) || own->signo == SIGKILL_) && also_to_parent(tl, par, own))
		return true;
	bool asked_after = false;
	for (int i = par->last_sig; i >= 0; i = tl->sigs[i].prev) {
		const struct cw_sigrec *r = &tl->sigs[i];
		if (!shutdown_signal(r->signo) && r->signo != SIGKILL_)
			continue;
		if (r->ts <= ts)
			return true;	/* a warm shutdown may wait long for a task */
		asked_after = true;
	}
	/* it ended on its own (an error, a crash): the window decides */
	return !asked_after;
}

static bool sent_by(const struct cw_sigrec *r, int64_t pid)
{
	/* a kernel signal was sent by no one: its pid is only whoever was running */
	return r && r->has_sender && !r->sender.kernel && r->sender.pid == pid;
}

/* r was sent by p's own MainProcess (its pid, and its start time when the sender has one) */
static bool sent_by_main(const struct cw_tproc *p, const struct cw_tproc *par,
			 const struct cw_sigrec *r)
{
	return p->role == CW_RL_POOL && par && sent_by(r, par->pid) &&
	       (r->sender.pstart == CW_NONE || r->sender.pstart == par->pstart);
}

/* Did r's sender also ask the MainProcess to stop (or kill it) at about the same time? */
static bool also_to_parent(const struct cw_timeline *tl, const struct cw_tproc *par,
			   const struct cw_sigrec *r)
{
	if (!r->has_sender || r->sender.kernel)
		return false;
	for (int i = par->last_sig; i >= 0; i = tl->sigs[i].prev) {
		const struct cw_sigrec *q = &tl->sigs[i];
		if ((shutdown_signal(q->signo) || q->signo == SIGKILL_) && q->has_sender &&
		    !q->sender.kernel && q->sender.pid == r->sender.pid &&
		    q->sender.pstart == r->sender.pstart &&
		    q->ts >= r->ts - SAME_REQUEST && q->ts <= r->ts + SAME_REQUEST)
			return true;
	}
	return false;
}

/* A pool child's signal r (or none) that is its dying MainProcess' doing, not an incident
 * of its own: the kernel's (PDEATHSIG), the MainProcess' (pool shutdown), or the same
 * request that stopped the MainProcess. */
static bool with_parent(const struct cw_timeline *tl, const struct cw_tproc *par,
			const struct cw_sigrec *r)
{
	return !r || from_kernel(r) || sent_by(r, par->pid) || also_to_parent(tl, par, r);
}

/* billiard's hard time limit: SIGTERM, 100 ms later SIGKILL, both kill(2) from the
 * MainProcess; the child dies of the SIGKILL. A SIGTERM alone from the MainProcess is a
 * revoke(terminate=True), a pool shrink or a pool restart. */
static bool hard_time_limit(const struct cw_tproc *p, const struct cw_tproc *par, int signo,
			    const struct cw_sigrec *r)
{
	return signo == SIGKILL_ && r && r->signo == SIGKILL_ && r->code &&
	       !strcmp(r->code, "user") && sent_by_main(p, par, r);
}

/* Killed by signal signo (exit line or silence after SIGKILL). */
static void classify_killed(const struct cw_timeline *tl, const struct cw_tproc *p, int signo,
			    struct cw_death *d)
{
	const struct cw_sigrec *r = last_sig(tl, p, signo);
	const struct cw_tproc *par = p->parent >= 0 ? &tl->procs[p->parent] : NULL;

	use_sig(d, r);
	if (p->role == CW_RL_POOL && par && parent_dying(tl, p, d->ts) &&
	    with_parent(tl, par, r)) {
		d->kind = CW_K_PARENT_DIED;
		return;
	}
	if (hard_time_limit(p, par, signo, r)) {
		d->kind = CW_K_TIME_LIMIT;
		return;
	}
	d->from_main = sent_by_main(p, par, r);
	if (fault_signal(signo)) {
		/* kill -SEGV from another process is a signal, not a crash */
		bool other = r && r->has_sender && !from_kernel(r) && r->sender.pid != p->pid;
		d->kind = other ? CW_K_SIGNAL : CW_K_CRASH;
		return;
	}
	if (r) {
		d->kind = CW_K_SIGNAL;
		return;
	}
	d->kind = d->lost_near > 0 ? CW_K_UNKNOWN : CW_K_SIGNAL;
}

static void classify(const struct cw_timeline *tl, const struct cw_tproc *p, struct cw_death *d)
{
	const struct cw_tproc *par = p->parent >= 0 ? &tl->procs[p->parent] : NULL;

	if (p->has_oom) {
		d->kind = CW_K_OOM_KILL;
		d->has_oom = true;
		d->oom = p->oom;
		d->signame = "SIGKILL";
		/* The OOM killer's SIGKILL is generated by the task whose allocation failed: when
		 * that is another process (a pool child hogging memory), it is who to look at. */
		const struct cw_sigrec *r = last_sig(tl, p, SIGKILL_);
		if (r && r->has_sender && r->sender.pid != p->pid) {
			d->has_sender = true;
			d->sender = r->sender;
			d->sig_code = r->code;
		}
		return;
	}
	switch (p->end) {
	case CW_END_EXIT:
		if (p->exit_signal) {
			classify_killed(tl, p, cw_signo(p->exit_signal), d);
			return;
		}
		if (p->role == CW_RL_POOL && p->exit_code == 155) {
			d->kind = CW_K_RECYCLED;
			return;
		}
		const struct cw_sigrec *r = last_shutdown_sig(tl, p);
		if (p->role == CW_RL_POOL && par && parent_dying(tl, p, d->ts) &&
		    with_parent(tl, par, r)) {
			use_sig(d, r);
			d->kind = CW_K_PARENT_DIED;
			return;
		}
		if (r) {
			/* asked to stop (warm shutdown): whoever asked is the answer; a pool
			 * child's own MainProcess asking is no time limit (that kills) */
			use_sig(d, r);
			d->from_main = sent_by_main(p, par, r);
			d->kind = CW_K_SIGNAL;
			return;
		}
		d->kind = p->exit_code ? CW_K_EXIT_ERROR : CW_K_EXIT_CLEAN;
		return;
	case CW_END_KILLED:
		classify_killed(tl, p, SIGKILL_, d);
		if (d->kind == CW_K_SIGNAL && d->lost_near > 0)
			d->kind = CW_K_UNKNOWN;
		return;
	default:
		/* no exit line: pid reused, or gone while the recorder was down */
		if (p->role == CW_RL_POOL && par && parent_dying(tl, p, d->ts) &&
		    p->end != CW_END_VANISHED) {
			d->kind = CW_K_PARENT_DIED;
			return;
		}
		d->kind = CW_K_UNKNOWN;
		return;
	}
}

/* ---- lost events near a time ---- */

struct lost_index {
	struct cw_lost *v;
	int n;
};

static int cmp_lost(const void *a, const void *b)
{
	const struct cw_lost *x = a, *y = b;
	return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* counts are each <= 2^53 (logread), but a hostile log may hold many */
static int64_t sat_add(int64_t a, int64_t b)
{
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static int64_t lost_near(const struct lost_index *li, const char *host, int64_t ts)
{
	int lo = 0, hi = li->n;
	int64_t sum = 0;

	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (li->v[mid].ts < ts - LOST_NEAR)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (int i = lo; i < li->n && li->v[i].ts <= ts + LOST_NEAR; i++)
		if (li->v[i].host == host)
			sum = sat_add(sum, li->v[i].count > 0 ? li->v[i].count : 1);
	return sum;
}

/* ---- queues ---- */

static bool live_at(const struct cw_tproc *p, int64_t t)
{
	int64_t e = cw_tproc_live_end(p);

	return p->start_ts <= t && (e == CW_NONE || e > t);
}

static bool is_consumer(const struct cw_tproc *p)
{
	return p->role == CW_RL_MAIN && !p->detach && !p->handover;
}

static bool prefork(const struct cw_tproc *p)
{
	return cw_pool_is_prefork(p->pool);
}

struct ctx {
	const struct cw_timeline *tl;
	struct cw_analysis *a;
	int *cause_of;		/* proc -> death index of its live end */
	int *live_pool;		/* proc -> live pool children at `to` */
	int *mains;		/* consumer procs */
	int nmains;
	int *qprocs;		/* scratch: one queue's consumers */
	struct lost_index *li;
};

static void growth(const struct cw_tqueue *tq, struct cw_qverdict *v, int64_t from, int64_t to)
{
	int first = -1, last = -1;

	v->depth_first = v->depth_last = CW_NONE;
	v->depth_max = 0;
	for (int i = 0; i < tq->nsamples; i++) {
		const struct cw_depth_sample *s = &tq->samples[i];
		if (s->ts < from || s->ts > to)
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (s->depth > v->depth_max)
			v->depth_max = s->depth;
	}
	if (first < 0)
		return;
	v->depth_first = tq->samples[first].depth;
	v->depth_last = tq->samples[last].depth;
	int g0 = first;
	if (v->verdict == CW_NO_CONSUMER && v->uncovered_since != CW_NONE) {
		/* the rate while nobody consumed: from the last sample before the loss */
		for (int i = first; i <= last; i++) {
			if (tq->samples[i].ts < from)
				continue;
			if (tq->samples[i].ts <= v->uncovered_since)
				g0 = i;
			else
				break;
		}
	}
	const struct cw_depth_sample *s0 = &tq->samples[g0], *s1 = &tq->samples[last];
	if (s1->ts <= s0->ts)
		return;
	v->has_growth = true;
	v->growth_per_min = (double)(s1->depth - s0->depth) * 60e6 / (double)(s1->ts - s0->ts);
	v->growth_from_ts = s0->ts;
	v->growth_from_depth = s0->depth;
	v->growth_to_ts = s1->ts;
	v->growth_to_depth = s1->depth;
}

/* A consumer alive at the window's end: counted (when connected, or when nobody knows), its
 * pool added, its name listed once. */
static void count_live(struct ctx *c, int proc, enum cw_conn cs, struct cw_qverdict *v)
{
	const struct cw_tproc *p = &c->tl->procs[proc];
	bool dup = false;

	if (cs == CW_CONN_STARTING) {
		v->starting++;
		return;
	}
	v->consumers_now++;
	v->pool_now += c->live_pool[proc];
	for (int k = 0; k < v->nconsumer_names; k++)
		dup |= v->consumer_names[k] == p->worker;
	if (!dup && p->worker && v->nconsumer_names < 8)
		v->consumer_names[v->nconsumer_names++] = p->worker;
}

static int add_cons(struct cw_qverdict *v, int proc, enum cw_conn cs, int cap)
{
	if (!v->cons && !(v->cons = calloc((size_t)cap + 1, sizeof(*v->cons))))
		return -ENOMEM;
	v->cons[v->ncons++] = (struct cw_consumer){proc, cs};
	v->not_connected += cs == CW_CONN_NO;
	return 0;
}

/* Walk tq's consumers up to the window's end. Returns how many live ones need no pool (not
 * prefork), or -ENOMEM; *lost is the consumer that stopped consuming last (-1 if none),
 * *lost_end when. A main never connected after its grace is listed, never counted. */
static int scan_consumers(struct ctx *c, const struct cw_tqueue *tq, struct cw_qverdict *v,
			  int *lost, int64_t *lost_end)
{
	int64_t grace = c->a->opts.connect_grace_us, from, until;
	int live_other = 0;

	*lost = -1;
	*lost_end = CW_NONE;
	for (int m = 0; m < c->nmains; m++) {
		const struct cw_tproc *p = &c->tl->procs[c->mains[m]];
		if (!cw_qset_has(p->queues, tq->name) || p->start_ts > c->a->to)
			continue;
		if (live_at(p, c->a->to)) {
			enum cw_conn cs = cw_conn_at(p, c->a->to, grace);
			if (add_cons(v, c->mains[m], cs, c->nmains))
				return -ENOMEM;
			if (cs == CW_CONN_NO) {
				if (cw_consuming_span(p, c->a->to, grace, &from, &until) &&
				    until <= c->a->to) {
					v->had_consumer = true;	/* it was, then lost the broker */
					if (*lost_end == CW_NONE || until > *lost_end) {
						*lost_end = until;
						*lost = c->mains[m];
					}
				}
				continue;
			}
			v->had_consumer = true;
			count_live(c, c->mains[m], cs, v);
			live_other += !prefork(p);
			continue;
		}
		if (!cw_consuming_span(p, c->a->to, grace, &from, &until))
			continue;	/* never a consumer: never connected */
		v->had_consumer = true;
		if (*lost_end == CW_NONE || until > *lost_end) {
			*lost_end = until;
			*lost = c->mains[m];
		}
	}
	return live_other;
}

/* A folded child later than deaths[cause] (by time, then creation) is the cause instead:
 * it is brought back as a death. Returns the cause's index, or -ENOMEM. */
static int degraded_folded(struct ctx *c, const struct cw_tqueue *tq, int cause)
{
	const struct cw_timeline *tl = c->tl;
	struct cw_analysis *a = c->a;
	int best = -1;

	for (int k = 0; k < tl->nfolded; k++) {
		const struct cw_folded *f = &tl->folded[k];
		int par = tl->fprofs[f->profile].parent;
		if (f->end_ts > a->to || par < 0 || !live_at(&tl->procs[par], a->to) ||
		    !cw_qset_has(tl->procs[par].queues, tq->name))
			continue;
		if (best < 0 || f->end_ts > tl->folded[best].end_ts ||
		    (f->end_ts == tl->folded[best].end_ts && f->born > tl->folded[best].born))
			best = k;
	}
	if (best < 0)
		return cause;
	const struct cw_folded *f = &tl->folded[best];
	if (cause >= 0 && (a->deaths[cause].ts > f->end_ts ||
			   (a->deaths[cause].ts == f->end_ts && a->deaths[cause].order > f->born)))
		return cause;
	return cw_folded_death(tl, a, best, lost_near(c->li, tl->fprofs[f->profile].host,
						      f->end_ts));
}

/* the pool child death that left the last consumer without a pool */
static int degraded_cause(struct ctx *c, const struct cw_tqueue *tq)
{
	const struct cw_timeline *tl = c->tl;
	const struct cw_analysis *a = c->a;
	int64_t best = CW_NONE;
	int cause = -1;

	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (d->proc < 0 || d->role != CW_RL_POOL || d->ts > a->to)
			continue;
		int par = tl->procs[d->proc].parent;
		if (par < 0 || !live_at(&tl->procs[par], a->to) ||
		    !cw_qset_has(tl->procs[par].queues, tq->name))
			continue;
		if (best == CW_NONE || d->ts >= best) {
			best = d->ts;
			cause = i;
		}
	}
	return degraded_folded(c, tq, cause);
}

/* A queue never consumed: a failed exec naming it explains it; else, if it had tasks, it
 * gets a never_started record of its own. */
static int never_consumed(struct ctx *c, const struct cw_tqueue *tq, struct cw_qverdict *v)
{
	struct cw_analysis *a = c->a;

	for (int i = a->ndeaths - 1; i >= 0; i--) {
		const struct cw_death *d = &a->deaths[i];
		if (d->kind == CW_K_EXEC_FAILED && d->ts <= a->to &&
		    cw_qset_has(d->queues, tq->name)) {
			v->cause = i;
			return 0;
		}
	}
	if (v->depth_max <= 0)
		return 0;
	int64_t ts = a->from;
	for (int i = 0; i < tq->nsamples; i++)
		if (tq->samples[i].ts >= a->from && tq->samples[i].depth > 0) {
			ts = tq->samples[i].ts;
			break;
		}
	struct cw_death *d = cw_death_new(a);
	if (!d)
		return -ENOMEM;
	d->kind = CW_K_NEVER_STARTED;
	d->order = CW_ORDER_LAST;
	d->ts = ts;
	d->queue = tq->name;
	d->depth = v->depth_max;
	d->incident = true;
	if (cw_death_summarize(c->tl, a, d))
		return -ENOMEM;
	v->cause = a->ndeaths - 1;
	return 0;
}

/* Processes of tq's workers that started by the window's end but that the kernel could not
 * follow: whatever became of them was not recorded. */
static int count_untracked(const struct ctx *c, const struct cw_tqueue *tq)
{
	int n = 0;

	for (int i = 0; i < c->tl->nprocs; i++) {
		const struct cw_tproc *p = &c->tl->procs[i];
		n += p->untracked && p->start_ts <= c->a->to && cw_qset_has(p->queues, tq->name);
	}
	return n;
}

/* Its gaps, then crash loops, which may change the verdict: both after the verdict and
 * cause of the moment are set; duplicate worker names; then stalls and saturation. */
static int judge_history(struct ctx *c, const struct cw_tqueue *tq, struct cw_qverdict *v)
{
	struct cw_qconsumers qc = {.tl = c->tl, .a = c->a, .tq = tq, .procs = c->qprocs,
				   .cause_of = c->cause_of};

	for (int m = 0; m < c->nmains; m++) {
		const struct cw_tproc *p = &c->tl->procs[c->mains[m]];
		if (cw_qset_has(p->queues, tq->name) && p->start_ts <= c->a->to)
			c->qprocs[qc.n++] = c->mains[m];
	}
	if (cw_gaps_judge(&qc, v) || cw_flap_judge(&qc, v) || cw_dups_judge(&qc, v))
		return -ENOMEM;
	/* stalled, then saturated, over ok and degraded only: flapping is worse */
	cw_stall_judge(&qc, v);
	return cw_stills_judge(&qc, v);
}

static int judge_queue(struct ctx *c, const struct cw_tqueue *tq, struct cw_qverdict *v)
{
	int64_t lost_end;
	int lost;

	memset(v, 0, sizeof(*v));
	v->queue = tq->name;
	v->cause = -1;
	v->uncovered_since = CW_NONE;
	int live_other = scan_consumers(c, tq, v, &lost, &lost_end);
	if (live_other < 0)
		return -ENOMEM;
	if (v->consumers_now || v->starting) {
		v->verdict = live_other || v->pool_now ? CW_OK : CW_DEGRADED;
		if (v->verdict == CW_DEGRADED && (v->cause = degraded_cause(c, tq)) == -ENOMEM)
			return -ENOMEM;
	} else {
		v->verdict = CW_NO_CONSUMER;
		if (lost >= 0) {
			v->uncovered_since = lost_end;
			v->cause = c->cause_of[lost];
		}
	}
	growth(tq, v, c->a->from, c->a->to);
	v->untracked = count_untracked(c, tq);
	if (!v->had_consumer && never_consumed(c, tq, v))
		return -ENOMEM;
	return judge_history(c, tq, v);
}

/* ---- the whole analysis ---- */

/* who died, from the process or the failed exec the death is about */
static void set_who(struct cw_death *d, const char *host, int64_t pid, const char *worker,
		    const char *comm, const char *cmdline, enum cw_role role,
		    const struct cw_qset *queues)
{
	d->host = host;
	d->pid = pid;
	d->worker = worker;
	d->comm = comm;
	d->cmdline = cmdline;
	d->role = role;
	d->queues = queues;
}

static int death_for_proc(struct ctx *c, int i, struct lost_index *li, bool stop_record)
{
	const struct cw_timeline *tl = c->tl;
	const struct cw_tproc *p = &tl->procs[i];
	struct cw_death *d = cw_death_new(c->a);

	if (!d)
		return -ENOMEM;
	d->proc = i;
	d->order = p->born;
	set_who(d, p->host, p->pid, p->worker, p->comm, p->cmdline, p->role, p->queues);
	if (p->role == CW_RL_POOL && p->parent >= 0)
		d->parent_pid = tl->procs[p->parent].pid;
	else if (p->role == CW_RL_POOL)
		d->parent_pid = p->ppid;
	if (stop_record) {
		d->ts = p->stopped_at;
		d->kind = CW_K_SIGNAL;
		d->stopped = true;
		use_sig(d, &tl->sigs[p->stop_sig]);
	} else {
		d->ts = p->end_ts;
		d->exit_code = p->exit_code;
		d->core_dumped = p->core_dumped;
		d->lost_near = lost_near(li, p->host, d->ts);
		classify(tl, p, d);
		if (d->kind == CW_K_EXIT_ERROR || d->stderr_tail == NULL)
			d->stderr_tail = p->stderr_tail;
		d->stderr_unwatched = p->stderr_unwatched;
		if (!d->signame && p->exit_signal)
			d->signame = p->exit_signal;
	}
	c->cause_of[i] = c->a->ndeaths - 1;
	return 0;
}

static int cmp_death(const void *x, const void *y)
{
	const struct cw_death *a = x, *b = y;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	/* a MainProcess before the children that died with it */
	if ((a->role == CW_RL_POOL) != (b->role == CW_RL_POOL))
		return (a->role == CW_RL_POOL) - (b->role == CW_RL_POOL);
	/* then as they were made: processes in creation order, failed execs, queues */
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return a->seq - b->seq;
}

/* Sort deaths by time and fix every index that points into them. */
static int sort_deaths(struct ctx *c, int nqueues)
{
	struct cw_analysis *a = c->a;
	if (!a->ndeaths)
		return 0;
	int *remap = malloc(sizeof(int) * (size_t)a->ndeaths);

	if (!remap)
		return -ENOMEM;
	for (int i = 0; i < a->ndeaths; i++)
		a->deaths[i].seq = i;
	qsort(a->deaths, (size_t)a->ndeaths, sizeof(*a->deaths), cmp_death);
	for (int i = 0; i < a->ndeaths; i++)
		remap[a->deaths[i].seq] = i;
	for (int i = 0; i < c->tl->nprocs; i++)
		if (c->cause_of[i] >= 0)
			c->cause_of[i] = remap[c->cause_of[i]];
	for (int i = 0; i < a->ndeaths; i++)
		if (a->deaths[i].parent_death >= 0)
			a->deaths[i].parent_death = remap[a->deaths[i].parent_death];
	for (int q = 0; q < nqueues; q++) {
		struct cw_qverdict *v = &a->queues[q];
		if (v->cause >= 0)
			v->cause = remap[v->cause];
		if (v->flapping && v->flap.last >= 0)
			v->flap.last = remap[v->flap.last];
		for (int g = 0; g < v->ngaps; g++)
			if (v->gaps[g].cause >= 0)
				v->gaps[g].cause = remap[v->gaps[g].cause];
	}
	free(remap);
	return 0;
}

/* The window: the log's own bounds, narrowed by since and until. */
static void set_window(const struct cw_timeline *tl, int64_t since, int64_t until,
		       struct cw_analysis *a)
{
	a->from = tl->first_ts;
	a->to = tl->last_ts;
	if (since != CW_NONE && (a->from == CW_NONE || since > a->from))
		a->from = since;
	if (until != CW_NONE && (a->to == CW_NONE || until < a->to || tl->past_until))
		a->to = until;
}

/* The lost-event marks in time order (for lost_near), and how many fell in the window. */
static int index_lost(const struct cw_timeline *tl, struct cw_analysis *a,
		      struct lost_index *li)
{
	li->v = malloc(sizeof(*li->v) * (size_t)(tl->nlost + 1));
	if (!li->v)
		return -ENOMEM;
	if (tl->nlost)
		memcpy(li->v, tl->lost, sizeof(*li->v) * (size_t)tl->nlost);
	li->n = tl->nlost;
	qsort(li->v, (size_t)li->n, sizeof(*li->v), cmp_lost);
	for (int i = 0; i < tl->nlost; i++)
		if (tl->lost[i].ts >= a->from && tl->lost[i].ts <= a->to)
			a->lost_in_window = sat_add(a->lost_in_window, tl->lost[i].count);
	return 0;
}

/* Process i's deaths in the window (a stop, an end, or both), and its part in the queues'
 * bookkeeping (consumer, live pool child). */
static int proc_deaths(struct ctx *c, int i, struct lost_index *li)
{
	const struct cw_tproc *p = &c->tl->procs[i];
	struct cw_analysis *a = c->a;

	c->cause_of[i] = -1;
	if (p->role != CW_RL_MAIN && p->role != CW_RL_POOL && p->role != CW_RL_BEAT)
		return 0;
	if (is_consumer(p)) {
		c->mains[c->nmains++] = i;
		if (p->start_ts <= a->to)
			a->nworkers++;
	}
	if (p->role == CW_RL_POOL && p->parent >= 0 && live_at(p, a->to))
		c->live_pool[p->parent]++;
	/* --detach: the first process exits 0 once the real worker is forked */
	if ((p->detach || p->handover) && p->end == CW_END_EXIT && p->exit_code == 0)
		return 0;
	if (p->stopped_at != CW_NONE && p->stopped_at <= a->to &&
	    (p->end_ts == CW_NONE || p->end_ts > p->stopped_at) &&
	    death_for_proc(c, i, li, true))
		return -ENOMEM;
	if (p->end != CW_END_NONE && p->end_ts <= a->to) {
		int stop = c->cause_of[i];
		if (death_for_proc(c, i, li, false))
			return -ENOMEM;
		if (stop >= 0)	/* the queue lost it when it stopped */
			c->cause_of[i] = stop;
	}
	return 0;
}

static int execfail_deaths(struct cw_analysis *a, const struct cw_timeline *tl)
{
	for (int i = 0; i < tl->nexecfails; i++) {
		const struct cw_execfail *f = &tl->execfails[i];
		/* a PATH search's misses before the exec that worked (or the next try) */
		if (f->ts > a->to || f->superseded)
			continue;
		struct cw_death *d = cw_death_new(a);
		if (!d)
			return -ENOMEM;
		d->kind = CW_K_EXEC_FAILED;
		d->execfail = i;
		d->order = CW_ORDER_EXECFAIL + i;
		d->ts = f->ts;
		set_who(d, f->host, f->pid, f->worker, f->comm, f->cmdline, f->role, f->queues);
		d->errname = f->errname;
	}
	return 0;
}

/* children that died with their MainProcess point at its death */
static void link_followers(struct ctx *c)
{
	struct cw_analysis *a = c->a;

	for (int i = 0; i < a->ndeaths; i++) {
		struct cw_death *d = &a->deaths[i];
		if (d->kind != CW_K_PARENT_DIED || d->proc < 0)
			continue;
		int par = c->tl->procs[d->proc].parent;
		if (par >= 0 && c->cause_of[par] >= 0) {
			d->parent_death = c->cause_of[par];
			a->deaths[d->parent_death].followers++;
		}
	}
}

static int summarize_deaths(const struct cw_timeline *tl, struct cw_analysis *a)
{
	for (int i = 0; i < a->ndeaths; i++) {
		struct cw_death *d = &a->deaths[i];
		d->incident = d->kind != CW_K_RECYCLED && d->kind != CW_K_PARENT_DIED;
		if (cw_death_summarize(tl, a, d))
			return -ENOMEM;
	}
	return 0;
}

static int judge_queues(struct ctx *c, const char *filter_queue)
{
	const struct cw_timeline *tl = c->tl;
	struct cw_analysis *a = c->a;

	a->queues = calloc((size_t)tl->nqueues + 1, sizeof(*a->queues));
	if (!a->queues)
		return -ENOMEM;
	for (int q = 0; q < tl->nqueues; q++) {
		if (filter_queue && strcmp(filter_queue, tl->queues[q].name))
			continue;
		int r = judge_queue(c, &tl->queues[q], &a->queues[a->nqueues]);
		a->nqueues++;	/* counted even on failure: cw_analysis_free frees its gaps */
		if (r)
			return -ENOMEM;
	}
	return 0;
}

/* Shown: in the window, and about the queue asked for (if any); counted by kind. */
static void mark_shown(const struct cw_timeline *tl, struct cw_analysis *a,
		       const char *filter_queue)
{
	for (int i = 0; i < a->ndeaths; i++) {
		struct cw_death *d = &a->deaths[i];
		d->shown = d->ts >= a->from && d->ts <= a->to &&
			   (!filter_queue || cw_qset_has(d->queues, cw_timeline_intern(
				   (struct cw_timeline *)tl, filter_queue)) ||
			    (d->queue && !strcmp(d->queue, filter_queue)));
		if (d->shown && !d->folded)
			a->kinds[d->kind]++;
	}
	cw_folded_count_shown(tl, a, filter_queue);
}

int cw_analyze(const struct cw_timeline *tl, int64_t since, int64_t until,
	       const char *filter_queue, struct cw_analysis *a)
{
	struct cw_judge_opts o = {CW_CONNECT_GRACE_DEFAULT_US, CW_STALL_AFTER_DEFAULT_US};

	return cw_analyze_opts(tl, since, until, filter_queue, &o, a);
}

int cw_analyze_opts(const struct cw_timeline *tl, int64_t since, int64_t until,
		    const char *filter_queue, const struct cw_judge_opts *opts,
		    struct cw_analysis *a)
{
	struct lost_index li = {0};
	struct ctx c = {.tl = tl, .a = a, .li = &li};
	int ret = -ENOMEM;

	memset(a, 0, sizeof(*a));
	a->opts = *opts;
	set_window(tl, since, until, a);
	if (a->from == CW_NONE)
		return 0;
	c.cause_of = malloc(sizeof(int) * (size_t)(tl->nprocs + 1));
	c.live_pool = calloc((size_t)tl->nprocs + 1, sizeof(int));
	c.mains = malloc(sizeof(int) * (size_t)(tl->nprocs + 1));
	c.qprocs = malloc(sizeof(int) * (size_t)(tl->nprocs + 1));
	if (!c.cause_of || !c.live_pool || !c.mains || !c.qprocs || index_lost(tl, a, &li))
		goto out;
	/* 1. classify every end of a worker process, and failed execs that were a last try */
	for (int i = 0; i < tl->nprocs; i++)
		if (proc_deaths(&c, i, &li))
			goto out;
	if (execfail_deaths(a, tl))
		goto out;
	/* 2. in time order */
	if (sort_deaths(&c, 0))
		goto out;
	/* 3. children that died with their MainProcess point at its death; sentences */
	link_followers(&c);
	if (summarize_deaths(tl, a))
		goto out;
	/* 4. queues; their never_started records were added last: sort again */
	if (judge_queues(&c, filter_queue) || sort_deaths(&c, a->nqueues))
		goto out;
	mark_shown(tl, a, filter_queue);
	ret = 0;
out:
	free(c.cause_of);
	free(c.live_pool);
	free(c.mains);
	free(c.qprocs);
	free(li.v);
	if (ret)
		cw_analysis_free(a);
	return ret;
}

