/* The exposition text of a snapshot; see metrics.h. One growing buffer, one family at a time;
 * a family's HELP and TYPE lines are written with its first sample, so a family nobody
 * measured is absent rather than empty. */
#include "metrics/metrics.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strset.h"
#include "common/utf8.h"

const char *const cw_metrics_verdicts[CW_METRICS_NVERDICTS] = {
	"ok", "degraded", "saturated", "stalled", "flapping", "no_consumer",
};

struct fam {
	const char *name, *type, *help;
	bool started;			/* HELP and TYPE written */
};

#define FAM(n, t, h) { .name = (n), .type = (t), .help = (h) }

struct out {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->oom)
		return;
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		while (cap < o->len + n + 1)
			cap *= 2;
		char *p = realloc(o->p, cap);
		if (!p) {
			o->oom = true;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void putf(struct out *o, const char *fmt, ...)
{
	char buf[128];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		put(o, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* A label value as the format wants it: \\, \" and \n escaped; a byte that does not start
 * valid UTF-8 becomes U+FFFD (Prometheus rejects invalid UTF-8, and the format has no escape
 * for a raw byte). */
static void put_value(struct out *o, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;

	while (*s) {
		size_t n = cw_utf8_decode(s, 4, NULL);
		if (*s == '\\')
			puts_(o, "\\\\");
		else if (*s == '"')
			puts_(o, "\\\"");
		else if (*s == '\n')
			puts_(o, "\\n");
		else if (n)
			put(o, (const char *)s, n);
		else
			puts_(o, "\xef\xbf\xbd");
		s += n ? n : 1;
	}
}

/* Whether the labels a (and b) equal, once escaped, those of an earlier series of the same
 * set: two hostile names can become one after U+FFFD replacement, and a duplicate series
 * would make the scrape fail. On out of memory, not a duplicate. */
static bool dup(struct cw_strset *seen, const char *a, const char *b)
{
	struct out k = {0};

	put_value(&k, a);
	if (b) {
		puts_(&k, "\"");	/* never in an escaped value: the pair stays unambiguous */
		put_value(&k, b);
	}
	bool d = !k.oom && cw_strset_add(seen, k.p ? k.p : "", k.len) == 0;
	free(k.p);
	return d;
}

/* Which of n names (at base, stride apart, each a const char * at offset off) repeat an
 * earlier one; NULL when out of memory (then nothing is left out). */
static bool *dups(const void *base, size_t n, size_t stride, size_t off)
{
	struct cw_strset seen = CW_STRSET_INIT;
	bool *d = calloc(n ? n : 1, sizeof(*d));

	for (size_t i = 0; d && i < n; i++)
		d[i] = dup(&seen, *(const char *const *)((const char *)base + i * stride + off), NULL);
	cw_strset_free(&seen);
	return d;
}

/* Start a series: the family's header the first time, the name and the labels (k, v pairs,
 * NULL-terminated). */
static void series(struct out *o, struct fam *f, ...)
{
	const char *k;
	va_list ap;
	int i = 0;

	if (!f->started) {
		putf(o, "# HELP %s ", f->name);
		puts_(o, f->help);
		putf(o, "\n# TYPE %s %s\n", f->name, f->type);
		f->started = true;
	}
	puts_(o, f->name);
	va_start(ap, f);
	for (; (k = va_arg(ap, const char *)); i++) {
		puts_(o, i ? "," : "{");
		puts_(o, k);
		puts_(o, "=\"");
		put_value(o, va_arg(ap, const char *));
		puts_(o, "\"");
	}
	va_end(ap);
	if (i)
		puts_(o, "}");
}

static void value_i(struct out *o, int64_t v)
{
	putf(o, " %" PRId64 "\n", v);
}

static void value_u(struct out *o, uint64_t v)
{
	putf(o, " %" PRIu64 "\n", v);
}

/* The i-th queue, or NULL when its name repeats an earlier one */
static const struct cw_metrics_queue *queue_at(const struct cw_metrics_snapshot *s, const bool *skip, size_t i)
{
	return skip && skip[i] ? NULL : &s->queues[i];
}

static void queues(struct out *o, const struct cw_metrics_snapshot *s)
{
	struct fam depth = FAM("celerywatch_queue_depth", "gauge",
			       "Tasks waiting in the queue, all priority lists summed (broker sample).");
	struct fam cons = FAM("celerywatch_queue_consumers", "gauge",
			      "Live worker processes consuming the queue.");
	struct fam verdict = FAM("celerywatch_queue_verdict", "gauge",
				 "1 for the queue's current verdict, 0 for the others.");
	struct fam unacked = FAM("celerywatch_queue_unacked", "gauge",
				 "Tasks of the queue delivered to a worker and not yet acknowledged.");
	bool *skip = dups(s->queues, s->nqueues, sizeof(*s->queues), offsetof(struct cw_metrics_queue, name));
	const struct cw_metrics_queue *q;

	/* family by family: the format wants each family's samples together */
	for (size_t i = 0; i < s->nqueues; i++) {
		if ((q = queue_at(s, skip, i)) && q->depth >= 0) {
			series(o, &depth, "queue", q->name, NULL);
			value_i(o, q->depth);
		}
	}
	for (size_t i = 0; i < s->nqueues; i++) {
		if ((q = queue_at(s, skip, i)) && q->consumers >= 0) {
			series(o, &cons, "queue", q->name, NULL);
			value_i(o, q->consumers);
		}
	}
	for (size_t i = 0; i < s->nqueues; i++) {
		q = queue_at(s, skip, i);
		for (int v = 0; q && q->verdict && v < CW_METRICS_NVERDICTS; v++) {
			series(o, &verdict, "queue", q->name, "verdict", cw_metrics_verdicts[v], NULL);
			value_i(o, !strcmp(q->verdict, cw_metrics_verdicts[v]));
		}
	}
	for (size_t i = 0; i < s->nqueues; i++) {
		if ((q = queue_at(s, skip, i)) && q->unacked >= 0) {
			series(o, &unacked, "queue", q->name, NULL);
			value_i(o, q->unacked);
		}
	}
	free(skip);
}

static void workers(struct out *o, const struct cw_metrics_snapshot *s)
{
	struct fam up = FAM("celerywatch_worker_up", "gauge", "1 while the worker's main process runs.");
	struct fam pool = FAM("celerywatch_worker_pool_processes", "gauge",
			      "Live pool (child) processes of the worker.");
	struct fam deaths = FAM("celerywatch_deaths_total", "counter",
				"Worker process deaths seen since the recorder started, by kind.");
	bool *skip = dups(s->workers, s->nworkers, sizeof(*s->workers), offsetof(struct cw_metrics_worker, name));
	struct cw_strset seen = CW_STRSET_INIT;
	const struct cw_metrics_worker *w;
	const struct cw_metrics_death *d;

	for (size_t i = 0; i < s->nworkers; i++) {
		w = &s->workers[i];
		if (skip && skip[i])
			continue;
		series(o, &up, "worker", w->name, NULL);
		value_i(o, w->up != 0);
	}
	for (size_t i = 0; i < s->nworkers; i++) {
		w = &s->workers[i];
		if ((skip && skip[i]) || w->pool_processes < 0)
			continue;
		series(o, &pool, "worker", w->name, NULL);
		value_i(o, w->pool_processes);
	}
	for (size_t i = 0; i < s->ndeaths; i++) {
		d = &s->deaths[i];
		if (dup(&seen, d->worker, d->kind))
			continue;
		series(o, &deaths, "worker", d->worker, "kind", d->kind, NULL);
		value_u(o, d->count);
	}
	cw_strset_free(&seen);
	free(skip);
}

/* Our own type names: unique, plain ASCII. */
static void counts(struct out *o, struct fam *f, const struct cw_metrics_count *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		series(o, f, "type", c[i].type, NULL);
		value_u(o, c[i].count);
	}
}

static void recorder(struct out *o, const struct cw_metrics_snapshot *s)
{
	struct fam ev = FAM("celerywatch_events_total", "counter",
			    "Lines the recorder queued to its event log, by line type.");
	struct fam lost = FAM("celerywatch_events_lost_total", "counter",
			      "Kernel records lost (ring buffer or map full), by record type.");
	struct fam up = FAM("celerywatch_broker_up", "gauge", "1 when the last broker sample succeeded.");
	struct fam dur = FAM("celerywatch_broker_sample_duration_seconds", "gauge",
			     "Duration of the last broker sample's round trip.");
	struct fam unacked = FAM("celerywatch_broker_unacked", "gauge",
				 "Tasks delivered to workers and not yet acknowledged, all queues (kombu's unacked hash).");
	struct fam build = FAM("celerywatch_build_info", "gauge",
			       "The recorder's version and the kernel it runs on; always 1.");

	counts(o, &ev, s->events, s->nevents);
	counts(o, &lost, s->lost, s->nlost);
	if (s->broker_up >= 0) {
		series(o, &up, NULL);
		value_i(o, s->broker_up != 0);
	}
	if (s->broker_up >= 0 && s->broker_sample_duration_seconds >= 0) {
		series(o, &dur, NULL);
		putf(o, " %.6f\n", s->broker_sample_duration_seconds);
	}
	if (s->broker_up >= 0 && s->broker_unacked >= 0) {
		series(o, &unacked, NULL);
		value_i(o, s->broker_unacked);
	}
	if (s->version && s->kernel) {
		series(o, &build, "version", s->version, "kernel", s->kernel, NULL);
		value_i(o, 1);
	}
}

char *cw_metrics_render(const struct cw_metrics_snapshot *s, size_t *len)
{
	struct out o = {0};

	queues(&o, s);
	workers(&o, s);
	recorder(&o, s);
	put(&o, "", 0);		/* an empty snapshot is "" */
	if (o.oom) {
		free(o.p);
		return NULL;
	}
	*len = o.len;
	return o.p;
}
