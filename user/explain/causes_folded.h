/* The analysis of folded recycled pool children (timeline_fold.h): counted by kind without a
 * death record each, and brought back as a death when one is a queue's cause. */
#ifndef CW_CAUSES_FOLDED_H
#define CW_CAUSES_FOLDED_H

#include <limits.h>

#include "explain/analysis.h"

/* cw_death.order of deaths without a process: after every process' at the same time, as
 * they were added (failed execs, then never_started records) */
#define CW_ORDER_EXECFAIL (LONG_MAX / 2)
#define CW_ORDER_LAST LONG_MAX

/* a new zeroed death in a->deaths (causes.c), or NULL */
struct cw_death *cw_death_new(struct cw_analysis *a);
/* Folded children shown (in the window, about filter_queue if set): a->kinds[CW_K_RECYCLED]
 * and a->recycled_unlisted. */
void cw_folded_count_shown(const struct cw_timeline *tl, struct cw_analysis *a,
			   const char *filter_queue);
/* tl->folded[k] as a recycled death (marked folded), with its sentence. Returns its index in
 * a->deaths, or -ENOMEM. */
int cw_folded_death(const struct cw_timeline *tl, struct cw_analysis *a, int k,
		    int64_t lost_near);

#endif
