/* The `sample` line of docs/events.md: a broker sample (broker/broker.h) as the event log
 * writes it. The broker measures; the log stage formats. */
#ifndef CW_SAMPLEFMT_H
#define CW_SAMPLEFMT_H

#include "broker/broker.h"
#include "log/jsonw.h"

/* The line, "\n"-terminated, into w (which is reset first). s->dropped_before > 0 adds
 * "dropped_samples". */
void cw_sample_json(struct jw *w, const struct cw_sample *s);

#endif
