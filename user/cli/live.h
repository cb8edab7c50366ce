/* The recorder's live engine: every line the log admits is fed to the engine (engine/), which
 * judges after a death at once and otherwise on the 1 s tick, and hands incidents to the
 * sinks (alerts, the journal, metrics). Absent when no sink is asked for: then recording
 * costs nothing more than writing. */
#ifndef CW_LIVE_H
#define CW_LIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/engine.h"

struct cw_live_sink {
	cw_incident_cb on_incident;
	/* after each judgement (verdicts may be unchanged): e.g. a metrics snapshot */
	void (*on_judged)(const struct cw_engine *e, void *ctx);
	void *ctx;
};

#define CW_LIVE_MAX_SINKS 4

struct cw_live {
	struct cw_engine *eng;
	struct cw_live_sink sinks[CW_LIVE_MAX_SINKS];
	int nsinks;
	unsigned long unreadable;	/* lines of ours the engine could not read (a bug) */
	unsigned long incidents;
};

int cw_live_init(struct cw_live *l);
int cw_live_add_sink(struct cw_live *l, const struct cw_live_sink *s);
void cw_live_free(struct cw_live *l);
/* A line the log took, fed to the engine. */
void cw_live_line(struct cw_live *l, const char *line, size_t len);
/* Judge now if a death came in (after each ring buffer wake-up). */
void cw_live_after_consume(struct cw_live *l);
/* Judge if anything came in since the last judgement (the 1 s tick). */
void cw_live_tick(struct cw_live *l);

#endif
