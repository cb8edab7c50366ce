/* Crash loops (flapping.c): a worker name whose MainProcesses for a queue were started and
 * died again and again. Private to explain/causes.c. */
#ifndef CW_FLAPPING_H
#define CW_FLAPPING_H

#include "explain/consumers.h"

/* v->restarts, and v->flap when the queue's consumers flapped in the window; then, if the
 * loop is recent (see flapping.c), the verdict becomes flapping with the loop's last death
 * as the cause. Call after the other verdicts are set. 0 or -ENOMEM. */
int cw_flap_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v);

#endif
