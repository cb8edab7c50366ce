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
 *        kernel, from that MainProcess or unrecorded: `parent_died`;
 *     b. a pool child, S = SIGKILL, code `user`, sent by its own MainProcess (pid, and pstart
 *        when the sender has one): `time_limit` (billiard: SIGTERM, 100 ms, SIGKILL);
 *     c. a fault signal (SEGV, BUS, ILL, FPE, TRAP, SYS, ABRT): `signal` when another process
 *        sent it (code not `kernel`), else `crash`;
 *     d. a signal record: `signal` with its sender; from a pool child's own MainProcess
 *        (SIGTERM alone) it says so: a revoke with terminate=True, a pool shrink or restart;
 *     e. no record: `signal` without a sender. Events lost within 10 s make this, and 3d
 *        when the end is only silence after a SIGKILL, `unknown`.
 *  4. An exit code: a pool child's 155 is `recycled`; a pool child whose MainProcess ends as
 *     in 3a, with no shutdown signal (TERM/INT/QUIT) or one from the kernel or that
 *     MainProcess, is `parent_died`; after a shutdown signal, `signal` with that sender (its
 *     own MainProcess said so as in 3d; never `time_limit`); else `exit_error` (non-zero,
 *     with the stderr tail) or `exit_clean` (0).
 *  5. No exit line (pid reused, or missing from a restarted recorder's scan): `parent_died`
 *     for a pool child as in 3a (not when missing from a scan), else `unknown`.
 *  6. A failed exec is `exec_failed` only when it was its process's last exec attempt: a
 *     failure followed by another attempt of the same process (exec or exec_fail, same
 *     (host, pid, pstart), or host and pid within 5 s when a pstart is null) is a PATH
 *     search's miss, neither an incident nor a death.
 *  7. A queue that had tasks, never a live consumer and no `exec_failed` naming it:
 *     `never_started`.
 * Every kind but `recycled` and `parent_died` is an incident; a child that died with its
 * MainProcess points at that death (`followers`). Queues: `ok` with a live consumer (and,
 * for prefork, a live pool child), `degraded` with consumers but no pool (cause: the last
 * pool child death), `no_consumer` otherwise (cause: the death of the last consumer, or
 * 6/7 for a queue never consumed). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/causes.h"
#include "identity/celery.h"

#define SEC 1000000LL
/* lost events this close to a death make its evidence doubtful */
#define LOST_NEAR (10 * SEC)
/* a pool child dying this close to its MainProcess' exit died with it (PDEATHSIG, shutdown) */
#define PARENT_BEFORE (30 * SEC)
#define PARENT_AFTER (10 * SEC)

enum { SIGHUP_ = 1, SIGINT_ = 2, SIGQUIT_ = 3, SIGILL_ = 4, SIGTRAP_ = 5, SIGABRT_ = 6,
       SIGBUS_ = 7, SIGFPE_ = 8, SIGKILL_ = 9, SIGSEGV_ = 11, SIGTERM_ = 15, SIGSYS_ = 31 };

static const char *const kind_names[CW_K__COUNT] = {
	[CW_K_OOM_KILL] = "oom_kill", [CW_K_SIGNAL] = "signal", [CW_K_CRASH] = "crash",
	[CW_K_EXIT_ERROR] = "exit_error", [CW_K_EXIT_CLEAN] = "exit_clean",
	[CW_K_RECYCLED] = "recycled", [CW_K_TIME_LIMIT] = "time_limit",
	[CW_K_PARENT_DIED] = "parent_died", [CW_K_EXEC_FAILED] = "exec_failed",
	[CW_K_NEVER_STARTED] = "never_started", [CW_K_UNKNOWN] = "unknown",
};

const char *cw_kind_name(enum cw_kind k)
{
	return k < CW_K__COUNT ? kind_names[k] : "unknown";
}

const char *cw_verdict_name(enum cw_verdict v)
{
	return v == CW_OK ? "ok" : v == CW_DEGRADED ? "degraded" : "no_consumer";
}

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
	return r->code && !strcmp(r->code, "kernel");
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

static struct cw_death *new_death(struct cw_analysis *a)
{
	if (a->ndeaths == a->capdeaths) {
		int ncap = a->capdeaths ? a->capdeaths * 2 : 64;
		void *p = realloc(a->deaths, (size_t)ncap * sizeof(*a->deaths));
		if (!p)
			return NULL;
		a->deaths = p;
		a->capdeaths = ncap;
	}
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

/* Is p's MainProcess ending at about the time p ends? If p went first, only when the parent
 * had been told to stop (or killed) by then: a parent stopped after p was gone did not take
 * p with it (a time limit or an os._exit(0), then a restart seconds later). */
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
	return r && r->has_sender && r->sender.pid == pid;
}

/* r was sent by p's own MainProcess (its pid, and its start time when the sender has one) */
static bool sent_by_main(const struct cw_tproc *p, const struct cw_tproc *par,
			 const struct cw_sigrec *r)
{
	return p->role == CW_RL_POOL && par && sent_by(r, par->pid) &&
	       (r->sender.pstart == CW_NONE || r->sender.pstart == par->pstart);
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
	    (!r || from_kernel(r) || sent_by(r, par->pid))) {
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
		    (!r || from_kernel(r) || sent_by(r, par->pid))) {
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

/* ---- summaries ---- */

void cw_death_who(const struct cw_death *d, char *out, size_t len)
{
	const char *w = d->worker;

	if (d->pid == CW_NONE) {
		snprintf(out, len, "%s", w ? w : d->queue ? d->queue : "?");
		return;
	}
	switch (d->role) {
	case CW_RL_POOL:
		if (w)
			snprintf(out, len, "pool child pid %lld of %s", (long long)d->pid, w);
		else
			snprintf(out, len, "pool child pid %lld", (long long)d->pid);
		return;
	case CW_RL_BEAT:
		snprintf(out, len, "celery beat (pid %lld)", (long long)d->pid);
		return;
	default:
		if (w)
			snprintf(out, len, "%s (pid %lld)", w, (long long)d->pid);
		else
			snprintf(out, len, "%s (pid %lld)", d->comm ? d->comm : "process",
				 (long long)d->pid);
	}
}

static void fmt_kb(int64_t kb, char *out, size_t len)
{
	if (kb >= 1024 * 1024)
		snprintf(out, len, "%.1f GiB", kb / 1048576.0);
	else if (kb >= 1024)
		snprintf(out, len, "%.0f MiB", kb / 1024.0);
	else
		snprintf(out, len, "%lld KiB", (long long)kb);
}

static void fmt_sender(const struct cw_death *d, char *out, size_t len)
{
	const struct cw_sender *s = &d->sender;
	char uid[32] = "";

	if (!d->has_sender) {
		snprintf(out, len, "an unrecorded sender");
		return;
	}
	if (s->uid != CW_NONE)
		snprintf(uid, sizeof(uid), ", uid %lld", (long long)s->uid);
	if (s->cmdline && *s->cmdline)
		snprintf(out, len, "pid %lld (%s%s: %.200s)", (long long)s->pid,
			 s->comm ? s->comm : "?", uid, s->cmdline);
	else
		snprintf(out, len, "pid %lld (%s%s)", (long long)s->pid, s->comm ? s->comm : "?",
			 uid);
}

/* the last non-empty line of a stderr tail, for one sentence */
static void last_line(const char *s, char *out, size_t len)
{
	const char *end = s + strlen(s);

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start > s && start[-1] != '\n')
		start--;
	size_t n = (size_t)(end - start);
	if (n > 200)
		n = 200;
	snprintf(out, len, "%.*s", (int)n, start);
}

/* a pool child ended by its own MainProcess without the time limit's SIGKILL */
#define FROM_MAIN_WHY "a revoke with terminate=True, a pool shrink (autoscale) or a pool restart"

/* snprintf that may cut a sentence short, on purpose */
__attribute__((format(printf, 3, 4)))
static void say(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

static int summarize(const struct cw_timeline *tl, const struct cw_analysis *a,
		     struct cw_death *d)
{
	char who[256], snd[400], buf[256], sentence[640];
	char *out = sentence;
	size_t len = sizeof(sentence);

	sentence[0] = 0;
	const char *sig = d->signame ? d->signame : "a signal";
	const struct cw_tproc *p = d->proc >= 0 ? &tl->procs[d->proc] : NULL;

	cw_death_who(d, who, sizeof(who));
	fmt_sender(d, snd, sizeof(snd));
	switch (d->kind) {
	case CW_K_OOM_KILL: {
		/* kernels before 6.8 give no figures (the fields are null): say none */
		int64_t rss = 0;
		bool have_rss = false;
		const int64_t kb[] = {d->oom.anon_rss_kb, d->oom.file_rss_kb, d->oom.shmem_rss_kb};
		for (size_t i = 0; i < sizeof(kb) / sizeof(kb[0]); i++)
			if (kb[i] != CW_NONE) {
				rss += kb[i];	/* each within +-2^53 (logread): no overflow */
				have_rss = true;
			}
		buf[0] = 0;
		if (have_rss) {
			char v[64];
			fmt_kb(rss, v, sizeof(v));
			snprintf(buf, sizeof(buf), " at %s RSS", v);
		}
		char trigger[sizeof(snd) + 32] = "";
		if (d->has_sender)	/* short: the sentence is about the victim */
			snprintf(trigger, sizeof(trigger), " while pid %lld (%.80s) was allocating",
				 (long long)d->sender.pid,
				 d->sender.cmdline && *d->sender.cmdline ? d->sender.cmdline :
				 d->sender.comm ? d->sender.comm : "?");
		if (d->oom.cgroup && *d->oom.cgroup && strcmp(d->oom.cgroup, "/"))
			say(out, len, "%s was OOM-killed in cgroup %.200s%s%s", who,
				 d->oom.cgroup, buf, trigger);
		else
			say(out, len, "%s was OOM-killed%s%s", who, buf, trigger);
		break;
	}
	case CW_K_SIGNAL:
		if (d->stopped)
			say(out, len, "%s was stopped by %s from %s: it still exists but "
				 "consumes nothing", who, sig, snd);
		else if (d->from_main && d->exit_code != CW_NONE)
			say(out, len, "%s shut down (exit %lld) after %s from its own MainProcess "
				 "(pid %lld): %s", who, (long long)d->exit_code, sig,
				 (long long)d->sender.pid, FROM_MAIN_WHY);
		else if (d->from_main)
			say(out, len, "%s was terminated with %s by its own MainProcess (pid %lld): "
				 "%s", who, sig, (long long)d->sender.pid, FROM_MAIN_WHY);
		else if (d->exit_code != CW_NONE)
			say(out, len, "%s shut down (exit %lld) after %s from %s", who,
				 (long long)d->exit_code, sig, snd);
		else if (d->sig_code && !strcmp(d->sig_code, "kernel"))
			say(out, len, "%s was killed by %s sent by the kernel (while %s ran)",
				 who, sig, snd);
		else if (d->has_sender)
			say(out, len, "%s was killed by %s from %s", who, sig, snd);
		else
			say(out, len, "%s was killed by %s; the sender was not recorded", who,
				 sig);
		break;
	case CW_K_CRASH:
		say(out, len, "%s crashed with %s%s", who, sig,
			 d->core_dumped ? " (core dumped)" : "");
		break;
	case CW_K_EXIT_ERROR:
		if (d->stderr_tail && *d->stderr_tail) {
			last_line(d->stderr_tail, buf, sizeof(buf));
			say(out, len, "%s exited with status %lld: %s", who,
				 (long long)d->exit_code, buf);
		} else {
			say(out, len, "%s exited with status %lld", who,
				 (long long)d->exit_code);
		}
		break;
	case CW_K_EXIT_CLEAN:
		say(out, len, "%s exited with status 0 and nobody sent it a signal", who);
		break;
	case CW_K_RECYCLED:
		say(out, len, "%s was recycled (exit 155: max tasks or memory per child "
			 "reached); not an incident", who);
		break;
	case CW_K_TIME_LIMIT:
		say(out, len, "%s was killed with %s by its MainProcess (pid %lld): a hard "
			 "time limit", who, sig, (long long)d->parent_pid);
		break;
	case CW_K_PARENT_DIED: {
		const char *pk = d->parent_death >= 0 ?
				 cw_kind_name(a->deaths[d->parent_death].kind) : "its exit";
		say(out, len, "%s ended because its MainProcess (pid %lld) died (%s)", who,
			 (long long)d->parent_pid, pk);
		break;
	}
	case CW_K_EXEC_FAILED:
		say(out, len, "%s%scould not start: exec of `%.200s` failed with %s",
			 d->worker ? d->worker : "", d->worker ? " " : "",
			 d->cmdline ? d->cmdline : "?", d->errname ? d->errname : "an error");
		break;
	case CW_K_NEVER_STARTED:
		say(out, len, "queue %s had tasks (up to %lld) but no worker consuming it was "
			 "ever seen alive", d->queue, (long long)d->depth);
		break;
	case CW_K_UNKNOWN:
		if (p && p->end == CW_END_REUSED)
			say(out, len, "%s ended without a recorded exit (its pid was reused)",
				 who);
		else if (p && p->end == CW_END_VANISHED)
			say(out, len, "%s died while the recorder was not running (missing from "
				 "its restart scan)", who);
		else if (d->signame)
			say(out, len, "%s was killed by %s, but events were lost around it: "
				 "the sender is unknown", who, sig);
		else
			say(out, len, "%s ended; no exit was recorded", who);
		break;
	default:
		break;
	}
	if (d->lost_near > 0) {
		size_t l = strlen(out);
		say(out + l, len - l, " (%lld events were lost around then)",
			 (long long)d->lost_near);
	}
	free(d->summary);
	d->summary = strdup(sentence);
	return d->summary ? 0 : -ENOMEM;
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

static int judge_queue(struct ctx *c, const struct cw_tqueue *tq, struct cw_qverdict *v)
{
	const struct cw_timeline *tl = c->tl;
	struct cw_analysis *a = c->a;
	int64_t to = a->to, lost_end = CW_NONE;
	int lost_proc = -1, live_prefork = 0, live_other = 0;

	memset(v, 0, sizeof(*v));
	v->queue = tq->name;
	v->cause = -1;
	v->uncovered_since = CW_NONE;
	for (int m = 0; m < c->nmains; m++) {
		const struct cw_tproc *p = &tl->procs[c->mains[m]];
		if (!cw_qset_has(p->queues, tq->name) || p->start_ts > to)
			continue;
		v->had_consumer = true;
		if (live_at(p, to)) {
			v->consumers_now++;
			v->pool_now += c->live_pool[c->mains[m]];
			if (prefork(p))
				live_prefork++;
			else
				live_other++;
			bool dup = false;
			for (int k = 0; k < v->nconsumer_names; k++)
				dup |= v->consumer_names[k] == p->worker;
			if (!dup && p->worker && v->nconsumer_names < 8)
				v->consumer_names[v->nconsumer_names++] = p->worker;
			continue;
		}
		int64_t e = cw_tproc_live_end(p);
		if (lost_end == CW_NONE || e > lost_end) {
			lost_end = e;
			lost_proc = c->mains[m];
		}
	}
	if (v->consumers_now) {
		v->verdict = live_other || v->pool_now ? CW_OK : CW_DEGRADED;
		if (v->verdict == CW_DEGRADED) {
			/* the pool child death that left the last consumer without a pool */
			int64_t best = CW_NONE;
			for (int i = 0; i < a->ndeaths; i++) {
				const struct cw_death *d = &a->deaths[i];
				if (d->proc < 0 || d->role != CW_RL_POOL || d->ts > to)
					continue;
				int par = tl->procs[d->proc].parent;
				if (par < 0 || !live_at(&tl->procs[par], to) ||
				    !cw_qset_has(tl->procs[par].queues, tq->name))
					continue;
				if (best == CW_NONE || d->ts >= best) {
					best = d->ts;
					v->cause = i;
				}
			}
		}
	} else {
		v->verdict = CW_NO_CONSUMER;
		if (lost_proc >= 0) {
			v->uncovered_since = lost_end;
			v->cause = c->cause_of[lost_proc];
		}
	}
	growth(tq, v, a->from, to);
	if (!v->had_consumer) {
		/* a failed exec naming this queue explains it; else it never started */
		for (int i = a->ndeaths - 1; i >= 0; i--) {
			const struct cw_death *d = &a->deaths[i];
			if (d->kind == CW_K_EXEC_FAILED && d->ts <= to &&
			    cw_qset_has(d->queues, tq->name)) {
				v->cause = i;
				break;
			}
		}
		if (v->cause < 0 && v->depth_max > 0) {
			int64_t ts = a->from;
			for (int i = 0; i < tq->nsamples; i++)
				if (tq->samples[i].ts >= a->from && tq->samples[i].depth > 0) {
					ts = tq->samples[i].ts;
					break;
				}
			struct cw_death *d = new_death(a);
			if (!d)
				return -ENOMEM;
			d->kind = CW_K_NEVER_STARTED;
			d->ts = ts;
			d->queue = tq->name;
			d->depth = v->depth_max;
			d->incident = true;
			if (summarize(tl, a, d))
				return -ENOMEM;
			v->cause = a->ndeaths - 1;
		}
	}
	return 0;
}

/* ---- the whole analysis ---- */

static int death_for_proc(struct ctx *c, int i, struct lost_index *li, bool stop_record)
{
	const struct cw_timeline *tl = c->tl;
	const struct cw_tproc *p = &tl->procs[i];
	struct cw_death *d = new_death(c->a);

	if (!d)
		return -ENOMEM;
	d->proc = i;
	d->host = p->host;
	d->worker = p->worker;
	d->comm = p->comm;
	d->cmdline = p->cmdline;
	d->pid = p->pid;
	d->role = p->role;
	d->queues = p->queues;
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
	return (a->role == CW_RL_POOL) - (b->role == CW_RL_POOL);
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
	for (int q = 0; q < nqueues; q++)
		if (a->queues[q].cause >= 0)
			a->queues[q].cause = remap[a->queues[q].cause];
	free(remap);
	return 0;
}

int cw_analyze(const struct cw_timeline *tl, int64_t since, int64_t until,
	       const char *filter_queue, struct cw_analysis *a)
{
	struct ctx c = {.tl = tl, .a = a};
	struct lost_index li = {0};
	int ret = -ENOMEM;

	memset(a, 0, sizeof(*a));
	a->from = tl->first_ts;
	a->to = tl->last_ts;
	if (since != CW_NONE && (a->from == CW_NONE || since > a->from))
		a->from = since;
	if (until != CW_NONE && (a->to == CW_NONE || until < a->to || tl->past_until))
		a->to = until;
	if (a->from == CW_NONE)
		return 0;

	c.cause_of = malloc(sizeof(int) * (size_t)(tl->nprocs + 1));
	c.live_pool = calloc((size_t)tl->nprocs + 1, sizeof(int));
	c.mains = malloc(sizeof(int) * (size_t)(tl->nprocs + 1));
	li.v = malloc(sizeof(*li.v) * (size_t)(tl->nlost + 1));
	if (!c.cause_of || !c.live_pool || !c.mains || !li.v)
		goto out;
	if (tl->nlost)
		memcpy(li.v, tl->lost, sizeof(*li.v) * (size_t)tl->nlost);
	li.n = tl->nlost;
	qsort(li.v, (size_t)li.n, sizeof(*li.v), cmp_lost);
	for (int i = 0; i < tl->nlost; i++)
		if (tl->lost[i].ts >= a->from && tl->lost[i].ts <= a->to)
			a->lost_in_window = sat_add(a->lost_in_window, tl->lost[i].count);

	/* 1. classify every end of a worker process */
	for (int i = 0; i < tl->nprocs; i++) {
		const struct cw_tproc *p = &tl->procs[i];
		c.cause_of[i] = -1;
		if (p->role != CW_RL_MAIN && p->role != CW_RL_POOL && p->role != CW_RL_BEAT)
			continue;
		if (is_consumer(p)) {
			c.mains[c.nmains++] = i;
			if (p->start_ts <= a->to)
				a->nworkers++;
		}
		if (p->role == CW_RL_POOL && p->parent >= 0 && live_at(p, a->to))
			c.live_pool[p->parent]++;
		/* --detach: the first process exits 0 once the real worker is forked */
		if ((p->detach || p->handover) && p->end == CW_END_EXIT && p->exit_code == 0)
			continue;
		if (p->stopped_at != CW_NONE && p->stopped_at <= a->to &&
		    (p->end_ts == CW_NONE || p->end_ts > p->stopped_at) &&
		    death_for_proc(&c, i, &li, true))
			goto out;
		if (p->end != CW_END_NONE && p->end_ts <= a->to) {
			int stop = c.cause_of[i];
			if (death_for_proc(&c, i, &li, false))
				goto out;
			if (stop >= 0)	/* the queue lost it when it stopped */
				c.cause_of[i] = stop;
		}
	}
	for (int i = 0; i < tl->nexecfails; i++) {
		const struct cw_execfail *f = &tl->execfails[i];
		/* a PATH search's misses before the exec that worked (or the next try) */
		if (f->ts > a->to || f->superseded)
			continue;
		struct cw_death *d = new_death(a);
		if (!d)
			goto out;
		d->kind = CW_K_EXEC_FAILED;
		d->execfail = i;
		d->ts = f->ts;
		d->host = f->host;
		d->pid = f->pid;
		d->worker = f->worker;
		d->comm = f->comm;
		d->cmdline = f->cmdline;
		d->role = f->role;
		d->queues = f->queues;
		d->errname = f->errname;
	}

	/* 2. in time order */
	if (sort_deaths(&c, 0))
		goto out;

	/* 3. children that died with their MainProcess point at its death */
	for (int i = 0; i < a->ndeaths; i++) {
		struct cw_death *d = &a->deaths[i];
		if (d->kind != CW_K_PARENT_DIED || d->proc < 0)
			continue;
		int par = tl->procs[d->proc].parent;
		if (par >= 0 && c.cause_of[par] >= 0) {
			d->parent_death = c.cause_of[par];
			a->deaths[d->parent_death].followers++;
		}
	}
	for (int i = 0; i < a->ndeaths; i++) {
		struct cw_death *d = &a->deaths[i];
		d->incident = d->kind != CW_K_RECYCLED && d->kind != CW_K_PARENT_DIED;
		if (summarize(tl, a, d))
			goto out;
	}

	/* 4. queues */
	a->queues = calloc((size_t)tl->nqueues + 1, sizeof(*a->queues));
	if (!a->queues)
		goto out;
	for (int q = 0; q < tl->nqueues; q++) {
		if (filter_queue && strcmp(filter_queue, tl->queues[q].name))
			continue;
		if (judge_queue(&c, &tl->queues[q], &a->queues[a->nqueues]))
			goto out;
		a->nqueues++;
	}
	/* never_started records were added last */
	if (sort_deaths(&c, a->nqueues))
		goto out;
	for (int i = 0; i < a->ndeaths; i++) {
		struct cw_death *d = &a->deaths[i];
		d->shown = d->ts >= a->from && d->ts <= a->to &&
			   (!filter_queue || cw_qset_has(d->queues, cw_timeline_intern(
				   (struct cw_timeline *)tl, filter_queue)) ||
			    (d->queue && !strcmp(d->queue, filter_queue)));
		if (d->shown)
			a->kinds[d->kind]++;
	}
	ret = 0;
out:
	free(c.cause_of);
	free(c.live_pool);
	free(c.mains);
	free(li.v);
	if (ret)
		cw_analysis_free(a);
	return ret;
}

void cw_analysis_free(struct cw_analysis *a)
{
	for (int i = 0; i < a->ndeaths; i++)
		free(a->deaths[i].summary);
	free(a->deaths);
	free(a->queues);
	memset(a, 0, sizeof(*a));
}
