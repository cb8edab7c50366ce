/* The SVG charts of the --html report: queue depth over time, one line per queue, and each
 * worker's life as a bar with its pool children in thin lanes below and deaths marked.
 * Everything from the log is HTML-escaped. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain/report_chart.h"

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

static void svg_open(FILE *o, const char *id, int height, const char *label, const char *title)
{
	fprintf(o, "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" id=\"%s\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
		"aria-label=\"%s\">\n", id, W, height, W, height, label);
	fprintf(o, "<text class=\"title\" x=\"%d\" y=\"18\">%s</text>\n", LEFT, title);
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

#define DEPTH_TOP 30
#define DEPTH_BOTTOM (DEPTH_TOP + DEPTH_H)

static int64_t depth_max(const struct cw_analysis *a)
{
	int64_t maxd = 0;

	for (int q = 0; q < a->nqueues; q++)
		if (a->queues[q].depth_first != CW_NONE && a->queues[q].depth_max > maxd)
			maxd = a->queues[q].depth_max;
	return maxd;
}

/* the depth scale: 0, half and the maximum */
static void depth_grid(FILE *o, int64_t maxd)
{
	char num[32];

	for (int i = 0; i <= 2; i++) {
		double y = DEPTH_BOTTOM - (double)DEPTH_H * i / 2;
		cw_fmt_count(maxd * i / 2, num, sizeof(num));
		fprintf(o, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>"
			"<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, num);
	}
}

static const char *queue_colour(const struct cw_qverdict *v, int q)
{
	return v->verdict == CW_NO_CONSUMER || v->verdict == CW_FLAPPING ||
	       v->verdict == CW_STALLED ? "#d62728" :
	       v->verdict == CW_DEGRADED || v->verdict == CW_SATURATED ? "#ff7f0e" : palette[q % 8];
}

static void legend_entry(FILE *o, const struct cw_qverdict *v, const char *col, int y)
{
	fprintf(o, "<g class=\"legend\"><rect x=\"10\" y=\"%d\" width=\"12\" height=\"12\" "
		"fill=\"%s\"/><text x=\"28\" y=\"%d\">", y, col, y + 11);
	cw_html_escape(o, v->queue);
	fprintf(o, " (%s)</text></g>\n", cw_verdict_name(v->verdict));
}

/* queue names are interned: the same name is the same pointer */
static const struct cw_tqueue *find_tqueue(const struct cw_timeline *tl, const char *name)
{
	const struct cw_tqueue *tq = NULL;

	for (int k = 0; k < tl->nqueues; k++)
		if (tl->queues[k].name == name)
			tq = &tl->queues[k];
	return tq;
}

/* The samples inside the window, thinned to about MAX_POINTS; the last is always drawn. */
static void depth_line(FILE *o, const struct cw_tqueue *tq, const char *col, int64_t maxd,
		       const struct geo *g)
{
	int n = 0, stride, k = 0;

	for (int i = 0; i < tq->nsamples; i++)
		n += tq->samples[i].ts >= g->from && tq->samples[i].ts <= g->to;
	stride = n > MAX_POINTS ? (n + MAX_POINTS - 1) / MAX_POINTS : 1;
	fprintf(o, "<polyline class=\"depth\" fill=\"none\" stroke=\"%s\" points=\"", col);
	for (int i = 0; i < tq->nsamples; i++) {
		const struct cw_depth_sample *s = &tq->samples[i];
		if (s->ts < g->from || s->ts > g->to)
			continue;
		if (k++ % stride && k != n)
			continue;
		fprintf(o, "%.1f,%.1f ", xpos(g, s->ts),
			DEPTH_BOTTOM - (double)DEPTH_H * (double)s->depth / (double)maxd);
	}
	fprintf(o, "\"><title>");
	cw_html_escape(o, tq->name);
	fprintf(o, "</title></polyline>\n");
}

/* Periods behind the depth lines: gaps (no consumer) and stalls, each with a tooltip. */
#define GAP_FILL "#d62728"
#define STALL_FILL "#e6ab02"	/* in no queue's palette */

static void shade(FILE *o, const struct geo *g, int64_t from, int64_t to, const char *fill,
		  const char *cls, const char *what, const char *queue)
{
	double x0 = xpos(g, from), x1 = xpos(g, to == CW_NONE ? g->to : to);

	if (x1 - x0 < 1)
		x1 = x0 + 1;	/* a short one still shows */
	fprintf(o, "<rect class=\"%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\" fill-opacity=\"0.15\"><title>", cls, x0, DEPTH_TOP, x1 - x0, DEPTH_H,
		fill);
	cw_html_escape(o, queue);
	fprintf(o, ": %s</title></rect>\n", what);
}

/* Returns bit 0 when a gap was drawn, bit 1 when a stall was. */
static int shade_periods(FILE *o, const struct cw_analysis *a, const struct geo *g)
{
	int drawn = 0;

	for (int q = 0; q < a->nqueues; q++) {
		const struct cw_qverdict *v = &a->queues[q];
		for (int i = 0; i < v->ngaps; i++) {
			if (v->gaps[i].to != CW_NONE && v->gaps[i].to < g->from)
				continue;
			shade(o, g, v->gaps[i].from, v->gaps[i].to, GAP_FILL, "gap", "no consumer",
			      v->queue);
			drawn |= 1;
		}
		if (v->stalled) {
			shade(o, g, v->stall.since, CW_NONE, STALL_FILL, "stall", "stalled", v->queue);
			drawn |= 2;
		}
		for (int i = 0; i < v->nstalls; i++) {
			shade(o, g, v->stalls[i].from, v->stalls[i].to, STALL_FILL, "stall", "stalled",
			      v->queue);
			drawn |= 2;
		}
	}
	return drawn;
}

static void shade_legend(FILE *o, int drawn, int y)
{
	static const char *const fills[] = {GAP_FILL, STALL_FILL};
	static const char *const names[] = {"shaded: no consumer (gap)", "shaded: stalled"};

	for (int k = 0; k < 2; k++) {
		if (!(drawn & (1 << k)))
			continue;
		fprintf(o, "<g class=\"legend\"><rect x=\"10\" y=\"%d\" width=\"12\" "
			"height=\"12\" fill=\"%s\" fill-opacity=\"0.3\"/><text x=\"28\" "
			"y=\"%d\">%s</text></g>\n", y, fills[k], y + 11, names[k]);
		y += 18;
	}
}

static void depth_chart(FILE *o, const struct cw_report_in *in, const struct geo *g)
{
	const struct cw_analysis *a = in->a;
	int64_t maxd = depth_max(a);

	svg_open(o, "depth", DEPTH_BOTTOM + 40, "queue depth over time", "queue depth");
	if (!maxd) {
		fprintf(o, "<text class=\"note\" x=\"%d\" y=\"%d\">no depth samples in the window "
			"(record with --redis)</text>\n", LEFT + 10, DEPTH_TOP + DEPTH_H / 2);
		maxd = 1;
	}
	time_axis(o, g, DEPTH_TOP, DEPTH_BOTTOM);
	depth_grid(o, maxd);
	shade_legend(o, shade_periods(o, a, g), DEPTH_TOP + a->nqueues * 18);
	for (int q = 0; q < a->nqueues; q++) {
		const struct cw_qverdict *v = &a->queues[q];
		const struct cw_tqueue *tq = find_tqueue(in->tl, v->queue);
		const char *col = queue_colour(v, q);

		legend_entry(o, v, col, DEPTH_TOP + q * 18);
		if (tq && v->depth_first != CW_NONE)
			depth_line(o, tq, col, maxd, g);
	}
	fprintf(o, "</svg>\n");
}

/* ---- worker lives ---- */

struct row {
	int proc;
	int nlanes;
};

/* What the lives chart works out before it draws. Rows are at most MAX_ROWS plus the row
 * of deaths without a process, so only the per-process arrays are allocated. */
/* A pool child's life: a process, or a folded recycled child (timeline_fold.h). */
struct kid {
	int proc;		/* index in tl->procs, or -1 when folded */
	int parent;		/* index in tl->procs */
	int lane;		/* under its parent's row, or -1 */
	long born;		/* creation order: ties in start time */
	int64_t start_ts, end_ts;
};

struct lives {
	const struct cw_timeline *tl;
	const struct cw_analysis *a;
	const struct geo *g;
	struct kid *kids;	/* pool children, by parent then start once lanes are given */
	int *lane;		/* per process: its pool lane under its parent's row, or -1 */
	int *rowof;		/* per process: its row, or -1 */
	int nkids, nrows, more;	/* more: workers beyond MAX_ROWS, not drawn */
	struct row rows[MAX_ROWS];
	double rowy[MAX_ROWS];
	/* per row: [0] the worker's own bar, [1] its pool lanes (too close to label apart);
	 * the no-process row last */
	double label_end[2 * (MAX_ROWS + 1)];
	double lane_x[MAX_ROWS * MAX_LANES];	/* the last mark drawn on each lane */
	int orphans;		/* deaths with no process */
	double orphan_y, axis_y;
	int height;
};

static int cmp_by_parent(const void *x, const void *y)
{
	const struct kid *a = x, *b = y;

	if (a->parent != b->parent)
		return a->parent - b->parent;
	if (a->start_ts != b->start_ts)
		return a->start_ts < b->start_ts ? -1 : 1;
	return a->born < b->born ? -1 : a->born > b->born;
}

static int64_t clamp_end(int64_t end_ts, const struct geo *g)
{
	return end_ts == CW_NONE || end_ts > g->to ? g->to : end_ts;
}

/* the folded children in the window, as kids */
static void pick_folded(struct lives *l)
{
	const struct cw_timeline *tl = l->tl;

	for (int k = 0; k < tl->nfolded; k++) {
		const struct cw_folded *f = &tl->folded[k];
		int par = tl->fprofs[f->profile].parent;
		if (par < 0 || f->start_ts > l->g->to || f->end_ts < l->g->from)
			continue;
		l->kids[l->nkids++] = (struct kid){-1, par, -1, f->born, f->start_ts, f->end_ts};
	}
}

/* Workers alive in the window get a row each; pool children are kept for lanes below. */
static void pick_rows(struct lives *l)
{
	for (int i = 0; i < l->tl->nprocs; i++) {
		const struct cw_tproc *p = &l->tl->procs[i];
		l->rowof[i] = l->lane[i] = -1;
		if (p->start_ts > l->g->to || (p->end_ts != CW_NONE && p->end_ts < l->g->from))
			continue;
		if ((p->role == CW_RL_MAIN || p->role == CW_RL_BEAT) && !p->handover &&
		    !p->detach) {
			if (l->nrows == MAX_ROWS) {
				l->more++;
				continue;
			}
			l->rowof[i] = l->nrows;
			l->rows[l->nrows++] = (struct row){i, 0};
		} else if (p->role == CW_RL_POOL && p->parent >= 0) {
			l->kids[l->nkids++] = (struct kid){i, p->parent, -1, p->born, p->start_ts,
							   p->end_ts};
		}
	}
	pick_folded(l);
}

/* pool children into lanes: a recycled child's successor reuses its lane */
static void assign_lanes(struct lives *l)
{
	int64_t lane_end[MAX_LANES];

	qsort(l->kids, (size_t)l->nkids, sizeof(*l->kids), cmp_by_parent);
	for (int i = 0; i < l->nkids; i++) {
		struct kid *p = &l->kids[i];
		int r = l->rowof[p->parent];
		if (r < 0)
			continue;
		if (i == 0 || l->kids[i - 1].parent != p->parent)
			for (int k = 0; k < MAX_LANES; k++)
				lane_end[k] = INT64_MIN;
		for (int k = 0; k < MAX_LANES; k++)
			if (lane_end[k] <= p->start_ts) {
				p->lane = k;
				if (p->proc >= 0)
					l->lane[p->proc] = k;
				lane_end[k] = p->end_ts == CW_NONE ? INT64_MAX : p->end_ts;
				if (k + 1 > l->rows[r].nlanes)
					l->rows[r].nlanes = k + 1;
				break;
			}
	}
}

/* rows top down, each as tall as its lanes need, then the no-process row if any */
static void layout(struct lives *l)
{
	double y = 40;

	for (int r = 0; r < l->nrows; r++) {
		l->rowy[r] = y;
		y += 30 + l->rows[r].nlanes * 7;
	}
	/* failed execs and queues that never had a worker get a row of their own */
	for (int i = 0; i < l->a->ndeaths; i++)
		l->orphans += l->a->deaths[i].shown && l->a->deaths[i].proc < 0 &&
			      !l->a->deaths[i].folded;
	l->orphan_y = y;
	if (l->orphans)
		y += 34;
	l->axis_y = y;
	l->height = (int)y + 30;
	for (int k = 0; k < MAX_ROWS * MAX_LANES; k++)
		l->lane_x[k] = -100;
}

static void worker_row(FILE *o, const struct lives *l, int r)
{
	const struct cw_tproc *p = &l->tl->procs[l->rows[r].proc];
	double x0 = xpos(l->g, p->start_ts), x1 = xpos(l->g, clamp_end(p->end_ts, l->g));

	fprintf(o, "<g class=\"worker\"><text class=\"rowlabel\" x=\"%d\" y=\"%.1f\" "
		"text-anchor=\"end\">", LEFT - 6, l->rowy[r] + 9);
	cw_html_escape(o, p->worker ? p->worker : p->role == CW_RL_BEAT ? "beat" :
			  p->comm ? p->comm : "?");
	fprintf(o, " (pid %lld)</text>", (long long)p->pid);
	fprintf(o, "<rect class=\"main%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"10\">"
		"<title>", p->end_ts == CW_NONE ? " alive" : "", x0, l->rowy[r],
		x1 - x0 < 1 ? 1 : x1 - x0);
	cw_html_escape(o, p->cmdline ? p->cmdline : p->comm);
	fprintf(o, "</title></rect></g>\n");
}

static void pool_bar(FILE *o, double x0, double x1, double y)
{
	fprintf(o, "<rect class=\"pool\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"4\"/>\n",
		x0, y, x1 - x0 < 1 ? 1 : x1 - x0);
}

/* Children that follow each other within a pixel share one bar: a recycling pool has
 * thousands of them. seg0/seg1 hold the open bar of each lane of the current row. */
static void pool_bars(FILE *o, const struct lives *l)
{
	double seg0[MAX_LANES], seg1[MAX_LANES];
	int segrow = -1;

	for (int i = 0; i <= l->nkids; i++) {
		const struct kid *p = i < l->nkids ? &l->kids[i] : NULL;
		int r = p ? l->rowof[p->parent] : -1;
		if (!p || r != segrow) {
			for (int k = 0; segrow >= 0 && k < MAX_LANES; k++)
				if (seg1[k] >= 0)
					pool_bar(o, seg0[k], seg1[k], l->rowy[segrow] + 14 + k * 7);
			for (int k = 0; k < MAX_LANES; k++)
				seg0[k] = seg1[k] = -1;
			segrow = r;
		}
		if (!p || r < 0 || p->lane < 0)
			continue;
		int k = p->lane;
		double x0 = xpos(l->g, p->start_ts), x1 = xpos(l->g, clamp_end(p->end_ts, l->g));
		if (seg1[k] >= 0 && x0 <= seg1[k] + 1) {
			if (x1 > seg1[k])
				seg1[k] = x1;
			continue;
		}
		if (seg1[k] >= 0)
			pool_bar(o, seg0[k], seg1[k], l->rowy[r] + 14 + k * 7);
		seg0[k] = x0;
		seg1[k] = x1;
	}
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

/* the words beside a mark: kind, signal, who sent it, which cgroup */
static void death_label(FILE *o, const struct cw_death *d, double x, double y, bool right)
{
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

/* label_end: where the last label drawn on this row ends; a label that would overprint it
 * is left out (the mark keeps its tooltip, and the table below lists every death). */
static void death_mark(FILE *o, const struct cw_death *d, const struct geo *g, double y,
		       bool label, double *label_end)
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

	cw_fmt_clock(d->ts, g->date, t, sizeof(t));
	fprintf(o, "<g class=\"death %s\"><title>%s ", cls, t);
	cw_html_escape(o, d->summary);
	fprintf(o, "</title>");
	if (d->kind == CW_K_RECYCLED)
		fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, y - 3, x,
			y + 3);
	else
		fprintf(o, "<path d=\"M%.1f %.1fl5 5l-5 5l-5 -5z\"/>", x, y - 5);
	if (label)
		death_label(o, d, x, y, right);
	fprintf(o, "</g>\n");
}

/* A death on a worker's bar, on a pool lane below it, or in the no-process row. */
static void death_marks(FILE *o, struct lives *l)
{
	const struct cw_analysis *a = l->a;
	/* a tick per recycled child only while they are few enough to see */
	bool ticks = a->kinds[CW_K_RECYCLED] <= 300;

	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (!d->shown || d->folded || (d->kind == CW_K_RECYCLED && !ticks))
			continue;
		if (d->proc < 0) {
			death_mark(o, d, l->g, l->orphan_y + 5, true, &l->label_end[2 * l->nrows]);
			continue;
		}
		const struct cw_tproc *p = &l->tl->procs[d->proc];
		int r, k = l->lane[d->proc];
		if ((r = l->rowof[d->proc]) >= 0) {
			death_mark(o, d, l->g, l->rowy[r] + 5, true, &l->label_end[2 * r]);
		} else if (p->parent >= 0 && k >= 0 && (r = l->rowof[p->parent]) >= 0) {
			/* one mark per few pixels of a lane: thousands would paint the row red */
			double *last = &l->lane_x[r * MAX_LANES + k], x = xpos(l->g, d->ts);
			if (x - *last < 12)	/* a mark is 10 px wide */
				continue;
			*last = x;
			death_mark(o, d, l->g, l->rowy[r] + 16 + k * 7, d->incident,
				   &l->label_end[2 * r + 1]);
		}
	}
}

static void lives_notes(FILE *o, const struct lives *l)
{
	if (l->orphans)
		fprintf(o, "<text class=\"rowlabel\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">no "
			"process</text>\n", LEFT - 6, l->orphan_y + 9);
	if (l->more)
		fprintf(o, "<text class=\"note\" x=\"%d\" y=\"%d\">%d more workers not drawn</text>\n",
			LEFT, l->height - 4, l->more);
}

static int lives_chart(FILE *o, const struct cw_report_in *in, const struct geo *g)
{
	struct lives l = {.tl = in->tl, .a = in->a, .g = g};
	size_t n = (size_t)in->tl->nprocs + 1;
	int err = -ENOMEM;

	l.kids = malloc(sizeof(*l.kids) * (n + (size_t)in->tl->nfolded));
	l.lane = malloc(sizeof(int) * n);
	l.rowof = malloc(sizeof(int) * n);
	if (!l.kids || !l.lane || !l.rowof)
		goto out;
	pick_rows(&l);
	assign_lanes(&l);
	layout(&l);

	svg_open(o, "lives", l.height, "worker lives", "worker lives (thin bars: pool processes)");
	time_axis(o, g, 26, l.axis_y);
	for (int r = 0; r < l.nrows; r++)
		worker_row(o, &l, r);
	pool_bars(o, &l);
	death_marks(o, &l);
	lives_notes(o, &l);
	fprintf(o, "</svg>\n");
	err = 0;
out:
	free(l.kids);
	free(l.lane);
	free(l.rowof);
	return err;
}

int cw_html_charts(FILE *o, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	struct geo g = {a->from, a->to, !cw_window_one_day(a)};

	depth_chart(o, in, &g);
	return lives_chart(o, in, &g);
}
