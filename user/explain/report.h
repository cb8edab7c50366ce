/* The three renderings of an analysis (text for people, JSON for programs, HTML for a
 * picture) and the small formatting helpers they share. */
#ifndef CW_REPORT_H
#define CW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "explain/causes.h"
#include "explain/timeline.h"

struct cw_report_in {
	const struct cw_timeline *tl;
	const struct cw_analysis *a;
	long skipped;		/* log lines skipped as unreadable */
	bool color;		/* ANSI colours (text only) */
};

/* report_text.c */
/* Log-derived strings (argv, comm, cgroup, queue and worker names, stderr tails, summaries
 * built from them) are attacker-chosen: in text output they go through these, never raw.
 * Control characters become visible escapes: \n \r \t \e (ESC), \xNN (other C0, DEL),
 * \u0080-\u009f (C1, CSI U+009B among them) and \u2028/\u2029/bidi controls; bytes that are
 * not valid UTF-8 become \xNN. Valid UTF-8 and backslashes are kept as they are. Our own colour
 * codes are printed outside these. */
void cw_text_safe(FILE *out, const char *s);
/* The same into a buffer (always NUL-terminated, cut only between whole escapes or
 * characters). Returns out. */
char *cw_text_sanitize(char *out, size_t len, const char *s);
int cw_report_text(FILE *out, const struct cw_report_in *in);
/* one line per queue, answer first, for status too */
void cw_report_queue_line(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v);
/* "12:03:11" when the window is one UTC day, else "2026-11-24 12:03:11" */
void cw_fmt_clock(int64_t us, bool with_date, char *out, size_t len);
bool cw_window_one_day(const struct cw_analysis *a);
/* 19334 -> "19,334" */
void cw_fmt_count(int64_t n, char *out, size_t len);
/* Colour if out is a terminal and NO_COLOR is unset or empty. */
bool cw_want_color(FILE *out);

/* report_json.c: one death as JSON (caller frees with json_object_put) */
json_object *cw_death_json(const struct cw_analysis *a, const struct cw_death *d);
json_object *cw_ts_json(int64_t us);
int cw_report_json(FILE *out, const struct cw_report_in *in);

/* report_html.c: a self-contained page; created 0644 without following symlinks */
int cw_report_html(const char *path, const struct cw_report_in *in, char *err, size_t errlen);
/* HTML-escape s (any bytes; invalid UTF-8 becomes U+FFFD) to out */
void cw_html_escape(FILE *out, const char *s);

#endif
