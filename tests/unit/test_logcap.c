/* The event log's growth cap (--max-lines-per-minute): which lines it may suppress, the
 * `suppressed` line at the minute's end, and 0 = no cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log/eventlog.h"
#include "log/logcap.h"

#define SEC 1000000000ull

/* the type as the recorder finds it in the line it formatted */
static bool admit(struct cw_logcap *c, const char *type, uint64_t now)
{
	struct jw w;
	char t[16];

	jw_init(&w);
	cw_line_begin(&w, type, 0, 1);
	jw_end(&w);
	cw_line_type(w.buf, w.len, t, sizeof(t));
	bool ok = cw_logcap_admit(c, t, now);
	jw_free(&w);
	return ok;
}

static void test_over_the_cap_only_floods_are_suppressed(void **state)
{
	(void)state;
	struct cw_logcap c;
	struct jw w;

	cw_eventlog_set_host("web1");
	cw_logcap_init(&c, 3, 100 * SEC);
	assert_true(admit(&c, "exec", 100 * SEC));
	assert_true(admit(&c, "fork", 100 * SEC));
	assert_true(admit(&c, "exec", 100 * SEC));
	assert_false(admit(&c, "exec", 101 * SEC));	/* the 4th line of the minute */
	assert_false(admit(&c, "fork", 101 * SEC));
	assert_false(admit(&c, "signal", 101 * SEC));
	assert_false(admit(&c, "exec", 101 * SEC));
	/* never suppressed: deaths, the recorder's own lines, broker samples */
	static const char *const always[] = {"exit", "oom", "tracer_start", "tracer_stop", "lost",
					     "suppressed", "dropped", "sample"};
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		assert_true(admit(&c, always[i], 102 * SEC));

	jw_init(&w);
	assert_false(cw_logcap_roll(&c, 159 * SEC, false, &w, 0, 7));	/* the minute goes on */
	assert_int_equal(w.len, 0);
	assert_true(cw_logcap_roll(&c, 160 * SEC, false, &w, 1795521791123456000ull, 7));
	assert_string_equal(w.buf, "{\"v\":2,\"type\":\"suppressed\",\"ts\":\"2026-11-24T12:03:11.123456Z\","
				   "\"host\":\"web1\",\"pid\":7,\"reason\":\"log_cap\",\"count\":4,"
				   "\"by_type\":{\"exec\":2,\"fork\":1,\"signal\":1},\"total\":4}\n");
	/* a new minute: room again; the total goes on */
	assert_true(admit(&c, "exec", 161 * SEC));
	assert_true(admit(&c, "exec", 161 * SEC));
	assert_true(admit(&c, "exec", 161 * SEC));
	assert_false(admit(&c, "rename", 161 * SEC));
	jw_reset(&w);
	assert_true(cw_logcap_roll(&c, 165 * SEC, true, &w, 1795521791123456000ull, 7));	/* a stop */
	assert_non_null(strstr(w.buf, "\"count\":1,\"by_type\":{\"rename\":1},\"total\":5}\n"));
	/* a minute without suppressions writes nothing */
	jw_reset(&w);
	assert_false(cw_logcap_roll(&c, 300 * SEC, false, &w, 0, 7));
	assert_int_equal(w.len, 0);
	jw_free(&w);
}

static void test_zero_is_no_cap(void **state)
{
	(void)state;
	struct cw_logcap c;

	cw_logcap_init(&c, 0, 0);
	for (int i = 0; i < 100000; i++)
		assert_true(admit(&c, "exec", 0));
	assert_int_equal(c.total, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_over_the_cap_only_floods_are_suppressed),
		cmocka_unit_test(test_zero_is_no_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
