/* The --html report: one self-contained page (inline CSS and SVG, nothing fetched) with the
 * answer in words on top, then queue depth over time and each worker's life as bars with its
 * pool children below and deaths marked. Everything from the log is HTML-escaped. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/utf8.h"
#include "explain/report.h"

#define W 1200		/* svg width */
#define LEFT 250	/* room for row labels */
#define RIGHT 30
#define DEPTH_H 200
#define MAX_ROWS 60	/* workers drawn */
#define MAX_LANES 8	/* pool child lanes per worker */
#define MAX_POINTS 1500	/* per depth line */

/* red and orange are kept for queues in trouble, so a colour never contradicts a verdict */
static const char *const palette[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b",
				      "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

/* ---- escaping ---- */

void cw_html_escape(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s) {
		switch (*s) {
		case '&': fputs("&amp;", out); s++; continue;
		case '<': fputs("&lt;", out); s++; continue;
		case '>': fputs("&gt;", out); s++; continue;
		case '"': fputs("&quot;", out); s++; continue;
		case '\'': fputs("&#39;", out); s++; continue;
		}
		if ((*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f) {
			fputs("\xef\xbf\xbd", out);
			s++;
			continue;
		}
		size_t n = cw_utf8_decode(s, 4, NULL);
		if (!n) {
			fputs("\xef\xbf\xbd", out);
			s++;
			continue;
		}
		fwrite(s, 1, n, out);
		s += n;
	}
}

/* ---- geometry ---- */

struct geo {
	int64_t from, to;
	bool date;
};

static double xpos(const struct geo *g, int64_t t)
{
	double span = (double)(g->to - g->from);

	if (t < g->from)
		t = g->from;
	if (t > g->to)
		t = g->to;
	return LEFT + (span > 0 ? (double)(t - g->from) / span : 0) * (W - LEFT - RIGHT);
}

static void time_axis(FILE *o, const struct geo *g, double y0, double y1)
{
	char t[40];

	for (int i = 0; i <= 5; i++) {
		int64_t ts = g->from + (g->to - g->from) * i / 5;
		double x = xpos(g, ts);
		fprintf(o, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
			y0, x, y1);
		cw_fmt_clock(ts, g->date, t, sizeof(t));
		fprintf(o, "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			x, y1 + 14, t);
	}
}

/* ---- depth chart ---- */

static void depth_chart(FILE *o, const struct cw_report_in *in, const struct geo *g)
{
	const struct cw_timeline *tl = in->tl;
	const struct cw_analysis *a = in->a;
	int64_t maxd = 0;
	int top = 30, bottom = 30 + DEPTH_H;
	char num[32];

	for (int q = 0; q < a->nqueues; q++)
		if (a->queues[q].depth_first != CW_NONE && a->queues[q].depth_max > maxd)
			maxd = a->queues[q].depth_max;
	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"depth\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		"aria-label=\"queue depth over time\">\n", W, bottom + 40, W, bottom + 40);
	fprintf(o, "<text class=\"title\" x=\"%d\" y=\"18\">queue depth</text>\n", LEFT);
	if (!maxd) {
		fprintf(o, "<text class=\"note\" x=\"%d\" y=\"%d\">no depth samples in the window "
			"(record with --redis)</text>\n", LEFT + 10, top + DEPTH_H / 2);
		maxd = 1;
	}
	time_axis(o, g, top, bottom);
	for (int i = 0; i <= 2; i++) {
		double y = bottom - (double)DEPTH_H * i / 2;
		cw_fmt_count(maxd * i / 2, num, sizeof(num));
		fprintf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, num);
	}
	int shown = 0;
	for (int q = 0; q < a->nqueues; q++) {
		const struct cw_qverdict *v = &a->queues[q];
		const struct cw_tqueue *tq = NULL;
		for (int k = 0; k < tl->nqueues; k++)
			if (tl->queues[k].name == v->queue)
				tq = &tl->queues[k];
		const char *col = v->verdict == CW_NO_CONSUMER ? "#d62728" :
				  v->verdict == CW_DEGRADED ? "#ff7f0e" : palette[q % 8];
		/* legend */
		fprintf(o, "<g class=\"legend\"><rect x=\"10\" y=\"%d\" width=\"12\" height=\"12\" "
			"fill=\"%s\"/><text x=\"28\" y=\"%d\">", top + shown * 18, col,
			top + shown * 18 + 11);
		cw_html_escape(o, v->queue);
		fprintf(o, " (%s)</text></g>\n", cw_verdict_name(v->verdict));
		shown++;
		if (!tq || v->depth_first == CW_NONE)
			continue;
		int n = 0;
		for (int i = 0; i < tq->nsamples; i++)
			n += tq->samples[i].ts >= g->from && tq->samples[i].ts <= g->to;
		int stride = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1, k = 0;
		fprintf(o, "<polyline class=\"depth\" fill=\"none\" stroke=\"%s\" points=\"", col);
		for (int i = 0; i < tq->nsamples; i++) {
			const struct cw_depth_sample *s = &tq->samples[i];
			if (s->ts < g->from || s->ts > g->to)
				continue;
			if (k++ % stride && k != n)
				continue;
			fprintf(o, "%.1f,%.1f ", xpos(g, s->ts),
				bottom - (double)DEPTH_H * (double)s->depth / (double)maxd);
		}
		fprintf(o, "\"><title>");
		cw_html_escape(o, v->queue);
		fprintf(o, "</title></polyline>\n");
	}
	fprintf(o, "</svg>\n");
}

/* ---- worker lives ---- */

struct row {
	int proc;
	int nlanes;
};

static int cmp_by_parent(const void *x, const void *y, void *arg)
{
	const struct cw_tproc *procs = arg;
	const struct cw_tproc *a = &procs[*(const int *)x], *b = &procs[*(const int *)y];

	if (a->parent != b->parent)
		return a->parent - b->parent;
	return a->start_ts < b->start_ts ? -1 : a->start_ts > b->start_ts;
}

static int64_t clamp_end(const struct cw_tproc *p, const struct geo *g)
{
	return p->end_ts == CW_NONE || p->end_ts > g->to ? g->to : p->end_ts;
}

/* Width of a label, roughly, at 11px bold: enough to keep labels from overprinting. */
static double label_width(const struct cw_death *d)
{
	size_t n = strlen(cw_kind_name(d->kind)) + 1;

	if (d->signame)
		n += strlen(d->signame) + 1;
	if (d->has_sender)
		n += 16 + (d->sender.comm ? strlen(d->sender.comm) : 1);
	if (d->kind == CW_K_OOM_KILL && d->oom.cgroup)
		n += 4 + strlen(d->oom.cgroup);
	return (double)n * 6.6;
}

/* label_end: where the last label drawn on this row ends; a label that would overprint it
 * is left out (the mark keeps its tooltip, and the table below lists every death). */
static void death_mark(FILE *o, const struct cw_analysis *a, const struct cw_death *d,
		       const struct geo *g, double y, bool label, double *label_end)
{
	double x = xpos(g, d->ts);
	double w = label_width(d);
	bool right = x < W - 260;

	if (label && (right ? x + 8 : x - 8 - w) < *label_end)
		label = false;
	if (label)
		*label_end = right ? x + 8 + w : x;
	const char *cls = d->kind == CW_K_RECYCLED ? "recycled" :
			  d->incident ? "incident" : "follower";
	char t[40];

	(void)a;
	cw_fmt_clock(d->ts, g->date, t, sizeof(t));
	fprintf(o, "<g class=\"death %s\"><title>%s ", cls, t);
	cw_html_escape(o, d->summary);
	fprintf(o, "</title>");
	if (d->kind == CW_K_RECYCLED)
		fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, y - 3, x,
			y + 3);
	else
		fprintf(o, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\"/>", x, y - 5);
	if (label) {
		fprintf(o, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">%s",
			right ? x + 8 : x - 8, y - 6, right ? "start" : "end", cw_kind_name(d->kind));
		if (d->signame && d->kind != CW_K_OOM_KILL) {
			fputc(' ', o);
			cw_html_escape(o, d->signame);
		}
		/* a crash's "sender" is the process itself */
		if (d->has_sender && (d->kind == CW_K_SIGNAL || d->kind == CW_K_TIME_LIMIT ||
				      d->kind == CW_K_UNKNOWN)) {
			fprintf(o, " from ");
			cw_html_escape(o, d->sender.comm ? d->sender.comm : "?");
			fprintf(o, " (pid %lld)", (long long)d->sender.pid);
		}
		if (d->kind == CW_K_OOM_KILL && d->oom.cgroup) {
			fprintf(o, " in ");
			cw_html_escape(o, d->oom.cgroup);
		}
		fprintf(o, "</text>");
	}
	fprintf(o, "</g>\n");
}

static void pool_bar(FILE *o, double x0, double x1, double y)
{
	fprintf(o, "<rect class=\"pool\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"4\"/>\n",
		x0, y, x1 - x0 < 1 ? 1 : x1 - x0);
}

static int lives_chart(FILE *o, const struct cw_report_in *in, const struct geo *g)
{
	const struct cw_timeline *tl = in->tl;
	const struct cw_analysis *a = in->a;
	int n = tl->nprocs;
	int *kids = malloc(sizeof(int) * (size_t)(n + 1));
	int *lane = malloc(sizeof(int) * (size_t)(n + 1));
	int *rowof = malloc(sizeof(int) * (size_t)(n + 1));
	struct row rows[MAX_ROWS];
	int nrows = 0, nkids = 0, more = 0;

	if (!kids || !lane || !rowof) {
		free(kids);
		free(lane);
		free(rowof);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		const struct cw_tproc *p = &tl->procs[i];
		rowof[i] = lane[i] = -1;
		if (p->start_ts > g->to || (p->end_ts != CW_NONE && p->end_ts < g->from))
			continue;
		if ((p->role == CW_RL_MAIN || p->role == CW_RL_BEAT) && !p->handover &&
		    !p->detach) {
			if (nrows == MAX_ROWS) {
				more++;
				continue;
			}
			rowof[i] = nrows;
			rows[nrows++] = (struct row){i, 0};
		} else if (p->role == CW_RL_POOL && p->parent >= 0) {
			kids[nkids++] = i;
		}
	}
	/* pool children into lanes: a recycled child's successor reuses its lane */
	qsort_r(kids, (size_t)nkids, sizeof(int), cmp_by_parent, tl->procs);
	int64_t lane_end[MAX_LANES];
	for (int i = 0; i < nkids; i++) {
		const struct cw_tproc *p = &tl->procs[kids[i]];
		int r = rowof[p->parent];
		if (r < 0)
			continue;
		if (i == 0 || tl->procs[kids[i - 1]].parent != p->parent)
			for (int l = 0; l < MAX_LANES; l++)
				lane_end[l] = INT64_MIN;
		for (int l = 0; l < MAX_LANES; l++)
			if (lane_end[l] <= p->start_ts) {
				lane[kids[i]] = l;
				lane_end[l] = p->end_ts == CW_NONE ? INT64_MAX : p->end_ts;
				if (l + 1 > rows[r].nlanes)
					rows[r].nlanes = l + 1;
				break;
			}
	}
	double *rowy = malloc(sizeof(double) * (size_t)(nrows + 1));
	/* per row: [0] the worker's own bar, [1] its pool lanes (too close to label apart) */
	double *label_end = malloc(sizeof(double) * 2 * (size_t)(nrows + 1));
	if (!rowy || !label_end) {
		free(rowy);
		free(label_end);
		free(kids);
		free(lane);
		free(rowof);
		return -ENOMEM;
	}
	double y = 40;
	for (int r = 0; r < 2 * (nrows + 1); r++)
		label_end[r] = 0;
	for (int r = 0; r < nrows; r++) {
		rowy[r] = y;
		y += 30 + rows[r].nlanes * 7;
	}
	/* failed execs and queues that never had a worker get a row of their own */
	int orphans = 0;
	for (int i = 0; i < a->ndeaths; i++)
		orphans += a->deaths[i].shown && a->deaths[i].proc < 0;
	double orphan_y = y;
	if (orphans)
		y += 34;
	int height = (int)y + 30;

	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"lives\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		"aria-label=\"worker lives\">\n", W, height, W, height);
	fprintf(o, "<text class=\"title\" x=\"%d\" y=\"18\">worker lives (thin bars: pool "
		"processes)</text>\n", LEFT);
	time_axis(o, g, 26, y);
	for (int r = 0; r < nrows; r++) {
		const struct cw_tproc *p = &tl->procs[rows[r].proc];
		double x0 = xpos(g, p->start_ts), x1 = xpos(g, clamp_end(p, g));
		fprintf(o, "<g class=\"worker\"><text class=\"rowlabel\" x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">", LEFT - 6, rowy[r] + 9);
		cw_html_escape(o, p->worker ? p->worker : p->role == CW_RL_BEAT ? "beat" :
				  p->comm ? p->comm : "?");
		fprintf(o, " (pid %lld)</text>", (long long)p->pid);
		fprintf(o, "<rect class=\"main%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\">"
			"<title>", p->end_ts == CW_NONE ? " alive" : "", x0, rowy[r],
			x1 - x0 < 1 ? 1 : x1 - x0);
		cw_html_escape(o, p->cmdline ? p->cmdline : p->comm);
		fprintf(o, "</title></rect></g>\n");
	}
	/* children that follow each other within a pixel share one bar: a recycling pool has
	 * thousands of them */
	double seg0[MAX_LANES], seg1[MAX_LANES];
	int segrow = -1;
	for (int i = 0; i <= nkids; i++) {
		const struct cw_tproc *p = i < nkids ? &tl->procs[kids[i]] : NULL;
		int r = p ? rowof[p->parent] : -1;
		if (!p || r != segrow) {
			for (int l = 0; segrow >= 0 && l < MAX_LANES; l++)
				if (seg1[l] >= 0)
					pool_bar(o, seg0[l], seg1[l], rowy[segrow] + 14 + l * 7);
			for (int l = 0; l < MAX_LANES; l++)
				seg0[l] = seg1[l] = -1;
			segrow = r;
		}
		if (!p || r < 0 || lane[kids[i]] < 0)
			continue;
		int l = lane[kids[i]];
		double x0 = xpos(g, p->start_ts), x1 = xpos(g, clamp_end(p, g));
		if (seg1[l] >= 0 && x0 <= seg1[l] + 1) {
			if (x1 > seg1[l])
				seg1[l] = x1;
			continue;
		}
		if (seg1[l] >= 0)
			pool_bar(o, seg0[l], seg1[l], rowy[r] + 14 + l * 7);
		seg0[l] = x0;
		seg1[l] = x1;
	}
	/* a tick per recycled child only while they are few enough to see */
	bool ticks = a->kinds[CW_K_RECYCLED] <= 300;
	/* and one mark per few pixels of a pool lane: thousands would paint the row red */
	double *lane_x = malloc(sizeof(double) * (size_t)(nrows + 1) * MAX_LANES);
	if (!lane_x) {
		free(rowy);
		free(label_end);
		free(kids);
		free(lane);
		free(rowof);
		return -ENOMEM;
	}
	for (int k = 0; k < (nrows + 1) * MAX_LANES; k++)
		lane_x[k] = -100;
	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (!d->shown || (d->kind == CW_K_RECYCLED && !ticks))
			continue;
		if (d->proc < 0) {
			death_mark(o, a, d, g, orphan_y + 5, true, &label_end[2 * nrows]);
			continue;
		}
		const struct cw_tproc *p = &tl->procs[d->proc];
		int r;
		if ((r = rowof[d->proc]) >= 0)
			death_mark(o, a, d, g, rowy[r] + 5, true, &label_end[2 * r]);
		else if (p->parent >= 0 && lane[d->proc] >= 0 && (r = rowof[p->parent]) >= 0) {
			double *last = &lane_x[r * MAX_LANES + lane[d->proc]], x = xpos(g, d->ts);
			if (x - *last < 12)	/* a mark is 10 px wide */
				continue;
			*last = x;
			death_mark(o, a, d, g, rowy[r] + 16 + lane[d->proc] * 7, d->incident,
				   &label_end[2 * r + 1]);
		}
	}
	if (orphans)
		fprintf(o, "<text class=\"rowlabel\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">no "
			"process</text>\n", LEFT - 6, orphan_y + 9);
	if (more)
		fprintf(o, "<text class=\"note\" x=\"%d\" y=\"%d\">%d more workers not drawn</text>\n",
			LEFT, height - 4, more);
	fprintf(o, "</svg>\n");
	free(lane_x);
	free(rowy);
	free(label_end);
	free(kids);
	free(lane);
	free(rowof);
	return 0;
}

/* ---- page ---- */

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;"
	"color:#222;background:#fff}"
	"h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}"
	".window{color:#666;margin:0 0 16px}"
	"ul.answer{list-style:none;padding:0;margin:0}"
	"ul.answer li{padding:6px 10px;margin:4px 0;border-left:5px solid #2ca02c;"
	"background:#f4faf4;white-space:pre-wrap}"
	"ul.answer li.no_consumer{border-color:#d62728;background:#fdf3f3}"
	"ul.answer li.degraded{border-color:#ff9f0e;background:#fff8ee}"
	".chart{display:block;max-width:100%;height:auto;margin:8px 0}"
	".chart text{font:11px system-ui,sans-serif;fill:#333}"
	".chart .title{font-weight:bold;font-size:12px}"
	".chart .grid{stroke:#e4e4e4}.chart .tick{fill:#888}"
	".chart .note{fill:#888;font-style:italic}"
	".chart polyline.depth{stroke-width:2}"
	".chart rect.main{fill:#8fb3d9}.chart rect.main.alive{fill:#4e8ac8}"
	".chart rect.pool{fill:#b9cde3}"
	".death.incident path{fill:#d62728}.death.follower path{fill:#f0a0a0}"
	".death.recycled line{stroke:#999}"
	".death .label{fill:#b01c1c;font-weight:bold;paint-order:stroke;stroke:#fff;"
	"stroke-width:3px}"
	"table{border-collapse:collapse;width:100%}"
	"td,th{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}"
	"td.kind{font-family:monospace;white-space:nowrap}"
	"pre{white-space:pre-wrap;margin:4px 0 0;color:#555;font-size:12px}";

static int page(FILE *o, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	struct geo g = {a->from, a->to, !cw_window_one_day(a)};
	char t0[40], t1[40];

	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<title>celerywatch explain</title><style>%s</style></head><body>\n", css);
	fprintf(o, "<h1>celerywatch explain</h1>\n");
	if (a->from == CW_NONE) {
		fprintf(o, "<p>No events in the log.</p></body></html>\n");
		return ferror(o) ? -EIO : 0;
	}
	cw_fmt_clock(a->from, true, t0, sizeof(t0));
	cw_fmt_clock(a->to, true, t1, sizeof(t1));
	fprintf(o, "<p class=\"window\">%s → %s UTC · %d host%s · %d worker%s · %lld events",
		t0, t1, in->tl->nhosts, in->tl->nhosts == 1 ? "" : "s", a->nworkers,
		a->nworkers == 1 ? "" : "s", (long long)in->tl->events);
	if (a->lost_in_window)
		fprintf(o, " · %lld lost by the recorder", (long long)a->lost_in_window);
	if (in->skipped)
		fprintf(o, " · %ld unreadable lines skipped", in->skipped);
	fprintf(o, "</p>\n<ul class=\"answer\" id=\"answer\">\n");
	/* the words are the text report's, escaped */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < a->nqueues; i++) {
			const struct cw_qverdict *v = &a->queues[i];
			if ((v->verdict == CW_OK) != (pass == 1))
				continue;
			char *buf = NULL;
			size_t len = 0;
			FILE *m = open_memstream(&buf, &len);
			if (!m)
				return -ENOMEM;
			struct cw_report_in plain = *in;
			plain.color = false;
			cw_report_queue_line(m, &plain, v);
			fclose(m);
			if (len && buf[len - 1] == '\n')
				buf[len - 1] = 0;
			fprintf(o, "<li class=\"%s\">", cw_verdict_name(v->verdict));
			cw_html_escape(o, buf);
			fprintf(o, "</li>\n");
			free(buf);
		}
	fprintf(o, "</ul>\n<h2>Timeline</h2>\n");
	depth_chart(o, in, &g);
	if (lives_chart(o, in, &g))
		return -ENOMEM;

	fprintf(o, "<h2>Deaths</h2>\n<table id=\"deaths\"><tr><th>time (UTC)</th><th>kind</th>"
		"<th>what happened</th></tr>\n");
	int rows = 0, recycled = 0;
	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (!d->shown)
			continue;
		if (d->kind == CW_K_RECYCLED) {
			recycled++;
			continue;
		}
		if (++rows > 500)
			continue;
		cw_fmt_clock(d->ts, g.date, t0, sizeof(t0));
		fprintf(o, "<tr class=\"%s\"><td>%s</td><td class=\"kind\">%s</td><td>", 
			d->incident ? "incident" : "follower", t0, cw_kind_name(d->kind));
		cw_html_escape(o, d->summary);
		if (d->stderr_tail && d->kind == CW_K_EXIT_ERROR) {
			fprintf(o, "<pre>");
			cw_html_escape(o, d->stderr_tail);
			fprintf(o, "</pre>");
		}
		fprintf(o, "</td></tr>\n");
	}
	fprintf(o, "</table>\n");
	if (rows > 500)
		fprintf(o, "<p>%d more deaths not listed (see --json).</p>\n", rows - 500);
	if (recycled)
		fprintf(o, "<p>%d pool child%s recycled (exit 155), not listed.</p>\n", recycled,
			recycled == 1 ? "" : "ren");
	fprintf(o, "</body></html>\n");
	return ferror(o) ? -EIO : 0;
}

int cw_report_html(const char *path, const struct cw_report_in *in, char *err, size_t errlen)
{
	/* never write through a symlink someone planted at the output path */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == ELOOP ? "is a symbolic link; not following it" : strerror(errno));
		return -1;
	}
	FILE *o = fdopen(fd, "w");
	if (!o) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	int r = page(o, in);
	if (fclose(o) || r) {
		snprintf(err, errlen, "%s: %s", path, r == -ENOMEM ? "out of memory" :
			 "write error");
		return -1;
	}
	return 0;
}
