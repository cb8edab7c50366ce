/* One queue's consumers as causes.c found them, handed to gaps.c and flapping.c (private to
 * explain/): the MainProcesses consuming the queue that started by the window's end. */
#ifndef CW_CONSUMERS_H
#define CW_CONSUMERS_H

#include "explain/analysis.h"

struct cw_qconsumers {
	const struct cw_timeline *tl;
	const struct cw_analysis *a;
	const struct cw_tqueue *tq;
	const int *procs;	/* indexes in tl->procs */
	int n;
	const int *cause_of;	/* proc -> index in a->deaths of its live end, or -1 */
};

#endif
