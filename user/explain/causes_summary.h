/* The sentence of each death (causes_summary.c): private to explain/causes.c. */
#ifndef CW_CAUSES_SUMMARY_H
#define CW_CAUSES_SUMMARY_H

#include "explain/analysis.h"

/* d->summary (replacing any): one sentence on what ended d and who did it. 0 or -ENOMEM. */
int cw_death_summarize(const struct cw_timeline *tl, const struct cw_analysis *a,
		       struct cw_death *d);

#endif
