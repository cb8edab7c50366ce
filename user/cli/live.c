/* See live.h. */
#include "cli/live.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>


int cw_live_init(struct cw_live *l)
{
	memset(l, 0, sizeof(*l));
	if (cw_engine_new(&l->eng, NULL))
		return -1;
	/* a recorder runs for months: recycled pool children become 40-byte records at once */
	cw_engine_fold_recycled(l->eng, 0, CW_NONE);
	return 0;
}

int cw_live_add_sink(struct cw_live *l, const struct cw_live_sink *s)
{
	if (l->nsinks == CW_LIVE_MAX_SINKS)
		return -1;
	l->sinks[l->nsinks++] = *s;
	return 0;
}

void cw_live_free(struct cw_live *l)
{
	cw_engine_free(l->eng);
	l->eng = NULL;
}

void cw_live_line(struct cw_live *l, const char *line, size_t len)
{
	char why[256];

	if (!l->eng)
		return;
	if (cw_engine_feed_line(l->eng, line, len, why, sizeof(why)) == -EINVAL && !l->unreadable++)
		fprintf(stderr, "celerywatch: the live engine cannot read a line of ours: %s\n", why);
}

static void dispatch(const struct cw_incident *inc, void *ctx)
{
	struct cw_live *l = ctx;

	l->incidents++;
	for (int i = 0; i < l->nsinks; i++)
		if (l->sinks[i].on_incident)
			l->sinks[i].on_incident(inc, l->sinks[i].ctx);
}

static void judge(struct cw_live *l)
{
	if (cw_engine_judge(l->eng, dispatch, l)) {
		fprintf(stderr, "celerywatch: the live engine is out of memory; incidents are late\n");
		return;
	}
	for (int i = 0; i < l->nsinks; i++)
		if (l->sinks[i].on_judged)
			l->sinks[i].on_judged(l->eng, l->sinks[i].ctx);
}

void cw_live_after_consume(struct cw_live *l)
{
	if (l->eng && cw_engine_death_pending(l->eng))
		judge(l);
}

void cw_live_tick(struct cw_live *l)
{
	if (l->eng && cw_engine_dirty(l->eng))
		judge(l);
}
