/* Folded recycled pool children in the analysis; see causes_folded.h. */
#include <errno.h>
#include <string.h>

#include "explain/causes_folded.h"
#include "explain/causes_summary.h"

void cw_folded_count_shown(const struct cw_timeline *tl, struct cw_analysis *a,
			   const char *filter_queue)
{
	const char *fq = filter_queue ? cw_timeline_intern((struct cw_timeline *)tl,
							   filter_queue) : NULL;

	for (int k = 0; k < tl->nfolded; k++) {
		const struct cw_folded *f = &tl->folded[k];
		if (f->end_ts < a->from || f->end_ts > a->to ||
		    (filter_queue && !cw_qset_has(tl->fprofs[f->profile].queues, fq)))
			continue;
		a->kinds[CW_K_RECYCLED]++;
		a->recycled_unlisted++;
	}
}

int cw_folded_death(const struct cw_timeline *tl, struct cw_analysis *a, int k,
		    int64_t lost_near)
{
	const struct cw_folded *f = &tl->folded[k];
	const struct cw_fold_profile *pr = &tl->fprofs[f->profile];
	struct cw_death *d = cw_death_new(a);

	if (!d)
		return -ENOMEM;
	d->kind = CW_K_RECYCLED;
	d->folded = true;
	d->order = f->born;
	d->ts = f->end_ts;
	d->host = pr->host;
	d->pid = f->pid;
	d->worker = pr->worker;
	d->comm = pr->comm;
	d->cmdline = pr->cmdline;
	d->role = CW_RL_POOL;
	d->queues = pr->queues;
	d->parent_pid = pr->parent_pid;
	d->exit_code = 155;
	d->core_dumped = pr->core_dumped;
	d->stderr_tail = pr->stderr_tail;
	d->lost_near = lost_near;
	if (cw_death_summarize(tl, a, d))
		return -ENOMEM;
	return a->ndeaths - 1;
}
