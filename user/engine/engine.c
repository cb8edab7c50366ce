/* The engine; see engine.h. Incidents are differences between two judgements: a death not
 * reported before, a queue whose verdict is not the one it had, more lost events, the broker
 * going down or coming back. */
#include "engine/engine.h"
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain/causes.h"


#define DEFAULT_WINDOW (3600 * 1000000LL)

int cw_engine_new(struct cw_engine **out, const struct cw_engine_opts *o)
{
	struct cw_engine *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return -ENOMEM;
	if (o)
		e->opts = *o;
	if (!e->opts.window_us)
		e->opts.window_us = DEFAULT_WINDOW;
	e->judge = e->opts.judge ? *e->opts.judge :
		   (struct cw_judge_opts){CW_CONNECT_GRACE_DEFAULT_US, CW_STALL_AFTER_DEFAULT_US};
	e->opts.judge = NULL;	/* not kept: the caller's may go away */
	e->broker_up = e->broker_told = -1;
	if (cw_timeline_init(&e->tl) || !(e->parser = cw_lineparser_new())) {
		cw_engine_free(e);
		return -ENOMEM;
	}
	*out = e;
	return 0;
}

void cw_engine_free(struct cw_engine *e)
{
	if (!e)
		return;
	if (e->have_an)
		cw_analysis_free(&e->an);
	cw_timeline_free(&e->tl);
	cw_lineparser_free(e->parser);
	cw_death_marks_free(&e->told);
	free(e->qs);
	free(e);
}

int cw_engine_feed_event(const struct cw_event *ev, void *engine)
{
	struct cw_engine *e = engine;

	if (ev->type == CW_LOG_SAMPLE) {
		e->broker_up = ev->redis_ok ? 1 : 0;
		e->broker_ts = ev->ts;
	}
	if (ev->type == CW_LOG_EXIT || ev->type == CW_LOG_OOM)
		e->death_pending = true;
	e->dirty = true;
	return cw_timeline_add(ev, &e->tl);
}

int cw_engine_feed_line(struct cw_engine *e, const char *line, size_t n, char *why, size_t whylen)
{
	return cw_lineparser_feed(e->parser, line, n, "<live>", ++e->lines, cw_engine_feed_event, e,
				  why, whylen);
}

bool cw_engine_dirty(const struct cw_engine *e)
{
	return e->dirty;
}

bool cw_engine_death_pending(const struct cw_engine *e)
{
	return e->death_pending;
}

const struct cw_analysis *cw_engine_analysis(const struct cw_engine *e)
{
	return e->have_an ? &e->an : NULL;
}

const struct cw_timeline *cw_engine_timeline(const struct cw_engine *e)
{
	return &e->tl;
}

int cw_engine_broker_up(const struct cw_engine *e)
{
	return e->broker_up;
}

void cw_engine_fold_recycled(struct cw_engine *e, int keep, int64_t from)
{
	e->tl.fold = true;
	e->tl.fold_keep = keep;
	e->tl.fold_from = from;
}

int cw_engine_replay(struct cw_engine *e, char *const *files, int nfiles, int64_t until,
		     struct cw_logread_stats *st, FILE *errf)
{
	e->tl.until = until;
	e->dirty = true;
	return cw_timeline_load(&e->tl, files, nfiles, st, errf);
}

int cw_engine_analyze(const struct cw_engine *e, int64_t since, int64_t until, const char *queue,
		      struct cw_analysis *out)
{
	return cw_analyze_opts(&e->tl, since, until, queue, &e->judge, out);
}
