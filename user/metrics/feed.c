/* The recorder's metrics feed; see feed.h. */
#include "metrics/feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "broker/broker.h"
#include "log/eventfmt.h"
#include "metrics/metrics.h"
#include "metrics/server.h"

/* Every type the recorder writes (schema 1 and 2), "other" last. */
static const char *const types[CW_FEED_NTYPES] = {
	"tracer_start", "tracer_stop", "scan", "exec", "exec_fail", "fork", "exit", "signal",
	"oom", "rename", "lost", "sample", "proc_sample", "suppressed", "dropped", "other",
};
#define OTHER (CW_FEED_NTYPES - 1)
#define EXIT 6

void cw_feed_init(struct cw_metrics_feed *f, struct cw_metrics_server *server, bool broker,
		  const char *version)
{
	struct utsname u;

	memset(f, 0, sizeof(*f));
	f->server = server;
	f->broker = broker;
	f->version = version;
	if (uname(&u) == 0)
		snprintf(f->kernel, sizeof(f->kernel), "%s", u.release);
}

const char *cw_feed_type_name(int i)
{
	return i >= 0 && i < CW_FEED_NTYPES ? types[i] : NULL;
}

int cw_feed_type(const char *type)
{
	for (int k = 0; k < OTHER; k++)
		if (!strcmp(type, types[k]))
			return k;
	return OTHER;
}

bool cw_feed_count(struct cw_metrics_feed *f, const char *type)
{
	if (!f->server)
		return false;
	int t = cw_feed_type(type);

	f->lines[t]++;
	if (t == EXIT)
		f->pending = true;
	return t == EXIT;
}

void cw_feed_sample(struct cw_metrics_feed *f, struct cw_sample *s)
{
	cw_sample_delete(f->last);
	f->last = s;
}

void cw_feed_lost(struct cw_metrics_feed *f, const uint64_t by[CW_LOST_SLOTS])
{
	memcpy(f->lost, by, sizeof(f->lost));
}

static const struct cw_metrics_queue *judged(const struct cw_metrics_feed *f, const char *name)
{
	for (size_t i = 0; i < f->njqueues; i++)
		if (!strcmp(f->jqueues[i].name, name))
			return &f->jqueues[i];
	return NULL;
}

/* The queues: the latest sample's depths (where every list was counted) with the engine's
 * consumers and verdict, then the queues only the engine knows (no depth). */
static struct cw_metrics_queue *sample_queues(const struct cw_metrics_feed *f, size_t *n)
{
	const struct cw_sample *s = f->last;
	size_t ns = s && s->redis_ok ? s->nqueues : 0, k = 0;
	struct cw_metrics_queue *q = calloc(ns + f->njqueues + 1, sizeof(*q));

	*n = 0;
	if (!q)
		return NULL;
	for (size_t i = 0; i < ns; i++) {
		const struct cw_metrics_queue *j = judged(f, s->queues[i].queue);
		q[k++] = (struct cw_metrics_queue){
			.name = s->queues[i].queue, .depth = s->queues[i].error ? -1 : s->queues[i].depth,
			.consumers = j ? j->consumers : -1, .verdict = j ? j->verdict : NULL,
			.unacked = -1,
		};
	}
	for (size_t i = 0; i < f->njqueues; i++) {
		bool sampled = false;
		for (size_t x = 0; x < ns && !sampled; x++)
			sampled = !strcmp(s->queues[x].queue, f->jqueues[i].name);
		if (!sampled)
			q[k++] = f->jqueues[i];
	}
	*n = k;
	return q;
}

void cw_feed_judged(struct cw_metrics_feed *f, struct cw_metrics_queue *q, size_t nq,
		    struct cw_metrics_worker *w, size_t nw, struct cw_metrics_death *d, size_t nd)
{
	free(f->jqueues);
	free(f->workers);
	free(f->deaths);
	f->jqueues = q;
	f->njqueues = nq;
	f->workers = w;
	f->nworkers = nw;
	f->deaths = d;
	f->ndeaths = nd;
}

void cw_feed_publish(struct cw_metrics_feed *f)
{
	struct cw_metrics_count ev[CW_FEED_NTYPES], lost[CW_LOST_SLOTS];
	struct cw_metrics_snapshot snap = {.broker_up = -1, .broker_sample_duration_seconds = -1,
					   .broker_unacked = -1, .version = f->version, .kernel = f->kernel};
	const struct cw_sample *s = f->last;
	size_t len;
	char *text;

	if (!f->server)
		return;
	for (int i = 0; i < CW_FEED_NTYPES; i++)
		if (i != OTHER || f->lines[i])
			ev[snap.nevents++] = (struct cw_metrics_count){types[i], f->lines[i]};
	for (int i = 0; i < CW_LOST_SLOTS; i++)
		if (cw_lost_name(i))
			lost[snap.nlost++] = (struct cw_metrics_count){cw_lost_name(i), f->lost[i]};
	snap.events = ev;
	snap.lost = lost;
	if (f->broker && s) {
		snap.broker_up = s->redis_ok;
		snap.broker_sample_duration_seconds = s->latency_ms / 1000.0;
		snap.broker_unacked = s->redis_ok ? s->unacked : -1;
	}
	struct cw_metrics_queue *q = sample_queues(f, &snap.nqueues);
	snap.queues = q;
	snap.workers = f->workers;
	snap.nworkers = f->nworkers;
	snap.deaths = f->deaths;
	snap.ndeaths = f->ndeaths;
	text = cw_metrics_render(&snap, &len);
	free(q);
	if (text)
		cw_metrics_publish(f->server, text, len);
	f->pending = false;
}

void cw_feed_free(struct cw_metrics_feed *f)
{
	cw_sample_delete(f->last);
	f->last = NULL;
	cw_feed_judged(f, NULL, 0, NULL, 0, NULL, 0);
}
