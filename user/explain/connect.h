/* Whether a worker MainProcess consumes, from its broker connections in proc_sample lines:
 * its state at the window's end and the span it consumed (private to explain/). */
#ifndef CW_CONNECT_H
#define CW_CONNECT_H

#include <stdbool.h>
#include <stdint.h>

#include "explain/analysis.h"

/* p's connection at t (the window's end: the timeline holds facts up to it). */
enum cw_conn cw_conn_at(const struct cw_tproc *p, int64_t t, int64_t grace);

/* The span p consumed, as far as the window's end `to` tells: [*from, *until) with *until
 * INT64_MAX while it still does. False when it never did (not connected after its grace). */
bool cw_consuming_span(const struct cw_tproc *p, int64_t to, int64_t grace, int64_t *from,
		       int64_t *until);

const char *cw_conn_name(enum cw_conn c);

#endif
