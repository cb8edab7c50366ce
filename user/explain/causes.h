/* Causes: decides what each worker death was (OOM kill, a signal and who sent it, crash, ...)
 * and, per queue, whether it has a live consumer now and which death took away the last one.
 * The answer's shape is explain/analysis.h. */
#ifndef CW_CAUSES_H
#define CW_CAUSES_H

#include <stdbool.h>
#include <stdint.h>

#include "explain/analysis.h"

/* Window: since/until may be CW_NONE (the log's own bounds). filter_queue NULL: all queues.
 * Returns 0 or -ENOMEM. */
int cw_analyze(const struct cw_timeline *tl, int64_t since, int64_t until,
	       const char *filter_queue, struct cw_analysis *out);
/* The same with the judgement's knobs (cw_analyze uses the defaults). */
int cw_analyze_opts(const struct cw_timeline *tl, int64_t since, int64_t until,
		    const char *filter_queue, const struct cw_judge_opts *opts,
		    struct cw_analysis *out);

#endif
