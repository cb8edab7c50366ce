/* Unit test of `celerywatch status` on a fake /proc tree (--proc) built here: workers with
 * and without pool children, beat, and a recorder log giving the last death of a worker
 * that is gone. Checks the JSON snapshot key by key and the exit status. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "cli/commands.h"
#include "testdata.h"

static char root[64];

static void put(const char *dir, const char *name, const char *text, size_t len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, len, f);
	fclose(f);
}

/* one /proc/PID: argv given NUL-separated in args (as /proc/PID/cmdline) */
static void fake_proc(int pid, int ppid, unsigned long long pstart, const char *args, size_t alen,
		      const char *cgroup)
{
	char dir[256], buf[1024];

	snprintf(dir, sizeof(dir), "%s/%d", root, pid);
	assert_int_equal(mkdir(dir, 0755), 0);
	put(dir, "cmdline", args, alen);
	put(dir, "comm", "celery\n", 7);
	int n = snprintf(buf, sizeof(buf), "Name:\tcelery\nState:\tS (sleeping)\nPid:\t%d\nPPid:\t%d\n"
			 "Uid:\t33\t33\t33\t33\nGid:\t33\t33\t33\t33\n", pid, ppid);
	put(dir, "status", buf, (size_t)n);
	/* stat: field 22 is the start time in clock ticks */
	n = snprintf(buf, sizeof(buf), "%d (celery) S %d %d %d 0 -1 4194560 100 0 0 0 10 5 0 0 20 0 "
		     "3 0 %llu 100000000 5000 18446744073709551615 1 1 0 0 0 0 0 16781312 134234626 "
		     "0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0\n", pid, ppid, pid, pid, pstart);
	put(dir, "stat", buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "0::%s\n", cgroup);
	put(dir, "cgroup", buf, (size_t)n);
}

#define ARGS(s) s, sizeof(s) - 1

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/cw_test_procXXXXXX");
	assert_non_null(mkdtemp(root));
	put(root, "uptime", "20000.00 1000.00\n", 17);
	/* worker_high: MainProcess and two prefork children with the parent's argv */
	fake_proc(4700, 1, 1000000, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
					 "worker_high@%h\0-Q\0high_priority\0-c\0002\0"), "/celery/high");
	fake_proc(4701, 4700, 1000010, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
					    "worker_high@%h\0-Q\0high_priority\0-c\0002\0"),
		  "/celery/high");
	fake_proc(4702, 4700, 1000011, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
					    "worker_high@%h\0-Q\0high_priority\0-c\0002\0"),
		  "/celery/high");
	/* worker_daemon: alive, but its pool is gone */
	fake_proc(4800, 1, 1000100, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
					 "worker_daemon@%h\0-Q\0daemon\0-c\0001\0"), "/celery/daemon");
	fake_proc(4900, 1, 1000200, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0beat\0"),
		  "/celery/beat");
	/* not Celery */
	fake_proc(5000, 1, 1000300, ARGS("/usr/sbin/sshd\0-D\0"), "/system.slice/ssh.service");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* run cmd_status with stdout captured, in a child: --help ends in argp's exit(0), as in the
 * real command. argv[0] is what main() passes: "celerywatch status". */
static int run_status(char **argv, int argc, char **out)
{
	char path[] = "/tmp/cw_test_outXXXXXX";
	int fd = mkstemp(path), wst;

	fflush(stdout);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		int ret = cmd_status(argc, argv);
		fflush(stdout);
		_exit(ret);
	}
	assert_int_equal(waitpid(pid, &wst, 0), pid);
	assert_true(WIFEXITED(wst));
	off_t len = lseek(fd, 0, SEEK_END);
	*out = calloc(1, (size_t)len + 1);
	assert_int_equal(pread(fd, *out, (size_t)len, 0), len);
	close(fd);
	unlink(path);
	return WEXITSTATUS(wst);
}

static json_object *get(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v))
		fail_msg("no key %s", k);
	return v;
}

static json_object *find(json_object *arr, const char *key, const char *val)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		json_object *v = get(e, key);
		if (v && !strcmp(json_object_to_json_string(v), val))
			return e;
		if (v && !strcmp(json_object_get_string(v), val))
			return e;
	}
	fail_msg("no %s=%s", key, val);
	return NULL;
}

static void test_status_json(void **state)
{
	(void)state;
	char procopt[128], logopt[4200], *out;
	snprintf(procopt, sizeof(procopt), "--proc=%s", root);
	snprintf(logopt, sizeof(logopt), "--log=%s", data("incident.jsonl"));
	char *argv[] = {"celerywatch status", "--json", procopt, logopt, NULL};

	unsetenv("CELERY_BROKER_URL");
	int ret = run_status(argv, 4, &out);
	assert_int_equal(ret, 1);	/* daemon degraded, low_priority without consumer */
	json_object *doc = json_tokener_parse(out);
	if (!doc)
		fail_msg("not JSON: %s", out);

	struct utsname un;
	char name[512];
	assert_int_equal(uname(&un), 0);
	assert_string_equal(json_object_get_string(get(doc, "host")), un.nodename);

	json_object *procs = get(doc, "processes");
	assert_int_equal(json_object_array_length(procs), 5);	/* sshd is not Celery */
	snprintf(name, sizeof(name), "worker_high@%s", un.nodename);
	json_object *high = find(procs, "worker", name);
	assert_string_equal(json_object_get_string(get(high, "role")), "main");
	assert_int_equal(json_object_get_int(get(high, "pid")), 4700);
	assert_int_equal(json_object_get_int(get(high, "pool_size")), 2);
	assert_int_equal(json_object_get_int(get(high, "concurrency")), 2);
	/* 20000 s since boot, started 1000000 ticks after it */
	long ticks = sysconf(_SC_CLK_TCK);
	assert_int_equal(json_object_get_int64(get(high, "uptime_s")), 20000 - 1000000 / ticks);
	assert_null(get(high, "last_death"));
	json_object *beat = find(procs, "pid", "4900");
	assert_string_equal(json_object_get_string(get(beat, "role")), "beat");

	json_object *qs = get(doc, "queues");
	assert_int_equal(json_object_array_length(qs), 3);
	json_object *q = find(qs, "queue", "high_priority");
	assert_string_equal(json_object_get_string(get(q, "verdict")), "ok");
	assert_int_equal(json_object_get_int(get(q, "consumers_now")), 1);
	assert_int_equal(json_object_get_int(get(q, "pool_now")), 2);
	assert_null(get(q, "depth"));	/* no broker */
	assert_null(get(q, "cause"));
	q = find(qs, "queue", "daemon");
	assert_string_equal(json_object_get_string(get(q, "verdict")), "degraded");
	/* gone from /proc, known from the log, with its cause */
	q = find(qs, "queue", "low_priority");
	assert_string_equal(json_object_get_string(get(q, "verdict")), "no_consumer");
	assert_int_equal(json_object_get_int(get(q, "consumers_now")), 0);
	json_object *cause = get(q, "cause");
	assert_non_null(cause);
	assert_string_equal(json_object_get_string(get(cause, "kind")), "oom_kill");
	assert_string_equal(json_object_get_string(get(cause, "worker")), "worker_low@web1");
	assert_null(get(doc, "redis"));
	json_object_put(doc);
	free(out);
}

static void test_status_text_and_broker_error(void **state)
{
	(void)state;
	char procopt[128], *out;
	snprintf(procopt, sizeof(procopt), "--proc=%s", root);
	/* nothing listens on port 1: the snapshot still comes, the broker error is said */
	char *argv[] = {"celerywatch status", procopt, "--redis", "redis://:secret@127.0.0.1:1/3",
			NULL};

	setenv("NO_COLOR", "1", 1);
	int ret = run_status(argv, 4, &out);
	assert_int_equal(ret, 1);
	assert_non_null(strstr(out, "Workers"));
	assert_non_null(strstr(out, "pid 4700"));
	assert_non_null(strstr(out, "daemon: DEGRADED"));
	assert_non_null(strstr(out, "unreachable"));
	assert_null(strstr(out, "secret"));	/* the password is never shown */
	assert_null(strchr(out, '\033'));
	free(out);

	char *help[] = {"celerywatch status", "--help", NULL};
	assert_int_equal(run_status(help, 2, &out), 0);
	assert_non_null(strstr(out, "Usage: celerywatch status"));
	assert_non_null(strstr(out, "Examples:"));
	free(out);
}

/* Strings from /proc (argv: worker and queue names) and from the log (summaries, queue
 * names, a sender's cmdline, a stderr tail) are attacker-chosen: in the text they are
 * visible escapes, never raw control bytes. */
static void test_status_text_hostile(void **state)
{
	(void)state;
	char procopt[128], logopt[4200], *out;
	snprintf(procopt, sizeof(procopt), "--proc=%s", root);
	snprintf(logopt, sizeof(logopt), "--log=%s", data("hostile.jsonl"));
	fake_proc(6500, 1, 1000400, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
					 "w\x1b[31m@h\r\nfake: line\0-P\0solo\0-Q\0"
					 "qa\r\n\x1b[2Kqa: ok \xc2\x9b" "31m\0"), "/x\n/y");
	char *argv[] = {"celerywatch status", procopt, logopt, NULL};

	setenv("NO_COLOR", "1", 1);
	int ret = run_status(argv, 3, &out);
	assert_int_equal(ret, 1);	/* qe has no consumer */
	for (const unsigned char *p = (const unsigned char *)out; *p; p++) {
		if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
			fail_msg("raw control byte 0x%02x in:\n%s", *p, out);
		if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
			fail_msg("raw C1 control in:\n%s", out);
		if (*p == 0xff)
			fail_msg("raw invalid UTF-8 in:\n%s", out);
	}
	for (const char *l = out; l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		assert_false(!strncmp(l, "fake:", 5));
		assert_false(!strncmp(l, "qa: ok", 6));
	}
	/* the worker from /proc, its queue, and the log's deaths, all visible */
	assert_non_null(strstr(out, "w\\e[31m@h\\r\\nfake: line"));
	assert_non_null(strstr(out, "qa\\r\\n\\e[2Kqa: ok \\u009b31m"));
	assert_non_null(strstr(out, "x\\r\\e[2K\\nqa: ok — 1 consumer …\\e[8m"));
	assert_non_null(strstr(out, "Error: \\e]0;title\\x07bad \\xff\\xc3\\t\\x7f"));
	free(out);

	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/6500'", root);
	assert_int_equal(system(cmd), 0);
}

static void rm_proc(int pid)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s/%d'", root, pid);
	assert_int_equal(system(cmd), 0);
}

/* The command lines status shows are redacted as the event log's argv is: a password in a
 * broker URL never reaches the JSON or the text. */
static void test_status_redacts_cmdline(void **state)
{
	(void)state;
	char procopt[128], *out;
	snprintf(procopt, sizeof(procopt), "--proc=%s", root);
	fake_proc(6600, 1, 1000500, ARGS("/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0-b\0"
					 "redis://:hunter2@h/0\0worker\0-n\0wr@h\0-Q\0rq\0"),
		  "/celery/r");
	char *json[] = {"celerywatch status", "--json", procopt, NULL};
	char *text[] = {"celerywatch status", procopt, NULL};

	unsetenv("CELERY_BROKER_URL");
	setenv("NO_COLOR", "1", 1);
	run_status(json, 3, &out);
	json_object *doc = json_tokener_parse(out);
	if (!doc)
		fail_msg("not JSON: %s", out);
	json_object *w = find(get(doc, "processes"), "pid", "6600");
	assert_string_equal(json_object_get_string(get(w, "cmdline")),
			    "/usr/bin/python3 /usr/bin/celery -A proj -b redis://:***@h/0 worker "
			    "-n wr@h -Q rq");
	if (strstr(out, "hunter2"))
		fail_msg("password in status --json: %s", out);
	json_object_put(doc);
	free(out);
	run_status(text, 2, &out);
	assert_non_null(strstr(out, "wr@h"));
	if (strstr(out, "hunter2"))
		fail_msg("password in status: %s", out);
	free(out);
	rm_proc(6600);
}

/* A worker with 200,000 arguments: its command line is joined in one pass, whole. */
static void test_status_huge_argv(void **state)
{
	(void)state;
	static const char head[] = "/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
				   "big@h\0-Q\0bq\0";
	enum { NARGS = 200000, ARGLEN = 10 };	/* 2 MB: about the kernel's ARG_MAX */
	size_t len = sizeof(head) - 1 + ARGLEN * NARGS;
	char procopt[128], *args = malloc(len), *out;

	assert_non_null(args);
	memcpy(args, head, sizeof(head) - 1);
	for (size_t i = 0; i < NARGS; i++)
		memcpy(args + sizeof(head) - 1 + ARGLEN * i, "xxxxxxxxx", ARGLEN);
	fake_proc(6700, 1, 1000600, args, len, "/celery/big");
	free(args);
	snprintf(procopt, sizeof(procopt), "--proc=%s", root);
	char *json[] = {"celerywatch status", "--json", procopt, NULL};

	run_status(json, 3, &out);
	json_object *doc = json_tokener_parse(out);
	if (!doc)
		fail_msg("not JSON (%zu bytes)", strlen(out));
	json_object *w = find(get(doc, "processes"), "pid", "6700");
	const char *cmd = json_object_get_string(get(w, "cmdline"));
	const char *want = "/usr/bin/python3 /usr/bin/celery -A proj worker -n big@h -Q bq";
	assert_int_equal(strlen(cmd), strlen(want) + ARGLEN * NARGS);
	assert_memory_equal(cmd, want, strlen(want));
	assert_memory_equal(cmd + strlen(cmd) - 11, "x xxxxxxxxx", 11);
	json_object_put(doc);
	free(out);
	rm_proc(6700);
}

/* Two live MainProcesses named dupw@h (a start script run twice): said in text and JSON. With
 * a log: its stalled verdict over /proc's ok, and an open gap with its start and backlog. */
static void test_status_duplicates_and_log_verdicts(void **state)
{
	(void)state;
	static const char dup[] = "/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
				  "dupw@h\0-Q\0dq\0-P\0solo\0";
	static const char qs[] = "/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-n\0"
				 "w_s@web1\0-Q\0qs\0-P\0solo\0";
	char procopt[128], logopt[4200], *out;

	fake_proc(6800, 1, 1000700, dup, sizeof(dup) - 1, "/celery/dup");
	fake_proc(6801, 1, 1000701, dup, sizeof(dup) - 1, "/celery/dup");
	fake_proc(6810, 1, 1000710, qs, sizeof(qs) - 1, "/celery/qs");
	snprintf(procopt, sizeof(procopt), "--proc=%s", root);
	snprintf(logopt, sizeof(logopt), "--log=%s", data("stalled.jsonl"));
	char *text[] = {"celerywatch status", procopt, logopt, NULL};
	char *json[] = {"celerywatch status", "--json", procopt, logopt, NULL};

	setenv("NO_COLOR", "1", 1);
	unsetenv("CELERY_BROKER_URL");
	assert_int_equal(run_status(text, 3, &out), 1);
	assert_non_null(strstr(out, "duplicate worker name dupw@h: pids 6800, 6801 alive now"));
	assert_non_null(strstr(out, "qs: STALLED (log) — both pool processes blocked in recvfrom"));
	free(out);
	run_status(json, 4, &out);
	json_object *doc = json_tokener_parse(out);
	assert_non_null(doc);
	json_object *q = find(get(doc, "queues"), "queue", "dq");
	json_object *d = json_object_array_get_idx(get(q, "duplicates"), 0);
	assert_non_null(d);
	assert_string_equal(json_object_get_string(get(d, "worker")), "dupw@h");
	assert_int_equal(json_object_array_length(get(d, "pids")), 2);
	q = find(get(doc, "queues"), "queue", "qs");
	assert_string_equal(json_object_get_string(get(q, "verdict")), "stalled");
	assert_string_equal(json_object_get_string(get(get(q, "stalled"), "blocked_in")),
			    "recvfrom (wchan sk_wait_data)");
	json_object_put(doc);
	free(out);

	/* the impostor of notconn.jsonl, still alive: /proc alone would count it */
	static const char imp[] = "/usr/bin/python3\0/tmp/x/celery\0-A\0x\0worker\0-n\0"
				  "w_n2@web1\0-Q\0qn\0";
	fake_proc(7700, 1, 107700, imp, sizeof(imp) - 1, "/celery/imp");
	snprintf(logopt, sizeof(logopt), "--log=%s", data("notconn.jsonl"));
	assert_int_equal(run_status(json, 4, &out), 1);
	doc = json_tokener_parse(out);
	assert_non_null(doc);
	q = find(get(doc, "queues"), "queue", "qn");
	assert_string_equal(json_object_get_string(get(q, "verdict")), "no_consumer");
	json_object *g = get(q, "open_gap");
	assert_non_null(g);
	assert_string_equal(json_object_get_string(get(g, "from")), "2026-11-24T10:00:30.000000Z");
	assert_int_equal(json_object_get_int(get(g, "backlog_peak")), 70);
	assert_int_equal(json_object_get_int(get(q, "consumers_now")), 0);
	assert_int_equal(json_object_get_int(get(q, "not_connected")), 1);
	json_object_put(doc);
	free(out);
	run_status(text, 3, &out);
	assert_non_null(strstr(out, "no consumer since 2026-11-24 10:00:30 (log), backlog peaked at 70; "
				    "1 worker not connected to the broker (log)"));
	free(out);
	rm_proc(7700);
	rm_proc(6800);
	rm_proc(6801);
	rm_proc(6810);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_json),
		cmocka_unit_test(test_status_text_and_broker_error),
		cmocka_unit_test(test_status_text_hostile),
		cmocka_unit_test(test_status_redacts_cmdline),
		cmocka_unit_test(test_status_huge_argv),
		cmocka_unit_test(test_status_duplicates_and_log_verdicts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
