/* See live_metrics.h. */
#include "cli/live_metrics.h"
#include "common/grow.h"

#include <stdlib.h>
#include <string.h>

/* One more death of (worker, kind); names are the engine's interned strings. */
static void count_death(struct cw_live_metrics *m, const char *worker, const char *kind)
{
	worker = worker ? worker : "";
	for (size_t i = 0; i < m->ndeaths; i++)
		if (m->deaths[i].worker == worker && m->deaths[i].kind == kind) {
			m->deaths[i].count++;
			return;
		}
	if (cw_grow_from((void **)&m->deaths, &m->capdeaths, m->ndeaths + 1, sizeof(*m->deaths), 16))
		return;
	m->deaths[m->ndeaths++] = (struct cw_metrics_death){worker, kind, 1};
}

/* Recycled children folded since the last count: not among the analysis' deaths. Those
 * forgotten since were counted long before (two windows). */
static void count_folded(struct cw_live_metrics *m, const struct cw_timeline *tl)
{
	long k = m->folded_counted - tl->nfolded_forgotten;

	for (k = k < 0 ? 0 : k; k < tl->nfolded; k++)
		count_death(m, tl->fprofs[tl->folded[k].profile].worker, cw_kind_name(CW_K_RECYCLED));
	m->folded_counted = tl->nfolded_forgotten + tl->nfolded;
}

void cw_live_metrics_count(struct cw_live_metrics *m, const struct cw_engine *e)
{
	const struct cw_timeline *tl = cw_engine_timeline(e);
	const struct cw_analysis *a = cw_engine_analysis(e);

	if (cw_death_marks_fit(&m->counted, tl))
		return;
	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (cw_death_marks_first(&m->counted, tl, d))
			count_death(m, d->worker, cw_kind_name(d->kind));
	}
	count_folded(m, tl);
}

static struct cw_metrics_queue *queues_of(const struct cw_analysis *a)
{
	struct cw_metrics_queue *q = calloc((size_t)a->nqueues + 1, sizeof(*q));

	for (int i = 0; q && i < a->nqueues; i++)
		q[i] = (struct cw_metrics_queue){
			.name = a->queues[i].queue, .depth = -1, .unacked = -1,
			.consumers = a->queues[i].consumers_now,
			.verdict = cw_verdict_name(a->queues[i].verdict),
		};
	return q;
}

/* Each worker name with a MainProcess seen: up when one is alive, its live pool children. */
static struct cw_metrics_worker *workers_of(const struct cw_timeline *tl, size_t *n)
{
	struct cw_metrics_worker *w = calloc((size_t)tl->nprocs + 1, sizeof(*w));

	*n = 0;
	for (int i = 0; w && i < tl->nprocs; i++) {
		const struct cw_tproc *p = &tl->procs[i];
		if (p->role != CW_RL_MAIN || !p->worker)
			continue;
		size_t k = 0;
		while (k < *n && w[k].name != p->worker)
			k++;
		if (k == *n)
			w[(*n)++] = (struct cw_metrics_worker){.name = p->worker};
		if (cw_tproc_live_end(p) != CW_NONE)
			continue;
		w[k].up = 1;
		for (int c = 0; c < tl->nprocs; c++)
			w[k].pool_processes += tl->procs[c].parent == i && tl->procs[c].role == CW_RL_POOL &&
					       cw_tproc_live_end(&tl->procs[c]) == CW_NONE;
	}
	return w;
}

static void on_judged(const struct cw_engine *e, void *ctx)
{
	struct cw_live_metrics *m = ctx;
	const struct cw_analysis *a = cw_engine_analysis(e);
	size_t nw;

	if (!a)
		return;
	cw_live_metrics_count(m, e);
	struct cw_metrics_death *d = malloc((m->ndeaths + 1) * sizeof(*d));
	if (d)
		memcpy(d, m->deaths, m->ndeaths * sizeof(*d));
	struct cw_metrics_worker *w = workers_of(cw_engine_timeline(e), &nw);
	cw_feed_judged(m->feed, queues_of(a), (size_t)a->nqueues, w, w ? nw : 0, d,
		       d ? m->ndeaths : 0);
	cw_feed_publish(m->feed);
}

struct cw_live_sink cw_live_metrics_sink(struct cw_live_metrics *m, struct cw_metrics_feed *feed)
{
	memset(m, 0, sizeof(*m));
	m->feed = feed;
	return (struct cw_live_sink){.on_judged = on_judged, .ctx = m};
}

void cw_live_metrics_free(struct cw_live_metrics *m)
{
	cw_death_marks_free(&m->counted);
	free(m->deaths);
	memset(m, 0, sizeof(*m));
}
