/* `celerywatch status`, shown: the text a person reads (colour on a terminal) and the --json
 * document. Everything printed that came from /proc, the broker or the log is
 * attacker-chosen: in text it goes through cw_text_safe (or cw_text_sanitize when padded). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "cli/status_render.h"
#include "common/sanitize.h"
#include "common/timeutil.h"
#include "explain/report.h"

struct palette {
	const char *bold, *off, *red, *yellow, *green;
};

static void fmt_uptime(double s, char *out, size_t len)
{
	long v = s > 0 ? (long)s : 0;

	if (s <= 0)
		snprintf(out, len, "?");
	else if (v >= 86400)
		snprintf(out, len, "%ldd%02ldh", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		snprintf(out, len, "%ldh%02ldm", v / 3600, v % 3600 / 60);
	else
		snprintf(out, len, "%ldm%02lds", v / 60, v % 60);
}

/* the latest death worth a person's attention of this worker in the log */
static const struct cw_death *last_death(const struct cw_analysis *a, const char *worker)
{
	if (!a || !worker)
		return NULL;
	for (int i = a->ndeaths - 1; i >= 0; i--)
		if (a->deaths[i].incident && a->deaths[i].worker &&
		    !strcmp(a->deaths[i].worker, worker))
			return &a->deaths[i];
	return NULL;
}

/* ---- text ---- */

static void worker_line(FILE *o, const struct sproc *p, const struct palette *c)
{
	char up[32], w[512], pl[64], conc[16] = "?";

	fmt_uptime(p->uptime_s, up, sizeof(up));
	if (!strcmp(p->id.role, CW_ROLE_BEAT)) {
		fprintf(o, "  %-28s pid %-7d beat     up %s\n",
			cw_text_sanitize(w, sizeof(w), p->id.worker ? p->id.worker : "celery beat"),
			p->pid, up);
		return;
	}
	if (p->id.concurrency > 0)
		snprintf(conc, sizeof(conc), "%d", p->id.concurrency);
	fprintf(o, "  %-28s pid %-7d %-8s pool %d/%s  up %s  queues ",
		cw_text_sanitize(w, sizeof(w), p->id.worker ? p->id.worker : "?"), p->pid,
		cw_text_sanitize(pl, sizeof(pl), p->id.pool ? p->id.pool : "?"),
		p->npool, conc, up);
	for (size_t k = 0; p->id.queues && k < p->id.nqueues; k++) {
		if (k)
			fputc(',', o);
		cw_text_safe(o, p->id.queues[k]);
	}
	if (p->id.detach)
		fprintf(o, " (--detach launcher)");
	if (cw_pool_is_prefork(p->id.pool) && p->id.concurrency > 0 &&
	    p->npool < p->id.concurrency)
		fprintf(o, "  %s<- pool short%s", c->yellow, c->off);
	fprintf(o, "\n");
}

static void text_workers(FILE *o, const struct status *st, const struct palette *c)
{
	int shown = 0;

	for (size_t i = 0; i < st->snap.n; i++) {
		const struct sproc *p = &st->snap.p[i];
		if (strcmp(p->id.role, CW_ROLE_MAIN) && strcmp(p->id.role, CW_ROLE_BEAT))
			continue;
		if (!shown++)
			fprintf(o, "%sWorkers%s\n", c->bold, c->off);
		worker_line(o, p, c);
	}
	if (!shown)
		fprintf(o, "%sNo Celery worker or beat process found in /proc.%s\n", c->red, c->off);
}

/* "ok — 2 consumers (w1, w2), 3 pool processes" */
static void ok_verdict(FILE *o, const struct status *st, const struct squeue *q,
		       const struct palette *c)
{
	int named = 0;

	fprintf(o, "%sok%s — %d consumer%s", c->green, c->off, q->consumers,
		q->consumers == 1 ? "" : "s");
	for (size_t k = 0; k < st->snap.n; k++) {
		const struct sproc *p = &st->snap.p[k];
		if (!status_is_main(p) || !status_consumes(p, q->name))
			continue;
		fputs(named++ ? ", " : " (", o);
		cw_text_safe(o, p->id.worker ? p->id.worker : "?");
	}
	if (named)
		fprintf(o, ")");
	if (q->pool)
		fprintf(o, ", %d pool process%s", q->pool, q->pool == 1 ? "" : "es");
}

/* the log's open gap of a queue with no consumer: since when, and the backlog it built */
static const struct cw_gap *open_gap(const struct squeue *q)
{
	const struct cw_qverdict *v = q->logv;

	if (!v || !v->ngaps || v->gaps[v->ngaps - 1].to != CW_NONE || q->consumers)
		return NULL;
	return &v->gaps[v->ngaps - 1];
}

static void open_gap_words(FILE *o, const struct squeue *q)
{
	const struct cw_gap *g = open_gap(q);
	char t[40], num[32];

	if (!g)
		return;
	cw_fmt_clock(g->from, true, t, sizeof(t));
	fprintf(o, "; no consumer since %s (log)", t);
	if (g->peak != CW_NONE && g->peak > 0) {
		cw_fmt_count(g->peak, num, sizeof(num));
		fprintf(o, ", backlog peaked at %s", num);
	}
}

static void queue_line(FILE *o, const struct status *st, const struct squeue *q,
		       const struct palette *c)
{
	char num[32];

	fputs("  ", o);
	fputs(c->bold, o);
	cw_text_safe(o, q->name);
	fprintf(o, "%s: ", c->off);
	char words[512];
	if (q->verdict == CW_OK)
		ok_verdict(o, st, q, c);
	else if (q->verdict == CW_STALLED && q->logv && q->logv->stalled) {
		cw_stall_sentence(&q->logv->stall, words, sizeof(words));
		fprintf(o, "%sSTALLED%s (log) — %s", c->red, c->off, words);
	} else if (q->verdict == CW_SATURATED && q->logv) {
		cw_saturation_sentence(q->logv, words, sizeof(words));
		fprintf(o, "%sSATURATED%s (log) — %s", c->yellow, c->off, words);
	} else if (q->verdict == CW_DEGRADED)
		fprintf(o, "%sDEGRADED%s — %d consumer%s, no pool process", c->yellow, c->off,
			q->consumers, q->consumers == 1 ? "" : "s");
	else
		fprintf(o, "%sNO CONSUMER%s", c->red, c->off);
	if (q->depth != CW_NONE) {
		cw_fmt_count(q->depth, num, sizeof(num));
		fprintf(o, "; depth %s", num);
	}
	if (q->log_cause) {
		fputs("; log: ", o);
		cw_text_safe(o, q->log_cause->summary);
	}
	open_gap_words(o, q);
	if (q->not_connected)
		fprintf(o, "; %d worker%s not connected to the broker (log)", q->not_connected,
			q->not_connected == 1 ? "" : "s");
	fprintf(o, "\n");
	if (q->dup_worker) {
		fputs("    duplicate worker name ", o);
		cw_text_safe(o, q->dup_worker);
		fputs(": pids", o);
		for (int k = 0; k < q->ndup; k++)
			fprintf(o, "%s %d", k ? "," : "", q->dup_pids[k]);
		fputs(" alive now (Celery's DuplicateNodenameWarning)\n", o);
	}
}

static void text_queues(FILE *o, const struct status *st, const struct palette *c)
{
	fprintf(o, "\n%sQueues%s", c->bold, c->off);
	if (st->redis_shown) {
		fputs(" (", o);
		cw_text_safe(o, st->redis_shown);
		fprintf(o, "%s)", st->redis_ok ? "" : ": unreachable");
	} else
		fprintf(o, " (no broker: give --redis or set CELERY_BROKER_URL for depths)");
	fprintf(o, "\n");
	if (st->redis_shown && !st->redis_ok) {
		fprintf(o, "  %sbroker: ", c->red);
		cw_text_safe(o, st->redis_err);
		fprintf(o, "%s\n", c->off);
	}
	for (size_t i = 0; i < st->nqueues; i++)
		queue_line(o, st, &st->queues[i], c);
	if (!st->nqueues)
		fprintf(o, "  none known\n");
}

static void death_line(FILE *o, const struct cw_death *d)
{
	char t[40];

	cw_fmt_clock(d->ts, true, t, sizeof(t));
	fprintf(o, "  %s  %-13s ", t, cw_kind_name(d->kind));
	cw_text_safe(o, d->summary);
	fputc('\n', o);
}

static bool worker_running(const struct status *st, const char *worker)
{
	bool running = false;

	for (size_t k = 0; k < st->snap.n; k++)
		running |= status_is_main(&st->snap.p[k]) && worker && st->snap.p[k].id.worker &&
			   !strcmp(st->snap.p[k].id.worker, worker);
	return running;
}

static void text_deaths(FILE *o, const struct status *st, const struct palette *c)
{
	int n = 0;

	fprintf(o, "\n%sLast deaths in ", c->bold);
	cw_text_safe(o, st->log);
	fprintf(o, "%s\n", c->off);
	for (size_t i = 0; i < st->snap.n; i++) {
		const struct sproc *p = &st->snap.p[i];
		const struct cw_death *d;
		if (!status_is_main(p) || !(d = last_death(&st->an, p->id.worker)))
			continue;
		death_line(o, d);
		n++;
	}
	/* workers of the log that are not running now are the interesting ones */
	for (int i = 0; i < st->an.nqueues; i++) {
		const struct cw_qverdict *v = &st->an.queues[i];
		if ((v->verdict != CW_NO_CONSUMER && v->verdict != CW_FLAPPING) || v->cause < 0 ||
		    worker_running(st, st->an.deaths[v->cause].worker))
			continue;
		death_line(o, &st->an.deaths[v->cause]);
		n++;
	}
	if (!n)
		fprintf(o, "  none recorded\n");
}

void status_text(FILE *o, const struct status *st, bool color)
{
	const struct palette c = {
		.bold = color ? "\033[1m" : "", .off = color ? "\033[0m" : "",
		.red = color ? "\033[1;31m" : "", .yellow = color ? "\033[1;33m" : "",
		.green = color ? "\033[32m" : "",
	};
	char t[40];

	cw_fmt_clock(st->now, true, t, sizeof(t));
	fputs("celerywatch status on ", o);
	cw_text_safe(o, st->host);
	fprintf(o, " at %s UTC\n\n", t);
	text_workers(o, st, &c);
	text_queues(o, st, &c);
	if (st->have_log)
		text_deaths(o, st, &c);
}

/* ---- JSON ---- */

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *proc_json(const struct status *st, const struct sproc *p)
{
	json_object *j = json_object_new_object(), *q = NULL;

	json_object_object_add(j, "pid", json_object_new_int(p->pid));
	json_object_object_add(j, "ppid", json_object_new_int(p->ppid));
	json_object_object_add(j, "uid", json_object_new_int64(p->uid));
	json_object_object_add(j, "pstart", json_object_new_int64((int64_t)p->pstart));
	json_object_object_add(j, "comm", jstr(p->comm));
	json_object_object_add(j, "cmdline", jstr(p->cmdline));
	json_object_object_add(j, "cgroup", jstr(p->cgroup));
	json_object_object_add(j, "worker", jstr(p->id.worker));
	json_object_object_add(j, "role", jstr(p->id.role));
	json_object_object_add(j, "command", jstr(p->id.command));
	if (p->id.queues) {
		q = json_object_new_array();
		for (size_t k = 0; k < p->id.nqueues; k++)
			json_object_array_add(q, json_object_new_string(p->id.queues[k]));
	}
	json_object_object_add(j, "queues", q);
	json_object_object_add(j, "pool", jstr(p->id.pool));
	json_object_object_add(j, "concurrency", p->id.concurrency > 0 ?
			       json_object_new_int(p->id.concurrency) : NULL);
	json_object_object_add(j, "pool_size", status_is_main(p) ?
			       json_object_new_int(p->npool) : NULL);
	json_object_object_add(j, "detach", json_object_new_boolean(p->id.detach));
	json_object_object_add(j, "uptime_s", p->uptime_s > 0 ?
			       json_object_new_int64((int64_t)p->uptime_s) : NULL);
	const struct cw_death *d = st->have_log && status_is_main(p) ?
				   last_death(&st->an, p->id.worker) : NULL;
	json_object_object_add(j, "last_death", d ? cw_death_json(&st->an, d) : NULL);
	return j;
}

/* the log's open gap, stall and saturation rates; duplicate worker names from /proc */
static void issue9_json(json_object *j, const struct squeue *q)
{
	const struct cw_gap *g = open_gap(q);
	const struct cw_qverdict *v = q->logv;
	json_object *gap = NULL, *stall = NULL, *dups = json_object_new_array();
	char where[256];

	if (g) {
		gap = json_object_new_object();
		json_object_object_add(gap, "from", cw_ts_json(g->from));
		json_object_object_add(gap, "backlog_peak", g->peak == CW_NONE ? NULL :
				       json_object_new_int64(g->peak));
	}
	if (v && v->stalled && q->verdict == CW_STALLED) {
		stall = json_object_new_object();
		json_object_object_add(stall, "since", cw_ts_json(v->stall.since));
		json_object *pids = json_object_new_array();
		for (int k = 0; k < v->stall.npids; k++)
			json_object_array_add(pids, json_object_new_int64(v->stall.pids[k]));
		json_object_object_add(stall, "pids", pids);
		cw_blocked_in(&v->stall, where, sizeof(where));
		json_object_object_add(stall, "blocked_in", *where ? jstr(where) : NULL);
	}
	json_object_object_add(j, "open_gap", gap);
	json_object_object_add(j, "stalled", stall);
	bool sat = v && q->verdict == CW_SATURATED;
	json_object_object_add(j, "arrival_per_min", sat && v->has_arrival ?
			       json_object_new_double(v->arrival_per_min) : NULL);
	json_object_object_add(j, "drain_per_min", sat && v->has_drain ?
			       json_object_new_double(v->drain_per_min) : NULL);
	json_object_object_add(j, "concurrency_needed", sat && v->concurrency_needed != CW_NONE ?
			       json_object_new_int64(v->concurrency_needed) : NULL);
	if (q->dup_worker) {
		json_object *d = json_object_new_object(), *pids = json_object_new_array();
		json_object_object_add(d, "worker", jstr(q->dup_worker));
		for (int k = 0; k < q->ndup; k++)
			json_object_array_add(pids, json_object_new_int(q->dup_pids[k]));
		json_object_object_add(d, "pids", pids);
		json_object_array_add(dups, d);
	}
	json_object_object_add(j, "duplicates", dups);
	json_object_object_add(j, "not_connected", json_object_new_int(q->not_connected));
}

static json_object *queue_json(const struct status *st, const struct squeue *q)
{
	json_object *j = json_object_new_object(), *names = json_object_new_array();

	json_object_object_add(j, "queue", jstr(q->name));
	json_object_object_add(j, "verdict", jstr(cw_verdict_name(q->verdict)));
	json_object_object_add(j, "depth", q->depth == CW_NONE ? NULL :
			       json_object_new_int64(q->depth));
	json_object_object_add(j, "consumers_now", json_object_new_int(q->consumers));
	for (size_t k = 0; k < st->snap.n; k++) {
		const struct sproc *p = &st->snap.p[k];
		if (status_is_main(p) && status_consumes(p, q->name) && p->id.worker)
			json_object_array_add(names, json_object_new_string(p->id.worker));
	}
	json_object_object_add(j, "consumers", names);
	json_object_object_add(j, "pool_now", json_object_new_int(q->pool));
	json_object_object_add(j, "cause", q->log_cause ? cw_death_json(&st->an, q->log_cause) :
			       NULL);
	issue9_json(j, q);
	return j;
}

static json_object *redis_json(const struct status *st)
{
	json_object *r;

	if (!st->redis_shown)
		return NULL;
	r = json_object_new_object();
	json_object_object_add(r, "url", jstr(st->redis_shown));
	json_object_object_add(r, "ok", json_object_new_boolean(st->redis_ok));
	json_object_object_add(r, "error", st->redis_ok ? NULL : jstr(st->redis_err));
	json_object_object_add(r, "latency_ms", st->have_sample ?
			       json_object_new_double(st->sample.latency_ms) : NULL);
	return r;
}

void status_json(FILE *o, const struct status *st)
{
	json_object *root = json_object_new_object(), *procs = json_object_new_array();
	json_object *qs = json_object_new_array();

	json_object_object_add(root, "host", jstr(st->host));
	json_object_object_add(root, "ts", cw_ts_json(st->now));
	for (size_t i = 0; i < st->snap.n; i++)
		json_object_array_add(procs, proc_json(st, &st->snap.p[i]));
	json_object_object_add(root, "processes", procs);
	for (size_t i = 0; i < st->nqueues; i++)
		json_object_array_add(qs, queue_json(st, &st->queues[i]));
	json_object_object_add(root, "queues", qs);
	json_object_object_add(root, "redis", redis_json(st));
	json_object_object_add(root, "log", jstr(st->have_log ? st->log : NULL));
	fprintf(o, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}
