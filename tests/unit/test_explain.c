/* Unit tests of explain's classification and queue verdicts, on the hand-written logs in
 * tests/unit/data/ (one scenario per file, mirroring the kernel's order of events). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "causes.h"
#include "logread.h"
#include "report.h"
#include "timeline.h"
#include "testdata.h"

/* data files sit next to this source: found from __FILE__, or from $CW_TEST_DATA */
struct run {
	struct cw_timeline tl;
	struct cw_analysis an;
	struct cw_logread_stats st;
	char *err;		/* what the reader said */
	size_t errlen;
};

static struct run *load(const char *name, int64_t since, int64_t until, const char *queue)
{
	struct run *r = calloc(1, sizeof(*r));
	char *path = strdup(data(name));
	FILE *errf = open_memstream(&r->err, &r->errlen);

	assert_non_null(errf);
	assert_int_equal(cw_timeline_init(&r->tl), 0);
	r->tl.until = until;
	assert_int_equal(cw_timeline_load(&r->tl, &path, 1, &r->st, errf), 0);
	fclose(errf);
	assert_int_equal(cw_analyze(&r->tl, since, until, queue, &r->an), 0);
	free(path);
	return r;
}

static void unload(struct run *r)
{
	cw_analysis_free(&r->an);
	cw_timeline_free(&r->tl);
	free(r->err);
	free(r);
}

static const struct cw_qverdict *queue(struct run *r, const char *name)
{
	for (int i = 0; i < r->an.nqueues; i++)
		if (!strcmp(r->an.queues[i].queue, name))
			return &r->an.queues[i];
	fail_msg("queue %s not found", name);
	return NULL;
}

static const struct cw_death *death_of(struct run *r, int64_t pid)
{
	for (int i = 0; i < r->an.ndeaths; i++)
		if (r->an.deaths[i].pid == pid && r->an.deaths[i].shown)
			return &r->an.deaths[i];
	fail_msg("no death of pid %lld", (long long)pid);
	return NULL;
}

static int count_shown(struct run *r)
{
	int n = 0;

	for (int i = 0; i < r->an.ndeaths; i++)
		n += r->an.deaths[i].shown;
	return n;
}

static int64_t ts(const char *s)
{
	int64_t t;

	assert_int_equal(cw_parse_ts(s, &t), 0);
	return t;
}

/* ---- the incident: OOM kill of worker_low's MainProcess ---- */

static void test_oom_kill(void **state)
{
	(void)state;
	struct run *r = load("incident.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *d = death_of(r, 4766);

	assert_int_equal(d->kind, CW_K_OOM_KILL);
	assert_int_equal(d->role, CW_RL_MAIN);
	assert_string_equal(d->worker, "worker_low@web1");
	assert_true(d->has_oom);
	assert_int_equal(d->oom.anon_rss_kb, 1950000);
	assert_string_equal(d->oom.cgroup, "/celery/low");
	assert_int_equal(d->followers, 2);
	assert_non_null(strstr(d->summary, "OOM-killed in cgroup /celery/low at 1.9 GiB RSS"));

	/* the pool children died with it, and point at it */
	const struct cw_death *c = death_of(r, 4770);
	assert_int_equal(c->kind, CW_K_PARENT_DIED);
	assert_int_equal(c->parent_pid, 4766);
	assert_int_equal(r->an.deaths[c->parent_death].kind, CW_K_OOM_KILL);
	assert_int_equal(death_of(r, 4771)->kind, CW_K_PARENT_DIED);
	assert_int_equal(count_shown(r), 3);
	/* an OOM kill of a process we do not follow is context, not a death */
	assert_int_equal(r->tl.nother_ooms, 1);
	assert_int_equal(r->tl.other_ooms[0].pid, 900);
	assert_string_equal(r->tl.other_ooms[0].comm, "java");
	assert_int_equal(r->tl.other_ooms[0].anon_rss_kb, 3145728);
	unload(r);
}

static void test_incident_verdicts(void **state)
{
	(void)state;
	struct run *r = load("incident.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_qverdict *low = queue(r, "low_priority");

	assert_int_equal(r->an.nqueues, 3);
	assert_int_equal(low->verdict, CW_NO_CONSUMER);
	assert_int_equal(low->consumers_now, 0);
	assert_int_equal(low->uncovered_since, ts("2026-11-24T12:03:11.123456Z"));
	assert_int_equal(low->depth_first, 120);
	assert_int_equal(low->depth_last, 19334);
	assert_true(low->has_growth);
	/* from the last sample before the loss: 9919 at 12:03:05 -> 19334 at 17:06:45 */
	assert_int_equal(low->growth_from_depth, 9919);
	assert_int_equal(low->growth_to_depth, 19334);
	assert_float_equal(low->growth_per_min, (19334 - 9919) / 303.6666667, 0.001);
	assert_int_equal(r->an.deaths[low->cause].kind, CW_K_OOM_KILL);

	const struct cw_qverdict *high = queue(r, "high_priority");
	assert_int_equal(high->verdict, CW_OK);
	assert_int_equal(high->consumers_now, 1);
	assert_int_equal(high->pool_now, 2);
	assert_int_equal(high->cause, -1);
	assert_int_equal(high->uncovered_since, CW_NONE);
	assert_int_equal(queue(r, "daemon")->verdict, CW_OK);
	/* the redis_ok:false sample is not a depth */
	assert_int_equal(r->tl.queues[0].nsamples, 4);
	unload(r);
}

static void test_text_answer_first(void **state)
{
	(void)state;
	struct run *r = load("incident.jsonl", CW_NONE, CW_NONE, NULL);
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(cw_report_text(f, &in), 0);
	fclose(f);
	const char *want = "low_priority: NO CONSUMER since 12:03:11 — worker_low@web1 (pid 4766) was "
			   "OOM-killed in cgroup /celery/low at 1.9 GiB RSS while pid 4770 "
			   "([celeryd: worker_low@web1:ForkPoolWorker-1]) was allocating; the queue grew "
			   "9,919 → 19,334 (+31/min)\n";
	char *first = strstr(buf, "\n\n");
	assert_non_null(first);
	assert_memory_equal(first + 2, want, strlen(want));
	assert_null(strchr(buf, '\033'));	/* no colour when not asked */
	assert_non_null(strstr(buf, "Other OOM kills on the host (context, not Celery):\n"
				    "  12:02:50  pid 900 (java) at 3072 MiB anon RSS in cgroup "
				    "/system.slice/reports.service\n"));
	free(buf);

	/* with colour, escapes appear; NO_COLOR turns them off on a terminal too */
	in.color = true;
	f = open_memstream(&buf, &len);
	cw_report_text(f, &in);
	fclose(f);
	assert_non_null(strchr(buf, '\033'));
	free(buf);
	setenv("NO_COLOR", "1", 1);
	assert_false(cw_want_color(stdout));
	unsetenv("NO_COLOR");
	unload(r);
}

/* ---- each kind ---- */

static void test_signal_with_sender(void **state)
{
	(void)state;
	struct run *r = load("signal_kill.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *d = death_of(r, 5000);

	assert_int_equal(d->kind, CW_K_SIGNAL);
	assert_string_equal(d->signame, "SIGKILL");
	assert_true(d->has_sender);
	assert_int_equal(d->sender.pid, 6000);
	assert_string_equal(d->sender.comm, "bash");
	assert_int_equal(d->sender.uid, 0);
	assert_string_equal(d->sender.cmdline, "/bin/bash /usr/local/bin/restart.sh");
	assert_int_equal(d->exit_code, CW_NONE);
	/* PDEATHSIG: code kernel, sender the dying parent */
	const struct cw_death *c = death_of(r, 5001);
	assert_int_equal(c->kind, CW_K_PARENT_DIED);
	assert_int_equal(r->an.deaths[c->parent_death].pid, 5000);
	assert_non_null(strstr(c->summary, "(signal)"));

	const struct cw_qverdict *q = queue(r, "qa");
	assert_int_equal(q->verdict, CW_NO_CONSUMER);
	assert_int_equal(q->uncovered_since, ts("2026-11-24T10:01:00.001Z"));
	/* from the last sample before the loss: 10 at 10:00:10 -> 120 at 10:11:10 */
	assert_int_equal(q->growth_from_depth, 10);
	assert_float_equal(q->growth_per_min, 10.0, 1e-9);
	assert_int_equal(r->an.deaths[q->cause].pid, 5000);
	unload(r);
}

static void test_warm_shutdown_is_signal(void **state)
{
	(void)state;
	struct run *r = load("warm_shutdown.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *d = death_of(r, 5100);

	assert_int_equal(d->kind, CW_K_SIGNAL);
	assert_int_equal(d->exit_code, 0);
	assert_string_equal(d->signame, "SIGTERM");
	assert_string_equal(d->sender.comm, "systemd");
	assert_int_equal(d->sender.pid, 1);
	assert_non_null(strstr(d->summary, "shut down (exit 0) after SIGTERM"));
	/* its child exited 0 during the shutdown: it went with its parent */
	assert_int_equal(death_of(r, 5101)->kind, CW_K_PARENT_DIED);
	unload(r);
}

static void test_pool_events(void **state)
{
	(void)state;
	struct run *r = load("pool_events.jsonl", CW_NONE, CW_NONE, NULL);

	const struct cw_death *rec = death_of(r, 5201);
	assert_int_equal(rec->kind, CW_K_RECYCLED);
	assert_false(rec->incident);
	const struct cw_death *tlim = death_of(r, 5202);
	assert_int_equal(tlim->kind, CW_K_TIME_LIMIT);
	assert_int_equal(tlim->parent_pid, 5200);
	const struct cw_death *segv = death_of(r, 5203);
	assert_int_equal(segv->kind, CW_K_CRASH);
	assert_string_equal(segv->signame, "SIGSEGV");
	assert_true(segv->core_dumped);
	const struct cw_death *abrt = death_of(r, 5204);
	assert_int_equal(abrt->kind, CW_K_CRASH);
	assert_string_equal(abrt->signame, "SIGABRT");
	assert_int_equal(r->an.kinds[CW_K_CRASH], 2);
	assert_int_equal(r->an.kinds[CW_K_RECYCLED], 1);

	const struct cw_qverdict *q = queue(r, "qp");
	assert_int_equal(q->verdict, CW_OK);
	assert_int_equal(q->pool_now, 2);	/* 5205, 5206 */
	assert_float_equal(q->growth_per_min, -1.0, 1e-9);
	unload(r);
}

static void test_exit_error_and_clean(void **state)
{
	(void)state;
	struct run *r = load("exits.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *e = death_of(r, 5300);

	assert_int_equal(e->kind, CW_K_EXIT_ERROR);
	assert_int_equal(e->exit_code, 1);
	assert_non_null(e->stderr_tail);
	assert_non_null(strstr(e->stderr_tail, "Traceback"));
	assert_non_null(strstr(e->summary, "No module named 'proj.tasks'"));
	const struct cw_death *c = death_of(r, 5400);
	assert_int_equal(c->kind, CW_K_EXIT_CLEAN);
	assert_false(c->has_sender);
	assert_int_equal(queue(r, "qe")->verdict, CW_NO_CONSUMER);
	/* no samples: no numbers */
	assert_int_equal(queue(r, "qe")->depth_first, CW_NONE);
	assert_false(queue(r, "qe")->has_growth);
	unload(r);
}

static void test_exec_failed_and_never_started(void **state)
{
	(void)state;
	struct run *r = load("never.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_qverdict *qx = queue(r, "qx"), *qn = queue(r, "qn");

	assert_int_equal(qx->verdict, CW_NO_CONSUMER);
	assert_int_equal(qx->uncovered_since, CW_NONE);
	const struct cw_death *f = &r->an.deaths[qx->cause];
	assert_int_equal(f->kind, CW_K_EXEC_FAILED);
	assert_string_equal(f->errname, "ENOENT");
	assert_string_equal(f->worker, "worker_x@web1");
	assert_int_equal(f->pid, 5500);

	const struct cw_death *n = &r->an.deaths[qn->cause];
	assert_int_equal(n->kind, CW_K_NEVER_STARTED);
	assert_int_equal(n->pid, CW_NONE);
	assert_null(n->worker);
	assert_string_equal(n->queue, "qn");
	assert_int_equal(n->depth, 9);
	assert_int_equal(n->ts, ts("2026-11-24T10:01:10Z"));	/* first sample with tasks */
	assert_int_equal(count_shown(r), 2);
	unload(r);
}

static void test_lost_events_make_unknown(void **state)
{
	(void)state;
	struct run *r = load("lost.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *u = death_of(r, 5600);

	assert_int_equal(u->kind, CW_K_UNKNOWN);
	assert_int_equal(u->lost_near, 17);
	assert_non_null(strstr(u->summary, "lost"));
	/* same evidence, no loss near it: a signal whose sender was not recorded */
	const struct cw_death *k = death_of(r, 5700);
	assert_int_equal(k->kind, CW_K_SIGNAL);
	assert_false(k->has_sender);
	assert_int_equal(k->lost_near, 0);
	assert_int_equal(r->an.lost_in_window, 17);
	unload(r);
}

static void test_pid_reuse(void **state)
{
	(void)state;
	struct run *r = load("pidreuse.jsonl", CW_NONE, CW_NONE, NULL);

	assert_int_equal(r->tl.nprocs, 2);
	assert_int_equal(count_shown(r), 1);
	const struct cw_death *d = death_of(r, 5800);
	assert_int_equal(d->kind, CW_K_UNKNOWN);
	assert_int_equal(r->tl.procs[d->proc].pstart, 800);
	assert_non_null(strstr(d->summary, "reused"));
	const struct cw_qverdict *q = queue(r, "qr");
	assert_int_equal(q->verdict, CW_OK);
	assert_int_equal(q->consumers_now, 1);
	unload(r);
}

static void test_hosts_kept_apart(void **state)
{
	(void)state;
	struct run *r = load("hosts.jsonl", CW_NONE, CW_NONE, NULL);

	assert_int_equal(r->tl.nhosts, 2);
	assert_int_equal(r->tl.nprocs, 2);	/* same pid and pstart, two hosts */
	assert_int_equal(count_shown(r), 1);
	const struct cw_death *d = death_of(r, 4766);
	assert_int_equal(d->kind, CW_K_OOM_KILL);
	assert_string_equal(d->host, "web1");
	const struct cw_qverdict *q = queue(r, "qh");
	assert_int_equal(q->verdict, CW_OK);
	assert_int_equal(q->consumers_now, 1);
	assert_string_equal(q->consumer_names[0], "worker_h@web2");
	unload(r);
}

static void test_detach_is_handover(void **state)
{
	(void)state;
	struct run *r = load("detach.jsonl", CW_NONE, CW_NONE, NULL);

	/* sh -> python3 in one pid is one process; the --detach exits are no deaths */
	assert_int_equal(r->tl.nprocs, 4);
	assert_int_equal(count_shown(r), 0);
	const struct cw_qverdict *q = queue(r, "qd");
	assert_int_equal(q->verdict, CW_OK);
	assert_int_equal(q->consumers_now, 1);
	assert_int_equal(q->pool_now, 1);
	assert_int_equal(r->an.nworkers, 1);
	unload(r);
}

static void test_stopped_and_degraded(void **state)
{
	(void)state;
	struct run *r = load("stop_degraded.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_qverdict *qs = queue(r, "qs"), *qg = queue(r, "qg");

	assert_int_equal(qs->verdict, CW_NO_CONSUMER);
	assert_int_equal(qs->uncovered_since, ts("2026-11-24T10:01:00Z"));
	const struct cw_death *s = &r->an.deaths[qs->cause];
	assert_int_equal(s->kind, CW_K_SIGNAL);
	assert_true(s->stopped);
	assert_string_equal(s->signame, "SIGSTOP");
	assert_int_equal(s->sender.uid, 1000);

	assert_int_equal(qg->verdict, CW_DEGRADED);
	assert_int_equal(qg->consumers_now, 1);
	assert_int_equal(qg->pool_now, 0);
	const struct cw_death *g = &r->an.deaths[qg->cause];
	assert_int_equal(g->kind, CW_K_OOM_KILL);
	assert_int_equal(g->role, CW_RL_POOL);
	assert_int_equal(g->pid, 7201);
	unload(r);
}

static void test_recorder_restart(void **state)
{
	(void)state;
	struct run *r = load("restart.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *d = death_of(r, 8000);

	assert_int_equal(d->kind, CW_K_UNKNOWN);
	assert_non_null(strstr(d->summary, "recorder was not running"));
	assert_int_equal(d->ts, ts("2026-11-24T11:00:00Z"));
	assert_int_equal(queue(r, "qv")->verdict, CW_NO_CONSUMER);
	assert_int_equal(queue(r, "qw")->verdict, CW_OK);	/* seen again by the new scan */
	assert_int_equal(count_shown(r), 1);
	unload(r);
}

/* ---- the window and the filter ---- */

static void test_until_before_the_death(void **state)
{
	(void)state;
	struct run *r = load("incident.jsonl", CW_NONE, ts("2026-11-24T12:00:00Z"), NULL);

	/* the log goes on: the window ends where asked */
	assert_int_equal(r->an.to, ts("2026-11-24T12:00:00Z"));
	assert_int_equal(queue(r, "low_priority")->verdict, CW_OK);
	assert_int_equal(count_shown(r), 0);
	unload(r);
}

static void test_since_after_the_death(void **state)
{
	(void)state;
	struct run *r = load("incident.jsonl", ts("2026-11-24T13:00:00Z"), CW_NONE, NULL);
	const struct cw_qverdict *low = queue(r, "low_priority");

	assert_int_equal(r->an.from, ts("2026-11-24T13:00:00Z"));
	/* the death is before the window: not listed, but still the cause */
	assert_int_equal(count_shown(r), 0);
	assert_int_equal(low->verdict, CW_NO_CONSUMER);
	assert_int_equal(r->an.deaths[low->cause].kind, CW_K_OOM_KILL);
	assert_int_equal(low->depth_first, 11779);	/* samples in the window only */
	assert_int_equal(low->depth_last, 19334);
	unload(r);
}

static void test_queue_filter(void **state)
{
	(void)state;
	struct run *r = load("incident.jsonl", CW_NONE, CW_NONE, "high_priority");

	assert_int_equal(r->an.nqueues, 1);
	assert_string_equal(r->an.queues[0].queue, "high_priority");
	assert_int_equal(count_shown(r), 0);	/* worker_low's deaths are not about it */
	unload(r);
}

static void test_rotated_order(void **state)
{
	(void)state;
	/* the same log cut in two, given newest first: the reader puts them in order */
	char dir[] = "/tmp/cw_test_rotXXXXXX";
	assert_non_null(mkdtemp(dir));
	char a[256], b[256], line[8192];
	snprintf(a, sizeof(a), "%s/log", dir);
	snprintf(b, sizeof(b), "%s/log.1", dir);
	FILE *in = fopen(data("incident.jsonl"), "r"), *fa = fopen(a, "w"), *fb = fopen(b, "w");
	assert_non_null(in);
	for (int n = 0; fgets(line, sizeof(line), in); n++)
		fputs(line, n < 14 ? fb : fa);
	fclose(in);
	fclose(fa);
	fclose(fb);
	char *files[] = {a, b};
	struct cw_timeline tl;
	struct cw_analysis an;
	assert_int_equal(cw_timeline_init(&tl), 0);
	assert_int_equal(cw_timeline_load(&tl, files, 2, NULL, stderr), 0);
	assert_int_equal(cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an), 0);
	int oom = 0;
	for (int i = 0; i < an.ndeaths; i++)
		oom += an.deaths[i].kind == CW_K_OOM_KILL;
	assert_int_equal(oom, 1);
	assert_int_equal(an.from, ts("2026-11-24T07:00:00Z"));
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
	unlink(a);
	unlink(b);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_kill),
		cmocka_unit_test(test_incident_verdicts),
		cmocka_unit_test(test_text_answer_first),
		cmocka_unit_test(test_signal_with_sender),
		cmocka_unit_test(test_warm_shutdown_is_signal),
		cmocka_unit_test(test_pool_events),
		cmocka_unit_test(test_exit_error_and_clean),
		cmocka_unit_test(test_exec_failed_and_never_started),
		cmocka_unit_test(test_lost_events_make_unknown),
		cmocka_unit_test(test_pid_reuse),
		cmocka_unit_test(test_hosts_kept_apart),
		cmocka_unit_test(test_detach_is_handover),
		cmocka_unit_test(test_stopped_and_degraded),
		cmocka_unit_test(test_recorder_restart),
		cmocka_unit_test(test_until_before_the_death),
		cmocka_unit_test(test_since_after_the_death),
		cmocka_unit_test(test_queue_filter),
		cmocka_unit_test(test_rotated_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
