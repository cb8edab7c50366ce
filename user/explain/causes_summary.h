/* The sentence of each death (causes_summary.c): private to explain/ (causes.c; flapping.c
 * for the line a loop's deaths share). */
#ifndef CW_CAUSES_SUMMARY_H
#define CW_CAUSES_SUMMARY_H

#include "explain/analysis.h"

/* d->summary (replacing any): one sentence on what ended d and who did it. 0 or -ENOMEM. */
int cw_death_summarize(const struct cw_timeline *tl, const struct cw_analysis *a,
		       struct cw_death *d);

/* the last non-empty line of a stderr tail (at most 200 bytes), for one sentence */
void cw_tail_last_line(const char *s, char *out, size_t len);

#endif
