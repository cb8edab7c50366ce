/* The recorder's live engine over a long run: recycled pool children are folded as they exit
 * and forgotten after two windows (memory stays flat however long it runs), the metrics
 * still count every one of them, and a death in a reused process slot is told once.
 * Processes no verdict reads (a `celery inspect` from cron) are forgotten after two windows,
 * and the verdicts are those of an engine that forgets nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cli/live.h"
#include "cli/live_metrics.h"
#include "engine/engine.h"

#define WINDOW_S 600
#define MAIN_PID 100

struct run {
	struct cw_live live;
	struct cw_live_metrics metrics;
	int deaths_told;
	struct cw_engine *ref;	/* when set, fed every line too */
	char line[2048];
};

static const char *ts(long s)
{
	static char buf[40];
	time_t t = 1795478400 + s;	/* 2026-11-24T00:00:00Z */
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	return buf;
}

static void feed(struct run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(r->line, sizeof(r->line), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(r->line));
	cw_live_line(&r->live, r->line, (size_t)n);
	if (r->ref) {
		char why[128];
		assert_int_equal(cw_engine_feed_line(r->ref, r->line, (size_t)n, why, sizeof(why)), 0);
	}
}

#define WORKER "\"worker\":\"w@h\",\"queues\":[\"q\"]"

static void start(struct run *r)
{
	feed(r, "{\"v\":1,\"type\":\"tracer_start\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":9,"
	     "\"version\":\"t\",\"kernel\":\"6\",\"schema\":1,\"clock_ticks\":100}\n", ts(0));
	feed(r, "{\"v\":1,\"type\":\"scan\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":%d,\"ppid\":1,"
	     "\"uid\":33,\"comm\":\"celery\",\"argv\":[\"celery\",\"worker\"],\"pstart\":5,"
	     "\"pool\":\"prefork\",\"command\":\"worker\"," WORKER ",\"role\":\"main\"}\n", ts(0),
	     MAIN_PID);
}

static void fork_child(struct run *r, long s, int pid)
{
	feed(r, "{\"v\":1,\"type\":\"fork\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":%d,\"pstart\":%d,"
	     "\"ppid\":%d,\"parent_pstart\":5,\"comm\":\"celery\"," WORKER ",\"role\":\"pool\"}\n",
	     ts(s), pid, pid, MAIN_PID);
}

static void exit_child(struct run *r, long s, int pid, bool killed)
{
	feed(r, "{\"v\":1,\"type\":\"exit\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":%d,\"pstart\":%d,"
	     "\"ppid\":%d,\"comm\":\"celery\",\"exit_code\":%s,\"signal\":%s,\"core_dumped\":false,"
	     WORKER ",\"role\":\"pool\"}\n", ts(s), pid, pid, MAIN_PID, killed ? "null" : "155",
	     killed ? "\"SIGSEGV\"" : "null");
}

static void on_incident(const struct cw_incident *inc, void *ctx)
{
	struct run *r = ctx;

	r->deaths_told += inc->kind == CW_INC_DEATH;
}

static void setup_run(struct run *r)
{
	struct cw_engine_opts o = {.window_us = WINDOW_S * 1000000LL};

	memset(r, 0, sizeof(*r));
	assert_int_equal(cw_live_init(&r->live), 0);
	/* the recorder's engine, with a 10-minute window to keep the test short */
	cw_engine_free(r->live.eng);
	assert_int_equal(cw_engine_new(&r->live.eng, &o), 0);
	cw_engine_fold_recycled(r->live.eng, 0, CW_NONE);
	struct cw_live_sink s = {.on_incident = on_incident, .ctx = r};
	cw_live_add_sink(&r->live, &s);
	memset(&r->metrics, 0, sizeof(r->metrics));
}

static long recycled_counted(const struct run *r)
{
	for (size_t i = 0; i < r->metrics.ndeaths; i++)
		if (!strcmp(r->metrics.deaths[i].kind, "recycled"))
			return (long)r->metrics.deaths[i].count;
	return 0;
}

/* six windows at one recycled child a second, judged every 10 s as the recorder does */
static void test_folded_and_forgotten_over_a_long_run(void **state)
{
	struct run r;
	const long seconds = 6 * WINDOW_S;
	int peak_folded = 0;

	(void)state;
	setup_run(&r);
	start(&r);
	fork_child(&r, 0, 1000);
	for (long s = 1; s <= seconds; s++) {
		exit_child(&r, s, 999 + (int)s, false);
		fork_child(&r, s, 1000 + (int)s);
		if (s % 10 == 0) {
			cw_live_tick(&r.live);
			cw_live_metrics_count(&r.metrics, r.live.eng);
			const struct cw_timeline *tl = cw_engine_timeline(r.live.eng);
			if (tl->nfolded > peak_folded)
				peak_folded = tl->nfolded;
			assert_true(tl->nprocs <= 4);	/* slots reused: the main and a child or two */
		}
	}
	const struct cw_timeline *tl = cw_engine_timeline(r.live.eng);
	/* two windows kept, trimmed every sixth of one */
	assert_true(peak_folded <= 2 * WINDOW_S + WINDOW_S / 6 + 10);
	assert_true(tl->nfolded_forgotten >= seconds - peak_folded);
	assert_int_equal(tl->nfolded + tl->nfolded_forgotten, seconds);
	/* every recycled child counted once, forgotten or not */
	assert_int_equal(recycled_counted(&r), seconds);

	/* a crash in a slot used by thousands before it: told once */
	exit_child(&r, seconds + 1, 999 + (int)seconds + 1, true);
	cw_live_tick(&r.live);
	cw_live_metrics_count(&r.metrics, r.live.eng);
	assert_int_equal(r.deaths_told, 1);
	cw_live_tick(&r.live);
	assert_int_equal(r.deaths_told, 1);

	/* however old, a worker's last folded child stays: a degraded pool's cause */
	struct cw_timeline *all = (struct cw_timeline *)cw_engine_timeline(r.live.eng);
	assert_int_equal(cw_timeline_forget_folded(all, INT64_MAX), 0);
	assert_int_equal(all->nfolded, 1);
	assert_int_equal(all->folded[0].pid, 999 + seconds);
	cw_live_metrics_free(&r.metrics);
	cw_live_free(&r.live);
}

#define Q2 "\"worker\":\"w2@h\",\"queues\":[\"q2\"]"

/* a second worker, for q2: its scan line, or (killed) its exit by SIGKILL */
static void q2_main(struct run *r, long at, bool killed)
{
	if (!killed)
		feed(r, "{\"v\":1,\"type\":\"scan\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":200,"
		     "\"ppid\":1,\"uid\":33,\"comm\":\"celery\",\"argv\":[\"celery\",\"worker\"],"
		     "\"pstart\":7,\"pool\":\"solo\",\"command\":\"worker\"," Q2 ",\"role\":\"main\"}\n",
		     ts(at));
	else
		feed(r, "{\"v\":1,\"type\":\"exit\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":200,"
		     "\"pstart\":7,\"ppid\":1,\"comm\":\"celery\",\"exit_code\":null,"
		     "\"signal\":\"SIGKILL\",\"core_dumped\":false," Q2 ",\"role\":\"main\"}\n", ts(at));
}

/* `celery inspect ping`, run by cron: role other, a second of life */
static void inspect(struct run *r, long s, int pid)
{
	feed(r, "{\"v\":1,\"type\":\"exec\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":%d,\"pstart\":%d,"
	     "\"ppid\":1,\"uid\":0,\"comm\":\"celery\",\"argv\":[\"celery\",\"inspect\",\"ping\"],"
	     "\"command\":\"inspect\",\"worker\":null,\"queues\":null,\"role\":\"other\"}\n",
	     ts(s), pid, pid);
	feed(r, "{\"v\":1,\"type\":\"exit\",\"ts\":\"%s\",\"host\":\"h\",\"pid\":%d,\"pstart\":%d,"
	     "\"ppid\":1,\"comm\":\"celery\",\"exit_code\":0,\"signal\":null,"
	     "\"core_dumped\":false,\"worker\":null,\"queues\":null,\"role\":\"other\"}\n",
	     ts(s + 1), pid, pid);
}

static int live_slots(const struct cw_timeline *tl)
{
	return tl->nprocs - tl->nfreeprocs;
}

static void assert_same_verdicts(const struct cw_analysis *a, const struct cw_analysis *b)
{
	int ia = 0, ib = 0;

	/* the deaths in the window, one by one (the live engine keeps fewer before it) */
	for (;;) {
		while (ia < a->ndeaths && !a->deaths[ia].shown)
			ia++;
		while (ib < b->ndeaths && !b->deaths[ib].shown)
			ib++;
		if (ia == a->ndeaths || ib == b->ndeaths)
			break;
		assert_int_equal(a->deaths[ia].pid, b->deaths[ib].pid);
		assert_int_equal(a->deaths[ia].kind, b->deaths[ib].kind);
		ia++, ib++;
	}
	assert_true(ia == a->ndeaths && ib == b->ndeaths);
	assert_memory_equal(a->kinds, b->kinds, sizeof(a->kinds));
	assert_int_equal(a->nqueues, b->nqueues);
	for (int q = 0; q < a->nqueues; q++) {
		const struct cw_qverdict *x = &a->queues[q], *y = &b->queues[q];
		assert_string_equal(x->queue, y->queue);
		assert_int_equal(x->verdict, y->verdict);
		assert_int_equal(x->consumers_now, y->consumers_now);
		assert_int_equal(x->had_consumer, y->had_consumer);
		assert_int_equal(x->uncovered_since, y->uncovered_since);
		assert_int_equal(x->cause >= 0, y->cause >= 0);
		if (x->cause >= 0)
			assert_int_equal(a->deaths[x->cause].pid, b->deaths[y->cause].pid);
	}
}

/* six windows with an inspect every 10 s: the live engine keeps two windows of them, and
 * judges as an engine that keeps them all */
static void test_cron_processes_forgotten_verdicts_kept(void **state)
{
	struct cw_engine_opts o = {.window_us = WINDOW_S * 1000000LL};
	const long seconds = 6 * WINDOW_S;
	struct cw_engine *ref;
	struct run r;
	int peak = 0;

	(void)state;
	setup_run(&r);
	assert_int_equal(cw_engine_new(&ref, &o), 0);	/* judged never: forgets nothing */
	cw_engine_fold_recycled(ref, 0, CW_NONE);
	r.ref = ref;
	start(&r);
	q2_main(&r, 0, false);
	for (long s = 10; s <= seconds; s += 10) {
		if (s == 100)	/* killed, never started again */
			q2_main(&r, s, true);
		inspect(&r, s, 5000 + (int)s);
		cw_live_tick(&r.live);
		const struct cw_timeline *tl = cw_engine_timeline(r.live.eng);
		if (live_slots(tl) > peak)
			peak = live_slots(tl);
	}
	const struct cw_timeline *tl = cw_engine_timeline(r.live.eng);
	/* two windows and a sixth of inspects (one each 10 s), the two mains */
	assert_true(peak <= (2 * WINDOW_S + WINDOW_S / 6) / 10 + 4);
	assert_int_equal(tl->ndead_forgotten + live_slots(tl) - 2, seconds / 10);
	assert_int_equal(live_slots(cw_engine_timeline(ref)), seconds / 10 + 2);
	assert_int_equal(r.deaths_told, 1);	/* the q2 worker's kill, told once */

	const struct cw_analysis *live = cw_engine_analysis(r.live.eng);
	struct cw_analysis all;
	assert_non_null(live);
	assert_int_equal(cw_engine_analyze(ref, tl->last_ts - o.window_us, CW_NONE, NULL, &all), 0);
	assert_same_verdicts(live, &all);
	/* the main killed five windows ago is kept: q2 still had a consumer, and lost it */
	for (int q = 0; q < all.nqueues; q++)
		if (!strcmp(all.queues[q].queue, "q2"))
			assert_true(all.queues[q].had_consumer);
	cw_analysis_free(&all);
	cw_engine_free(ref);
	cw_live_free(&r.live);
}

static long deaths_counted(const struct run *r, const char *kind)
{
	long n = 0;

	for (size_t i = 0; i < r->metrics.ndeaths; i++)
		if (!strcmp(r->metrics.deaths[i].kind, kind))
			n += (long)r->metrics.deaths[i].count;
	return n;
}

/* A pool child crashing every 10 s for six windows (a hard time limit's SIGKILL would do the
 * same), then the last two without a replacement: the live engine keeps two windows of them
 * and each worker's latest, tells and counts every crash once, and judges the degraded
 * queue as an engine that keeps them all. */
static void test_crashed_children_forgotten_verdicts_kept(void **state)
{
	struct cw_engine_opts o = {.window_us = WINDOW_S * 1000000LL};
	const long seconds = 6 * WINDOW_S;
	struct cw_engine *ref;
	struct run r;
	int peak = 0, pid = 1001;

	(void)state;
	setup_run(&r);
	assert_int_equal(cw_engine_new(&ref, &o), 0);
	cw_engine_fold_recycled(ref, 0, CW_NONE);
	r.ref = ref;
	start(&r);
	fork_child(&r, 0, 1000);
	fork_child(&r, 0, pid);
	cw_live_tick(&r.live);	/* the first judgement only marks history as known */
	for (long s = 10; s <= seconds; s += 10) {
		exit_child(&r, s, pid, true);
		fork_child(&r, s, ++pid);
		cw_live_tick(&r.live);
		cw_live_metrics_count(&r.metrics, r.live.eng);
		const struct cw_timeline *tl = cw_engine_timeline(r.live.eng);
		if (live_slots(tl) > peak)
			peak = live_slots(tl);
	}
	/* the pool empties: degraded, and the cause is the last child to die */
	exit_child(&r, seconds + 5, 1000, true);
	exit_child(&r, seconds + 6, pid, true);
	cw_live_tick(&r.live);
	cw_live_metrics_count(&r.metrics, r.live.eng);

	const struct cw_timeline *tl = cw_engine_timeline(r.live.eng);
	const long crashes = seconds / 10 + 2;
	assert_true(peak <= (2 * WINDOW_S + WINDOW_S / 6) / 10 + 4);
	assert_true(tl->ndead_forgotten >= crashes - peak);
	assert_int_equal(live_slots(cw_engine_timeline(ref)), crashes + 1);	/* and the main */
	assert_int_equal(r.deaths_told, crashes);
	assert_int_equal(deaths_counted(&r, "crash"), crashes);	/* SIGSEGV */

	const struct cw_analysis *live = cw_engine_analysis(r.live.eng);
	struct cw_analysis all;
	assert_int_equal(cw_engine_analyze(ref, tl->last_ts - o.window_us, CW_NONE, NULL, &all), 0);
	assert_same_verdicts(live, &all);
	assert_true(all.kinds[CW_K_CRASH] >= WINDOW_S / 10);
	assert_int_equal(all.nqueues, 1);
	assert_int_equal(all.queues[0].verdict, CW_DEGRADED);
	assert_int_equal(all.deaths[all.queues[0].cause].pid, pid);
	cw_analysis_free(&all);

	/* three more windows with no pool: the last child's crash, long forgotten by the window,
	 * is still the cause */
	for (long s = seconds + 60; s <= seconds + 3 * WINDOW_S; s += 60) {
		inspect(&r, s, 9000 + (int)s);
		cw_live_tick(&r.live);
	}
	live = cw_engine_analysis(r.live.eng);
	assert_int_equal(cw_engine_analyze(ref, cw_engine_timeline(r.live.eng)->last_ts - o.window_us,
					   CW_NONE, NULL, &all), 0);
	assert_same_verdicts(live, &all);
	assert_int_equal(live->queues[0].verdict, CW_DEGRADED);
	assert_int_equal(live->deaths[live->queues[0].cause].pid, pid);
	cw_analysis_free(&all);
	cw_live_metrics_free(&r.metrics);
	cw_engine_free(ref);
	cw_live_free(&r.live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folded_and_forgotten_over_a_long_run),
		cmocka_unit_test(test_cron_processes_forgotten_verdicts_kept),
		cmocka_unit_test(test_crashed_children_forgotten_verdicts_kept),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
