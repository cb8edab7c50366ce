/* Unit tests of explain's gaps (no live consumer: peak, arrivals, drain, time to empty) and
 * crash loops (the flapping verdict), on the hand-written logs in tests/unit/data/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "explain/causes.h"
#include "explain/report.h"
#include "explain/timeline.h"
#include "log/logread.h"
#include "explain_run.h"


/* A worker killed, back 5 s later with 300 waiting, empty 15 s after: the first and last
 * samples (0 and 0) would hide it. One gap with its cause and peak, the drain, recovered. */
static void test_gap_peak_and_drain(void **state)
{
	(void)state;
	struct run *r = load("gap_drain.jsonl");
	const struct cw_qverdict *v = queue(r, "qd");

	assert_int_equal(v->verdict, CW_OK);
	assert_int_equal(v->depth_first, 0);
	assert_int_equal(v->depth_last, 0);
	assert_int_equal(v->ngaps, 1);
	const struct cw_gap *g = &v->gaps[0];
	assert_int_equal(g->from, ts("2026-11-24T10:01:00.001Z"));
	assert_int_equal(g->to, ts("2026-11-24T10:01:05Z"));
	assert_int_equal(g->peak, 300);
	assert_true(g->cause >= 0);
	assert_int_equal(r->an.deaths[g->cause].kind, CW_K_SIGNAL);
	assert_int_equal(r->an.deaths[g->cause].pid, 7400);
	/* 60 a second while nobody consumed; 300 -> 0 in the 15 s after */
	assert_true(g->has_arrival);
	assert_float_equal(g->arrival_per_min, 3600, 0.01);
	assert_true(g->has_drain);
	assert_float_equal(g->drain_per_min, 1200, 0.01);
	assert_int_equal(g->emptied_at, ts("2026-11-24T10:01:20Z"));
	assert_true(v->has_drain && v->has_arrival);
	assert_false(v->has_eta);	/* empty: no time to empty */
	assert_int_equal(v->restarts, 1);
	assert_false(v->flapping);

	char *t = text(r);
	assert_non_null(strstr(t, "qd: ok, recovered at 10:01:05 — 1 consumer (worker_d@web1), "
				  "1 pool process; the queue went 0 → peak 300 → 0\n"
				  "  no consumer 10:01:00–10:01:05 (5 s), backlog peaked at 300; "
				  "worker_d@web1 (pid 7400) was killed by SIGKILL from pid 6000 (bash, "
				  "uid 0: /bin/bash /opt/rotate_workers.sh); drained at 1,200/min, "
				  "empty at 10:01:20\n"));
	free(t);

	json_object *q = json_queue(r, "qd"), *gs = field(q, "gaps");
	assert_int_equal(json_object_array_length(gs), 1);
	json_object *g0 = json_object_array_get_idx(gs, 0);
	assert_string_equal(json_object_get_string(field(g0, "from")), "2026-11-24T10:01:00.001000Z");
	assert_string_equal(json_object_get_string(field(g0, "to")), "2026-11-24T10:01:05.000000Z");
	assert_int_equal(json_object_get_int(field(g0, "backlog_peak")), 300);
	assert_string_equal(json_object_get_string(field(field(g0, "cause"), "kind")), "signal");
	assert_float_equal(json_object_get_double(field(q, "drain_per_min")), 1200, 0.01);
	assert_float_equal(json_object_get_double(field(q, "arrival_per_min")), 3600, 0.01);
	assert_null(field(q, "eta_empty_s"));
	assert_int_equal(json_object_get_int(field(q, "restarts")), 1);
	assert_null(field(q, "flapping"));
	json_object_put(q);
	unload(r);
}

/* The last consumer killed and never back: one gap, still open (to null), growing. */
static void test_gap_still_open(void **state)
{
	(void)state;
	struct run *r = load("gap_drain.jsonl");
	const struct cw_qverdict *v = queue(r, "qo");

	assert_int_equal(v->verdict, CW_NO_CONSUMER);
	assert_int_equal(v->ngaps, 1);
	assert_int_equal(v->gaps[0].from, v->uncovered_since);
	assert_int_equal(v->gaps[0].to, CW_NONE);
	assert_int_equal(v->gaps[0].cause, v->cause);
	assert_int_equal(v->gaps[0].peak, 15);
	assert_float_equal(v->arrival_per_min, 60, 0.01);	/* 5 -> 15 in 10 s */
	assert_false(v->has_drain);
	assert_false(v->has_eta);

	json_object *q = json_queue(r, "qo"), *g0 = json_object_array_get_idx(field(q, "gaps"), 0);
	assert_null(field(g0, "to"));
	assert_null(field(q, "drain_per_min"));
	json_object_put(q);
	/* down now, no gap before: the queue's line says it all, no gap line under it */
	char *t = text(r);
	assert_null(strstr(t, "no consumer since 10:01:10 ("));
	free(t);
	unload(r);
}

/* A queue never sampled: its gap has no peak (null), no rates. */
static void test_gap_without_samples(void **state)
{
	(void)state;
	struct run *r = load("gap_drain.jsonl");
	const struct cw_qverdict *v = queue(r, "qn");

	assert_int_equal(v->verdict, CW_OK);
	assert_int_equal(v->ngaps, 1);
	assert_int_equal(v->gaps[0].to, ts("2026-11-24T10:00:32Z"));
	assert_int_equal(v->gaps[0].peak, CW_NONE);
	assert_false(v->gaps[0].has_arrival || v->gaps[0].has_drain);
	assert_false(v->has_arrival || v->has_drain || v->has_eta);

	json_object *q = json_queue(r, "qn"), *g0 = json_object_array_get_idx(field(q, "gaps"), 0);
	assert_null(field(g0, "backlog_peak"));
	assert_null(field(g0, "drain_per_min"));
	json_object_put(q);
	char *t = text(r);
	assert_non_null(strstr(t, "  no consumer 10:00:30–10:00:32 (2 s), backlog not sampled; "));
	free(t);
	unload(r);
}

/* Back with 500 waiting, then 490, 495, 480, 470 a minute or so apart: noisy but draining,
 * 30 in 3 min net: 10/min, 470 left, about 2820 s to empty. */
static void test_slow_drain_eta(void **state)
{
	(void)state;
	struct run *r = load("gap_slow.jsonl");
	const struct cw_qverdict *v = queue(r, "qs");

	assert_int_equal(v->verdict, CW_OK);
	assert_int_equal(v->ngaps, 1);
	assert_int_equal(v->gaps[0].peak, 500);
	assert_int_equal(v->gaps[0].emptied_at, CW_NONE);
	assert_true(v->has_drain);
	assert_float_equal(v->drain_per_min, 10, 0.01);
	assert_true(v->has_eta);
	assert_float_equal(v->eta_empty_s, 2820, 0.5);
	assert_float_equal(v->arrival_per_min, 900, 0.01);	/* 200 -> 500 in 20 s */

	json_object *q = json_queue(r, "qs");
	assert_int_equal(json_object_get_int(field(q, "eta_empty_s")), 2820);
	json_object_put(q);
	char *t = text(r);
	assert_non_null(strstr(t, "qs: ok, recovered at 10:00:40 — 1 consumer (worker_s@web1); "
				  "the queue went 0 → peak 500 → 470\n"));
	assert_non_null(strstr(t, "; draining at 10/min, empty in about 47 min 0 s\n"));
	free(t);
	unload(r);
}

/* Tasks in the first sample and no worker ever: a gap from the window's start, open,
 * its cause the queue's (never_started). */
static void test_gap_from_window_start(void **state)
{
	(void)state;
	struct run *r = load("gap_slow.jsonl");
	const struct cw_qverdict *v = queue(r, "qz");

	assert_int_equal(v->verdict, CW_NO_CONSUMER);
	assert_int_equal(v->ngaps, 1);
	assert_int_equal(v->gaps[0].from, r->an.from);
	assert_int_equal(v->gaps[0].to, CW_NONE);
	assert_int_equal(v->gaps[0].cause, v->cause);
	assert_int_equal(r->an.deaths[v->cause].kind, CW_K_NEVER_STARTED);
	assert_int_equal(v->gaps[0].peak, 7);
	unload(r);
}

/* A worker that fails to import, restarted by a supervisor 4 times in 9 s, then given up:
 * flapping (over no_consumer: the loop left it without one), the last death the cause. */
static void test_flapping_import_error(void **state)
{
	(void)state;
	struct run *r = load("flapping.jsonl");
	const struct cw_qverdict *v = queue(r, "qf");

	assert_int_equal(v->verdict, CW_FLAPPING);
	assert_int_equal(v->consumers_now, 0);
	assert_int_equal(v->restarts, 4);
	assert_true(v->flapping);
	assert_int_equal(v->flap.deaths, 5);
	assert_string_equal(v->flap.worker, "worker_f@web1");
	assert_string_equal(v->flap.summary, "exited with status 2 five times in 9 s: "
			    "ModuleNotFoundError: No module named 'app_typo'");
	assert_int_equal(v->cause, v->flap.last);
	assert_int_equal(r->an.deaths[v->cause].pid, 7005);
	assert_int_equal(r->an.deaths[v->cause].kind, CW_K_EXIT_ERROR);
	assert_int_equal(v->ngaps, 5);	/* one per death; the last still open */
	assert_int_equal(v->gaps[4].to, CW_NONE);

	char *t = text(r);
	assert_non_null(strstr(t, "qf: FLAPPING — worker_f@web1 exited with status 2 five times "
				  "in 9 s: ModuleNotFoundError: No module named 'app_typo'; "
				  "restarted 4 times; no consumer since 10:00:09;"));
	free(t);
	json_object *q = json_queue(r, "qf");
	assert_string_equal(json_object_get_string(field(q, "verdict")), "flapping");
	assert_int_equal(json_object_get_int(field(q, "restarts")), 4);
	assert_int_equal(json_object_get_int(field(field(q, "cause"), "pid")), 7005);
	assert_non_null(strstr(json_object_get_string(field(field(q, "cause"), "stderr_tail")),
			       "app_typo"));
	assert_int_equal(json_object_get_int(field(field(q, "flapping"), "deaths")), 5);
	json_object_put(q);
	unload(r);
}

/* A shell loop still going: three deaths in 5 s (different stderr lines: no common line),
 * a fourth start alive now. Flapping over ok. */
static void test_flapping_while_alive(void **state)
{
	(void)state;
	struct run *r = load("flapping.jsonl");
	const struct cw_qverdict *v = queue(r, "qs");

	assert_int_equal(v->verdict, CW_FLAPPING);
	assert_int_equal(v->consumers_now, 1);
	assert_int_equal(v->restarts, 3);
	assert_int_equal(v->flap.deaths, 3);
	assert_string_equal(v->flap.summary, "exited with status 1 three times in 5 s");
	assert_int_equal(r->an.deaths[v->cause].pid, 7103);
	unload(r);
}

/* Two deaths, then the next start 6 minutes later dies too: three deaths, but not within
 * 5 minutes of the first start: not flapping. The same with 4 minutes is (qq). */
static void test_restart_after_6_min_not_flapping(void **state)
{
	(void)state;
	struct run *r = load("slow_restarts.jsonl");
	const struct cw_qverdict *v = queue(r, "qr");

	assert_int_equal(v->verdict, CW_OK);
	assert_false(v->flapping);
	assert_int_equal(v->restarts, 3);
	assert_int_equal(v->ngaps, 3);
	assert_int_equal(v->gaps[1].to - v->gaps[1].from, 360 * 1000000LL);

	const struct cw_qverdict *q = queue(r, "qq");
	assert_int_equal(q->verdict, CW_FLAPPING);
	assert_int_equal(q->flap.deaths, 3);
	assert_string_equal(q->flap.summary, "exited with status 1 three times in 4 min 4 s");
	unload(r);
}

/* A loop 20 minutes before the end, the worker fine since: not the verdict any more, but the
 * loop is still reported. */
static void test_old_loop_not_the_verdict(void **state)
{
	(void)state;
	struct run *r = load("flapping_old.jsonl");
	const struct cw_qverdict *v = queue(r, "qf");

	assert_int_equal(v->verdict, CW_OK);
	assert_int_equal(v->cause, -1);
	assert_true(v->flapping);
	assert_int_equal(v->flap.deaths, 3);
	assert_int_equal(v->restarts, 3);
	assert_string_equal(v->flap.summary, "exited with status 2 three times in 5 s: "
			    "ModuleNotFoundError: No module named 'app_typo'");
	unload(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gap_peak_and_drain),
		cmocka_unit_test(test_gap_still_open),
		cmocka_unit_test(test_gap_without_samples),
		cmocka_unit_test(test_slow_drain_eta),
		cmocka_unit_test(test_gap_from_window_start),
		cmocka_unit_test(test_flapping_import_error),
		cmocka_unit_test(test_flapping_while_alive),
		cmocka_unit_test(test_restart_after_6_min_not_flapping),
		cmocka_unit_test(test_old_loop_not_the_verdict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
