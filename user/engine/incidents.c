/* Judging: one analysis per call (explain/causes.c), compared with what was said before. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "common/grow.h"
#include "engine/engine_int.h"
#include "explain/causes.h"
#include "explain/report.h"

static const char *str_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

/* Fill inc->json from inc and cause, call cb. */
static void tell(struct cw_incident *inc, json_object *cause, cw_incident_cb cb, void *ctx)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(cw_incident_kind_name(inc->kind)));
	json_object_object_add(o, "ts", cw_ts_json(inc->ts));
	json_object_object_add(o, "queue", inc->queue ? json_object_new_string(inc->queue) : NULL);
	json_object_object_add(o, "worker", inc->worker ? json_object_new_string(inc->worker) : NULL);
	json_object_object_add(o, "verdict", inc->verdict ? json_object_new_string(inc->verdict) : NULL);
	json_object_object_add(o, "prev_verdict",
			       inc->prev_verdict ? json_object_new_string(inc->prev_verdict) : NULL);
	json_object_object_add(o, "summary", json_object_new_string(inc->summary));
	json_object_object_add(o, "cause", cause);
	inc->json = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	cb(inc, ctx);
	json_object_put(o);
}

static void tell_death(struct cw_engine *e, const struct cw_death *d, cw_incident_cb cb, void *ctx)
{
	struct cw_incident inc = {
		.kind = CW_INC_DEATH, .ts = d->ts, .worker = d->worker,
		.queue = d->queues && d->queues->n ? d->queues->names[0] : d->queue,
		.summary = str_or(d->summary, "a worker process died"), .priority = 4,
	};
	tell(&inc, cw_death_json(&e->an, d), cb, ctx);
}

/* Deaths not reported yet; on the first judgement, history is only marked as known. */
static int tell_deaths(struct cw_engine *e, bool first, cw_incident_cb cb, void *ctx)
{
	if (cw_death_marks_fit(&e->told, &e->tl))
		return -ENOMEM;
	for (int i = 0; i < e->an.ndeaths; i++) {
		const struct cw_death *d = &e->an.deaths[i];
		if (!d->incident || !cw_death_marks_first(&e->told, &e->tl, d))
			continue;
		if (!first)
			tell_death(e, d, cb, ctx);
	}
	return 0;
}

static struct qstate *qstate_of(struct cw_engine *e, const char *queue)
{
	for (int i = 0; i < e->nqs; i++)
		if (e->qs[i].queue == queue)
			return &e->qs[i];
	if (cw_grow((void **)&e->qs, &e->capqs, e->nqs + 1, sizeof(*e->qs)))
		return NULL;
	struct qstate *q = &e->qs[e->nqs++];
	q->queue = queue;
	q->verdict = CW_OK;	/* a queue first seen ok is not news */
	return q;
}

static void verdict_summary(const struct cw_engine *e, const struct cw_qverdict *v, char *out,
			    size_t len)
{
	const char *cause = v->cause >= 0 ? e->an.deaths[v->cause].summary : NULL;

	switch (v->verdict) {
	case CW_NO_CONSUMER:
		snprintf(out, len, "%s has no consumer: %s", v->queue,
			 cause ? cause : "no worker for it is running");
		break;
	case CW_FLAPPING:
		snprintf(out, len, "%s: its worker is in a crash loop: %s", v->queue,
			 v->flap.summary ? v->flap.summary : str_or(cause, "restarted and died again"));
		break;
	case CW_STALLED: {
		char words[400];
		cw_stall_sentence(&v->stall, words, sizeof(words));
		snprintf(out, len, "%s is stalled: %s", v->queue, words);
		break;
	}
	case CW_SATURATED: {
		char words[400];
		cw_saturation_sentence(v, words, sizeof(words));
		snprintf(out, len, "%s is saturated: %s", v->queue, words);
		break;
	}
	case CW_DEGRADED:
		snprintf(out, len, "%s: consumers alive but no pool process: %s", v->queue,
			 str_or(cause, "the pool is gone"));
		break;
	case CW_OK:
		snprintf(out, len, "%s is consumed again (%d consumer%s)", v->queue, v->consumers_now,
			 v->consumers_now == 1 ? "" : "s");
		break;
	default:
		snprintf(out, len, "%s: %s", v->queue, cw_verdict_name(v->verdict));
		break;
	}
}

static int tell_verdicts(struct cw_engine *e, cw_incident_cb cb, void *ctx)
{
	char summary[1024];

	for (int i = 0; i < e->an.nqueues; i++) {
		const struct cw_qverdict *v = &e->an.queues[i];
		struct qstate *q = qstate_of(e, v->queue);
		if (!q)
			return -ENOMEM;
		if (q->verdict == v->verdict)
			continue;
		verdict_summary(e, v, summary, sizeof(summary));
		const struct cw_death *d = v->cause >= 0 ? &e->an.deaths[v->cause] : NULL;
		struct cw_incident inc = {
			.kind = CW_INC_VERDICT, .ts = e->tl.last_ts, .queue = v->queue,
			.worker = d ? d->worker : v->nconsumer_names ? v->consumer_names[0] : NULL,
			.verdict = cw_verdict_name(v->verdict), .prev_verdict = cw_verdict_name(q->verdict),
			.summary = summary, .priority = v->verdict > q->verdict ? 3 : 4,
		};
		q->verdict = v->verdict;
		tell(&inc, d ? cw_death_json(&e->an, d) : NULL, cb, ctx);
	}
	return 0;
}

static void tell_lost(struct cw_engine *e, cw_incident_cb cb, void *ctx)
{
	char summary[256];

	if (e->tl.lost_total <= e->lost_told)
		return;
	snprintf(summary, sizeof(summary), "the kernel lost %lld events (%lld in all): verdicts "
		 "near them are uncertain", (long long)(e->tl.lost_total - e->lost_told),
		 (long long)e->tl.lost_total);
	e->lost_told = e->tl.lost_total;
	struct cw_incident inc = {.kind = CW_INC_LOST, .ts = e->tl.last_ts, .summary = summary,
				  .priority = 4};
	tell(&inc, NULL, cb, ctx);
}

static void tell_broker(struct cw_engine *e, cw_incident_cb cb, void *ctx)
{
	if (e->broker_up < 0 || e->broker_up == e->broker_told)
		return;
	bool up = e->broker_up == 1;
	if (up && e->broker_told < 0) {
		e->broker_told = 1;	/* up from the start: nothing to say */
		return;
	}
	e->broker_told = e->broker_up;
	struct cw_incident inc = {
		.kind = up ? CW_INC_BROKER_UP : CW_INC_BROKER_DOWN, .ts = e->broker_ts,
		.summary = up ? "the broker answers again" : "the broker does not answer: queue depths are unknown",
		.priority = up ? 4 : 3,
	};
	tell(&inc, NULL, cb, ctx);
}

int cw_engine_judge(struct cw_engine *e, cw_incident_cb cb, void *ctx)
{
	struct cw_analysis an;
	int64_t last = e->tl.last_ts;
	int64_t since = last == CW_NONE ? CW_NONE : last - e->opts.window_us;
	bool first = !e->have_an;

	/* a live engine runs for months: samples, folded children and processes no verdict
	 * reads, older than two windows, are judged no more */
	if (last != CW_NONE && last - e->trimmed_at > e->opts.window_us / 6) {
		cw_timeline_forget_samples(&e->tl, last - 2 * e->opts.window_us);
		if (cw_timeline_forget_folded(&e->tl, last - 2 * e->opts.window_us) ||
		    cw_timeline_forget_dead(&e->tl, last - 2 * e->opts.window_us))
			return -ENOMEM;
		e->trimmed_at = last;
	}
	if (cw_analyze_opts(&e->tl, since, CW_NONE, NULL, &e->judge, &an))
		return -ENOMEM;
	if (e->have_an)
		cw_analysis_free(&e->an);
	e->an = an;
	e->have_an = true;
	e->dirty = e->death_pending = false;
	if (tell_deaths(e, first, cb, ctx) || tell_verdicts(e, cb, ctx))
		return -ENOMEM;
	tell_lost(e, cb, ctx);
	tell_broker(e, cb, ctx);
	return 0;
}
