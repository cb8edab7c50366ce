/* suppressed lines (user/log/suppfmt.c): counts since the previous line, by type and by uid. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log/eventlog.h"
#include "log/suppfmt.h"

static struct cw_supp_counts prev, now;

static void test_delta_line(void **state)
{
	struct jw w;

	(void)state;
	jw_init(&w);
	cw_eventlog_set_host("web1");
	prev.by_type[CW_EV_EXEC_FAIL] = 100;
	prev.nuid = 1;
	prev.uid[0].uid = 65534;
	prev.uid[0].n = 100;
	now = prev;
	now.by_type[CW_EV_EXEC_FAIL] = 130;
	now.by_type[CW_EV_SIGNAL] = 7;
	now.uid[0].n = 120;
	now.nuid = 2;
	now.uid[1].uid = 1000;
	now.uid[1].n = 10;
	assert_int_equal(cw_supp_delta(&now, &prev), 37);
	cw_fmt_suppressed(&w, 1764000000000000000ull, 9, &now, &prev, 137);
	const char *want = "{\"v\":2,\"type\":\"suppressed\",\"ts\":\"2025-11-24T16:00:00.000000Z\","
			   "\"host\":\"web1\",\"pid\":9,\"reason\":\"rate_limit\",\"count\":37,"
			   "\"by_type\":{\"exec_fail\":30,\"signal\":7},\"by_uid\":{\"65534\":20,\"1000\":10},"
			   "\"total\":137}\n";
	if (w.len != strlen(want) || memcmp(w.buf, want, w.len))
		fail_msg("got  %.*s\nwant %s", (int)w.len, w.buf, want);
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
