/* See watch_view.h. */
#include "cli/watch_view.h"

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/sanitize.h"
#include "common/timeutil.h"
#include "explain/report.h"

#define MAX_QUEUE_ROWS 16

static void term_size(struct cw_view *v)
{
	struct winsize ws;

	v->rows = 24;
	v->cols = 80;
	if (ioctl(fileno(v->out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 4) {
		v->rows = ws.ws_row;
		v->cols = ws.ws_col;
	}
}

void cw_view_init(struct cw_view *v, FILE *out)
{
	memset(v, 0, sizeof(*v));
	v->out = out;
	v->tty = isatty(fileno(out));
	v->color = cw_want_color(out);
	if (v->tty) {
		term_size(v);
		fputs("\033[2J\033[H", out);	/* a clean screen: the header goes on top */
	}
}

static const char *verdict_colour(const struct cw_view *v, enum cw_verdict vd)
{
	if (!v->color)
		return "";
	return vd == CW_OK ? "\033[32m" : vd == CW_DEGRADED || vd == CW_SATURATED ? "\033[33m" :
	       "\033[1;31m";
}

static void queue_row(struct cw_view *v, const struct cw_qverdict *q)
{
	char depth[32] = "-", trend[32] = "", name[64];

	if (q->depth_last != CW_NONE)
		cw_fmt_count(q->depth_last, depth, sizeof(depth));
	if (q->has_growth)
		snprintf(trend, sizeof(trend), "%+.0f/min", q->growth_per_min);
	cw_text_sanitize(name, sizeof(name), q->queue);
	fprintf(v->out, "\033[2K%-24.24s %10s %10s %9d  %s%s%s\n", name, depth, trend,
		q->consumers_now, verdict_colour(v, q->verdict), cw_verdict_name(q->verdict),
		v->color ? "\033[0m" : "");
}

void cw_view_header(struct cw_view *v, const struct cw_engine *e, const char *source)
{
	const struct cw_analysis *a = cw_engine_analysis(e);
	int nq = a ? a->nqueues : 0, shown = nq < MAX_QUEUE_ROWS ? nq : MAX_QUEUE_ROWS;
	char safe[256];

	if (!v->tty)
		return;
	term_size(v);
	int rows = shown + 3 + (nq > shown);
	if (rows != v->header_rows) {
		/* the incidents scroll below the header only */
		fprintf(v->out, "\0337\033[%d;%dr\0338", rows + 1, v->rows);
		v->header_rows = rows;
	}
	fputs("\0337\033[H", v->out);	/* save the cursor, draw at the top */
	fprintf(v->out, "\033[2K%scelerywatch watch%s  %s\n", v->color ? "\033[1m" : "",
		v->color ? "\033[0m" : "", cw_text_sanitize(safe, sizeof(safe), source));
	fprintf(v->out, "\033[2K%-24s %10s %10s %9s  %s\n", "QUEUE", "DEPTH", "TREND",
		"CONSUMERS", "VERDICT");
	for (int i = 0; i < shown; i++)
		queue_row(v, &a->queues[i]);
	if (nq > shown)
		fprintf(v->out, "\033[2K... and %d more queues\n", nq - shown);
	fprintf(v->out, "\033[2K%.*s\n", v->cols < 200 ? v->cols : 200,
		"----------------------------------------------------------------------------------------------------"
		"----------------------------------------------------------------------------------------------------");
	fputs("\0338", v->out);	/* back to the incidents */
	fflush(v->out);
}

void cw_view_incident(struct cw_view *v, const struct cw_incident *inc)
{
	char t[40];
	const char *col = !v->color ? "" : inc->priority <= 3 ? "\033[1;31m" :
			  inc->verdict && !strcmp(inc->verdict, "ok") ? "\033[32m" : "\033[33m";

	cw_format_ts(inc->ts, t, sizeof(t));
	if (v->tty && v->header_rows)
		fprintf(v->out, "\033[%d;1H", v->rows);	/* the bottom of the scroll region */
	fprintf(v->out, "%s %s%-11s%s ", t, col, cw_incident_kind_name(inc->kind),
		v->color ? "\033[0m" : "");
	cw_text_safe(v->out, inc->summary);
	fputc('\n', v->out);
	fflush(v->out);
}

void cw_view_end(struct cw_view *v)
{
	if (v->tty && v->header_rows)
		fprintf(v->out, "\033[r\033[%d;1H\n", v->rows);
	fflush(v->out);
}
