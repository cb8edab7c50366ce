/* Stalled and saturated queues from the consumers' progress (proc_sample facts), and worker
 * names used by two live MainProcesses at once (private to explain/). */
#ifndef CW_STALL_H
#define CW_STALL_H

#include "explain/consumers.h"

/* v->stall when the consumers' working processes made no progress for --stall-after with
 * tasks waiting; the verdict becomes stalled or saturated only over ok and degraded. */
void cw_stall_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v);
/* v->dups. Returns 0 or -ENOMEM. */
int cw_dups_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v);

#endif
