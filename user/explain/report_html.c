/* The --html report: one self-contained page (inline CSS and SVG, nothing fetched) with the
 * answer in words on top, then the charts (report_chart.c), then every death in a table.
 * Everything from the log is HTML-escaped. The page replaces OUT only when OUT is ours to
 * replace, and only once it is written whole. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "explain/report.h"
#include "explain/report_chart.h"

#define MAX_TABLE_ROWS 500	/* deaths listed; --json has them all */

/* ---- escaping ---- */


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
	"ul.answer li.flapping{border-color:#d62728;background:#fdf3f3}"
	"ul.answer li.degraded{border-color:#ff9f0e;background:#fff8ee}"
	"ul.answer li.stalled{border-color:#d62728;background:#fdf3f3}"
	"ul.answer li.saturated{border-color:#ff9f0e;background:#fff8ee}"
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

/* the window, how much was seen, and what might be missing */
static void window_line(FILE *o, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	char t0[40], t1[40];

	cw_fmt_clock(a->from, true, t0, sizeof(t0));
	cw_fmt_clock(a->to, true, t1, sizeof(t1));
	fprintf(o, "<p class=\"window\">%s → %s UTC · %d host%s · %d worker%s · %lld events",
		t0, t1, in->tl->nhosts, in->tl->nhosts == 1 ? "" : "s", a->nworkers,
		a->nworkers == 1 ? "" : "s", (long long)in->tl->events);
	if (a->lost_in_window)
		fprintf(o, " · %lld lost by the recorder", (long long)a->lost_in_window);
	if (in->skipped)
		fprintf(o, " · %ld unreadable lines skipped", in->skipped);
	fprintf(o, "</p>\n");
}

/* one queue's line: the text report's words, without colour, escaped */
static int answer_item(FILE *o, const struct cw_report_in *plain, const struct cw_qverdict *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);

	if (!m)
		return -ENOMEM;
	cw_report_queue_line(m, plain, v);
	cw_consumer_lines(m, plain, v);	/* not connected, starting, duplicates */
	fclose(m);
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = 0;
	fprintf(o, "<li class=\"%s\">", cw_verdict_name(v->verdict));
	cw_html_escape(o, buf);
	fprintf(o, "</li>\n");
	free(buf);
	return 0;
}

/* the answer first, as in the text report: troubled queues, then healthy ones */
static int answer_list(FILE *o, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	struct cw_report_in plain = *in;

	plain.color = false;
	fprintf(o, "<ul class=\"answer\" id=\"answer\">\n");
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < a->nqueues; i++) {
			const struct cw_qverdict *v = &a->queues[i];
			if ((v->verdict == CW_OK) != (pass == 1))
				continue;
			if (answer_item(o, &plain, v))
				return -ENOMEM;
		}
	fprintf(o, "</ul>\n");
	return 0;
}

static void death_row(FILE *o, const struct cw_death *d, bool date)
{
	char t[40];

	cw_fmt_clock(d->ts, date, t, sizeof(t));
	fprintf(o, "<tr class=\"%s\"><td>%s</td><td class=\"kind\">%s</td><td>",
		d->incident ? "incident" : "follower", t, cw_kind_name(d->kind));
	cw_html_escape(o, d->summary);
	if (d->stderr_tail && d->kind == CW_K_EXIT_ERROR) {
		fprintf(o, "<pre>");
		cw_html_escape(o, d->stderr_tail);
		fprintf(o, "</pre>");
	}
	fprintf(o, "</td></tr>\n");
}

/* every shown death but the recycled children, which are only counted */
static void deaths_table(FILE *o, const struct cw_analysis *a, bool date)
{
	int rows = 0, recycled = a->kinds[CW_K_RECYCLED];

	fprintf(o, "<h2>Deaths</h2>\n<table id=\"deaths\"><tr><th>time (UTC)</th><th>kind</th>"
		"<th>what happened</th></tr>\n");
	for (int i = 0; i < a->ndeaths; i++) {
		const struct cw_death *d = &a->deaths[i];
		if (!d->shown)
			continue;
		if (d->kind == CW_K_RECYCLED)
			continue;
		if (++rows <= MAX_TABLE_ROWS)
			death_row(o, d, date);
	}
	fprintf(o, "</table>\n");
	if (rows > MAX_TABLE_ROWS)
		fprintf(o, "<p>%d more deaths not listed (see --json).</p>\n",
			rows - MAX_TABLE_ROWS);
	if (recycled)
		fprintf(o, "<p>%d pool child%s recycled (exit 155), not listed.</p>\n", recycled,
			recycled == 1 ? "" : "ren");
}

static int page(FILE *o, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;

	fprintf(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		"<meta name=\"viewport\" content=\"width=device-width\">"
		"<title>celerywatch explain</title><style>%s</style></head><body>\n", css);
	fprintf(o, "<h1>celerywatch explain</h1>\n");
	if (a->from == CW_NONE) {
		fprintf(o, "<p>No events in the log.</p></body></html>\n");
		return ferror(o) ? -EIO : 0;
	}
	window_line(o, in);
	if (answer_list(o, in))
		return -ENOMEM;
	fprintf(o, "<h2>Timeline</h2>\n");
	if (cw_html_charts(o, in))
		return -ENOMEM;
	deaths_table(o, a, !cw_window_one_day(a));
	fprintf(o, "</body></html>\n");
	return ferror(o) ? -EIO : 0;
}

/* An existing page may be replaced only if it is a regular file of ours (or root's) with one
 * name: someone else's file, a second name for a file elsewhere, a FIFO or a device are not
 * ours to overwrite. A missing path is fine. Returns 0, or -1 with a sentence in err. */
static int check_target(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		snprintf(err, errlen, "%s is a symbolic link; not following it", path);
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file; not replacing it", path);
	} else if (st.st_uid != 0 && st.st_uid != getuid()) {
		snprintf(err, errlen, "%s belongs to uid %u, not to us; not replacing it", path,
			 (unsigned)st.st_uid);
	} else if (st.st_nlink > 1) {
		snprintf(err, errlen, "%s has %lu hard links; not replacing it", path,
			 (unsigned long)st.st_nlink);
	} else {
		return 0;
	}
	return -1;
}

/* A new file beside path (same file system, so the final rename() is atomic), mode 0640
 * whatever the umask: the page holds command lines and stderr tails from a 0640 log.
 * mkostemp creates it O_EXCL, so nothing planted at that name is followed or reused. */
static FILE *open_temp(const char *path, char *tmp, size_t tmplen, char *err, size_t errlen)
{
	FILE *o = NULL;
	int fd;

	if (snprintf(tmp, tmplen, "%s.XXXXXX", path) >= (int)tmplen) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(ENAMETOOLONG));
		return NULL;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create a temporary file beside %s: %s", path,
			 strerror(errno));
		return NULL;
	}
	if (fchmod(fd, 0640) == 0)
		o = fdopen(fd, "w");
	if (!o) {
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
		close(fd);
		unlink(tmp);
	}
	return o;
}

/* Write the page to a temporary file beside path, then rename() it over path: a failed run
 * leaves the old page whole, and rename() replaces a name, never writes through it. */
int cw_report_html(const char *path, const struct cw_report_in *in, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	FILE *o;
	int r;

	if (check_target(path, err, errlen))
		return -1;
	o = open_temp(path, tmp, sizeof(tmp), err, errlen);
	if (!o)
		return -1;
	r = page(o, in);
	if (r == -EIO && errno)
		r = -errno;	/* what the failed write said (ENOSPC, EFBIG) beats "I/O error" */
	if (!r && (fflush(o) || fsync(fileno(o))))
		r = -errno;
	if (fclose(o) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		snprintf(err, errlen, "cannot write %s: %s", path, strerror(-r));
		return -1;
	}
	return 0;
}
