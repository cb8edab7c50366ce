/* The event log's growth cap (record --max-lines-per-minute): past N lines in a minute, lines
 * of the types that can flood (exec, fork, signal, ...) are counted instead of written, and
 * one `suppressed` line with reason "log_cap" says how many when the minute ends. Deaths
 * (`exit`, `oom`) and the recorder's own lines are never suppressed. Pure: the caller gives
 * the time; used by the record loop's thread only. */
#ifndef CW_LOGCAP_H
#define CW_LOGCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/jsonw.h"

#define CW_LOGCAP_DEFAULT 100000
#define CW_LOGCAP_TYPES 16	/* distinct suppressed types kept by name in one minute */

struct cw_logcap {
	uint64_t limit;			/* lines per minute; 0: no cap */
	uint64_t window_ns;		/* a minute; tests shorten it */
	uint64_t window_start;		/* monotonic ns */
	uint64_t used;			/* lines written in this window (any type) */
	uint64_t count;			/* suppressed in this window */
	uint64_t total;			/* suppressed since start */
	char names[CW_LOGCAP_TYPES][16];
	uint64_t by_type[CW_LOGCAP_TYPES];
};

void cw_logcap_init(struct cw_logcap *c, uint64_t limit, uint64_t now_ns);
/* May a line of this type (cw_line_type) be written? false: it is suppressed, counted. */
bool cw_logcap_admit(struct cw_logcap *c, const char *type, uint64_t now_ns);
/* When the window has ended (or force, at stop): start a new one, and if lines were
 * suppressed in it, format the `suppressed` line into w (appended: reset w first) and
 * return true. */
bool cw_logcap_roll(struct cw_logcap *c, uint64_t now_ns, bool force, struct jw *w,
		    uint64_t realtime_ns, uint32_t pid);

#endif
