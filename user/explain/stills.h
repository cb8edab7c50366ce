/* Past stalls (stills.c): periods that ended in the window in which every working process of
 * a queue's consumers made no progress with tasks waiting (private to explain/). */
#ifndef CW_STILLS_H
#define CW_STILLS_H

#include "explain/consumers.h"

/* v->stalls, and the drain after the latest when it ended after the last gap (unless the
 * queue is saturated: its rates are the present's). 0 or -ENOMEM. */
int cw_stills_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v);

#endif
