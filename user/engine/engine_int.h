/* The engine's state, shared by engine.c (feeding) and incidents.c (judging); private to
 * engine/. */
#ifndef CW_ENGINE_INT_H
#define CW_ENGINE_INT_H

#include "engine/deathmarks.h"
#include "engine/engine.h"
#include "log/logread.h"

struct qstate {
	const char *queue;	/* interned in the timeline: compared by pointer */
	enum cw_verdict verdict;
};

struct cw_engine {
	struct cw_engine_opts opts;
	struct cw_judge_opts judge;	/* opts.judge's values, or the defaults */
	struct cw_timeline tl;
	struct cw_lineparser *parser;
	struct cw_analysis an;
	bool have_an, dirty;
	bool death_pending;	/* an exit or oom fed since the last judgement */
	long lines;
	/* what was said already */
	struct cw_death_marks told;	/* deaths told as incidents */
	struct qstate *qs;
	int nqs, capqs;
	int64_t lost_told;
	int broker_up, broker_told;	/* -1 unknown */
	int64_t trimmed_at;	/* the last cw_timeline_forget_samples (event time) */
	int64_t broker_ts;
	char broker_err[256];
};

#endif
