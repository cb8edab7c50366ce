/* Crash loops. A supervisor (systemd Restart=always, a shell loop) restarting a worker that
 * dies at every start makes N deaths that read as N incidents; a person needs one answer:
 * "it is in a crash loop, and this is why". A loop: one worker name's MainProcesses for the
 * queue started and died FLAP_DEATHS times within FLAP_SPAN (the first of three started and
 * the third died within it); consecutive such triples make one loop. It is the verdict when
 * it is recent: its last death within FLAP_SPAN of the window's end, or the death that left
 * the queue with no consumer now. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/causes_summary.h"
#include "explain/flapping.h"

#define SEC 1000000LL
#define FLAP_DEATHS 3
#define FLAP_SPAN (300 * SEC)

/* one consumer life of a worker name */
struct flife {
	const char *worker;	/* interned: compare by pointer */
	int64_t start, end;	/* end CW_NONE: alive, or not dead in the window */
	int death;		/* index in a->deaths, or -1 */
};

static int cmp_flife(const void *x, const void *y)
{
	const struct flife *a = x, *b = y;

	if (a->worker != b->worker)
		return (uintptr_t)a->worker < (uintptr_t)b->worker ? -1 : 1;
	/* the dead in death order, then the living */
	int64_t ea = a->end == CW_NONE ? INT64_MAX : a->end, eb = b->end == CW_NONE ? INT64_MAX : b->end;
	return ea < eb ? -1 : ea > eb ? 1 : (a->start > b->start) - (a->start < b->start);
}

/* lives of named consumers that started in the window; deaths only within it */
static int collect(const struct cw_qconsumers *qc, struct flife **out)
{
	const struct cw_analysis *a = qc->a;
	struct flife *lv = malloc(sizeof(*lv) * (size_t)(qc->n + 1));
	int n = 0;

	if (!lv)
		return -ENOMEM;
	for (int i = 0; i < qc->n; i++) {
		const struct cw_tproc *p = &qc->tl->procs[qc->procs[i]];
		if (!p->worker || p->start_ts < a->from || p->start_ts > a->to)
			continue;
		bool dead = p->end != CW_END_NONE && p->end_ts >= a->from && p->end_ts <= a->to;
		lv[n++] = (struct flife){p->worker, p->start_ts, dead ? p->end_ts : CW_NONE,
					 dead ? qc->cause_of[qc->procs[i]] : -1};
	}
	qsort(lv, (size_t)n, sizeof(*lv), cmp_flife);
	*out = lv;
	return n;
}

/* lives j, j+1, j+2 (one name, all dead) started and died within FLAP_SPAN */
static bool triple(const struct flife *lv, int j, int end)
{
	return j >= 0 && j + 2 < end && lv[j + 2].end != CW_NONE &&
	       lv[j + 2].worker == lv[j].worker && lv[j + 2].end - lv[j].start <= FLAP_SPAN;
}

/* The latest loop among lv[0..n): its first and last life in *lo, *hi. false if none. */
static bool latest_loop(const struct flife *lv, int n, int *lo, int *hi)
{
	int64_t best = CW_NONE;

	for (int j = 0; j < n; j++) {
		if (!triple(lv, j, n))
			continue;
		int k = j;
		while (triple(lv, k + 1, n))
			k++;	/* the loop goes on */
		if (best == CW_NONE || lv[k + 2].end > best) {
			best = lv[k + 2].end;
			*lo = j;
			*hi = k + 2;
		}
		j = k + 2;
	}
	return best != CW_NONE;
}

static const char *times(int n, char *buf, size_t len)
{
	static const char *const words[] = {"never", "once", "twice", "three times",
		"four times", "five times", "six times", "seven times", "eight times",
		"nine times", "ten times"};

	if (n >= 0 && n <= 10)
		return words[n];
	snprintf(buf, len, "%d times", n);
	return buf;
}

/* What the loop's deaths share, as in "exited with status 2 five times in 9 s:
 * ModuleNotFoundError: No module named 'app_typo'" (the last stderr line when all share it). */
static void common_cause(const struct cw_analysis *a, const struct flife *lv, int lo, int hi,
			 char *out, size_t len)
{
	const struct cw_death *d0 = NULL;
	bool kind = true, code = true, sig = true, line = true;
	char l0[256] = "", l[256], span[48], nb[24];

	for (int i = lo; i <= hi; i++) {
		const struct cw_death *d = lv[i].death >= 0 ? &a->deaths[lv[i].death] : NULL;
		if (!d)
			continue;
		cw_tail_last_line(d->stderr_tail ? d->stderr_tail : "", l, sizeof(l));
		if (!d0) {
			d0 = d;
			strcpy(l0, l);
			continue;
		}
		kind &= d->kind == d0->kind;
		code &= d->exit_code == d0->exit_code;
		sig &= d->signame && d0->signame && !strcmp(d->signame, d0->signame);
		line &= !strcmp(l, l0);
	}
	cw_fmt_span(lv[hi].end - lv[lo].start, span, sizeof(span));
	const char *n = times(hi - lo + 1, nb, sizeof(nb));
	if (!d0 || !kind)
		snprintf(out, len, "died %s in %s, of different causes", n, span);
	else if (d0->kind == CW_K_EXIT_ERROR && code)
		snprintf(out, len, "exited with status %lld %s in %s%s%s", (long long)d0->exit_code,
			 n, span, line && *l0 ? ": " : "", line ? l0 : "");
	else if (d0->kind == CW_K_EXIT_CLEAN)
		snprintf(out, len, "exited with status 0 %s in %s", n, span);
	else if (d0->kind == CW_K_OOM_KILL)
		snprintf(out, len, "was OOM-killed %s in %s", n, span);
	else if ((d0->kind == CW_K_SIGNAL || d0->kind == CW_K_CRASH) && sig)
		snprintf(out, len, "%s %s %s %s in %s", d0->kind == CW_K_CRASH ? "crashed" :
			 "was killed", d0->kind == CW_K_CRASH ? "with" : "by", d0->signame, n, span);
	else
		snprintf(out, len, "died %s in %s (%s)", n, span, cw_kind_name(d0->kind));
}

/* starts after the first, per worker name, in the window */
static int count_restarts(const struct flife *lv, int n)
{
	int r = 0;

	for (int i = 1; i < n; i++)
		r += lv[i].worker == lv[i - 1].worker;
	return r;
}

/* Recent enough to be the verdict (see the head of the file), over everything but a queue
 * whose consumer went away for another reason. */
static void verdict(const struct cw_analysis *a, struct cw_qverdict *v)
{
	const struct cw_flap *f = &v->flap;

	if (v->verdict == CW_NO_CONSUMER ? v->cause != f->last || f->last < 0 :
	    f->last_death < a->to - FLAP_SPAN)
		return;
	v->verdict = CW_FLAPPING;
	v->cause = f->last;
}

int cw_flap_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v)
{
	struct flife *lv;
	int n = collect(qc, &lv), lo, hi;
	char sentence[512];

	if (n < 0)
		return -ENOMEM;
	v->restarts = count_restarts(lv, n);
	if (latest_loop(lv, n, &lo, &hi)) {
		common_cause(qc->a, lv, lo, hi, sentence, sizeof(sentence));
		v->flap = (struct cw_flap){lv[lo].worker, hi - lo + 1, lv[lo].start, lv[hi].end,
					   lv[hi].death, strdup(sentence)};
		v->flapping = true;
		if (!v->flap.summary) {
			free(lv);
			return -ENOMEM;
		}
		verdict(qc->a, v);
	}
	free(lv);
	return 0;
}
