/* `suppressed` lines: records the kernel's flood budgets kept out of the log (bpf/budget.h),
 * counted since the previous such line, by type and (failed execs) by uid. Never silent. */
#ifndef CW_SUPPFMT_H
#define CW_SUPPFMT_H

#include <stdint.h>

#include "events.h"
#include "log/jsonw.h"

/* Records suppressed between prev and now (both cumulative). */
uint64_t cw_supp_delta(const struct cw_supp_counts *now, const struct cw_supp_counts *prev);
/* One line into w (appended): count = cw_supp_delta, total = cumulative after it. */
void cw_fmt_suppressed(struct jw *w, uint64_t realtime_ns, uint32_t pid, const struct cw_supp_counts *now,
		       const struct cw_supp_counts *prev, uint64_t total);

#endif
