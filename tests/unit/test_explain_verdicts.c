/* Unit tests of issue 9's verdicts on hand-written v2 logs in tests/unit/data/: stalled (and a
 * slow task that is not), saturated with and without arrival counts, consumers not connected
 * after their grace, starting workers, duplicate worker names, precedence, and v1 logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "explain/causes.h"
#include "explain/report.h"
#include "explain/timeline.h"
#include "log/logread.h"
#include "explain_run.h"


static bool has(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fprintf(stderr, "not found: %s\nin:\n%s\n", needle, hay);
	return strstr(hay, needle) != NULL;
}

/* Both pool processes frozen in recvfrom for 35 s, 120 tasks waiting, the depth flat: stalled,
 * with where they wait. */
static void test_stalled(void **state)
{
	(void)state;
	struct run *r = load("stalled.jsonl");
	const struct cw_qverdict *v = queue(r, "qs");

	assert_int_equal(v->verdict, CW_STALLED);
	assert_true(v->stalled);
	assert_int_equal(v->stall.since, ts("2026-11-24T10:01:25.001Z"));
	assert_int_equal(v->stall.npids, 2);
	assert_int_equal(v->stall.pids[0] + v->stall.pids[1], 7101 + 7102);
	assert_int_equal(v->consumers_now, 1);
	char *t = text(r);
	assert_true(has(t, "qs: STALLED — both pool processes blocked in recvfrom (wchan "
			"sk_wait_data) for 35 s with 120 tasks waiting"));
	free(t);
	json_object *q = json_queue(r, "qs"), *st = field(q, "stalled");
	assert_string_equal(json_object_get_string(field(q, "verdict")), "stalled");
	assert_non_null(st);
	assert_string_equal(json_object_get_string(field(st, "blocked_in")),
			    "recvfrom (wchan sk_wait_data)");
	assert_string_equal(json_object_get_string(field(st, "since")),
			    "2026-11-24T10:01:25.001000Z");
	assert_int_equal(json_object_array_length(field(st, "pids")), 2);
	json_object *c = json_object_array_get_idx(field(q, "consumers"), 0);
	assert_int_equal(json_object_get_int(field(c, "uid")), 33);
	assert_string_equal(json_object_get_string(field(c, "exe")), "/usr/bin/python3");
	assert_true(json_object_get_boolean(field(c, "connected")));
	json_object_put(q);
	unload(r);
}

/* A longer --stall-after than the freeze: not yet a stall. */
static void test_stalled_needs_stall_after(void **state)
{
	(void)state;
	struct run *r = load_opts("stalled.jsonl", 20, 40);

	assert_int_equal(queue(r, "qs")->verdict, CW_OK);
	assert_false(queue(r, "qs")->stalled);
	unload(r);
}

/* A slow task that keeps using CPU is progress, the depth flat at 50: ok. An idle worker
 * waiting in epoll with nothing to do (depth 0) is not stalled either. */
static void test_progressing_and_idle_are_not_stalled(void **state)
{
	(void)state;
	struct run *r = load("stalled.jsonl");

	assert_int_equal(queue(r, "qp")->verdict, CW_OK);
	assert_false(queue(r, "qp")->stalled);
	assert_int_equal(queue(r, "qi")->verdict, CW_OK);
	assert_false(queue(r, "qi")->stalled);
	json_object *q = json_queue(r, "qp");
	assert_null(field(q, "stalled"));
	json_object_put(q);
	unload(r);
}

/* The same log without proc_sample lines, as a v1 log: alive is a consumer, nothing stalls,
 * and the consumers' connection is unknown (null). */
static void test_v1_log_unchanged(void **state)
{
	(void)state;
	struct run *r = load("stalled_v1.jsonl");

	for (int i = 0; i < r->an.nqueues; i++) {
		assert_int_equal(r->an.queues[i].verdict, CW_OK);
		assert_int_equal(r->an.queues[i].consumers_now, 1);
		assert_int_equal(r->an.queues[i].not_connected, 0);
	}
	json_object *q = json_queue(r, "qs");
	json_object *c = json_object_array_get_idx(field(q, "consumers"), 0);
	assert_null(field(c, "connected"));
	assert_null(field(c, "exe"));
	assert_null(field(q, "stalled"));
	json_object_put(q);
	char *t = text(r);
	assert_null(strstr(t, "consumer: "));	/* no per-consumer lines without v2 facts */
	assert_null(strstr(t, "unknown"));
	free(t);
	unload(r);
}

/* Progressing, +20 in and +10 out every 5 s: saturated at 240/min in, 120/min out, and a
 * one-process worker would need 2. */
static void test_saturated_with_counts(void **state)
{
	(void)state;
	struct run *r = load("saturated.jsonl");
	const struct cw_qverdict *v = queue(r, "qa");

	assert_int_equal(v->verdict, CW_SATURATED);
	assert_true(v->has_arrival && v->has_drain);
	assert_false(v->arrival_at_least);
	assert_true(v->arrival_per_min > 239.9 && v->arrival_per_min < 240.1);
	assert_true(v->drain_per_min > 119.9 && v->drain_per_min < 120.1);
	assert_int_equal(v->concurrency_now, 1);
	assert_int_equal(v->concurrency_needed, 2);
	json_object *q = json_queue(r, "qa");
	assert_int_equal(json_object_get_int(field(q, "arrival_per_min")), 240);
	assert_int_equal(json_object_get_int(field(q, "drain_per_min")), 120);
	assert_int_equal(json_object_get_int(field(q, "concurrency_needed")), 2);
	assert_null(field(q, "stalled"));
	json_object_put(q);
	char *t = text(r);
	assert_true(has(t, "qa: SATURATED — 1 consumer, tasks arrive faster than they drain: "
			"240/min arriving, 120/min drained; concurrency 1 → 2 would keep up"));
	free(t);
	unload(r);
}

/* One sample in the window does not know its counts (null): the others give the rates. */
static void test_saturated_with_a_null_count(void **state)
{
	(void)state;
	struct run *r = load("saturated.jsonl");
	const struct cw_qverdict *v = queue(r, "qc");

	assert_int_equal(v->verdict, CW_SATURATED);
	assert_false(v->arrival_at_least);
	assert_true(v->has_drain);
	assert_true(v->arrival_per_min > 239.9 && v->arrival_per_min < 240.1);
	assert_true(v->drain_per_min > 119.9 && v->drain_per_min < 120.1);
	assert_int_equal(v->concurrency_needed, 2);
	unload(r);
}

/* No arrived/drained in the samples: the growth is a floor for arrivals, the drain null. */
static void test_saturated_without_counts(void **state)
{
	(void)state;
	struct run *r = load("saturated.jsonl");
	const struct cw_qverdict *v = queue(r, "qb");

	assert_int_equal(v->verdict, CW_SATURATED);
	assert_true(v->arrival_at_least);
	assert_false(v->has_drain);
	assert_true(v->arrival_per_min > 59.9 && v->arrival_per_min < 60.1);
	json_object *q = json_queue(r, "qb");
	assert_null(field(q, "drain_per_min"));
	assert_null(field(q, "concurrency_needed"));
	assert_true(json_object_get_boolean(field(q, "arrival_at_least")));
	json_object_put(q);
	unload(r);
}

/* The real worker killed at 30 s; a script called celery never connects: no consumer since
 * the kill, the impostor listed with uid, exe and argv, and not counted. */
static void test_not_connected_impostor(void **state)
{
	(void)state;
	struct run *r = load("notconn.jsonl");
	const struct cw_qverdict *v = queue(r, "qn");

	assert_int_equal(v->verdict, CW_NO_CONSUMER);
	assert_int_equal(v->consumers_now, 0);
	assert_int_equal(v->not_connected, 1);
	assert_int_equal(v->uncovered_since, ts("2026-11-24T10:00:30Z"));
	assert_true(v->cause >= 0);
	assert_int_equal(r->an.deaths[v->cause].pid, 7600);
	assert_int_equal(v->ngaps, 1);
	assert_int_equal(v->gaps[0].from, ts("2026-11-24T10:00:30Z"));
	assert_int_equal(v->gaps[0].to, CW_NONE);
	json_object *q = json_queue(r, "qn"), *nc = field(q, "not_connected");
	assert_int_equal(json_object_array_length(nc), 1);
	json_object *i = json_object_array_get_idx(nc, 0);
	assert_int_equal(json_object_get_int(field(i, "pid")), 7700);
	assert_int_equal(json_object_get_int(field(i, "uid")), 1000);
	assert_string_equal(json_object_get_string(field(i, "exe")), "/usr/bin/python3");
	assert_non_null(strstr(json_object_get_string(field(i, "cmdline")), "/tmp/x/celery"));
	assert_string_equal(json_object_get_string(field(i, "since")), "2026-11-24T10:00:10.000000Z");
	assert_int_equal(json_object_array_length(field(q, "consumers")), 0);
	assert_int_equal(json_object_get_int(field(q, "consumers_now")), 0);
	json_object_put(q);
	char *t = text(r);
	assert_true(has(t, "  not connected: pid 7700 uid 1000 /usr/bin/python3 /usr/bin/python3 "
			"/tmp/x/celery -A x worker"));
	free(t);
	unload(r);
}

/* A worker exec'd 14 s before the end, not connected yet: starting, within its grace, not a
 * gap; with a 5 s grace it is not connected and the queue has none. */
static void test_starting_within_grace(void **state)
{
	(void)state;
	struct run *r = load("notconn.jsonl");
	const struct cw_qverdict *v = queue(r, "qst");

	assert_int_equal(v->verdict, CW_OK);
	assert_int_equal(v->starting, 1);
	assert_int_equal(v->consumers_now, 0);
	for (int i = 0; i < v->ngaps; i++)
		assert_int_not_equal(v->gaps[i].to, CW_NONE);	/* no open gap */
	char *t = text(r);
	assert_true(has(t, "qst: ok — 1 worker starting (not connected to the broker yet)"));
	free(t);
	unload(r);

	r = load_opts("notconn.jsonl", 5, 30);
	v = queue(r, "qst");
	assert_int_equal(v->verdict, CW_NO_CONSUMER);
	assert_int_equal(v->not_connected, 1);
	assert_int_equal(v->ngaps, 1);
	assert_int_equal(v->gaps[0].from, ts("2026-11-24T10:01:25Z"));
	assert_int_equal(v->gaps[0].to, CW_NONE);
	unload(r);
}

/* Two live MainProcesses named w_d@web1 (a start script run twice); a clean restart of
 * w_e@web1 overlaps nothing. */
static void test_duplicate_node_names(void **state)
{
	(void)state;
	struct run *r = load("dupname.jsonl");
	const struct cw_qverdict *v = queue(r, "qd");

	assert_int_equal(v->ndups, 1);
	assert_string_equal(v->dups[0].worker, "w_d@web1");
	assert_int_equal(v->dups[0].npids, 2);
	assert_int_equal(queue(r, "qe")->ndups, 0);
	json_object *q = json_queue(r, "qd"), *d = field(q, "duplicates");
	assert_int_equal(json_object_array_length(d), 1);
	assert_int_equal(json_object_array_length(field(json_object_array_get_idx(d, 0), "pids")),
			 2);
	json_object_put(q);
	char *t = text(r);
	assert_true(has(t, "  duplicate worker name w_d@web1: pids 7900, 7901 alive at once"));
	free(t);
	unload(r);
}

/* A crash loop, then a start whose pool is stuck with tasks waiting: flapping wins, and the
 * stall is still told. */
static void test_flapping_over_stalled(void **state)
{
	(void)state;
	struct run *r = load("flapstall.jsonl");
	const struct cw_qverdict *v = queue(r, "qf");

	assert_int_equal(v->verdict, CW_FLAPPING);
	assert_true(v->stalled);
	assert_int_equal(v->stall.npids, 1);
	assert_int_equal(v->stall.pids[0], 8011);
	json_object *q = json_queue(r, "qf");
	assert_string_equal(json_object_get_string(field(q, "verdict")), "flapping");
	assert_non_null(field(q, "stalled"));
	json_object_put(q);
	char *t = text(r);
	assert_true(has(t, "  stalled too: the pool process blocked in read (wchan pipe_read)"));
	free(t);
	unload(r);
}

/* The order the report's worst-first relies on. */
static void test_precedence(void **state)
{
	(void)state;
	assert_true(CW_NO_CONSUMER > CW_FLAPPING);
	assert_true(CW_FLAPPING > CW_STALLED);
	assert_true(CW_STALLED > CW_SATURATED);
	assert_true(CW_SATURATED > CW_DEGRADED);
	assert_true(CW_DEGRADED > CW_OK);
	assert_string_equal(cw_verdict_name(CW_STALLED), "stalled");
	assert_string_equal(cw_verdict_name(CW_SATURATED), "saturated");
}

static int count_cb(const struct cw_event *ev, void *ctx)
{
	if (ev->type == CW_LOG_PROC_SAMPLE)
		*(int *)ctx += ev->nprocs;
	return 0;
}

/* proc_sample shapes: a good one is read; without broker or procs, one message and skipped;
 * a non-integer pid is the line's one complaint; conn_known false nulls broker_conns. */
static void test_proc_sample_shapes(void **state)
{
	(void)state;
	static const char log[] =
		"{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"2026-11-24T10:00:00Z\",\"broker\":"
		"{\"conn_known\":true},\"procs\":[{\"pid\":1,\"pstart\":2,\"cpu_ticks\":3,"
		"\"ctxsw\":4,\"broker_conns\":1,\"conns\":[{\"idle_s\":5,\"cmd\":\"brpop\"}]},"
		"\"junk\",{\"pstart\":9}]}\n"
		"{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"2026-11-24T10:00:00Z\",\"procs\":[]}\n"
		"{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"2026-11-24T10:00:00Z\",\"broker\":{}}\n"
		"{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"2026-11-24T10:00:00Z\",\"broker\":{},"
		"\"procs\":[{\"pid\":1.5}]}\n"
		"{\"v\":1,\"type\":\"sample\",\"ts\":\"2026-11-24T10:00:00Z\",\"redis_ok\":true,"
		"\"queues\":[{\"queue\":\"q\",\"depth\":1,\"arrived\":-3,\"drained\":\"x\"}]}\n";
	char err[2048] = "";
	FILE *in = fmemopen((void *)log, sizeof(log) - 1, "r");
	FILE *ef = fmemopen(err, sizeof(err), "w");
	struct cw_logread_stats st = {0};
	int nprocs = 0;

	assert_int_equal(cw_logread_stream(in, "mem", count_cb, &nprocs, &st, ef), 0);
	fclose(in);
	fclose(ef);
	assert_int_equal(nprocs, 1);
	assert_int_equal(st.skipped, 3);
	assert_non_null(strstr(err, "mem:2: proc_sample line without a \"broker\" object"));
	assert_non_null(strstr(err, "mem:3: proc_sample line without a \"procs\" array"));
	assert_non_null(strstr(err, "mem:4: \"procs[].pid\" is not an integer"));
}

/* Both pool processes frozen 50 s while 100 tasks piled up, then moving again: ok now, one
 * past stall with its peak, and the drain after it as after a gap. */
static void test_stall_recovered(void **state)
{
	(void)state;
	struct run *r = load("stall_recovered.jsonl");
	const struct cw_qverdict *v = queue(r, "qr");

	assert_int_equal(v->verdict, CW_OK);
	assert_false(v->stalled);
	assert_int_equal(v->nstalls, 1);
	assert_int_equal(v->stalls[0].from, ts("2026-11-24T10:00:20.001Z"));
	assert_int_equal(v->stalls[0].to, ts("2026-11-24T10:01:10.001Z"));
	assert_int_equal(v->stalls[0].peak, 100);
	assert_int_equal(v->stalls[0].emptied_at, ts("2026-11-24T10:01:35Z"));
	assert_true(v->has_drain);
	assert_true(v->drain_per_min > 239.9 && v->drain_per_min < 240.1);
	char *t = text(r);
	assert_true(has(t, "the queue went 0 → peak 100 → 0"));
	assert_true(has(t, "  stalled 10:00:20–10:01:10 (50 s), no progress in its working "
			"processes, backlog peaked at 100; drained at 240/min, empty at 10:01:35"));
	free(t);
	json_object *q = json_queue(r, "qr"), *st = field(q, "stalls");
	assert_int_equal(json_object_array_length(st), 1);
	assert_int_equal(json_object_get_int(field(json_object_array_get_idx(st, 0),
						   "backlog_peak")), 100);
	assert_int_equal(json_object_get_int(field(q, "drain_per_min")), 240);
	json_object_put(q);
	unload(r);
	/* a longer --stall-after than the freeze: no stall */
	r = load_opts("stall_recovered.jsonl", 20, 60);
	assert_int_equal(queue(r, "qr")->nstalls, 0);
	unload(r);
}

/* Frozen for 45 s of a 50 s --stall-after while the depth grows: a stall on its way, not
 * saturation (nothing drains), and not yet stalled: ok. */
static void test_freezing_is_not_saturated(void **state)
{
	(void)state;
	struct run *r = calloc(1, sizeof(*r));
	char *path = strdup(data("stall_recovered.jsonl"));
	struct cw_judge_opts o = {20 * 1000000LL, 50 * 1000000LL};
	int64_t until = ts("2026-11-24T10:01:05.5Z");

	assert_int_equal(cw_timeline_init(&r->tl), 0);
	r->tl.until = until;
	assert_int_equal(cw_timeline_load(&r->tl, &path, 1, &r->st, stderr), 0);
	assert_int_equal(cw_analyze_opts(&r->tl, CW_NONE, until, NULL, &o, &r->an), 0);
	free(path);
	const struct cw_qverdict *v = queue(r, "qr");
	assert_int_equal(v->depth_last, 90);
	assert_false(v->stalled);
	assert_int_equal(v->verdict, CW_OK);
	unload(r);
}

static char *html(struct run *r)
{
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	char path[] = "/tmp/cw_test_verdicts_XXXXXX", err[256];
	int fd = mkstemp(path);
	char *buf = calloc(1, 1 << 20);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cw_report_html(path, &in, err, sizeof(err)), 0);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	unlink(path);
	return buf;
}

/* The depth chart shades the stall and the gaps, each colour with its legend entry. */
static void test_html_shades_gaps_and_stalls(void **state)
{
	(void)state;
	struct run *r = load("stalled.jsonl");
	char *h = html(r);

	assert_non_null(strstr(h, "<rect class=\"stall\""));
	assert_non_null(strstr(h, "shaded: stalled"));
	assert_null(strstr(h, "<rect class=\"gap\""));
	assert_non_null(strstr(h, "<li class=\"stalled\">"));
	free(h);
	unload(r);
	r = load("notconn.jsonl");
	h = html(r);
	assert_non_null(strstr(h, "<rect class=\"gap\""));
	assert_non_null(strstr(h, "shaded: no consumer (gap)"));
	assert_null(strstr(h, "<rect class=\"stall\""));
	assert_non_null(strstr(h, "not connected: pid 7700"));
	free(h);
	unload(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalled),
		cmocka_unit_test(test_stalled_needs_stall_after),
		cmocka_unit_test(test_progressing_and_idle_are_not_stalled),
		cmocka_unit_test(test_v1_log_unchanged),
		cmocka_unit_test(test_saturated_with_counts),
		cmocka_unit_test(test_saturated_without_counts),
		cmocka_unit_test(test_saturated_with_a_null_count),
		cmocka_unit_test(test_not_connected_impostor),
		cmocka_unit_test(test_starting_within_grace),
		cmocka_unit_test(test_duplicate_node_names),
		cmocka_unit_test(test_flapping_over_stalled),
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_proc_sample_shapes),
		cmocka_unit_test(test_html_shades_gaps_and_stalls),
		cmocka_unit_test(test_stall_recovered),
		cmocka_unit_test(test_freezing_is_not_saturated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
