/* --alert-exec with real /bin/sh children: the exact JSON on stdin and only our environment,
 * the timeout kills the process group (grandchildren too), at most N run and the rest queue
 * up to a bound, failures are counted, handing an incident over never waits, stop kills what
 * still runs. Every test ends with no child of ours left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "alert/alerts.h"
#include "common/timeutil.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cw-alert-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static char *slurp(const char *name, size_t *len)
{
	static char buf[256 * 1024];
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static double ms_since(uint64_t t0)
{
	return (double)(cw_clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
}

/* CMD with every %s replaced by the temp dir */
static struct cw_alerts *runner(const char *cmd_fmt, double timeout_s, unsigned max, unsigned queue)
{
	static char cmd[1024];
	struct cw_alerts_opts o = {.exec_cmd = cmd, .timeout_s = timeout_s, .max_running = max, .queue_max = queue,
				   .exec_stderr = true};
	struct cw_alerts *a = NULL;

	snprintf(cmd, sizeof(cmd), cmd_fmt, dir, dir, dir);
	assert_int_equal(cw_alerts_new(&a, &o), 0);
	assert_non_null(a);
	assert_true(cw_alerts_fd(a) >= 0);
	return a;
}

static const struct cw_incident inc_death = {
	.kind = CW_INC_DEATH, .ts = 1764000000123456, .queue = "low_priority", .worker = "w1@host",
	.summary = "worker w1@host's MainProcess was killed by SIGKILL",
	.json = "{\"kind\":\"death\",\"queue\":\"low_priority\",\"worker\":\"w1@host\",\"summary\":\"caf\xc3\xa9 \\\"q\\\"\","
		"\"cause\":{\"kind\":\"signal\",\"signal\":\"SIGKILL\"}}",
	.priority = 3,
};

/* The loop's part: wait on the fd, service; until done(stats) or ms pass. Returns the stats. */
static struct cw_alerts_stats run_until(struct cw_alerts *a, bool (*done)(const struct cw_alerts_stats *), int ms,
					 unsigned *max_running)
{
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	struct cw_alerts_stats s;

	for (;;) {
		cw_alerts_stats(a, &s);
		if (max_running && s.x.running > *max_running)
			*max_running = s.x.running;
		if (done(&s) || ms_since(t0) > ms)
			return s;
		struct pollfd p = {.fd = cw_alerts_fd(a), .events = POLLIN};
		poll(&p, 1, 1000);	/* the fd must wake us: the loop's tick is 1 s */
		cw_alerts_service(a, cw_clock_ns(CLOCK_MONOTONIC));
	}
}

static bool idle(const struct cw_alerts_stats *s)
{
	return !s->x.running && !s->x.queued;
}

static bool file_has_line(const char *name)
{
	return strchr(slurp(name, NULL), '\n') != NULL;
}

/* A pid that is gone or a zombie (its parent died; init reaps it in its own time) */
static bool dead(pid_t pid)
{
	char path[64], st[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(st, 1, sizeof(st) - 1, f);
	fclose(f);
	st[n] = '\0';
	char *p = strrchr(st, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* SIGKILL is sent; dying takes the victim a moment */
static bool dies_soon(pid_t pid)
{
	for (int i = 0; i < 100 && !dead(pid); i++)
		usleep(10000);
	return dead(pid);
}

static void test_stdin_json_and_env(void **state)
{
	(void)state;
	setenv("CELERY_BROKER_URL", "redis://:hunter2@10.0.0.5:6379/0", 1);
	struct cw_alerts *a = runner("cat > %s/json; env > %s/env", 5, 4, 8);
	cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.sent, 1);
	assert_int_equal(s.x.failed + s.x.timed_out + s.x.dropped, 0);

	size_t n;
	char *got = slurp("json", &n);
	assert_int_equal(n, strlen(inc_death.json) + 1);
	assert_memory_equal(got, inc_death.json, n - 1);
	assert_int_equal(got[n - 1], '\n');

	char *env = slurp("env", NULL);
	assert_non_null(strstr(env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
	assert_non_null(strstr(env, "CELERYWATCH_INCIDENT_KIND=death\n"));
	assert_non_null(strstr(env, "CELERYWATCH_QUEUE=low_priority\n"));
	assert_non_null(strstr(env, "CELERYWATCH_WORKER=w1@host\n"));
	assert_null(strstr(env, "hunter2"));
	assert_null(strstr(env, "CELERY_BROKER_URL"));
	assert_null(strstr(env, "HOME="));

	/* not about a worker nor a queue: those variables are absent, not empty */
	struct cw_incident lost = {.kind = CW_INC_LOST, .summary = "12 events lost", .json = "{\"kind\":\"lost\"}", .priority = 4};
	cw_alerts_incident(a, &lost);
	s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.sent, 2);
	env = slurp("env", NULL);
	assert_non_null(strstr(env, "CELERYWATCH_INCIDENT_KIND=lost\n"));
	assert_null(strstr(env, "CELERYWATCH_QUEUE"));
	assert_null(strstr(env, "CELERYWATCH_WORKER"));
	assert_string_equal(slurp("json", NULL), "{\"kind\":\"lost\"}\n");
	cw_alerts_free(a);
	unsetenv("CELERY_BROKER_URL");
}

/* The recorder blocks INT/TERM/HUP and ignores SIGPIPE, and has fds without CLOEXEC (a
 * broker socket): none of that reaches the command. Its own process group, too. */
static void test_child_starts_clean(void **state)
{
	(void)state;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	int leak = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC */
	assert_true(leak > 2);

	/* the masks are read by an exec'd grep from its own status: the shell's while it waits
	 * for a child are dash's (it blocks everything around sigsuspend), not what it started
	 * with; exec keeps the mask and the ignored set */
	struct cw_alerts *a = runner("ls /proc/$$/fd > %s/fds; cut -d' ' -f1,5 /proc/$$/stat > %s/pg; "
				     "exec grep -E '^Sig(Blk|Ign)' /proc/self/status > %s/sig", 5, 4, 8);
	cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.sent, 1);
	/* 0, 1, 2 and whatever sh opens for itself (dash keeps a copy at 10 while it redirects) */
	char *fds = slurp("fds", NULL);
	assert_true(!strncmp(fds, "0\n1\n", 4));
	for (int fd = 3; fd < 10; fd++) {
		char line[16];
		snprintf(line, sizeof(line), "\n%d\n", fd);
		if (strstr(fds, line))
			fail_msg("fd %d is open in the command: %s", fd, fds);
	}
	/* signals 1-31 unblocked and not ignored; glibc 2.36's posix_spawn leaves its own two
	 * (32, 33: thread cancellation, setxid) ignored in the child, which no command uses */
	unsigned long long blk = 1, ign = 1;
	assert_int_equal(sscanf(slurp("sig", NULL), "SigBlk: %llx SigIgn: %llx", &blk, &ign), 2);
	assert_int_equal(blk, 0);
	assert_int_equal(ign & 0x7fffffffull, 0);
	int pid = 0, pgid = -1;
	assert_int_equal(sscanf(slurp("pg", NULL), "%d %d", &pid, &pgid), 2);
	assert_int_equal(pid, pgid);
	assert_int_not_equal(pgid, getpgrp());
	cw_alerts_free(a);
	close(leak);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
}

static void test_timeout_kills_the_group(void **state)
{
	(void)state;
	/* sh waits on a grandchild in the same group */
	struct cw_alerts *a = runner("sleep 100 & echo $! > %s/gc; wait", 0.5, 4, 8);
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s = run_until(a, idle, 5000, NULL);
	double ms = ms_since(t0);
	assert_int_equal(s.x.timed_out, 1);
	assert_int_equal(s.x.sent + s.x.failed, 0);
	assert_true(ms >= 450 && ms < 1500);
	pid_t gc = atoi(slurp("gc", NULL));
	assert_true(gc > 0);
	assert_true(dies_soon(gc));
	cw_alerts_free(a);
}

/* A command that ignores SIGTERM gets SIGKILL 2 s later */
static void test_sigkill_after_grace(void **state)
{
	(void)state;
	struct cw_alerts *a = runner("trap '' TERM; echo $$ > %s/pid; sleep 100", 0.3, 4, 8);
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s = run_until(a, idle, 6000, NULL);
	double ms = ms_since(t0);
	assert_int_equal(s.x.timed_out, 1);
	assert_true(ms >= 2250 && ms < 3500);
	cw_alerts_free(a);
}

static void test_at_most_n_and_the_queue(void **state)
{
	(void)state;
	struct cw_alerts *a = runner("echo s >> %s/log; sleep 0.3; echo e >> %s/log", 10, 2, 64);
	unsigned max_running = 0;

	for (int i = 0; i < 5; i++)
		cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s;
	cw_alerts_stats(a, &s);
	assert_int_equal(s.x.running, 2);
	assert_int_equal(s.x.queued, 3);
	s = run_until(a, idle, 5000, &max_running);
	assert_int_equal(s.x.sent, 5);
	assert_int_equal(max_running, 2);
	/* as the commands saw it: never more than 2 between an s and its e */
	int now = 0, most = 0, starts = 0;
	for (const char *p = slurp("log", NULL); *p; p++) {
		if (*p == 's')
			starts++, now++;
		else if (*p == 'e')
			now--;
		most = now > most ? now : most;
	}
	assert_int_equal(starts, 5);
	assert_int_equal(now, 0);
	assert_int_equal(most, 2);
	cw_alerts_free(a);
}

static void test_queue_bound_drops(void **state)
{
	(void)state;
	struct cw_alerts *a = runner("sleep 0.2 #%s", 10, 1, 3);
	for (int i = 0; i < 5; i++)
		cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s;
	cw_alerts_stats(a, &s);
	assert_int_equal(s.x.running, 1);
	assert_int_equal(s.x.queued, 3);
	assert_int_equal(s.x.dropped, 1);
	s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.sent, 4);
	assert_int_equal(s.x.dropped, 1);
	cw_alerts_free(a);
}

static void test_failures_counted(void **state)
{
	(void)state;
	struct cw_alerts *a = runner("exit 3 #%s", 10, 4, 8);
	cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.failed, 1);
	assert_int_equal(s.x.sent + s.x.timed_out, 0);
	cw_alerts_free(a);

	/* killed by a signal we did not send */
	a = runner("kill -9 $$ #%s", 10, 4, 8);
	cw_alerts_incident(a, &inc_death);
	s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.failed, 1);
	assert_int_equal(s.x.sent + s.x.timed_out, 0);
	cw_alerts_free(a);
}

/* With SIGCHLD ignored the kernel reaps the child itself: the slot is still freed (counted
 * as failed, status unknown), and nothing waits forever. */
static void test_reaped_behind_our_back(void **state)
{
	(void)state;
	struct cw_alerts *a = runner("exit 0 #%s", 10, 1, 8);
	signal(SIGCHLD, SIG_IGN);
	cw_alerts_incident(a, &inc_death);
	cw_alerts_incident(a, &inc_death);
	struct cw_alerts_stats s = run_until(a, idle, 5000, NULL);
	signal(SIGCHLD, SIG_DFL);
	assert_int_equal(s.x.running + s.x.queued, 0);
	assert_int_equal(s.x.failed, 2);
	cw_alerts_free(a);
}

/* Every slot busy and the queue filling up, then full: 100 hand-overs take well under a
 * millisecond each (the loop's budget); stop then kills the one running, and every incident
 * is accounted for. */
static void test_incident_never_waits(void **state)
{
	(void)state;
	struct cw_alerts *a = runner("sleep 100 #%s", 100, 1, 64);
	cw_alerts_incident(a, &inc_death);
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 100; i++)
		cw_alerts_incident(a, &inc_death);
	double ms = ms_since(t0);
	print_message("100 incidents with every slot busy: %.3f ms\n", ms);
	assert_true(ms < 50);

	struct cw_alerts_stats s;
	cw_alerts_stats(a, &s);
	assert_int_equal(s.x.running, 1);
	assert_int_equal(s.x.queued, 64);
	assert_int_equal(s.x.dropped, 36);
	t0 = cw_clock_ns(CLOCK_MONOTONIC);
	cw_alerts_stop(a, t0 + 200000000ull);
	assert_true(ms_since(t0) < 600);
	cw_alerts_stats(a, &s);
	assert_int_equal(s.x.running + s.x.queued, 0);
	assert_int_equal(s.x.timed_out, 1);
	assert_int_equal(s.x.dropped, 100);
	cw_alerts_free(a);
}

static void test_stop_waits_then_kills(void **state)
{
	(void)state;
	/* one that ends within the deadline is waited for, one that does not is killed */
	struct cw_alerts *a = runner("case $CELERYWATCH_INCIDENT_KIND in death) sleep 0.1;; "
				     "*) sleep 100 & echo $! > %s/gc; wait;; esac", 100, 4, 8);
	struct cw_incident lost = {.kind = CW_INC_LOST, .summary = "lost", .json = "{}", .priority = 4};
	cw_alerts_incident(a, &inc_death);
	cw_alerts_incident(a, &lost);
	struct cw_alerts_stats s;
	while (!file_has_line("gc"))
		usleep(10000);
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	cw_alerts_stop(a, t0 + 400000000ull);
	double ms = ms_since(t0);
	cw_alerts_stats(a, &s);
	assert_int_equal(s.x.sent, 1);
	assert_int_equal(s.x.timed_out, 1);
	assert_int_equal(s.x.running, 0);
	assert_true(ms >= 350 && ms < 1000);
	pid_t gc = atoi(slurp("gc", NULL));
	assert_true(gc > 0 && dies_soon(gc));
	/* stopped: incidents are no longer taken */
	cw_alerts_incident(a, &inc_death);
	cw_alerts_stats(a, &s);
	assert_int_equal(s.x.running + s.x.queued, 0);
	cw_alerts_free(a);
}

/* Over the cap: the plain fields, valid JSON, "cause": null, "json_truncated": true */
static void test_big_json_reduced(void **state)
{
	(void)state;
	size_t big = CW_ALERT_JSON_MAX + 100;
	char *json = malloc(big + 1);
	memset(json, 'x', big);
	memcpy(json, "{\"a\":\"", 6);
	memcpy(json + big - 2, "\"}", 2);
	json[big] = '\0';
	struct cw_incident inc = inc_death;
	inc.json = json;
	struct cw_alerts *a = runner("cat > %s/json", 5, 4, 8);
	cw_alerts_incident(a, &inc);
	struct cw_alerts_stats s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.sent, 1);
	assert_int_equal(s.x.truncated, 1);
	json_object *o = json_tokener_parse(slurp("json", NULL));
	assert_non_null(o);
	json_object *v;
	assert_true(json_object_object_get_ex(o, "json_truncated", &v) && json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "cause", &v) && v == NULL);
	assert_true(json_object_object_get_ex(o, "queue", &v));
	assert_string_equal(json_object_get_string(v), "low_priority");
	assert_true(json_object_object_get_ex(o, "kind", &v));
	assert_string_equal(json_object_get_string(v), "death");
	json_object_put(o);
	cw_alerts_free(a);

	/* at the cap it goes whole */
	json[CW_ALERT_JSON_MAX - 2] = '"';
	json[CW_ALERT_JSON_MAX - 1] = '}';
	json[CW_ALERT_JSON_MAX] = '\0';
	a = runner("cat > %s/json", 5, 4, 8);
	cw_alerts_incident(a, &inc);
	s = run_until(a, idle, 5000, NULL);
	assert_int_equal(s.x.sent, 1);
	assert_int_equal(s.x.truncated, 0);
	size_t n;
	char *got = slurp("json", &n);
	assert_int_equal(n, CW_ALERT_JSON_MAX + 1);
	assert_memory_equal(got, json, CW_ALERT_JSON_MAX);
	cw_alerts_free(a);
	free(json);
}

/* What one alert costs the loop: the hand-over that spawns, with a small and a large
 * recorder (posix_spawn does not copy page tables; fork would). Printed, loosely bounded. */
static double spawn_cost_us(int n)
{
	struct cw_alerts *a = runner("exit 0 #%s", 10, 64, 64);
	struct cw_alerts_stats s;
	double us = 0;

	/* one at a time: the loop's cost, not that of 50 shells starting together on 2 cores */
	for (int i = 0; i < n; i++) {
		uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
		cw_alerts_incident(a, &inc_death);
		us += ms_since(t0) * 1000 / n;
		s = run_until(a, idle, 10000, NULL);
	}
	assert_int_equal(s.x.sent, (uint64_t)n);
	cw_alerts_free(a);
	return us;
}

static double fork_cost_us(int n)
{
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < n; i++) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		waitpid(p, NULL, 0);
	}
	return ms_since(t0) * 1000 / n;
}

static void test_spawn_cost(void **state)
{
	(void)state;
	double small = spawn_cost_us(50), fsmall = fork_cost_us(50);
	size_t sz = 512ul << 20;
	char *mem = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem != MAP_FAILED);
	memset(mem, 1, sz);
	double large = spawn_cost_us(50), flarge = fork_cost_us(20);
	munmap(mem, sz);
	print_message("spawn cost per alert: %.0f us (RSS small), %.0f us (+512 MiB RSS); "
		      "fork() alone for comparison: %.0f us, %.0f us\n", small, large, fsmall, flarge);
	assert_true(small < 20000 && large < 20000);	/* loose: a loaded 2-core host */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stdin_json_and_env, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_starts_clean, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_the_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sigkill_after_grace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_at_most_n_and_the_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reaped_behind_our_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incident_never_waits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_waits_then_kills, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_json_reduced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_spawn_cost, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
