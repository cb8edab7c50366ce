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

#include "explain/causes.h"
#include "log/logread.h"
#include "explain/report.h"
#include "explain/timeline.h"
#include "testdata.h"

/* data files: tests/unit/data/ from the repository root, or $CW_TEST_DATA (testdata.h) */
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

/* kill -9 -PGID (or systemd killing the unit's cgroup): one request, one incident, in whatever
 * order the kernel delivered it; a child killed by someone else a second before its
 * MainProcess stays an incident of its own */
static void test_group_kill_is_one_incident(void **state)
{
	(void)state;
	struct run *r = load("group_kill.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *d = death_of(r, 5200);

	assert_int_equal(d->kind, CW_K_SIGNAL);
	assert_int_equal(d->sender.pid, 6100);
	assert_true(d->incident);
	for (int64_t pid = 5201; pid <= 5202; pid++) {
		const struct cw_death *c = death_of(r, pid);
		assert_int_equal(c->kind, CW_K_PARENT_DIED);
		assert_false(c->incident);
		assert_int_equal(r->an.deaths[c->parent_death].pid, 5200);
	}
	assert_int_equal(d->followers, 2);
	const struct cw_death *h = death_of(r, 5301);
	assert_int_equal(h->kind, CW_K_SIGNAL);
	assert_int_equal(h->sender.pid, 6200);
	assert_true(h->incident);
	assert_int_equal(death_of(r, 5300)->followers, 0);
	/* the kernel reached 5401 first and it was gone before the sender got to its
	 * MainProcess (microseconds, on two CPUs): still the one request */
	const struct cw_death *k = death_of(r, 5401);
	assert_int_equal(k->kind, CW_K_PARENT_DIED);
	assert_false(k->incident);
	assert_int_equal(death_of(r, 5400)->followers, 1);
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

/* A file without a valid line has no first timestamp: it goes after the others, and the
 * others still go in time order (the comparison must be a total order for qsort). */
static void test_order_with_a_file_without_time(void **state)
{
	(void)state;
	char dir[] = "/tmp/cw_test_ordXXXXXX";
	assert_non_null(mkdtemp(dir));
	char a[256], b[256], bad[256], line[8192];
	snprintf(a, sizeof(a), "%s/log", dir);
	snprintf(b, sizeof(b), "%s/log.1", dir);
	snprintf(bad, sizeof(bad), "%s/junk", dir);
	FILE *in = fopen(data("incident.jsonl"), "r"), *fa = fopen(a, "w"), *fb = fopen(b, "w");
	FILE *fj = fopen(bad, "w");
	assert_non_null(in);
	for (int n = 0; fgets(line, sizeof(line), in); n++)
		fputs(line, n < 14 ? fb : fa);
	fputs("not a log line\n{\"v\":1}\n", fj);
	fclose(in);
	fclose(fa);
	fclose(fb);
	fclose(fj);
	/* newest first, the junk between them */
	char *files[] = {a, bad, b};
	struct cw_timeline tl;
	struct cw_analysis an;
	assert_int_equal(cw_timeline_init(&tl), 0);
	FILE *errf = fopen("/dev/null", "w");
	assert_int_equal(cw_timeline_load(&tl, files, 3, NULL, errf), 0);
	fclose(errf);
	assert_int_equal(cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an), 0);
	int oom = 0;
	for (int i = 0; i < an.ndeaths; i++)
		oom += an.deaths[i].kind == CW_K_OOM_KILL;
	assert_int_equal(oom, 1);
	assert_int_equal(an.from, ts("2026-11-24T07:00:00Z"));
	/* read in order, the queue's last depth is the log's last sample */
	int seen = 0;
	for (int i = 0; i < an.nqueues; i++)
		if (!strcmp(an.queues[i].queue, "low_priority") && ++seen)
			assert_int_equal(an.queues[i].depth_last, 19334);
	assert_int_equal(seen, 1);
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
	unlink(a);
	unlink(b);
	unlink(bad);
	rmdir(dir);
}

/* ---- exec failures that are only a PATH search's misses ---- */

static int count_kind(struct run *r, enum cw_kind k)
{
	int n = 0;

	for (int i = 0; i < r->an.ndeaths; i++)
		n += r->an.deaths[i].shown && r->an.deaths[i].kind == k;
	return n;
}

static void test_path_search_misses(void **state)
{
	(void)state;
	struct run *r = load("pathsearch.jsonl", CW_NONE, CW_NONE, NULL);

	/* 5900: three ENOENT then the exec that works; 5910: the same with pstart null */
	for (int i = 0; i < r->an.ndeaths; i++) {
		assert_int_not_equal(r->an.deaths[i].pid, 5900);
		assert_int_not_equal(r->an.deaths[i].pid, 5910);
		assert_int_not_equal(r->an.deaths[i].pid, 5930);
	}
	/* they started (and have not forked their pool yet) */
	assert_int_equal(queue(r, "qps")->consumers_now, 1);
	assert_int_equal(queue(r, "qpn")->consumers_now, 1);
	/* 5920 failed in every PATH directory: one incident, its last attempt */
	const struct cw_qverdict *qf = queue(r, "qpf");
	assert_int_equal(qf->verdict, CW_NO_CONSUMER);
	const struct cw_death *f = &r->an.deaths[qf->cause];
	assert_int_equal(f->kind, CW_K_EXEC_FAILED);
	assert_int_equal(f->pid, 5920);
	assert_true(f->incident);
	assert_int_equal(f->ts, ts("2026-11-24T10:00:03.000003Z"));
	/* 5940 (pstart null): the pid's next exec 44 s later is another process */
	const struct cw_death *g = death_of(r, 5940);
	assert_int_equal(g->kind, CW_K_EXEC_FAILED);
	assert_int_equal(g->ts, ts("2026-11-24T10:00:06Z"));
	assert_int_equal(count_kind(r, CW_K_EXEC_FAILED), 2);
	/* a --detach launcher found on its second try, whose worker never came: the miss is
	 * not the cause, nobody ever consumed the queue */
	const struct cw_qverdict *qd = queue(r, "qpd");
	assert_int_equal(qd->verdict, CW_NO_CONSUMER);
	assert_int_equal(r->an.deaths[qd->cause].kind, CW_K_NEVER_STARTED);
	assert_int_equal(count_shown(r), 3);
	/* the facts are kept, marked */
	int superseded = 0;
	for (int i = 0; i < r->tl.nexecfails; i++)
		superseded += r->tl.execfails[i].superseded;
	assert_int_equal(r->tl.nexecfails, 11);
	assert_int_equal(superseded, 3 + 2 + 3 + 1);
	unload(r);
}

/* ---- oom lines without pstart (kernels before 6.8) ---- */

static void test_oom_without_pstart(void **state)
{
	(void)state;
	struct run *r = load("oom_nopstart.jsonl", CW_NONE, CW_NONE, NULL);

	assert_int_equal(r->st.skipped, 0);
	assert_null(r->err && *r->err ? r->err : NULL);
	/* the victim is the live pid 6102 (pstart 1602), not the recycled one before it */
	const struct cw_death *d = NULL;
	for (int i = 0; i < r->an.ndeaths; i++)
		if (r->an.deaths[i].pid == 6102 && r->an.deaths[i].kind == CW_K_OOM_KILL)
			d = &r->an.deaths[i];
	assert_non_null(d);
	assert_int_equal(r->tl.procs[d->proc].pstart, 1602);
	assert_true(d->has_oom);
	assert_int_equal(d->oom.anon_rss_kb, CW_NONE);
	assert_string_equal(d->oom.cgroup, "/celery/qo");
	assert_int_equal(d->role, CW_RL_POOL);
	assert_int_equal(d->parent_pid, 6100);
	/* no figures: none said (not "at 0 KiB RSS") */
	assert_non_null(strstr(d->summary, "pool child pid 6102 of worker_o@web1 was OOM-killed in "
				    "cgroup /celery/qo"));
	assert_null(strstr(d->summary, "RSS"));
	assert_null(strstr(d->summary, " at "));
	assert_int_equal(count_kind(r, CW_K_OOM_KILL), 1);
	assert_int_equal(count_kind(r, CW_K_RECYCLED), 1);
	/* a pid-only OOM kill of a process we never followed is context */
	assert_int_equal(r->tl.nother_ooms, 1);
	assert_int_equal(r->tl.other_ooms[0].pid, 7777);
	unload(r);
}

/* ---- signals from a pool child's own MainProcess ---- */

static void test_signals_from_own_main(void **state)
{
	(void)state;
	struct run *r = load("pool_term.jsonl", CW_NONE, CW_NONE, NULL);

	/* TERM, then KILL 100 ms later, both from the MainProcess: the hard time limit */
	const struct cw_death *t = death_of(r, 6301);
	assert_int_equal(t->kind, CW_K_TIME_LIMIT);
	assert_string_equal(t->signame, "SIGKILL");
	assert_int_equal(t->sender.pid, 6300);
	assert_non_null(strstr(t->summary, "by its MainProcess (pid 6300): a hard time limit"));
	/* TERM alone, the child dies of it: revoke(terminate=True) */
	const struct cw_death *v = death_of(r, 6302);
	assert_int_equal(v->kind, CW_K_SIGNAL);
	assert_string_equal(v->signame, "SIGTERM");
	assert_true(v->has_sender);
	assert_int_equal(v->sender.pid, 6300);
	assert_true(v->incident);
	assert_non_null(strstr(v->summary, "pool child pid 6302 of worker_t@web1 was terminated with "
				    "SIGTERM by its own MainProcess (pid 6300): a revoke"));
	assert_null(strstr(v->summary, "time limit"));
	/* TERM, then a clean exit: a pool shrink */
	const struct cw_death *k = death_of(r, 6303);
	assert_int_equal(k->kind, CW_K_SIGNAL);
	assert_int_equal(k->exit_code, 0);
	assert_int_equal(k->sender.pid, 6300);
	assert_non_null(strstr(k->summary, "shut down (exit 0) after SIGTERM from its own "
				    "MainProcess (pid 6300)"));
	assert_non_null(strstr(k->summary, "pool shrink"));
	/* kill -9 from a shell: a signal from that shell */
	const struct cw_death *o = death_of(r, 6304);
	assert_int_equal(o->kind, CW_K_SIGNAL);
	assert_int_equal(o->sender.pid, 7000);
	assert_non_null(strstr(o->summary, "was killed by SIGKILL from pid 7000 (bash, uid 0"));
	assert_int_equal(r->an.kinds[CW_K_TIME_LIMIT], 1);
	assert_int_equal(r->an.kinds[CW_K_SIGNAL], 3);
	assert_int_equal(queue(r, "qt")->verdict, CW_OK);
	unload(r);
}

/* ---- queue lists are interned by an unambiguous key ---- */

static const struct cw_tproc *proc_of(struct run *r, int64_t pid)
{
	for (int i = 0; i < r->tl.nprocs; i++)
		if (r->tl.procs[i].pid == pid)
			return &r->tl.procs[i];
	fail_msg("no process %lld", (long long)pid);
	return NULL;
}

static void test_qsets_unambiguous(void **state)
{
	(void)state;
	struct run *r = load("qsets.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_qset *a = proc_of(r, 6400)->queues, *b = proc_of(r, 6401)->queues;
	const struct cw_qset *c = proc_of(r, 6402)->queues, *d = proc_of(r, 6403)->queues;

	assert_int_equal(a->n, 1);
	assert_string_equal(a->names[0], "a\x1f" "b");
	assert_int_equal(b->n, 2);
	assert_string_equal(b->names[0], "a");
	assert_string_equal(b->names[1], "b");
	assert_int_equal(c->n, 1);
	assert_string_equal(c->names[0], "a:b");
	assert_int_equal(d->n, 1);
	assert_string_equal(d->names[0], "1:a");
	assert_true(a != b && a != c && a != d && b != c && b != d && c != d);
	/* each queue has exactly its own consumer */
	assert_int_equal(queue(r, "a")->verdict, CW_OK);
	assert_string_equal(queue(r, "a")->consumer_names[0], "worker_b@web1");
	assert_int_equal(queue(r, "a\x1f" "b")->consumers_now, 1);
	assert_string_equal(queue(r, "a\x1f" "b")->consumer_names[0], "worker_a@web1");
	assert_int_equal(queue(r, "b")->consumers_now, 1);
	assert_int_equal(queue(r, "a:b")->consumers_now, 1);
	assert_int_equal(queue(r, "1:a")->consumers_now, 1);
	unload(r);
}

/* ---- hostile strings in the text report ---- */

/* No byte of the text may move the cursor or start a line but our own newlines; ESC only
 * at the start of our colour codes (when colour is on). */
static void assert_text_clean(const char *buf, bool color)
{
	static const char *const ours[] = {"\033[1;31m", "\033[1;33m", "\033[32m", "\033[1m",
					   "\033[2m", "\033[0m"};
	const unsigned char *p = (const unsigned char *)buf;

	for (size_t i = 0; p[i]; i++) {
		if (p[i] == 0x1b) {
			bool ok = false;
			for (size_t k = 0; color && k < sizeof(ours) / sizeof(ours[0]); k++)
				ok |= !strncmp(buf + i, ours[k], strlen(ours[k]));
			if (!ok)
				fail_msg("raw ESC at offset %zu: ...%.40s", i, buf + (i > 40 ? i - 40 : 0));
			continue;
		}
		if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
			fail_msg("raw control byte 0x%02x at offset %zu: ...%.40s", p[i], i,
				 buf + (i > 40 ? i - 40 : 0));
		/* C1 controls as UTF-8 (U+0080..U+009F), and bytes that are not UTF-8 */
		if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			fail_msg("raw C1 control at offset %zu", i);
		if (p[i] == 0xff || p[i] == 0xfe)
			fail_msg("raw invalid UTF-8 at offset %zu", i);
	}
	/* the forged text is there, but never at the start of a line */
	for (const char *l = buf; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		assert_false(!strncmp(l, "qa: ok", 6));
		assert_false(!strncmp(l, "fake:", 5));
	}
}

static char *text_of(struct run *r, bool color)
{
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an, .color = color};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_int_equal(cw_report_text(f, &in), 0);
	fclose(f);
	return buf;
}

static void test_text_hostile(void **state)
{
	(void)state;
	struct run *r = load("hostile.jsonl", CW_NONE, CW_NONE, NULL);

	/* the bad type was reported with its escape made visible */
	assert_non_null(strstr(r->err, "unknown type \"tele\\e[2K\\rpathy\""));
	assert_null(strchr(r->err, '\033'));
	for (int color = 0; color < 2; color++) {
		char *buf = text_of(r, color);
		assert_text_clean(buf, color);
		/* the queue line, the sender's forged cmdline, visible */
		assert_non_null(strstr(buf, "qa\\r\\n\\e[2Kqa: ok \\u009b31m"));
		assert_non_null(strstr(buf, "x\\r\\e[2K\\nqa: ok — 1 consumer …\\e[8m"));
		assert_non_null(strstr(buf, "k\\e[8m\\u202e"));
		assert_non_null(strstr(buf, "w\\e[31m@h\\r\\nfake: line"));
		/* the stderr tail's last line, with its bytes that are not UTF-8 */
		assert_non_null(strstr(buf, "Error: \\e]0;title\\x07bad \\xff\\xc3\\t\\x7f"));
		/* the other OOM kill's comm and cgroup */
		assert_non_null(strstr(buf, "(ja\\eva)"));
		assert_non_null(strstr(buf, "in cgroup /sys\\r\\nfake: ok"));
		free(buf);
	}
	unload(r);
}

/* ---- identity comes from exec and scan lines only ---- */

static void test_duplicate_exit_keeps_identity(void **state)
{
	(void)state;
	/* a kernel race writes a second exit of the same process, after the recorder forgot
	 * it: worker null, role other. It must not make the worker anonymous. */
	struct run *r = load("dup_exit.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_death *d = death_of(r, 5300);
	int n = 0;

	assert_int_equal(d->kind, CW_K_SIGNAL);
	assert_string_equal(d->signame, "SIGKILL");
	assert_string_equal(d->worker, "worker_d@web1");
	assert_int_equal(d->role, CW_RL_MAIN);
	assert_int_equal(d->ts, ts("2026-11-24T10:01:00.001Z"));
	for (int i = 0; i < r->an.ndeaths; i++)
		n += r->an.deaths[i].pid == 5300;
	assert_int_equal(n, 1);

	const struct cw_qverdict *q = queue(r, "qd");
	assert_int_equal(q->verdict, CW_NO_CONSUMER);
	assert_int_equal(r->an.deaths[q->cause].pid, 5300);
	unload(r);
}

/* ---- a pool process' children are a task's subprocesses, not the pool ---- */

/* A worker the kernel could not follow (tracked map full): alive as far as the log knows,
 * so its queue's verdict is uncertain. A signal the kernel generated (a timer) names no
 * sender: the process it interrupted is not accused. Suppressed lines are read, not errors. */
static void test_untracked_and_kernel_signal(void **state)
{
	(void)state;
	struct run *r = load("kernel_untracked.jsonl", CW_NONE, CW_NONE, NULL);

	assert_int_equal(r->st.skipped, 0);
	const struct cw_qverdict *qu = queue(r, "qu");
	assert_int_equal(qu->untracked, 1);
	assert_int_equal(queue(r, "qt")->untracked, 0);

	const struct cw_death *d = death_of(r, 7100);
	assert_int_equal(d->kind, CW_K_SIGNAL);
	assert_true(d->sender.kernel);
	assert_string_equal(d->sender.reason, "timer");
	assert_non_null(strstr(d->summary, "sent by the kernel (timer"));
	assert_null(strstr(d->summary, "from pid 7200"));

	char *txt = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&txt, &len);
	struct cw_report_in in = {.tl = &r->tl, .a = &r->an};
	cw_report_queue_line(f, &in, qu);
	fclose(f);
	assert_non_null(strstr(txt, "UNCERTAIN"));
	free(txt);
	unload(r);
}

static void test_pool_child_subprocess_not_worker(void **state)
{
	(void)state;
	/* an old recorder labelled them pool; they exit 255 (a failed exec in
	 * subprocess.run): the task's business, not an incident of worker_s */
	struct run *r = load("pool_subprocess.jsonl", CW_NONE, CW_NONE, NULL);

	assert_int_equal(count_shown(r), 0);
	const struct cw_qverdict *q = queue(r, "qs");
	assert_int_equal(q->verdict, CW_OK);
	assert_int_equal(q->consumers_now, 1);
	unload(r);
}

/* ---- a reboot starts pids and start times again ---- */

static void test_reboot_same_pid_and_start(void **state)
{
	(void)state;
	/* boot 1: worker_b (pid 5300, pstart 400) is killed; boot 2: the worker started at boot
	 * gets the same pid and start time, and runs. It is another process. */
	struct run *r = load("reboot.jsonl", CW_NONE, CW_NONE, NULL);
	const struct cw_qverdict *q = queue(r, "qb");

	assert_int_equal(q->verdict, CW_OK);
	assert_int_equal(q->consumers_now, 1);
	const struct cw_death *d = death_of(r, 5300);
	assert_non_null(d);
	assert_string_equal(d->signame, "SIGKILL");
	assert_int_equal(d->ts, ts("2026-11-24T10:01:00.001Z"));
	unload(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oom_kill),
		cmocka_unit_test(test_incident_verdicts),
		cmocka_unit_test(test_text_answer_first),
		cmocka_unit_test(test_signal_with_sender),
		cmocka_unit_test(test_warm_shutdown_is_signal),
		cmocka_unit_test(test_group_kill_is_one_incident),
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
		cmocka_unit_test(test_order_with_a_file_without_time),
		cmocka_unit_test(test_path_search_misses),
		cmocka_unit_test(test_oom_without_pstart),
		cmocka_unit_test(test_signals_from_own_main),
		cmocka_unit_test(test_qsets_unambiguous),
		cmocka_unit_test(test_text_hostile),
		cmocka_unit_test(test_duplicate_exit_keeps_identity),
		cmocka_unit_test(test_pool_child_subprocess_not_worker),
		cmocka_unit_test(test_reboot_same_pid_and_start),
		cmocka_unit_test(test_untracked_and_kernel_signal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
