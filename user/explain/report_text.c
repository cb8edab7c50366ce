/* The human report: one line per queue with the answer first, then the incidents in time
 * order. Colour only on a terminal, and never when NO_COLOR is set. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "explain/report.h"
#include "explain/stderr_note.h"

#define MAX_INCIDENTS 60
/* a crash loop makes a gap per death: the latest are the story */
#define MAX_GAP_LINES 5

bool cw_want_color(FILE *out)
{
	const char *nc = getenv("NO_COLOR");

	if (nc && *nc)
		return false;
	return isatty(fileno(out));
}

bool cw_window_one_day(const struct cw_analysis *a)
{
	return a->from != CW_NONE && a->to != CW_NONE &&
	       a->from / 86400000000LL == a->to / 86400000000LL;
}

void cw_fmt_count(int64_t n, char *out, size_t len)
{
	char tmp[32];
	int l = snprintf(tmp, sizeof(tmp), "%lld", (long long)(n < 0 ? -n : n));
	size_t o = 0;

	if (n < 0 && o + 1 < len)
		out[o++] = '-';
	for (int i = 0; i < l && o + 2 < len; i++) {
		if (i && (l - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = tmp[i];
	}
	out[o] = 0;
}

static void fmt_duration(int64_t us, char *out, size_t len)
{
	int64_t s = us / 1000000;

	if (s >= 86400)
		snprintf(out, len, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, len, "%llds", (long long)s);
}

struct paint {
	const char *red, *yellow, *green, *bold, *dim, *off;
};

static struct paint paint(bool color)
{
	if (!color)
		return (struct paint){"", "", "", "", "", ""};
	return (struct paint){"\033[1;31m", "\033[1;33m", "\033[32m", "\033[1m", "\033[2m",
			      "\033[0m"};
}

static void depth_words(FILE *out, const struct cw_qverdict *v)
{
	char a[32], b[32];
	int64_t d0 = v->depth_first, d1 = v->depth_last;

	if (d0 == CW_NONE)
		return;	/* said once, at the end */
	const struct cw_gap *g = cw_last_closed_gap(v);
	if ((g || v->nstalls) && v->consumers_now && v->depth_max > d0 && v->depth_max > d1) {
		/* first and last alone would hide the outage's backlog */
		cw_fmt_count(d0, a, sizeof(a));
		cw_fmt_count(d1, b, sizeof(b));
		char pk[32];
		cw_fmt_count(v->depth_max, pk, sizeof(pk));
		fprintf(out, "; the queue went %s → peak %s → %s", a, pk, b);
		return;
	}
	if (v->has_growth && v->uncovered_since != CW_NONE && !v->consumers_now) {
		/* the numbers of the time nobody consumed */
		d0 = v->growth_from_depth;
		d1 = v->growth_to_depth;
	}
	cw_fmt_count(d0, a, sizeof(a));
	cw_fmt_count(d1, b, sizeof(b));
	if (d0 == d1) {
		fprintf(out, "; the queue stayed at %s", a);
		return;
	}
	fprintf(out, "; the queue %s %s → %s", d1 > d0 ? "grew" : "shrank", a, b);
	double r = v->growth_per_min;
	if (!v->has_growth)
		return;
	if (r >= 9.95 || r <= -9.95)
		fprintf(out, " (%+.0f/min)", r);
	else if (r >= 0.05 || r <= -0.05)
		fprintf(out, " (%+.1f/min)", r);
}

/* "FLAPPING — worker_f@web1 exited with status 2 five times in 9 s: <line>; restarted 4
 * times; no consumer since 10:00:09" */
static void flapping_words(FILE *out, const struct cw_qverdict *v, const struct paint *p,
			   bool date)
{
	char t[40];

	fprintf(out, "%sFLAPPING%s — ", p->red, p->off);
	cw_text_safe(out, v->flap.worker);
	fputc(' ', out);
	cw_text_safe(out, v->flap.summary);
	fprintf(out, "; restarted %d time%s", v->restarts, v->restarts == 1 ? "" : "s");
	if (!v->consumers_now && v->uncovered_since != CW_NONE) {
		cw_fmt_clock(v->uncovered_since, date, t, sizeof(t));
		fprintf(out, "; no consumer since %s", t);
	} else if (v->consumers_now) {
		fprintf(out, "; %d consumer%s alive now", v->consumers_now,
			v->consumers_now == 1 ? "" : "s");
	}
}

void cw_report_queue_line(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v)
{
	const struct cw_analysis *a = in->a;
	struct paint p = paint(in->color);
	bool date = !cw_window_one_day(a);
	char t[40];
	const struct cw_death *cause = v->cause >= 0 ? &a->deaths[v->cause] : NULL;

	fputs(p.bold, out);
	cw_text_safe(out, v->queue);
	fprintf(out, "%s: ", p.off);
	const struct cw_gap *rec = cw_last_closed_gap(v);
	switch (v->verdict) {
	case CW_OK:
		fprintf(out, "%sok%s", p.green, p.off);
		if (!v->consumers_now && v->starting) {
			fprintf(out, " — %d worker%s starting (not connected to the broker yet)",
				v->starting, v->starting == 1 ? "" : "s");
			break;
		}
		if (rec && v->consumers_now) {
			cw_fmt_clock(rec->to, date, t, sizeof(t));
			fprintf(out, ", recovered at %s", t);
		}
		fprintf(out, " — %d consumer%s", v->consumers_now, v->consumers_now == 1 ? "" : "s");
		for (int i = 0; i < v->nconsumer_names; i++) {
			fputs(i ? ", " : " (", out);
			cw_text_safe(out, v->consumer_names[i]);
		}
		if (v->nconsumer_names)
			fprintf(out, ")");
		if (v->pool_now)
			fprintf(out, ", %d pool process%s", v->pool_now, v->pool_now == 1 ? "" : "es");
		if (v->starting)
			fprintf(out, ", %d starting", v->starting);
		break;
	case CW_DEGRADED:
		fprintf(out, "%sDEGRADED%s — %d consumer%s alive but no pool process", p.yellow,
			p.off, v->consumers_now, v->consumers_now == 1 ? "" : "s");
		if (cause) {
			fputs("; last: ", out);
			cw_text_safe(out, cause->summary);
		}
		break;
	case CW_STALLED: {
		char words[512];
		cw_stall_sentence(&v->stall, words, sizeof(words));
		fprintf(out, "%sSTALLED%s — %s", p.red, p.off, words);
		break;
	}
	case CW_SATURATED: {
		char words[512];
		cw_saturation_sentence(v, words, sizeof(words));
		fprintf(out, "%sSATURATED%s — %d consumer%s, %s", p.yellow, p.off, v->consumers_now,
			v->consumers_now == 1 ? "" : "s", words);
		break;
	}
	case CW_FLAPPING:
		flapping_words(out, v, &p, date);
		break;
	case CW_NO_CONSUMER:
		fprintf(out, "%sNO CONSUMER%s", p.red, p.off);
		if (v->uncovered_since != CW_NONE) {
			cw_fmt_clock(v->uncovered_since, date, t, sizeof(t));
			fprintf(out, " since %s", t);
		}
		if (cause) {
			fputs(" — ", out);
			cw_text_safe(out, cause->summary);
		} else if (!v->had_consumer)
			fprintf(out, " — no worker consuming it was seen");
		if (v->not_connected)
			fprintf(out, " (%d not connected to the broker)", v->not_connected);
		break;
	}
	depth_words(out, v);
	if (v->untracked)
		fprintf(out, "; UNCERTAIN: %d of its processes could not be followed (the recorder's "
			"tracked map was full, see record --max-tracked), so their deaths were not recorded",
			v->untracked);
	fprintf(out, "\n");
}

static int count_incidents(const struct cw_analysis *a)
{
	int n = 0;

	for (int i = 0; i < a->ndeaths; i++)
		n += a->deaths[i].shown && a->deaths[i].incident;
	return n;
}

static void header(FILE *out, const struct cw_report_in *in, const struct paint *p,
		   int incidents)
{
	const struct cw_analysis *a = in->a;
	char t0[40], t1[40], dur[32];

	cw_fmt_clock(a->from, true, t0, sizeof(t0));
	cw_fmt_clock(a->to, !cw_window_one_day(a), t1, sizeof(t1));
	fmt_duration(a->to - a->from, dur, sizeof(dur));
	fprintf(out, "%scelerywatch explain%s %s → %s UTC (%s): %d host%s, %d worker%s, "
		"%d incident%s\n\n", p->dim, p->off, t0, t1, dur, in->tl->nhosts,
		in->tl->nhosts == 1 ? "" : "s", a->nworkers, a->nworkers == 1 ? "" : "s",
		incidents, incidents == 1 ? "" : "s");
}

/* 1,200 or 2.5: a rate per minute for a sentence */
static void fmt_rate(double r, char *out, size_t len)
{
	if (fabs(r) >= 9.95)
		cw_fmt_count(llround(r), out, len);
	else
		snprintf(out, len, "%.1f", r);
}

/* after a closed gap: how its backlog went */
static void drain_words(FILE *out, const struct cw_qverdict *v, const struct cw_gap *g,
			bool last, bool date)
{
	char r[32], t[40], span[48];

	if (g->peak == CW_NONE || g->peak <= 0)
		return;
	if (!g->has_drain) {
		fprintf(out, "; the backlog did not go down after it");
		return;
	}
	fmt_rate(g->drain_per_min, r, sizeof(r));
	if (g->emptied_at != CW_NONE) {
		cw_fmt_clock(g->emptied_at, date, t, sizeof(t));
		fprintf(out, "; drained at %s/min, empty at %s", r, t);
	} else if (last && v->has_eta) {
		cw_fmt_span((int64_t)(v->eta_empty_s * 1e6), span, sizeof(span));
		fprintf(out, "; draining at %s/min, empty in about %s", r, span);
	} else {
		fprintf(out, "; draining at %s/min", r);
	}
}

/* "no consumer 10:01:00–10:01:05 (5 s), backlog peaked at 300; <cause>; drained at ..." */
static void gap_line(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v,
		     const struct cw_gap *g, bool last)
{
	const struct cw_analysis *a = in->a;
	bool date = !cw_window_one_day(a);
	char t0[40], t1[40], span[48], pk[32], r[32];

	cw_fmt_clock(g->from, date, t0, sizeof(t0));
	if (g->to != CW_NONE) {
		cw_fmt_clock(g->to, date, t1, sizeof(t1));
		cw_fmt_span(g->to - g->from, span, sizeof(span));
		fprintf(out, "  no consumer %s–%s (%s)", t0, t1, span);
	} else {
		cw_fmt_span(a->to - g->from, span, sizeof(span));
		fprintf(out, "  no consumer since %s (%s so far)", t0, span);
	}
	if (g->peak == CW_NONE) {
		fprintf(out, ", backlog not sampled");
	} else {
		cw_fmt_count(g->peak, pk, sizeof(pk));
		fprintf(out, g->peak ? ", backlog peaked at %s" : ", no task waiting", pk);
	}
	if (g->cause >= 0) {
		fputs("; ", out);
		cw_text_safe(out, a->deaths[g->cause].summary);
	}
	if (g->to == CW_NONE && g->has_arrival && g->arrival_per_min > 0) {
		fmt_rate(g->arrival_per_min, r, sizeof(r));
		fprintf(out, "; growing at %s/min", r);
	}
	if (g->to != CW_NONE)
		drain_words(out, v, g, last, date);
	fputc('\n', out);
}

/* "stalled 10:00:20–10:01:10 (50 s), backlog peaked at 100; drained at 240/min, empty at ..." */
static void stall_lines(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v)
{
	bool date = !cw_window_one_day(in->a);
	int first = v->nstalls > MAX_GAP_LINES ? v->nstalls - MAX_GAP_LINES : 0;
	char t0[40], t1[40], span[48], pk[32];

	if (first)
		fprintf(out, "  ... %d earlier stall%s (see --json)\n", first, first == 1 ? "" : "s");
	for (int i = first; i < v->nstalls; i++) {
		const struct cw_gap *g = &v->stalls[i];
		cw_fmt_clock(g->from, date, t0, sizeof(t0));
		cw_fmt_clock(g->to, date, t1, sizeof(t1));
		cw_fmt_span(g->to - g->from, span, sizeof(span));
		fprintf(out, "  stalled %s–%s (%s), no progress in its working processes", t0, t1,
			span);
		if (g->peak != CW_NONE && g->peak > 0) {
			cw_fmt_count(g->peak, pk, sizeof(pk));
			fprintf(out, ", backlog peaked at %s", pk);
		}
		drain_words(out, v, g, i == v->nstalls - 1, date);
		fputc('\n', out);
	}
}

/* A queue's gaps, under its line, once it had one that ended: a queue that is down now with
 * no earlier gap is said by its line alone. */
static void gap_lines(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v)
{
	int first = v->ngaps > MAX_GAP_LINES ? v->ngaps - MAX_GAP_LINES : 0;

	if (!cw_last_closed_gap(v))
		return;
	if (first)
		fprintf(out, "  ... %d earlier gap%s (see --json)\n", first, first == 1 ? "" : "s");
	for (int i = first; i < v->ngaps; i++)
		gap_line(out, in, v, &v->gaps[i], i == v->ngaps - 1);
}

/* the answer first: troubled queues, then healthy ones */
static void queues_section(FILE *out, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;

	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < a->nqueues; i++)
			if ((a->queues[i].verdict == CW_OK) == (pass == 1)) {
				cw_report_queue_line(out, in, &a->queues[i]);
				cw_consumer_lines(out, in, &a->queues[i]);
				gap_lines(out, in, &a->queues[i]);
				stall_lines(out, in, &a->queues[i]);
			}
	if (!a->nqueues)
		fprintf(out, "No queues seen (no worker lines, no depth samples).\n");
}

/* --tail-window: the hook was off at the death, so the tail may lack the last writes */
static void unwatched_line(FILE *out, const struct cw_death *d, int indent)
{
	const char *note = cw_stderr_note(d);
	char logfile[256];

	if (!note)
		return;
	fprintf(out, "  %*s  %-13s %s", indent, "", "", note);
	if (cw_death_logfile(d, logfile, sizeof(logfile))) {
		fputs("; its own log: ", out);
		cw_text_safe(out, logfile);
	}
	fputc('\n', out);
}

/* one incident; the notes below it line up under its summary */
static void incident_line(FILE *out, const struct cw_death *d, const struct paint *p,
			  bool date)
{
	char t[40];
	const char *col = d->kind == CW_K_EXIT_CLEAN ? p->yellow : p->red;

	cw_fmt_clock(d->ts, date, t, sizeof(t));
	fprintf(out, "  %s  %s%-13s%s ", t, col, cw_kind_name(d->kind), p->off);
	cw_text_safe(out, d->summary);
	fputc('\n', out);
	if (d->followers)
		fprintf(out, "  %*s  %-13s %d pool child%s died with it (parent_died)\n",
			(int)strlen(t), "", "", d->followers, d->followers == 1 ? "" : "ren");
	if (d->kind == CW_K_EXIT_ERROR && d->stderr_tail && strchr(d->stderr_tail, '\n'))
		fprintf(out, "  %*s  %-13s (stderr_tail in --json)\n", (int)strlen(t), "", "");
	unwatched_line(out, d, (int)strlen(t));
}

static void incidents_section(FILE *out, const struct cw_analysis *a, const struct paint *p,
			      int incidents)
{
	bool date = !cw_window_one_day(a);
	int shown = 0;

	if (!incidents)
		return;
	fprintf(out, "\nIncidents, oldest first:\n");
	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (!d->shown || !d->incident)
			continue;
		if (shown++ == MAX_INCIDENTS) {
			fprintf(out, "  ... and %d more (see --json)\n", incidents - MAX_INCIDENTS);
			break;
		}
		incident_line(out, d, p, date);
	}
}

/* deaths that explain nothing on their own: recycling, and children whose parent died
 * before the window */
static void not_incidents(FILE *out, const struct cw_analysis *a, const struct paint *p)
{
	int recycled = a->kinds[CW_K_RECYCLED], orphans = 0;

	for (int i = 0; i < a->ndeaths; i++)
		orphans += a->deaths[i].shown && a->deaths[i].kind == CW_K_PARENT_DIED &&
			   a->deaths[i].parent_death < 0;
	if (!recycled && !orphans)
		return;
	fprintf(out, "\n%sNot incidents:", p->dim);
	if (recycled)
		fprintf(out, " %d pool child%s recycled (exit 155).", recycled,
			recycled == 1 ? "" : "ren");
	if (orphans)
		fprintf(out, " %d pool child%s ended with a MainProcess outside the window.",
			orphans, orphans == 1 ? "" : "ren");
	fprintf(out, "%s\n", p->off);
}

static void other_oom_line(FILE *out, const struct cw_other_oom *o)
{
	char t[40];

	cw_fmt_clock(o->ts, false, t, sizeof(t));
	fprintf(out, "  %s  pid %lld (", t, (long long)o->pid);
	cw_text_safe(out, o->comm ? o->comm : "?");
	fputc(')', out);
	if (o->anon_rss_kb != CW_NONE)
		fprintf(out, " at %lld MiB anon RSS", (long long)(o->anon_rss_kb / 1024));
	if (o->cgroup && *o->cgroup) {
		fputs(" in cgroup ", out);
		cw_text_safe(out, o->cgroup);
	}
	fprintf(out, "\n");
}

/* OOM kills of processes we do not follow, in the window: context for the deaths */
static void other_ooms_section(FILE *out, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	int ctx = 0;

	for (int i = 0; i < in->tl->nother_ooms; i++) {
		const struct cw_other_oom *o = &in->tl->other_ooms[i];
		if (o->ts < a->from || o->ts > a->to)
			continue;
		if (!ctx++)
			fprintf(out, "\nOther OOM kills on the host (context, not Celery):\n");
		other_oom_line(out, o);
	}
}

/* what the reader should know the report could not see */
static void footer(FILE *out, const struct cw_report_in *in, const struct paint *p)
{
	const struct cw_analysis *a = in->a;
	bool sampled = false;

	for (int i = 0; i < a->nqueues; i++)
		sampled |= a->queues[i].depth_first != CW_NONE;
	if (a->nqueues && !sampled)
		fprintf(out, "\n%sNo queue depth samples in the window: record with --redis to see "
			"queues grow.%s\n", p->dim, p->off);
	if (in->skipped || a->lost_in_window) {
		fprintf(out, "\nCaution:");
		if (in->skipped)
			fprintf(out, " %ld unreadable log line%s skipped (reasons on stderr).",
				in->skipped, in->skipped == 1 ? "" : "s");
		if (a->lost_in_window)
			fprintf(out, " The recorder lost %lld event%s; deaths near them are uncertain.",
				(long long)a->lost_in_window, a->lost_in_window == 1 ? "" : "s");
		fprintf(out, "\n");
	}
}

int cw_report_text(FILE *out, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	struct paint p = paint(in->color);
	int incidents;

	if (a->from == CW_NONE) {
		fprintf(out, "No events in the log%s.\n", in->skipped ? " (all lines were skipped)" : "");
		return 0;
	}
	incidents = count_incidents(a);
	header(out, in, &p, incidents);
	queues_section(out, in);
	incidents_section(out, a, &p, incidents);
	not_incidents(out, a, &p);
	other_ooms_section(out, in);
	footer(out, in, &p);
	return ferror(out) ? -1 : 0;
}
