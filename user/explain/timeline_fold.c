/* Folding recycled pool children into compact records; see timeline_fold.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain/ptab.h"
#include "explain/timeline_fold.h"
#include "common/grow.h"

/* keys of the latest folded processes, direct-mapped by pid and start time */
#define RECENT 1024
struct cw_fold_recent {
	const void *boot;
	int64_t pid, pstart;
};

/* nothing but its exit to tell, and nothing pointing at it */
static bool foldable(const struct cw_tproc *p)
{
	return p->role == CW_RL_POOL && p->end == CW_END_EXIT && p->exit_code == 155 &&
	       !p->exit_signal && !p->has_oom && p->stopped_at == CW_NONE && !p->untracked &&
	       !p->has_children && !p->has_still && !p->detach && !p->handover;
}

static uint64_t mixp(uint64_t h, const void *x)
{
	h ^= (uint64_t)(uintptr_t)x;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

static bool same_profile(const struct cw_fold_profile *a, const struct cw_fold_profile *b)
{
	return a->parent == b->parent && a->parent_pid == b->parent_pid && a->host == b->host &&
	       a->worker == b->worker && a->comm == b->comm && a->cmdline == b->cmdline &&
	       a->stderr_tail == b->stderr_tail && a->queues == b->queues &&
	       a->core_dumped == b->core_dumped;
}

/* the index of a profile equal to *pr, added if new; -1 on ENOMEM */
static int profile_of(struct cw_timeline *tl, const struct cw_fold_profile *pr)
{
	uint64_t h = mixp(mixp(mixp(mixp(mixp(mixp(0, pr->worker), pr->comm), pr->cmdline),
				   pr->stderr_tail), pr->queues), (void *)(uintptr_t)pr->core_dumped);
	int first = cw_ptab_get(tl->fprof_index, pr->host, (int64_t)h, pr->parent_pid), last = -1;

	for (int i = first; i >= 0; i = tl->fprofs[i].next) {
		if (same_profile(&tl->fprofs[i], pr))
			return i;
		last = i;
	}
	if (cw_grow((void **)&tl->fprofs, &tl->capfprofs, tl->nfprofs + 1, sizeof(*tl->fprofs)))
		return -1;
	int n = tl->nfprofs++;
	tl->fprofs[n] = *pr;
	tl->fprofs[n].next = -1;
	if (last >= 0)
		tl->fprofs[last].next = n;
	else if (cw_ptab_put(tl->fprof_index, pr->host, (int64_t)h, pr->parent_pid, n))
		return -1;
	return n;
}

static size_t recent_slot(int64_t pid, int64_t pstart)
{
	return (size_t)(((uint64_t)pid * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)pstart) % RECENT;
}

bool cw_fold_was_folded(const struct cw_timeline *tl, const void *boot, int64_t pid,
			int64_t pstart)
{
	if (!tl->recent)
		return false;
	const struct cw_fold_recent *r = &tl->recent[recent_slot(pid, pstart)];
	return r->boot == boot && r->pid == pid && r->pstart == pstart;
}

/* The slot made free: unreachable by key, skipped by every walk, a late line about it
 * ignored while it is among the latest freed. */
int cw_fold_release(struct cw_timeline *tl, int i, const void *boot)
{
	struct cw_tproc *p = &tl->procs[i];

	if (cw_grow((void **)&tl->freeprocs, &tl->capfreeprocs, tl->nfreeprocs + 1, sizeof(int)))
		return -ENOMEM;
	if (!tl->recent && !(tl->recent = calloc(RECENT, sizeof(*tl->recent))))
		return -ENOMEM;
	tl->recent[recent_slot(p->pid, p->pstart)] = (struct cw_fold_recent){boot, p->pid,
									   p->pstart};
	cw_ptab_del(tl->bykey, boot, p->pid, p->pstart);
	if (cw_ptab_get(tl->bypid, boot, p->pid, 0) == i)
		cw_ptab_del(tl->bypid, boot, p->pid, 0);
	memset(p, 0, sizeof(*p));
	p->role = CW_RL_NONE;
	p->end = CW_END_EXIT;
	p->parent = p->last_sig = -1;
	p->born = -1;
	p->end_ts = p->stopped_at = CW_NONE;
	tl->freeprocs[tl->nfreeprocs++] = i;
	return 0;
}

/* The record, then the slot made free. */
static int fold(struct cw_timeline *tl, int i, const void *boot)
{
	const struct cw_tproc *p = &tl->procs[i];
	struct cw_fold_profile pr = {
		.parent = p->parent, .parent_pid = p->parent >= 0 ? tl->procs[p->parent].pid : p->ppid,
		.host = p->host, .worker = p->worker, .comm = p->comm, .cmdline = p->cmdline,
		.stderr_tail = p->stderr_tail, .queues = p->queues, .core_dumped = p->core_dumped,
	};
	int prof = profile_of(tl, &pr);

	if (prof < 0 || cw_grow((void **)&tl->folded, &tl->capfolded, tl->nfolded + 1,
			     sizeof(*tl->folded)))
		return -ENOMEM;
	tl->folded[tl->nfolded++] = (struct cw_folded){p->start_ts, p->end_ts, p->pid, p->born,
						       prof};
	return cw_fold_release(tl, i, boot);
}

/* The first fold_keep in the window stay whole, overall and for each queue (what --queue
 * shows): a window with few of them reads as it always did (--html draws a tick for each
 * while they are <= 300). */
static bool keep_whole(struct cw_timeline *tl, const struct cw_tproc *p)
{
	const struct cw_qset *qs = p->queues;
	bool keep = tl->kept_recycled < tl->fold_keep;

	if (tl->fold_from != CW_NONE && p->end_ts < tl->fold_from)
		return false;
	for (int k = 0; qs && k < qs->n && !keep; k++) {
		int q = cw_ptab_get(tl->qnames, qs->names[k], 0, 0);
		keep = q >= 0 && tl->queues[q].kept_recycled < tl->fold_keep;
	}
	if (!keep)
		return false;
	tl->kept_recycled++;
	for (int k = 0; qs && k < qs->n; k++) {
		int q = cw_ptab_get(tl->qnames, qs->names[k], 0, 0);
		if (q >= 0)
			tl->queues[q].kept_recycled++;
	}
	return true;
}

int cw_fold_on_exit(struct cw_timeline *tl, int i, const void *boot)
{
	const struct cw_tproc *p = &tl->procs[i];

	if (!tl->fold || !foldable(p) || keep_whole(tl, p))
		return 0;
	return fold(tl, i, boot);
}

int cw_fold_take_slot(struct cw_timeline *tl)
{
	return tl->nfreeprocs ? tl->freeprocs[--tl->nfreeprocs] : -1;
}

void cw_fold_free(struct cw_timeline *tl)
{
	free(tl->folded);
	free(tl->fprofs);
	free(tl->freeprocs);
	free(tl->recent);
	cw_ptab_free(tl->fprof_index);
}
