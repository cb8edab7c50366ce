/* The cheap read of a line's `type` and `ts` (for a pre-filter such as --since), without
 * the full parse: only when the line is exactly in the writer's own shape
 * ({"v":N,"type":"T","ts":"TS",...}, user/log/eventlog.c) and nothing later in it could
 * make the full parse read another type or time. Anything else is "not sure": the caller
 * must parse the line fully. */
#ifndef CW_LOGHEAD_H
#define CW_LOGHEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/logread.h"

/* line[0..n) is one line with its '\n'. Returns true with *type and *ts set only when the
 * full parse, if it accepts the line, reads the same type and ts; false: not sure. A true
 * says nothing about the line's other fields (the full parse may still skip the line). */
bool cw_loghead_read(const char *line, size_t n, enum cw_log_type *type, int64_t *ts);

#endif
