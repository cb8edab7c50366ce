/* Which deaths of a timeline were already handled (told as incidents, counted in metrics),
 * for a timeline that keeps growing. A process slot is reused once its recycled child is
 * folded, so a slot's mark is the creation number of the process it was set for. */
#ifndef CW_DEATHMARKS_H
#define CW_DEATHMARKS_H

#include <stdbool.h>

#include "explain/analysis.h"
#include "explain/timeline.h"

struct cw_death_marks {
	long *procs;		/* per tl->procs slot: born + 1 of the process marked; 0 none */
	int nprocs;
	bool *fails;		/* per tl->execfails index */
	int nfails;
};

/* Room for every process and exec failure of tl. 0, or -ENOMEM. */
int cw_death_marks_fit(struct cw_death_marks *m, const struct cw_timeline *tl);
/* True the first time d is asked about (then marked); false for a death with neither a
 * process nor an exec failure behind it (a folded child brought back). */
bool cw_death_marks_first(struct cw_death_marks *m, const struct cw_timeline *tl,
			  const struct cw_death *d);
void cw_death_marks_free(struct cw_death_marks *m);

#endif
