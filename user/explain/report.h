/* The three renderings of an analysis (text for people, JSON for programs, HTML for a
 * picture) and the small formatting helpers they share. */
#ifndef CW_REPORT_H
#define CW_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "common/sanitize.h"	/* log strings are hostile: cw_text_safe */
#include "common/timeutil.h"
#include "explain/analysis.h"
#include "explain/timeline.h"

struct cw_report_in {
	const struct cw_timeline *tl;
	const struct cw_analysis *a;
	long skipped;		/* log lines skipped as unreadable */
	bool color;		/* ANSI colours (text only) */
};

/* report_text.c */
int cw_report_text(FILE *out, const struct cw_report_in *in);
/* one line per queue, answer first, for status too */
void cw_report_queue_line(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v);
bool cw_window_one_day(const struct cw_analysis *a);
/* 19334 -> "19,334" */
void cw_fmt_count(int64_t n, char *out, size_t len);
/* Colour if out is a terminal and NO_COLOR is unset or empty. */
bool cw_want_color(FILE *out);

/* report_verdicts.c: issue 9's words. Sentences are sanitized (log strings) already. */
void cw_blocked_in(const struct cw_stall *s, char *out, size_t len);
void cw_stall_sentence(const struct cw_stall *s, char *out, size_t len);
void cw_saturation_sentence(const struct cw_qverdict *v, char *out, size_t len);
/* lines under a queue's: consumers with uid/exe (when the log has v2 facts), not connected,
 * starting, duplicate worker names */
void cw_consumer_lines(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v);

/* report_json.c: one death as JSON (caller frees with json_object_put) */
json_object *cw_death_json(const struct cw_analysis *a, const struct cw_death *d);
json_object *cw_ts_json(int64_t us);
int cw_report_json(FILE *out, const struct cw_report_in *in);

/* report_html.c: a self-contained page, written beside path and renamed over it (0640, owned
 * by us); refuses a path that is a symlink, not a regular file, someone else's (not root's or
 * getuid()'s) or hard-linked. Returns 0, or -1 with a sentence naming path in err. */
int cw_report_html(const char *path, const struct cw_report_in *in, char *err, size_t errlen);

#endif
