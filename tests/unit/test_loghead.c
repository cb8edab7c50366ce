/* Unit tests of the cheap type/ts read (user/log/loghead.c): it reads the writer's shape,
 * says "not sure" for anything else, and never disagrees with the full parse: on every
 * line of every log in tests/unit/data, when it is sure, the full parse reads the same type
 * and ts (or skips the line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "log/loghead.h"
#include "log/logread.h"
#include "testdata.h"

static bool sure(const char *line, enum cw_log_type *type, int64_t *ts)
{
	return cw_loghead_read(line, strlen(line), type, ts);
}

static void test_reads_the_writers_shape(void **state)
{
	enum cw_log_type type;
	int64_t ts, want;

	(void)state;
	assert_int_equal(cw_parse_ts("2026-11-24T10:00:01.500000Z", &want), 0);
	assert_true(sure("{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"2026-11-24T10:00:01.500000Z\","
			 "\"host\":\"h\",\"procs\":[]}\n", &type, &ts));
	assert_int_equal(type, CW_LOG_PROC_SAMPLE);
	assert_int_equal(ts, want);
	assert_true(sure("{\"v\":1,\"type\":\"tracer_stop\",\"ts\":\"2026-11-24T10:00:01.500000Z\"}\n",
			 &type, &ts));
	assert_int_equal(type, CW_LOG_TRACER_STOP);
	/* the writer's alias for a loss mark */
	assert_true(sure("{\"v\":2,\"type\":\"dropped\",\"ts\":\"2026-11-24T10:00:01.500000Z\","
			 "\"count\":3}\n", &type, &ts));
	assert_int_equal(type, CW_LOG_LOST);
}

static void test_unsure_otherwise(void **state)
{
	static const char *const lines[] = {
		/* another order, spaces, another version */
		"{\"type\":\"exit\",\"v\":1,\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}\n",
		"{\"v\":1, \"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}\n",
		"{\"v\":3,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}\n",
		"{\"v\":12,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}\n",
		/* a key repeated later: the full parse may read that one */
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"ts\":\"2026-11-25T10:00:01Z\"}\n",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"type\":\"fork\"}\n",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"v\":3}\n",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"\\u0074s\":\"x\"}\n",
		/* escapes, unknown type, bad time, cut short, no newline */
		"{\"v\":1,\"type\":\"ex\\u0069t\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}\n",
		"{\"v\":1,\"type\":\"death\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}\n",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-02-30T10:00:01Z\",\"pid\":1}\n",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1\n",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\",\"pid\":1}",
		"{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:00:01Z\"x,\"pid\":1}\n",
		"{\"v\":1,\"type\":\"exit\"}\n",
		"",
	};
	enum cw_log_type type;
	int64_t ts;

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		if (sure(lines[i], &type, &ts))
			fail_msg("sure about: %s", lines[i]);
}

struct full_read {
	enum cw_log_type type;
	int64_t ts;
};

static int keep_head(const struct cw_event *ev, void *ctx)
{
	struct full_read *r = ctx;

	r->type = ev->type;
	r->ts = ev->ts;
	return 0;
}

/* Every line of one log: where the cheap read is sure, the full parse agrees (or skips the
 * line for another reason). */
static void agree_on(const char *path, long *sure_lines, long *lines)
{
	FILE *f = fopen(path, "r");
	struct cw_lineparser *p = cw_lineparser_new();
	char *line = NULL, why[256];
	size_t cap = 0;
	ssize_t n;

	assert_non_null(f);
	assert_non_null(p);
	while ((n = getline(&line, &cap, f)) > 0) {
		struct full_read full = {CW_LOG_NONE, CW_NONE};
		enum cw_log_type type;
		int64_t ts;
		(*lines)++;
		if (!cw_loghead_read(line, (size_t)n, &type, &ts))
			continue;
		(*sure_lines)++;
		if (cw_lineparser_feed(p, line, (size_t)n, path, *lines, keep_head, &full, why,
				       sizeof(why)))
			continue;	/* skipped by the full parse: nothing to disagree with */
		if (full.type != type || full.ts != ts)
			fail_msg("%s:%ld: cheap read %d %lld, full parse %d %lld", path, *lines,
				 type, (long long)ts, full.type, (long long)full.ts);
	}
	free(line);
	cw_lineparser_free(p);
	fclose(f);
}

struct counts {
	long sure_lines, lines;
};

static void agree_one(const char *path, void *ctx)
{
	struct counts *c = ctx;

	agree_on(path, &c->sure_lines, &c->lines);
}

static void test_agrees_with_full_parse(void **state)
{
	struct counts c = { 0 };

	(void)state;
	assert_true(each_data_log(agree_one, &c) > 0);
	/* most hand-written lines are in the writer's shape: the cheap read is used */
	assert_true(c.lines > 500);
	assert_true(c.sure_lines * 2 > c.lines);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_the_writers_shape),
		cmocka_unit_test(test_unsure_otherwise),
		cmocka_unit_test(test_agrees_with_full_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
