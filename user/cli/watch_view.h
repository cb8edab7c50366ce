/* What `watch` shows: on a terminal, a header with one row per queue (depth, trend,
 * consumers, verdict) kept at the top and redrawn in place, incidents scrolling below it, in
 * colour; into a pipe or file, one plain line per incident. */
#ifndef CW_WATCH_VIEW_H
#define CW_WATCH_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "engine/engine.h"

struct cw_view {
	FILE *out;
	bool tty, color;
	int header_rows;	/* rows the header holds now (the scroll region starts below) */
	int rows, cols;
};

void cw_view_init(struct cw_view *v, FILE *out);
/* The header from the engine's last judgement (terminal only). */
void cw_view_header(struct cw_view *v, const struct cw_engine *e, const char *source);
void cw_view_incident(struct cw_view *v, const struct cw_incident *inc);
/* Give the terminal back (scroll region reset, cursor below everything). */
void cw_view_end(struct cw_view *v);

#endif
