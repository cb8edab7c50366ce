/* The recorder's tracer_start and tracer_stop lines, byte for byte (docs/events.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "log/eventlog.h"
#include "log/tracerfmt.h"

static void check(struct jw *w, const char *want)
{
	assert_false(w->oom);
	if (w->len != strlen(want) || memcmp(w->buf, want, w->len))
		fail_msg("got  %.*s\nwant %s", (int)w->len, w->buf, want);
	jw_reset(w);
}

static void test_start(void **state)
{
	const char *qs[] = {"high", "q\"1"};
	struct cw_tracer_start s = {
		.realtime_ns = 1764000000123456789ull, .pid = 4242, .version = "v1", .kernel = "6.1.0",
		.boot_id = "0c1d3e5f-aaaa-4bbb-8ccc-123456789abc", .clock_ticks = 100, .all = false, .stderr_tail = true, .exec_fail = true, .output = "-",
	};
	struct jw w;

	(void)state;
	jw_init(&w);
	cw_eventlog_set_host("web1");
	cw_fmt_tracer_start(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_start\",\"ts\":\"2025-11-24T16:00:00.123456Z\","
		  "\"host\":\"web1\",\"pid\":4242,\"version\":\"v1\",\"kernel\":\"6.1.0\","
		  "\"boot_id\":\"0c1d3e5f-aaaa-4bbb-8ccc-123456789abc\","
		  "\"schema\":2,\"clock_ticks\":100,\"options\":{\"all\":false,\"stderr_tail\":true,\"tail_window\":\"always\","
		  "\"exec_fail\":true,\"output\":\"-\",\"redis\":null,\"interval\":null,\"queues\":[],"
		  "\"memcg_v1\":false,\"max_lines_per_minute\":0,"
		  "\"flood_budget\":{\"rate\":0,\"burst\":0},\"rotate\":null},\"disabled\":[]}\n");
	/* with a broker: its URL and the interval; the queues given */
	s.redis = "redis://:***@10.0.0.5:6379/3";
	s.interval = 5;
	s.queues = qs;
	s.nqueues = 2;
	s.memcg_v1 = true;
	s.max_lines_per_minute = 100000;
	/* an optional hook this kernel refused, and a --max-tracked */
	const char *off[] = {"oom", NULL};
	s.disabled = off;
	s.max_tracked = 16;
	s.budget_rate = 50;
	s.budget_burst = 200;
	/* built-in rotation, and the capabilities kept after attach */
	s.rotate_size = 100 << 20;
	s.rotate_keep = 10;
	s.rotate_compress = true;
	const char *caps[] = {"cap_sys_ptrace", "cap_dac_read_search", NULL};
	s.caps = caps;
	s.tail_window = 90;	/* --tail-window=90 */
	cw_fmt_tracer_start(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_start\",\"ts\":\"2025-11-24T16:00:00.123456Z\","
		  "\"host\":\"web1\",\"pid\":4242,\"version\":\"v1\",\"kernel\":\"6.1.0\","
		  "\"boot_id\":\"0c1d3e5f-aaaa-4bbb-8ccc-123456789abc\","
		  "\"schema\":2,\"clock_ticks\":100,\"options\":{\"all\":false,\"stderr_tail\":true,\"tail_window\":90.000,"
		  "\"exec_fail\":true,\"output\":\"-\",\"redis\":\"redis://:***@10.0.0.5:6379/3\",\"interval\":5.000,"
		  "\"queues\":[\"high\",\"q\\\"1\"],\"memcg_v1\":true,\"max_lines_per_minute\":100000,\"max_tracked\":16,"
		  "\"flood_budget\":{\"rate\":50,\"burst\":200},"
		  "\"rotate\":{\"size\":104857600,\"keep\":10,\"compress\":true}},"
		  "\"disabled\":[\"oom\"],\"caps\":[\"cap_sys_ptrace\",\"cap_dac_read_search\"]}\n");
	jw_free(&w);
}

static void test_stop(void **state)
{
	struct cw_tracer_stop s = {
		.realtime_ns = 1764000000000000000ull, .pid = 7, .reason = "SIGTERM",
		.events = 10, .lost = 2, .write_errors = 1, .malformed = 0,
	};
	struct jw w;

	(void)state;
	jw_init(&w);
	cw_eventlog_set_host("web1");
	cw_fmt_tracer_stop(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_stop\",\"ts\":\"2025-11-24T16:00:00.000000Z\","
		  "\"host\":\"web1\",\"pid\":7,\"reason\":\"SIGTERM\",\"events\":10,\"lost\":2,"
		  "\"write_errors\":1,\"malformed\":0,\"dropped_lines\":0,\"log_cap_suppressed\":0,\"suppressed\":0}\n");
	/* the samples fields only when a broker was sampled */
	s.sampled = true;
	s.samples = 40;
	s.samples_dropped = 1;
	s.samples_failed = 3;
	s.dropped_lines = 5;
	s.log_cap_suppressed = 6;
	s.suppressed = 7;
	cw_fmt_tracer_stop(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_stop\",\"ts\":\"2025-11-24T16:00:00.000000Z\","
		  "\"host\":\"web1\",\"pid\":7,\"reason\":\"SIGTERM\",\"events\":10,\"lost\":2,"
		  "\"write_errors\":1,\"malformed\":0,\"dropped_lines\":5,\"log_cap_suppressed\":6,\"suppressed\":7,"
		  "\"samples\":40,\"samples_dropped\":1,"
		  "\"samples_failed\":3}\n");
	/* the alert counts only for the alerts configured */
	s.sampled = false;
	s.alert_exec = true;
	s.alerts_sent = 4;
	s.alerts_failed = 3;
	s.alerts_timed_out = 2;
	s.alerts_dropped = 1;
	cw_fmt_tracer_stop(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_stop\",\"ts\":\"2025-11-24T16:00:00.000000Z\","
		  "\"host\":\"web1\",\"pid\":7,\"reason\":\"SIGTERM\",\"events\":10,\"lost\":2,"
		  "\"write_errors\":1,\"malformed\":0,\"dropped_lines\":5,\"log_cap_suppressed\":6,\"suppressed\":7,"
		  "\"alerts_sent\":4,\"alerts_failed\":3,\"alerts_timed_out\":2,\"alerts_dropped\":1}\n");
	s.alert_exec = false;
	s.alert_journal = true;
	s.journal_sent = 9;
	s.journal_failed = 8;
	s.journal_dropped = 7;
	cw_fmt_tracer_stop(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_stop\",\"ts\":\"2025-11-24T16:00:00.000000Z\","
		  "\"host\":\"web1\",\"pid\":7,\"reason\":\"SIGTERM\",\"events\":10,\"lost\":2,"
		  "\"write_errors\":1,\"malformed\":0,\"dropped_lines\":5,\"log_cap_suppressed\":6,\"suppressed\":7,"
		  "\"journal_sent\":9,\"journal_failed\":8,\"journal_dropped\":7}\n");
	/* --tail-window: windows opened, the hook's time attached, its attach/detach times */
	s.alert_journal = false;
	s.tail_window = true;
	s.tail_windows = 3;
	s.tail_attached_s = 12.5;
	s.tail_attach_ms_max = 0.25;
	s.tail_detach_ms_max = 19.5;
	s.tail_open_lag_ms_max = 1.5;
	cw_fmt_tracer_stop(&w, &s);
	check(&w, "{\"v\":2,\"type\":\"tracer_stop\",\"ts\":\"2025-11-24T16:00:00.000000Z\","
		  "\"host\":\"web1\",\"pid\":7,\"reason\":\"SIGTERM\",\"events\":10,\"lost\":2,"
		  "\"write_errors\":1,\"malformed\":0,\"dropped_lines\":5,\"log_cap_suppressed\":6,\"suppressed\":7,"
		  "\"tail_windows\":3,\"tail_attached_s\":12.500,\"tail_attach_ms_max\":0.250,"
		  "\"tail_detach_ms_max\":19.500,\"tail_open_lag_ms_max\":1.500,\"tail_attach_failures\":0}\n");
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_stop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
