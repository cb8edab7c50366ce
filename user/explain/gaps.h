/* Gaps (gaps.c): the periods a queue had no live consumer, their backlog, and how fast the
 * backlog drained once a consumer was back. Private to explain/causes.c. */
#ifndef CW_GAPS_H
#define CW_GAPS_H

#include "explain/consumers.h"

/* v->gaps, and v's arrival, drain and eta from the last gap. v->cause must be set already
 * (an open gap of a queue never consumed takes it). 0 or -ENOMEM. */
int cw_gaps_judge(const struct cw_qconsumers *qc, struct cw_qverdict *v);
/* A closed period's backlog peak and the drain after it up to `until` (gaps and past stalls
 * are measured alike). */
void cw_period_figures(const struct cw_qconsumers *qc, struct cw_gap *g, int64_t until);
/* v's drain and eta from period g (closed), as after the last gap. */
void cw_rates_after(struct cw_qverdict *v, const struct cw_gap *g);

#endif
