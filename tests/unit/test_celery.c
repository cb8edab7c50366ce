/* Celery identity: every argv form a Celery process can have, node name expansion checked
 * against Celery 5.2 itself, real setproctitle titles, and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "identity/celery.h"

#define HOST "web1.example.com"
#define NARGS(...) (sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *))
/* parse a literal argv with hostname HOST */
#define PARSE(id, ...)                                                                  \
	assert_int_equal(cw_identity_from_argv((id), (const char *[]){ __VA_ARGS__ },   \
					       NARGS(__VA_ARGS__), HOST), 0)

/* queues equal to the NULL-terminated list; pass no names for "known and empty" */
static void check_queues(const struct cw_identity *id, ...)
{
	va_list ap;
	size_t n = 0;
	const char *q;

	assert_non_null(id->queues);
	va_start(ap, id);
	while ((q = va_arg(ap, const char *))) {
		assert_true(n < id->nqueues);
		assert_string_equal(id->queues[n], q);
		n++;
	}
	va_end(ap);
	assert_int_equal(id->nqueues, n);
	assert_null(id->queues[n]);
}

static void check_worker(const struct cw_identity *id, const char *role, const char *worker)
{
	assert_true(id->is_celery);
	assert_string_equal(id->command, "worker");
	assert_string_equal(id->role, role);
	assert_string_equal(id->worker, worker);
}

static void check_not_celery(const struct cw_identity *id)
{
	assert_false(id->is_celery);
	assert_string_equal(id->role, "other");
	assert_null(id->command);
	assert_null(id->worker);
	assert_null(id->queues);
	assert_int_equal(id->concurrency, -1);
}

/* ------------------------------------------------------------------ argv forms */

static void test_celery_script_forms(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "celery", "-A", "app", "worker", "-Q", "a,b", "-c", "3");
	check_worker(&id, "main", "celery@" HOST);
	assert_string_equal(id.app, "app");
	check_queues(&id, "a", "b", NULL);
	assert_int_equal(id.concurrency, 3);
	assert_string_equal(id.pool, "prefork");
	assert_false(id.detach);
	assert_false(id.from_title);
	cw_identity_free(&id);

	PARSE(&id, "/usr/bin/celery", "-A", "app", "worker");
	check_worker(&id, "main", "celery@" HOST);
	check_queues(&id, "celery", NULL);
	cw_identity_free(&id);

	PARSE(&id, ".venv/bin/celery", "--app=proj.celery:app", "worker", "-n", "w1@%h");
	check_worker(&id, "main", "w1@" HOST);
	assert_string_equal(id.app, "proj.celery:app");
	cw_identity_free(&id);

	/* Debian's /usr/bin/celery is a shell script: the kernel runs it as /bin/sh ... */
	PARSE(&id, "/bin/sh", "/usr/bin/celery", "-A", "tasks", "worker", "-Q", "low");
	check_worker(&id, "main", "celery@" HOST);
	check_queues(&id, "low", NULL);
	cw_identity_free(&id);

	/* ... with a shebang option, and then it execs python3 "$0" "$@" */
	PARSE(&id, "/bin/sh", "-e", "/usr/bin/celery", "-A", "tasks", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);
	PARSE(&id, "python3", "/usr/bin/celery", "-A", "tasks", "worker", "-n", "x@%n");
	check_worker(&id, "main", "x@web1");
	assert_string_equal(id.app, "tasks");
	cw_identity_free(&id);

	/* a virtualenv script: the kernel runs its shebang interpreter */
	PARSE(&id, "/srv/app/.venv/bin/python", "/srv/app/.venv/bin/celery", "-A", "a", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);

	/* pip's "#!/usr/bin/env python3" scripts */
	PARSE(&id, "/usr/bin/env", "python3", "/usr/local/bin/celery", "-A", "a", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);
	PARSE(&id, "env", "-i", "PATH=/usr/bin", "-u", "HOME", "celery", "-A", "a", "beat");
	assert_true(id.is_celery);
	assert_string_equal(id.role, "beat");
	cw_identity_free(&id);
}

static void test_python_module_forms(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "python3", "-m", "celery", "-A", "x", "worker");
	check_worker(&id, "main", "celery@" HOST);
	assert_string_equal(id.app, "x");
	cw_identity_free(&id);

	PARSE(&id, "python3.11", "-m", "celery", "-A", "x", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);

	PARSE(&id, "/usr/bin/python3", "-um", "celery", "worker", "-c", "2");
	check_worker(&id, "main", "celery@" HOST);
	assert_int_equal(id.concurrency, 2);
	cw_identity_free(&id);

	PARSE(&id, "python", "-mcelery", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);

	/* interpreter options with values must not be taken for the module */
	PARSE(&id, "python3", "-W", "ignore", "-X", "dev", "-Wdefault", "-O", "-m", "celery", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);

	PARSE(&id, "python3", "--check-hash-based-pycs", "never", "-m", "celery.__main__", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);

	PARSE(&id, "pypy3", "/usr/lib/python3/dist-packages/celery/__main__.py", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);

	PARSE(&id, "python3", "--", "/usr/bin/celery", "worker");
	check_worker(&id, "main", "celery@" HOST);
	cw_identity_free(&id);
}

static void test_not_celery(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "sleep", "30");
	check_not_celery(&id);
	PARSE(&id, "python3", "-m", "celeryx", "worker");
	check_not_celery(&id);
	PARSE(&id, "python3", "-m", "pip", "install", "celery");
	check_not_celery(&id);
	PARSE(&id, "python3", "-c", "import celery", "celery");
	check_not_celery(&id);
	PARSE(&id, "python3", "manage.py", "celery", "worker");
	check_not_celery(&id);
	PARSE(&id, "python3", "-", "celery");
	check_not_celery(&id);
	PARSE(&id, "python3", "-m");
	check_not_celery(&id);
	PARSE(&id, "sh", "-c", "celery worker");
	check_not_celery(&id);
	PARSE(&id, "/usr/bin/celery-exporter", "worker");
	check_not_celery(&id);
	PARSE(&id, "celeryd", "worker");
	check_not_celery(&id);
	PARSE(&id, "env", "-u");
	check_not_celery(&id);
	PARSE(&id, "vim", "/usr/bin/celery");
	check_not_celery(&id);
	PARSE(&id, "[kworker/0:1]");
	check_not_celery(&id);
	PARSE(&id, "");
	check_not_celery(&id);

	assert_int_equal(cw_identity_from_argv(&id, NULL, 5, HOST), 0);
	check_not_celery(&id);
	assert_int_equal(cw_identity_from_argv(&id, (const char *[]){ "celery" }, 0, HOST), 0);
	check_not_celery(&id);
	cw_identity_free(&id);
}

static void test_global_options(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "celery", "-A", "proj", "--broker", "redis://h:6379/0", "worker");
	check_worker(&id, "main", "celery@" HOST);
	assert_string_equal(id.app, "proj");
	cw_identity_free(&id);

	PARSE(&id, "celery", "--app=x", "worker");
	assert_string_equal(id.app, "x");
	cw_identity_free(&id);
	PARSE(&id, "celery", "-Ax", "worker");
	assert_string_equal(id.app, "x");
	cw_identity_free(&id);
	PARSE(&id, "celery", "--app", "x", "worker");
	assert_string_equal(id.app, "x");
	cw_identity_free(&id);

	/* global options with values are not taken for the subcommand */
	PARSE(&id, "celery", "-b", "worker", "--result-backend", "beat", "--loader", "l", "--config",
	      "c", "--workdir", "/srv", "-C", "-q", "beat", "-A", "late");
	assert_string_equal(id.command, "beat");
	assert_string_equal(id.role, "beat");
	assert_string_equal(id.app, "late");	/* Celery 4 style -A after the subcommand */
	cw_identity_free(&id);

	/* the app's name may itself be "worker" */
	PARSE(&id, "celery", "-A", "worker", "beat");
	assert_string_equal(id.command, "beat");
	assert_string_equal(id.app, "worker");
	cw_identity_free(&id);

	/* repeated: click keeps the last */
	PARSE(&id, "celery", "-A", "one", "-A", "two", "worker");
	assert_string_equal(id.app, "two");
	cw_identity_free(&id);

	/* no subcommand */
	PARSE(&id, "celery", "-A", "app");
	assert_true(id.is_celery);
	assert_null(id.command);
	assert_string_equal(id.role, "other");
	assert_null(id.worker);
	cw_identity_free(&id);

	/* "--" ends options: what follows is positional */
	PARSE(&id, "celery", "--", "-A", "worker");
	assert_string_equal(id.command, "-A");
	assert_null(id.app);
	cw_identity_free(&id);
}

/* Expected values from Celery 5.2 itself: click's make_context on celery.bin.celery plus
 * Worker.setup_queues' select/deselect on a fresh app (default queue "celery"),
 * gethostname patched to web1.example.com; and from live workers on Debian 12
 * (-Q a -Q b banner lists only b; -X celery lists none; -Q '' and -Q ,,, list one queue
 * named ""). */
static void test_queues(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "celery", "-Atasks", "worker", "-Qa,b", "-Xb");
	check_queues(&id, "a", NULL);
	cw_identity_free(&id);

	PARSE(&id, "celery", "--app=tasks", "worker", "--queues=a,b,a", "--exclude-queues=a");
	check_queues(&id, "b", NULL);
	cw_identity_free(&id);

	PARSE(&id, "celery", "worker", "--queues", "high,low", "-X", "nope");
	check_queues(&id, "high", "low", NULL);
	cw_identity_free(&id);

	/* duplicates keep their first place */
	PARSE(&id, "celery", "worker", "-Q", "b,a,b,c,a");
	check_queues(&id, "b", "a", "c", NULL);
	cw_identity_free(&id);

	/* repeated -Q: click keeps the last value; Celery consumes only b */
	PARSE(&id, "celery", "-A", "tasks", "worker", "-Q", "a", "-Q", "b");
	check_queues(&id, "b", NULL);
	cw_identity_free(&id);
	PARSE(&id, "celery", "worker", "-Q", "a", "-X", "a", "-X", "b");
	check_queues(&id, "a", NULL);
	cw_identity_free(&id);

	/* no -Q: the default queue, minus -X */
	PARSE(&id, "celery", "worker");
	check_queues(&id, "celery", NULL);
	cw_identity_free(&id);
	PARSE(&id, "celery", "worker", "-X", "other");
	check_queues(&id, "celery", NULL);
	cw_identity_free(&id);
	PARSE(&id, "celery", "-A", "tasks", "worker", "-X", "celery");
	check_queues(&id, NULL);	/* known: nothing */
	cw_identity_free(&id);

	/* not trimmed, empty names kept */
	PARSE(&id, "celery", "worker", "-Q", " a , b");
	check_queues(&id, " a ", " b", NULL);
	cw_identity_free(&id);
	PARSE(&id, "celery", "worker", "-Q", "");
	check_queues(&id, "", NULL);
	cw_identity_free(&id);
	PARSE(&id, "celery", "worker", "-Q", ",,,");
	check_queues(&id, "", NULL);
	cw_identity_free(&id);
	PARSE(&id, "celery", "worker", "-Q", "a,,b,");
	check_queues(&id, "a", "", "b", NULL);
	cw_identity_free(&id);

	/* an option's value is taken even when it looks like an option */
	PARSE(&id, "celery", "-A", "tasks", "worker", "-Q", "-X", "-X", "b");
	check_queues(&id, "-X", NULL);
	cw_identity_free(&id);

	/* queues are only a worker's */
	PARSE(&id, "celery", "-A", "app", "inspect", "active_queues", "-Q", "x");
	assert_null(id.queues);
	assert_int_equal(id.nqueues, 0);
	cw_identity_free(&id);
}

static void test_worker_options(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "celery", "worker", "-P", "gevent", "-c", "100", "--max-tasks-per-child", "50",
	      "--max-memory-per-child=200000", "-l", "INFO", "--logfile=/var/log/celery/%n%I.log",
	      "--pidfile", "/run/celery/%n.pid", "-n", "w1@%h");
	check_worker(&id, "main", "w1@" HOST);
	assert_string_equal(id.pool, "gevent");
	assert_int_equal(id.concurrency, 100);
	assert_int_equal(id.max_tasks_per_child, 50);
	assert_int_equal(id.max_memory_per_child_kb, 200000);
	assert_string_equal(id.loglevel, "INFO");
	/* node_format in the MainProcess: %n the node's name, %I "" */
	assert_string_equal(id.logfile, "/var/log/celery/w1.log");
	assert_string_equal(id.pidfile, "/run/celery/w1.pid");
	cw_identity_free(&id);

	PARSE(&id, "celery", "worker", "--pool=solo", "--concurrency=4", "--loglevel=debug", "-f", "x.log");
	assert_string_equal(id.pool, "solo");
	assert_int_equal(id.concurrency, 4);
	assert_string_equal(id.loglevel, "debug");
	assert_string_equal(id.logfile, "x.log");
	assert_null(id.pidfile);
	cw_identity_free(&id);

	/* absent: unknown (Celery would use the app's config or the cpu count) */
	PARSE(&id, "celery", "worker");
	assert_string_equal(id.pool, "prefork");
	assert_int_equal(id.concurrency, -1);
	assert_int_equal(id.max_tasks_per_child, -1);
	assert_int_equal(id.max_memory_per_child_kb, -1);
	assert_null(id.loglevel);
	assert_false(id.beat_embedded);
	cw_identity_free(&id);

	/* 0 means "from the config" to Celery ("value or config") */
	PARSE(&id, "celery", "worker", "-c", "0", "--max-tasks-per-child=0");
	assert_int_equal(id.concurrency, -1);
	assert_int_equal(id.max_tasks_per_child, -1);
	cw_identity_free(&id);

	/* Python int(): whitespace and digit-separating underscores (Celery's oracle: 10) */
	PARSE(&id, "celery", "worker", "-c", " 1_0 ");
	assert_int_equal(id.concurrency, 10);
	cw_identity_free(&id);
	PARSE(&id, "celery", "worker", "-c", "+3");
	assert_int_equal(id.concurrency, 3);
	cw_identity_free(&id);

	/* clustered short options: flags, then one option with the rest as its value */
	PARSE(&id, "celery", "worker", "-Bc4", "-EQa,b");
	check_worker(&id, "main", "celery@" HOST);
	assert_true(id.beat_embedded);
	assert_int_equal(id.concurrency, 4);
	check_queues(&id, "a", "b", NULL);
	cw_identity_free(&id);

	/* unknown options (app user_options) are assumed to be flags */
	PARSE(&id, "celery", "worker", "--my-flag", "-Z", "-c", "5");
	assert_int_equal(id.concurrency, 5);
	cw_identity_free(&id);

	/* options with values that we skip must still eat their value */
	PARSE(&id, "celery", "worker", "-s", "-Q", "-O", "fair", "--time-limit", "-c", "-I", "m",
	      "--autoscale", "10,2", "-S", "-n");
	check_queues(&id, "celery", NULL);
	assert_int_equal(id.concurrency, -1);
	assert_string_equal(id.worker, "celery@" HOST);
	cw_identity_free(&id);
}

static void test_embedded_beat_and_beat(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "celery", "-A", "app", "worker", "-B", "-l", "info");
	check_worker(&id, "main", "celery@" HOST);	/* still the worker's main */
	assert_true(id.beat_embedded);
	cw_identity_free(&id);
	PARSE(&id, "celery", "-A", "app", "worker", "--beat");
	assert_true(id.beat_embedded);
	cw_identity_free(&id);

	PARSE(&id, "celery", "-A", "app", "beat", "-l", "info", "-s", "/var/lib/beat", "-S", "x.Y");
	assert_true(id.is_celery);
	assert_string_equal(id.command, "beat");
	assert_string_equal(id.role, "beat");
	assert_string_equal(id.app, "app");
	assert_string_equal(id.loglevel, "info");
	assert_null(id.worker);
	assert_null(id.queues);
	assert_null(id.pool);
	assert_false(id.beat_embedded);
	cw_identity_free(&id);

	/* beat --detach daemonizes in place: the process stays the beat */
	PARSE(&id, "celery", "beat", "--detach", "--pidfile=/run/beat.pid");
	assert_string_equal(id.role, "beat");
	assert_true(id.detach);
	assert_string_equal(id.pidfile, "/run/beat.pid");
	cw_identity_free(&id);
}

/* CeleryDaemonCommand's options (bin/base.py) are worker's and beat's alike, and no other
 * command's: one table serves both. */
static void test_daemon_options(void **state)
{
	struct cw_identity id;
	static const char *const cmds[] = { "worker", "beat" };

	(void)state;
	for (int i = 0; i < 2; i++) {
		/* value options swallow the next argument, even one that looks like an option */
		PARSE(&id, "celery", cmds[i], "--uid", "-D", "--gid", "0", "--umask=022",
		      "--executable", "-h", "-f", "/l/%n.log", "--pidfile", "/r/%n.pid");
		assert_string_equal(id.role, i ? "beat" : "main");
		assert_false(id.detach);
		assert_non_null(id.logfile);
		assert_non_null(id.pidfile);
		cw_identity_free(&id);
		/* -h and --help: the command only prints its help */
		PARSE(&id, "celery", cmds[i], "-h");
		assert_string_equal(id.role, "other");
		cw_identity_free(&id);
		PARSE(&id, "celery", "-A", "x", cmds[i], "--help");
		assert_string_equal(id.role, "other");
		cw_identity_free(&id);
		/* -fVALUE, clustered after a flag */
		PARSE(&id, "celery", cmds[i], "-f/l/x.log");
		assert_string_equal(id.logfile, "/l/x.log");
		cw_identity_free(&id);
	}
	/* worker formats the daemon paths with its node name; beat keeps them as given */
	PARSE(&id, "celery", "worker", "-n", "w1@h", "-f", "/l/%n.log", "--pidfile", "/r/%n.pid");
	assert_string_equal(id.logfile, "/l/w1.log");
	assert_string_equal(id.pidfile, "/r/w1.pid");
	cw_identity_free(&id);
	PARSE(&id, "celery", "beat", "-f", "/l/%n.log", "--pidfile", "/r/%n.pid");
	assert_string_equal(id.logfile, "/l/%n.log");
	assert_string_equal(id.pidfile, "/r/%n.pid");
	cw_identity_free(&id);
	/* another command has no -f nor --pidfile: unknown flags, their values ignored */
	PARSE(&id, "celery", "inspect", "-f", "x", "--pidfile", "p");
	assert_string_equal(id.role, "other");
	assert_null(id.logfile);
	assert_null(id.pidfile);
	cw_identity_free(&id);
}

/* "celery multi" and what it execs, argvs as recorded with strace on Debian 12:
 *   celery multi start w1 w2 -A tasks -Q:w1 a -c 3 --pidfile=/tmp/cwreal/m/%n.pid ...
 * multi execs "python3 -m celery ... worker --detach ...", which re-execs without --detach */
static void test_multi_and_detach(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "python3", "/usr/bin/celery", "multi", "start", "w1", "w2", "-A", "tasks",
	      "-Q:w1", "a", "-c", "3", "--pidfile=/tmp/cwreal/m/%n.pid",
	      "--logfile=/tmp/cwreal/m/%n%I.log");
	assert_true(id.is_celery);
	assert_string_equal(id.command, "multi");
	assert_string_equal(id.role, "other");
	assert_null(id.worker);
	assert_null(id.queues);
	assert_int_equal(id.concurrency, -1);
	assert_string_equal(id.app, "tasks");
	cw_identity_free(&id);

	PARSE(&id, "/usr/bin/python3", "-m", "celery", "-A", "tasks", "worker", "--detach", "-c", "3",
	      "--pidfile=/tmp/cwreal/m/w1.pid", "--logfile=/tmp/cwreal/m/w1%I.log", "-Q", "a", "-n",
	      "w1@vm", "--executable=/usr/bin/python3");
	/* the launcher forks, re-execs and exits 0: not the worker's MainProcess */
	check_worker(&id, "other", "w1@vm");
	assert_true(id.detach);
	check_queues(&id, "a", NULL);
	assert_int_equal(id.concurrency, 3);
	assert_string_equal(id.pidfile, "/tmp/cwreal/m/w1.pid");
	assert_string_equal(id.logfile, "/tmp/cwreal/m/w1.log");
	cw_identity_free(&id);

	PARSE(&id, "/usr/bin/python3", "-m", "celery", "-A", "tasks", "worker", "-c", "3",
	      "--pidfile=/tmp/cwreal/m/w1.pid", "--logfile=/tmp/cwreal/m/w1%I.log", "-Q", "a", "-n",
	      "w1@vm", "--executable=/usr/bin/python3");
	check_worker(&id, "main", "w1@vm");
	assert_false(id.detach);
	check_queues(&id, "a", NULL);
	cw_identity_free(&id);

	PARSE(&id, "celery", "-A", "app", "worker", "-D", "-n", "det@%h");
	check_worker(&id, "other", "det@" HOST);
	assert_true(id.detach);
	cw_identity_free(&id);
}

static void test_other_commands(void **state)
{
	static const char *const cmds[] = { "inspect", "call", "purge", "status", "control",
					    "events", "result", "shell", "flower" };
	struct cw_identity id;
	(void)state;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		PARSE(&id, "celery", "-A", "app", cmds[i], "ping", "-d", "w1@h");
		assert_true(id.is_celery);
		assert_string_equal(id.command, cmds[i]);
		assert_string_equal(id.role, "other");
		assert_string_equal(id.app, "app");
		assert_null(id.worker);
		assert_null(id.queues);
		assert_null(id.pool);
		cw_identity_free(&id);
	}
	/* help and version exit at once */
	PARSE(&id, "celery", "worker", "--help");
	assert_string_equal(id.role, "other");
	cw_identity_free(&id);
	PARSE(&id, "celery", "--version", "worker");
	assert_string_equal(id.role, "other");
	cw_identity_free(&id);
}

/* ------------------------------------------------------------------ node names */

/* From Celery 5.2.6 on Debian 12:
 *   import celery.utils.nodenames as nn; nn.gethostname = lambda: HOST
 *   nn.host_format(nn.default_nodename(n))
 * (what the worker's -n option type, celery.bin.worker.Hostname, computes) */
static const struct {
	const char *host, *n, *want;	/* want NULL: Celery raises ValueError */
} nodename_table[] = {
	{ "web1.example.com", NULL, "celery@web1.example.com" },
	{ "web1.example.com", "", "celery@web1.example.com" },
	{ "web1.example.com", "w1", "celery@w1" },
	{ "web1.example.com", "w1@%h", "w1@web1.example.com" },
	{ "web1.example.com", "worker_low@%h", "worker_low@web1.example.com" },
	{ "web1.example.com", "%h", "celery@web1.example.com" },
	{ "web1.example.com", "%n", "celery@web1" },
	{ "web1.example.com", "%d", "celery@example.com" },
	{ "web1.example.com", "w@%n.%d", "w@web1.example.com" },
	{ "web1.example.com", "w@%n", "w@web1" },
	{ "web1.example.com", "%n@%d", "web1@example.com" },
	{ "web1.example.com", "a@b", "a@b" },
	{ "web1.example.com", "@", "celery@web1.example.com" },
	{ "web1.example.com", "a@", "a@web1.example.com" },
	{ "web1.example.com", "@b", "celery@b" },
	{ "web1.example.com", "x@y@z", "x@y@z" },
	{ "web1.example.com", "%%h", "celery@%web1.example.com" },
	{ "web1.example.com", "%%", "celery@%%" },
	{ "web1.example.com", "100%", "celery@100%" },
	{ "web1.example.com", "%", "celery@%" },
	{ "web1.example.com", "w%", "celery@w%" },
	{ "web1.example.com", "w1@%h%", "w1@web1.example.com%" },
	{ "web1.example.com", "%i", "celery@0" },
	{ "web1.example.com", "%I", "celery@" },
	{ "web1.example.com", "w%i@%h", "w0@web1.example.com" },
	{ "web1.example.com", "w%I@%h", "w@web1.example.com" },
	{ "web1.example.com", "%h%h", "celery@web1.example.comweb1.example.com" },
	{ "web1.example.com", "w@%n-%d", "w@web1-example.com" },
	{ "web1.example.com", "a b@%h", "a b@web1.example.com" },
	{ "web1.example.com", "w1:%h", "celery@w1:web1.example.com" },
	{ "web1.example.com", "%%h@%d", "%web1.example.com@example.com" },
	{ "web1.example.com", "%x", NULL },
	{ "web1.example.com", "%_", NULL },
	{ "web1.example.com", "%1", NULL },
	{ "web1.example.com", "w1@%H", NULL },
	{ "web1", NULL, "celery@web1" },
	{ "web1", "w1", "celery@w1" },
	{ "web1", "w1@%h", "w1@web1" },
	{ "web1", "%n", "celery@web1" },
	{ "web1", "%d", "celery@" },
	{ "web1", "w@%n.%d", "w@web1." },
	{ "web1", "%n@%d", "web1@" },
	{ "web1", "%%h", "celery@%web1" },
	{ "web1", "w@%n-%d", "w@web1-" },
	{ "vm", "worker_low@%h", "worker_low@vm" },	/* the live worker below */
	{ "vm", "wb@%n.example", "wb@vm.example" },
};

static void test_nodename_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(nodename_table) / sizeof(nodename_table[0]); i++) {
		char *got = cw_expand_nodename(nodename_table[i].n, nodename_table[i].host);

		assert_non_null(got);
		if (nodename_table[i].want) {
			if (strcmp(got, nodename_table[i].want))
				fail_msg("-n %s on %s: got '%s', Celery gives '%s'",
					 nodename_table[i].n, nodename_table[i].host, got,
					 nodename_table[i].want);
		} else {
			/* Celery refuses such a name; we keep the unknown key literally */
			assert_non_null(strchr(got, '%'));
		}
		free(got);
	}
	/* no hostname known */
	char *got = cw_expand_nodename(NULL, NULL);
	assert_string_equal(got, "celery@");
	free(got);
	got = cw_expand_nodename("w@%h.%n.%d", "");
	assert_string_equal(got, "w@..");
	free(got);
}

/* celery.utils.nodenames.node_format(s, nodename) in a MainProcess, same oracle */
static void test_node_format(void **state)
{
	static const struct { const char *s, *node, *want; } t[] = {
		{ "/var/run/celery/%n.pid", "w1@web1.example.com", "/var/run/celery/w1.pid" },
		{ "/l/%n%I.log", "w1@web1", "/l/w1.log" },
		{ "%h-%d-%p-%i", "w1@web1.example.com", "web1.example.com-example.com-w1@web1.example.com-0" },
		{ "%n", "celery@web1", "celery" },
		{ "%n", "@web1", "celery" },
		{ "%n|%h", "bare", "celery|bare" },
		{ "", "w1@h", "" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = cw_node_format(t[i].s, t[i].node);

		assert_string_equal(got, t[i].want);
		free(got);
	}
	assert_null(cw_node_format(NULL, "w@h"));
}

/* ------------------------------------------------------------------ titles */

/* Exact /proc/PID/cmdline of Celery 5.2.6 processes (python3-setproctitle 1.3.1), Debian 12,
 * host "vm", from: celery -A tasks worker -Q low_priority -n worker_low@%h -c 2 */
static void test_title_worker_main_and_pool(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "[celeryd: worker_low@vm:MainProcess] -active- (-A tasks worker -Q low_priority "
		   "-n worker_low@%h -c 2)");
	check_worker(&id, "main", "worker_low@vm");
	assert_true(id.from_title);
	assert_false(id.detach);
	assert_string_equal(id.app, "tasks");
	check_queues(&id, "low_priority", NULL);
	assert_int_equal(id.concurrency, 2);
	assert_string_equal(id.pool, "prefork");
	cw_identity_free(&id);

	/* the title's node wins over our own expansion with another hostname */
	assert_int_equal(cw_identity_from_argv(&id, (const char *[]){
		"[celeryd: worker_low@vm:MainProcess] -active- (-A tasks worker -n worker_low@%h)" },
		1, "otherhost"), 0);
	assert_string_equal(id.worker, "worker_low@vm");
	cw_identity_free(&id);

	/* pool children: the title is padded with NULs over the old argv */
	PARSE(&id, "[celeryd: worker_low@vm:ForkPoolWorker-1]", "", "", "", "");
	check_worker(&id, "pool", "worker_low@vm");
	assert_true(id.from_title);
	assert_null(id.queues);	/* unknown: no argv in a child's title */
	assert_null(id.app);
	assert_string_equal(id.pool, "prefork");	/* ForkPoolWorker is prefork's */
	assert_int_equal(id.concurrency, -1);
	cw_identity_free(&id);

	PARSE(&id, "[celeryd: w1@vm:SpawnPoolWorker-3]");
	check_worker(&id, "pool", "w1@vm");
	assert_null(id.pool);
	cw_identity_free(&id);

	/* "celery multi" worker, re-exec'd after --detach */
	PARSE(&id, "[celeryd: w1@vm:MainProcess] -active- (-A tasks worker -c 3 "
		   "--pidfile=/tmp/cwreal/m/w1.pid --logfile=/tmp/cwreal/m/w1%I.log -Q a -n w1@vm "
		   "--executable=/usr/bin/python3)");
	check_worker(&id, "main", "w1@vm");
	check_queues(&id, "a", NULL);
	assert_int_equal(id.concurrency, 3);
	assert_string_equal(id.logfile, "/tmp/cwreal/m/w1.log");
	cw_identity_free(&id);

	/* no hostname given to set_mp_process_title */
	PARSE(&id, "[celeryd:MainProcess] -active- (worker -Q q)");
	assert_true(id.is_celery);
	assert_string_equal(id.role, "main");
	assert_string_equal(id.worker, "celery@" HOST);
	check_queues(&id, "q", NULL);
	cw_identity_free(&id);

	/* a ':' inside the node: split at the last one */
	PARSE(&id, "[celeryd: a:b@h:ForkPoolWorker-2]");
	check_worker(&id, "pool", "a:b@h");
	cw_identity_free(&id);
}

/* From: celery -A tasks beat -l info -s ..., and python3 -m celery -A tasks worker -B
 * -n wb@%n.example -c 1 -s ... -Q q1,q2 (the embedded beat's title has no argv) */
static void test_title_beat(void **state)
{
	struct cw_identity id;
	(void)state;

	PARSE(&id, "[celery beat] -A tasks beat -l info -s /tmp/cwreal/beat-schedule", "", "");
	assert_true(id.is_celery);
	assert_true(id.from_title);
	assert_string_equal(id.command, "beat");
	assert_string_equal(id.role, "beat");
	assert_string_equal(id.app, "tasks");
	assert_string_equal(id.loglevel, "info");
	assert_false(id.beat_embedded);
	assert_null(id.worker);
	cw_identity_free(&id);

	PARSE(&id, "[celeryd: wb@vm.example:MainProcess] -active- (-A tasks worker -B -n "
		   "wb@%n.example -c 1 -s /tmp/cwreal/sched2 -Q q1,q2)");
	check_worker(&id, "main", "wb@vm.example");
	assert_true(id.beat_embedded);
	check_queues(&id, "q1", "q2", NULL);
	cw_identity_free(&id);

	PARSE(&id, "[celeryd: wb@vm.example:ForkPoolWorker-2]", "");
	check_worker(&id, "pool", "wb@vm.example");
	cw_identity_free(&id);

	PARSE(&id, "[celery beat]", "", "", "");
	assert_string_equal(id.role, "beat");
	assert_string_equal(id.command, "beat");
	assert_true(id.beat_embedded);
	assert_null(id.worker);	/* cw_procscan fills it from the parent */
	cw_identity_free(&id);
}

static void test_title_other_and_malformed(void **state)
{
	struct cw_identity id;
	(void)state;

	/* celery/bin/events.py: prog "celery events:dump", info " " + argv */
	PARSE(&id, "[celery events:dump]  -A app events -d");
	assert_true(id.is_celery);
	assert_true(id.from_title);
	assert_string_equal(id.command, "events");
	assert_string_equal(id.role, "other");
	assert_string_equal(id.app, "app");
	cw_identity_free(&id);

	/* not forms Celery writes: still Celery, never a crash */
	static const char *const odd[] = {
		"[celeryd]", "[celeryd: x]", "[celery]", "[celeryd: ]", "[celeryd:]",
		"[celeryd: w@h:MainProcess] -active- (", "[celeryd: w@h:MainProcess] )(",
		"[celeryd: w@h:MainProcess] ()", "[celery beat] ] ] (", "[celeryd: w]x@h:MainProcess]",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		assert_int_equal(cw_identity_from_argv(&id, &odd[i], 1, HOST), 0);
		assert_true(id.is_celery);
		assert_true(id.from_title);
		assert_non_null(id.role);
		cw_identity_free(&id);
	}
	PARSE(&id, "[celeryd: w@h:MainProcess] ()");
	check_worker(&id, "main", "w@h");
	check_queues(&id, "celery", NULL);
	cw_identity_free(&id);

	/* no closing bracket: not a title, and not Celery */
	PARSE(&id, "[celeryd: w@h:MainProcess");
	check_not_celery(&id);
	assert_false(cw_argv_is_title((const char *[]){ "[celery" }, 1));
	assert_true(cw_argv_is_title((const char *[]){ "[celery beat]" }, 1));
	assert_false(cw_argv_is_title((const char *[]){ "celery" }, 1));
	assert_false(cw_argv_is_title(NULL, 0));
}

/* ------------------------------------------------------------------ buffers, filter */

static void test_split_nul(void **state)
{
	char **av;
	(void)state;

	assert_int_equal(cw_split_nul("a\0bc\0", 5, &av), 2);
	assert_string_equal(av[0], "a");
	assert_string_equal(av[1], "bc");
	assert_null(av[2]);
	cw_free_argv(av);

	/* an empty last argument ("-Q ''") is kept */
	assert_int_equal(cw_split_nul("-Q\0\0", 4, &av), 2);
	assert_string_equal(av[1], "");
	cw_free_argv(av);

	/* unterminated (a truncated buffer) */
	assert_int_equal(cw_split_nul("a\0b", 3, &av), 2);
	assert_string_equal(av[1], "b");
	cw_free_argv(av);

	assert_int_equal(cw_split_nul("", 0, &av), 0);
	assert_non_null(av);
	assert_null(av[0]);
	cw_free_argv(av);
	assert_int_equal(cw_split_nul(NULL, 10, &av), 0);
	cw_free_argv(av);

	assert_int_equal(cw_split_nul("\0", 1, &av), 1);
	assert_string_equal(av[0], "");
	cw_free_argv(av);

	/* a pool child's cmdline: title, then setproctitle's NUL padding */
	static const char title[] = "[celeryd: worker_low@vm:ForkPoolWorker-1]\0\0\0\0";
	size_t n = cw_split_nul(title, sizeof(title) - 1, &av);
	assert_int_equal(n, 4);
	struct cw_identity id;
	assert_int_equal(cw_identity_from_argv(&id, (const char *const *)av, n, HOST), 0);
	check_worker(&id, "pool", "worker_low@vm");
	cw_identity_free(&id);
	cw_free_argv(av);
	cw_free_argv(NULL);
}

/* What the kernel-side exec filter admits: an argument whose basename is "celery" */
static void test_argv_mentions_celery(void **state)
{
	(void)state;
	assert_true(cw_argv_mentions_celery((const char *[]){ "celery", "worker" }, 2));
	assert_true(cw_argv_mentions_celery((const char *[]){ "/bin/sh", "/usr/bin/celery" }, 2));
	assert_true(cw_argv_mentions_celery((const char *[]){ "python3", "-m", "celery" }, 3));
	assert_true(cw_argv_mentions_celery((const char *[]){ "vim", "celery" }, 2));	/* a superset */
	assert_false(cw_argv_mentions_celery((const char *[]){ "celery.py" }, 1));
	assert_false(cw_argv_mentions_celery((const char *[]){ "celeryd", "x/celery/" }, 2));
	/* titles and sh -c strings are not admitted: those processes are found by the scan or
	 * followed from their parent */
	assert_false(cw_argv_mentions_celery((const char *[]){ "[celeryd: w@h:MainProcess]" }, 1));
	assert_false(cw_argv_mentions_celery((const char *[]){ "sh", "-c", "celery worker" }, 3));
	assert_false(cw_argv_mentions_celery((const char *[]){ NULL, "" }, 2));
	assert_false(cw_argv_mentions_celery(NULL, 3));
	assert_false(cw_argv_mentions_celery((const char *[]){ "celery" }, 0));
}

/* ------------------------------------------------------------------ hostile input */

static void test_missing_values_at_end(void **state)
{
	static const char *const opts[] = { "-A", "--app", "-n", "--hostname", "-Q", "--queues",
					    "-X", "--exclude-queues", "-c", "--concurrency", "-P",
					    "--pool", "-l", "--loglevel", "-f", "--logfile",
					    "--pidfile", "--max-tasks-per-child",
					    "--max-memory-per-child", "-b", "-s", "-O" };
	struct cw_identity id;
	(void)state;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const char *av[] = { "celery", "worker", opts[i] };

		assert_int_equal(cw_identity_from_argv(&id, av, 3, HOST), 0);
		check_worker(&id, "main", "celery@" HOST);
		check_queues(&id, "celery", NULL);
		assert_int_equal(id.concurrency, -1);
		assert_string_equal(id.pool, "prefork");
		assert_null(id.app);
		cw_identity_free(&id);

		const char *gv[] = { "celery", opts[i] };	/* before any subcommand */
		assert_int_equal(cw_identity_from_argv(&id, gv, 2, HOST), 0);
		assert_true(id.is_celery);
		cw_identity_free(&id);
	}
}

static void test_bad_numbers(void **state)
{
	static const char *const bad[] = { "abc", "99999999999999", "2147483648", "-5", "", " ",
					   "1__0", "_1", "1_", "3.0", "0x10", "1e3",
					   "99999999999999999999999999999" };
	struct cw_identity id;
	(void)state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char c[64], t[64], m[64];

		snprintf(c, sizeof(c), "--concurrency=%s", bad[i]);
		snprintf(t, sizeof(t), "--max-tasks-per-child=%s", bad[i]);
		snprintf(m, sizeof(m), "--max-memory-per-child=%s", bad[i]);
		PARSE(&id, "celery", "worker", c, t, m);
		assert_int_equal(id.concurrency, -1);
		assert_int_equal(id.max_tasks_per_child, -1);
		if (strcmp(bad[i], "99999999999999") && strcmp(bad[i], "2147483648"))
			assert_int_equal(id.max_memory_per_child_kb, -1);
		else
			assert_true(id.max_memory_per_child_kb > 0);	/* fits in a long */
		cw_identity_free(&id);
	}
	PARSE(&id, "celery", "worker", "-c", "2147483647");
	assert_int_equal(id.concurrency, 2147483647);
	cw_identity_free(&id);
}

static void test_many_queues(void **state)
{
	enum { N = 10000 };
	struct cw_identity id;
	char *q = malloc(N * 16), *x = malloc(N * 8), *p = q, *e = x;
	(void)state;

	/* 10k distinct queues, then each again (duplicates), excluding the odd ones */
	for (int i = 0; i < N; i++)
		p += sprintf(p, "q%d,", i);
	for (int i = 0; i < N; i++)
		p += sprintf(p, "q%d%s", i, i + 1 < N ? "," : "");
	*p = '\0';
	e += sprintf(e, "-X");
	for (int i = 1; i < N; i += 2)
		e += sprintf(e, "q%d%s", i, i + 2 < N ? "," : "");
	PARSE(&id, "celery", "worker", "-Q", q, x);
	assert_int_equal(id.nqueues, N / 2);
	for (size_t i = 0; i < id.nqueues; i++) {
		char want[16];

		snprintf(want, sizeof(want), "q%zu", 2 * i);
		assert_string_equal(id.queues[i], want);
	}
	cw_identity_free(&id);

	/* 100k empty names collapse to one */
	char *commas = malloc(100001);
	memset(commas, ',', 100000);
	commas[100000] = '\0';
	PARSE(&id, "celery", "worker", "-Q", commas);
	check_queues(&id, "", NULL);
	cw_identity_free(&id);

	/* 10k repeated -Q options: the last wins */
	const char **av = calloc(2 + 2 * N, sizeof(*av));
	av[0] = "celery";
	av[1] = "worker";
	for (int i = 0; i < N; i++) {
		av[2 + 2 * i] = "-Q";
		av[3 + 2 * i] = i + 1 < N ? "a" : "last";
	}
	assert_int_equal(cw_identity_from_argv(&id, av, 2 + 2 * N, HOST), 0);
	check_queues(&id, "last", NULL);
	cw_identity_free(&id);
	free(av);
	free(commas);
	free(q);
	free(x);
}

static void test_non_utf8_and_nulls(void **state)
{
	struct cw_identity id;
	(void)state;

	/* bytes pass through untouched; the event log escapes them (jsonw) */
	PARSE(&id, "celery", "-A", "\xff\xfe", "worker", "-Q", "\xc3\x28,ok,\x80", "-n", "w\xe9@%h");
	check_worker(&id, "main", "w\xe9@" HOST);
	assert_string_equal(id.app, "\xff\xfe");
	check_queues(&id, "\xc3\x28", "ok", "\x80", NULL);
	cw_identity_free(&id);

	/* '%' before a non-ASCII byte is not a key */
	char *n = cw_expand_nodename("w%\xc3\xa9@%h", "h");
	assert_string_equal(n, "w%\xc3\xa9@h");
	free(n);

	/* NULL entries count as "" */
	const char *av[] = { "celery", "worker", NULL, "-Q", NULL, "-n", NULL };
	assert_int_equal(cw_identity_from_argv(&id, av, 7, HOST), 0);
	check_worker(&id, "main", "celery@" HOST);
	check_queues(&id, "", NULL);
	cw_identity_free(&id);
	const char *nv[] = { NULL };
	assert_int_equal(cw_identity_from_argv(&id, nv, 1, HOST), 0);
	check_not_celery(&id);
}

/* Random argvs from Celery-ish tokens and random bytes: never a crash, always coherent. */
static void test_fuzz(void **state)
{
	static const char *const tok[] = {
		"celery", "/usr/bin/celery", "python3", "-m", "-mcelery", "sh", "env", "worker", "beat",
		"multi", "-A", "--app", "--app=", "-Q", "-Qa,b", "--queues=", "-X", "-n", "%h", "%",
		"@", "w@%n", "-c", "-c3", "--concurrency=", "-B", "-D", "--detach", "-P", "--", "-",
		"", ",", "[celeryd: w@h:MainProcess] -active- (", "[celery beat]", ")", "(", "]",
		"[celeryd: ", ":ForkPoolWorker-1]", "-W", "-X", "--pidfile=%n%I%p", "-f", "%i%I%d",
	};
	struct cw_identity id, copy;
	unsigned seed = 4242;
	(void)state;

	for (int iter = 0; iter < 20000; iter++) {
		char bufs[8][24];
		const char *av[8];
		size_t ac = (size_t)(rand_r(&seed) % 9);

		for (size_t i = 0; i < ac; i++) {
			if (rand_r(&seed) % 5) {
				av[i] = tok[rand_r(&seed) % (sizeof(tok) / sizeof(tok[0]))];
				continue;
			}
			size_t len = (size_t)(rand_r(&seed) % 23);
			for (size_t k = 0; k < len; k++)
				bufs[i][k] = (char)(1 + rand_r(&seed) % 255);
			bufs[i][len] = '\0';
			av[i] = bufs[i];
		}
		/* a title is one argument: glue a few tokens into one */
		char glued[256] = "";
		if (ac && iter % 3 == 0) {
			for (size_t i = 0; i < ac; i++)
				strncat(glued, av[i], sizeof(glued) - strlen(glued) - 1);
			av[0] = glued;
		}
		assert_int_equal(cw_identity_from_argv(&id, av, ac, iter % 7 ? HOST : NULL), 0);
		assert_non_null(id.role);
		assert_true(!id.queues == !id.worker || !strcmp(id.role, "pool") ||
			    !strcmp(id.role, "beat") || !strcmp(id.role, "other"));
		for (size_t i = 0; id.queues && i < id.nqueues; i++)
			assert_non_null(id.queues[i]);
		if (id.worker && !id.from_title)	/* a title's node is taken as written */
			assert_non_null(strchr(id.worker, '@'));
		assert_int_equal(cw_identity_copy(&copy, &id), 0);
		assert_int_equal(copy.nqueues, id.nqueues);
		cw_identity_free(&id);
		cw_identity_free(&copy);
	}
}

/* ------------------------------------------------------------------ copy, free */

static void test_copy_and_free(void **state)
{
	struct cw_identity id, copy;
	(void)state;

	PARSE(&id, "celery", "-A", "app", "worker", "-Q", "a,b", "-n", "w@%h", "-c", "4", "-B",
	      "--pidfile=/run/%n.pid", "-l", "info", "-f", "log");
	memset(&copy, 0xa5, sizeof(copy));	/* dst need not be initialised */
	assert_int_equal(cw_identity_copy(&copy, &id), 0);
	cw_identity_free(&id);
	check_worker(&copy, "main", "w@" HOST);
	check_queues(&copy, "a", "b", NULL);
	assert_string_equal(copy.app, "app");
	assert_string_equal(copy.pidfile, "/run/w.pid");
	assert_string_equal(copy.loglevel, "info");
	assert_int_equal(copy.concurrency, 4);
	assert_true(copy.beat_embedded);
	cw_identity_free(&copy);
	cw_identity_free(&copy);	/* twice is harmless */
	check_not_celery(&copy);
	cw_identity_free(NULL);

	/* known-empty queues stay known-empty, unknown stays unknown */
	PARSE(&id, "celery", "worker", "-X", "celery");
	assert_int_equal(cw_identity_copy(&copy, &id), 0);
	check_queues(&copy, NULL);
	cw_identity_free(&copy);
	cw_identity_free(&id);

	struct cw_identity zero = { 0 };	/* as callers may have it */
	assert_int_equal(cw_identity_copy(&copy, &zero), 0);
	assert_string_equal(copy.role, "other");
	assert_null(copy.queues);
	cw_identity_free(&copy);

	cw_identity_init(&id);
	check_not_celery(&id);
	assert_int_equal(id.max_tasks_per_child, -1);
	assert_int_equal(id.max_memory_per_child_kb, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_celery_script_forms),
		cmocka_unit_test(test_python_module_forms),
		cmocka_unit_test(test_not_celery),
		cmocka_unit_test(test_global_options),
		cmocka_unit_test(test_queues),
		cmocka_unit_test(test_worker_options),
		cmocka_unit_test(test_embedded_beat_and_beat),
		cmocka_unit_test(test_multi_and_detach),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_nodename_table),
		cmocka_unit_test(test_node_format),
		cmocka_unit_test(test_title_worker_main_and_pool),
		cmocka_unit_test(test_title_beat),
		cmocka_unit_test(test_title_other_and_malformed),
		cmocka_unit_test(test_split_nul),
		cmocka_unit_test(test_argv_mentions_celery),
		cmocka_unit_test(test_missing_values_at_end),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_many_queues),
		cmocka_unit_test(test_non_utf8_and_nulls),
		cmocka_unit_test(test_fuzz),
		cmocka_unit_test(test_copy_and_free),
		cmocka_unit_test(test_daemon_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
