/* The reader on the lines the recorder writes about its own output: `dropped` (lines that
 * never reached the log) is a loss mark like `lost`; `suppressed` is skipped without a word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "log/logread.h"

struct seen {
	int n;
	enum cw_log_type types[8];
	int64_t lost[8];
};

static int cb(const struct cw_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->types[s->n] = ev->type;
		s->lost[s->n] = ev->lost_count;
	}
	s->n++;
	return 0;
}

static void test_dropped_is_a_loss_and_suppressed_is_read(void **state)
{
	(void)state;
	static const char log[] =
		"{\"v\":1,\"type\":\"tracer_start\",\"ts\":\"2026-12-02T01:00:00.000000Z\",\"host\":\"h\",\"pid\":1}\n"
		"{\"v\":1,\"type\":\"dropped\",\"ts\":\"2026-12-02T01:00:01.000000Z\",\"host\":\"h\",\"pid\":1,"
		"\"count\":7,\"by_reason\":{\"queue_full\":5,\"write_error\":2},\"total\":7}\n"
		"{\"v\":1,\"type\":\"suppressed\",\"ts\":\"2026-12-02T01:01:00.000000Z\",\"host\":\"h\",\"pid\":1,"
		"\"reason\":\"log_cap\",\"count\":3,\"by_type\":{\"exec\":3},\"total\":3}\n"
		"{\"v\":1,\"type\":\"bogus\",\"ts\":\"2026-12-02T01:01:00.000000Z\",\"host\":\"h\",\"pid\":1}\n";
	char *errs = NULL;
	size_t errlen = 0;
	FILE *in = fmemopen((void *)log, sizeof(log) - 1, "r");
	FILE *errf = open_memstream(&errs, &errlen);
	struct seen s = {0};
	struct cw_logread_stats st = {0};

	assert_int_equal(cw_logread_stream(in, "ev.jsonl", cb, &s, &st, errf), 0);
	fclose(in);
	fclose(errf);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.types[0], CW_LOG_TRACER_START);
	assert_int_equal(s.types[1], CW_LOG_LOST);
	assert_int_equal(s.lost[1], 7);
	assert_int_equal(s.types[2], CW_LOG_SUPPRESSED);	/* read, and never a loss */
	/* only the unknown type is reported */
	assert_string_equal(errs, "ev.jsonl:4: unknown type \"bogus\"; line skipped\n");
	assert_int_equal(st.skipped, 1);
	free(errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dropped_is_a_loss_and_suppressed_is_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
