/* What the explain unit tests share: a hand-written log (tests/unit/data/) loaded and
 * analysed, a queue's verdict by name, the text report, one queue of the --json report. */
#ifndef CW_EXPLAIN_RUN_H
#define CW_EXPLAIN_RUN_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "explain/causes.h"
#include "explain/report.h"
#include "explain/timeline.h"
#include "log/logread.h"
#include "testdata.h"

struct run {
	struct cw_timeline tl;
	struct cw_analysis an;
	struct cw_logread_stats st;
};

static inline struct run *load_opts(const char *name, int64_t grace_s, int64_t stall_s)
{
	struct run *r = calloc(1, sizeof(*r));
	char *path = strdup(data(name));
	struct cw_judge_opts o = {grace_s * 1000000, stall_s * 1000000};

	assert_int_equal(cw_timeline_init(&r->tl), 0);
	assert_int_equal(cw_timeline_load(&r->tl, &path, 1, &r->st, stderr), 0);
	assert_int_equal(r->st.skipped, 0);
	assert_int_equal(cw_analyze_opts(&r->tl, CW_NONE, CW_NONE, NULL, &o, &r->an), 0);
	free(path);
	return r;
}

static inline struct run *load(const char *name)
{
	return load_opts(name, 20, 30);
}

static inline void unload(struct run *r)
{
	cw_analysis_free(&r->an);
	cw_timeline_free(&r->tl);
	free(r);
}

static inline const struct cw_qverdict *queue(struct run *r, const char *name)
{
	for (int i = 0; i < r->an.nqueues; i++)
		if (!strcmp(r->an.queues[i].queue, name))
			return &r->an.queues[i];
	fail_msg("queue %s not found", name);
	return NULL;
}

static inline int64_t ts(const char *s)
{
	int64_t t;

	assert_int_equal(cw_parse_ts(s, &t), 0);
	return t;
}

/* the text report, for the caller to free */
static inline char *text(struct run *r)
{
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(cw_report_text(f, &in), 0);
	fclose(f);
	return buf;
}

/* one queue object of the --json report, for the caller to put */
static inline json_object *json_queue(struct run *r, const char *name)
{
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(cw_report_json(f, &in), 0);
	fclose(f);
	json_object *doc = json_tokener_parse(buf), *qs, *found = NULL;
	free(buf);
	assert_non_null(doc);
	assert_true(json_object_object_get_ex(doc, "queues", &qs));
	for (size_t i = 0; i < json_object_array_length(qs); i++) {
		json_object *q = json_object_array_get_idx(qs, i), *n;
		json_object_object_get_ex(q, "queue", &n);
		if (!strcmp(json_object_get_string(n), name))
			found = json_object_get(q);
	}
	json_object_put(doc);
	assert_non_null(found);
	return found;
}

static inline json_object *field(json_object *o, const char *k)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;	/* NULL for null */
}

#endif
