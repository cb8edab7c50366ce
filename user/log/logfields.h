/* The log's schema (v1, v2) applied to one parsed line: logread.c's checks and extractors. */
#ifndef CW_LOGFIELDS_H
#define CW_LOGFIELDS_H

#include "log/jflat.h"
#include "log/logread.h"

/* ev back to "nothing read" (strings NULL, integers CW_NONE) up to its arrays. */
void cw_logfields_clear(struct cw_event *ev);
/* Fill ev from node o of f (the line's root). Returns NULL, or the reason the line is
 * skipped (a static string, or why). ev's strings point into f. */
const char *cw_logfields_extract(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
				 char *why, size_t whylen);
/* The type a "type" value names (aliases included); CW_LOG_NONE: none. */
enum cw_log_type cw_logfields_type(const char *name);

#endif
