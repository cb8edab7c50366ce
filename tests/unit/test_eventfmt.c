/* Kernel record -> JSON line: exit status decoding, signal names, cgroup paths, identity
 * inheritance through fork, validation of malformed records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "log/eventfmt.h"
#include "log/eventlog.h"

static struct cw_fmt fmt;
static struct cw_ptable procs;
static struct jw line;

static int setup(void **state)
{
	(void)state;
	cw_eventlog_set_host("web1");
	cw_fmt_init(&fmt, "web1", false);
	fmt.boot_to_real_ns = 1795521791000000000ll;	/* boot at 2026-11-24T12:03:11Z */
	fmt.ns_per_tick = 10000000;
	cw_ptable_init(&procs);
	jw_init(&line);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	cw_ptable_free(&procs);
	jw_free(&line);
	return 0;
}

static json_object *format(const void *rec, size_t size)
{
	const char *newq[CW_FMT_MAX_NEWQ];
	size_t nnew;

	jw_reset(&line);
	assert_int_equal(cw_fmt_record(&fmt, &procs, rec, size, &line, newq, &nnew), 0);
	assert_int_equal(line.buf[line.len - 1], '\n');
	assert_null(memchr(line.buf, '\n', line.len - 1));
	json_object *o = json_tokener_parse(line.buf);
	assert_non_null(o);
	return o;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;
	if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *k)
{
	json_object *v;
	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_int64(v);
}

static bool is_null(json_object *o, const char *k)
{
	json_object *v;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_null);
}

static void hdr(struct cw_hdr *h, int type, size_t size, uint32_t pid, uint64_t start_ns)
{
	h->type = type;
	h->size = size;
	h->pid = pid;
	h->ts_ns = 1500000;	/* 1.5 ms after boot */
	h->start_ns = start_ns;
}

static void exec_worker(uint32_t pid, uint64_t start_ns)
{
	static const char argv[] = "/usr/bin/python3\0/usr/bin/celery\0-A\0proj\0worker\0-Q\0low_priority\0"
				   "-n\0worker_low@%h\0-c\0002";
	struct cw_exec e = {0};
	hdr(&e.hdr, CW_EV_EXEC, sizeof(e), pid, start_ns);
	e.ppid = 1;
	e.tracked = CW_TRACK_EXEC;
	memcpy(e.argv, argv, sizeof(argv));
	e.argv_len = sizeof(argv);
	strcpy(e.comm, "python3");
	e.cgroup.depth = 2;
	strcpy(e.cgroup.names[0], "celery-worker-low.service");
	strcpy(e.cgroup.names[1], "system.slice");
	json_object *o = format(&e, sizeof(e));
	assert_string_equal(str(o, "type"), "exec");
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	assert_string_equal(str(o, "role"), "main");
	assert_string_equal(str(o, "cgroup"), "/system.slice/celery-worker-low.service");
	assert_string_equal(str(o, "ts"), "2026-11-24T12:03:11.001500Z");
	assert_int_equal(num(o, "pstart"), start_ns / 10000000);
	assert_int_equal(num(o, "concurrency"), 2);
	json_object_put(o);
}

static void test_exit_status_decoding(void **state)
{
	(void)state;
	struct cw_exit e = {0};
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 100, 500000);
	strcpy(e.comm, "python3");

	e.exit_code = 155 << 8;	/* billiard's EX_RECYCLE */
	json_object *o = format(&e, sizeof(e));
	assert_int_equal(num(o, "exit_code"), 155);
	assert_true(is_null(o, "signal"));
	assert_true(is_null(o, "stderr_tail"));
	json_object_put(o);

	e.exit_code = SIGKILL;
	o = format(&e, sizeof(e));
	assert_true(is_null(o, "exit_code"));
	assert_string_equal(str(o, "signal"), "SIGKILL");
	json_object_put(o);

	e.exit_code = SIGSEGV | 0x80;
	o = format(&e, sizeof(e));
	assert_string_equal(str(o, "signal"), "SIGSEGV");
	json_object *core;
	json_object_object_get_ex(o, "core_dumped", &core);
	assert_true(json_object_get_boolean(core));
	assert_int_equal(num(o, "lifetime_s"), 0);
	json_object_put(o);
}

static void test_stderr_tail_joined_oldest_first(void **state)
{
	(void)state;
	struct cw_exit e = {0};
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 101, 500000);
	e.exit_code = 1 << 8;
	e.tail_lens[5] = 10;
	memcpy(e.tail[5], "Traceback\n", 10);
	e.tail_lens[6] = 3;
	memcpy(e.tail[6], "\xff\"\n", 3);
	e.tail_lens[7] = 9999;	/* a corrupt length is clamped, never read past the slot */
	memset(e.tail[7], 'x', CW_TAIL_SLOT_LEN);
	e.tail_dropped = 42;
	json_object *o = format(&e, sizeof(e));
	const char *tail = str(o, "stderr_tail");
	assert_non_null(tail);
	assert_int_equal(strncmp(tail, "Traceback\n\xef\xbf\xbd\"\n", 15), 0);	/* json-c shows \udcff as U+FFFD */
	assert_int_equal(strlen(tail), 15 + CW_TAIL_SLOT_LEN);
	assert_int_equal(num(o, "stderr_dropped"), 42);
	json_object_put(o);
	assert_non_null(strstr(line.buf, "\\udcff"));
}

/* --tail-window: the hook was off from 400 ms until 900 ms (boot clock) */
static bool off_between(void *ctx, uint64_t t, bool *watched, uint64_t *off_ns)
{
	(void)ctx;
	*watched = t < 400000000 || t >= 900000000;
	*off_ns = *watched ? 0 : t - 400000000;
	return true;
}

static void test_exit_says_whether_stderr_was_watched(void **state)
{
	(void)state;
	struct cw_exit e = {0};
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 102, 1000000);
	e.hdr.ts_ns = 650000000;
	e.exit_code = 1 << 8;
	json_object *o = format(&e, sizeof(e)), *v;
	/* always attached (or no tails): the fields are not written */
	assert_false(json_object_object_get_ex(o, "stderr_watched", &v));
	json_object_put(o);
	fmt.tail_watched = off_between;
	o = format(&e, sizeof(e));
	assert_true(json_object_object_get_ex(o, "stderr_watched", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "stderr_unwatched_s", &v));
	assert_true(json_object_get_double(v) > 0.2499 && json_object_get_double(v) < 0.2501);
	json_object_put(o);
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 103, 1000000);
	e.hdr.ts_ns = 950000000;
	o = format(&e, sizeof(e));
	assert_true(json_object_object_get_ex(o, "stderr_watched", &v));
	assert_true(json_object_get_boolean(v));
	assert_false(json_object_object_get_ex(o, "stderr_unwatched_s", &v));
	json_object_put(o);
	fmt.tail_watched = NULL;
}

static void test_fork_inherits_identity_and_exit_forgets(void **state)
{
	(void)state;
	exec_worker(200, 1000000000);
	struct cw_fork f = {0};
	hdr(&f.hdr, CW_EV_FORK, sizeof(f), 200, 1000000000);
	f.child_pid = 201;
	f.child_start_ns = 2000000000;
	strcpy(f.comm, "python3");
	json_object *o = format(&f, sizeof(f));
	assert_int_equal(num(o, "pid"), 201);
	assert_int_equal(num(o, "ppid"), 200);
	assert_int_equal(num(o, "pstart"), 200);
	assert_int_equal(num(o, "parent_pstart"), 100);
	assert_string_equal(str(o, "role"), "pool");
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	json_object_put(o);

	struct cw_exit e = {0};
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 201, 2000000000);
	e.exit_code = SIGKILL;
	o = format(&e, sizeof(e));
	assert_string_equal(str(o, "role"), "pool");
	json_object *q;
	assert_true(json_object_object_get_ex(o, "queues", &q));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(q, 0)), "low_priority");
	json_object_put(o);
	assert_null(cw_ptable_get(&procs, 201));

	/* the same pid, a new process: it must not inherit the old identity */
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 200, 9000000000);
	o = format(&e, sizeof(e));
	assert_true(is_null(o, "worker"));
	json_object_put(o);
}

static json_object *fork_of(uint32_t ppid, uint64_t pstart_ns, uint32_t pid, uint64_t start_ns)
{
	struct cw_fork f = {0};

	hdr(&f.hdr, CW_EV_FORK, sizeof(f), ppid, pstart_ns);
	f.child_pid = pid;
	f.child_start_ns = start_ns;
	strcpy(f.comm, "python3");
	return format(&f, sizeof(f));
}

/* A pool process' child is a task's subprocess (subprocess.run), not one of the pool: its
 * failures are the task's, not the worker's. It keeps the worker as context, like the exec
 * of a non-Celery program does. */
static void test_fork_of_pool_child_is_other(void **state)
{
	(void)state;
	exec_worker(300, 1000000000);
	json_object *o = fork_of(300, 1000000000, 301, 2000000000);
	assert_string_equal(str(o, "role"), "pool");
	json_object_put(o);
	o = fork_of(301, 2000000000, 302, 3000000000);
	assert_string_equal(str(o, "role"), "other");
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	json_object_put(o);

	struct cw_exit e = {0};
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 302, 3000000000);
	e.exit_code = 255 << 8;
	o = format(&e, sizeof(e));
	assert_string_equal(str(o, "role"), "other");
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	json_object_put(o);
}

static void test_signal_sender_and_hostile_comm(void **state)
{
	(void)state;
	exec_worker(300, 1000000000);
	struct cw_signal s = {0};
	static const char argv[] = "/bin/bash\0./rotate_workers.sh\0--all";
	hdr(&s.hdr, CW_EV_SIGNAL, sizeof(s), 300, 1000000000);
	s.sig = SIGKILL;
	s.code = CW_SI_USER;
	s.sender_pid = 77;
	s.sender_tid = 77;
	memcpy(s.comm, "a\"b\n{c}\\\x01\xff", 10);
	strcpy(s.sender_comm, "rotate_workers.");
	memcpy(s.sender_argv, argv, sizeof(argv));
	s.sender_argv_len = sizeof(argv) - 1;
	json_object *o = format(&s, sizeof(s));
	assert_string_equal(str(o, "signal"), "SIGKILL");
	assert_string_equal(str(o, "code"), "user");
	assert_string_equal(str(o, "result"), "delivered");
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	json_object *sender;
	assert_true(json_object_object_get_ex(o, "sender", &sender));
	assert_string_equal(str(sender, "cmdline"), "/bin/bash ./rotate_workers.sh --all");
	assert_string_equal(str(sender, "comm"), "rotate_workers.");
	assert_int_equal(num(sender, "pid"), 77);
	json_object_put(o);
	/* the comm's quote, newline and brace cannot end the string or the line */
	assert_non_null(strstr(line.buf, "\"comm\":\"a\\\"b\\n{c}\\\\\\u0001\\udcff\""));
}

/* A kernel-generated signal (here a POSIX timer's, si_code SI_TIMER) names no sender: the
 * process that was running is kept apart as "running", never as the sender. */
static void test_kernel_signal_has_no_sender(void **state)
{
	(void)state;
	exec_worker(310, 1000000000);
	struct cw_signal s = {0};
	static const char argv[] = "/usr/bin/innocent\0--busy";
	hdr(&s.hdr, CW_EV_SIGNAL, sizeof(s), 310, 1000000000);
	s.sig = SIGALRM;
	s.code = CW_SI_OTHER;
	s.si_code = -2;
	s.sender_kind = CW_SENDER_KERNEL;
	s.sender_pid = 999;
	strcpy(s.sender_comm, "innocent");
	memcpy(s.sender_argv, argv, sizeof(argv));
	s.sender_argv_len = sizeof(argv) - 1;
	json_object *o = format(&s, sizeof(s)), *sender, *running;
	assert_true(json_object_object_get_ex(o, "sender", &sender));
	assert_string_equal(str(sender, "kind"), "kernel");
	assert_string_equal(str(sender, "reason"), "timer");
	assert_false(json_object_object_get_ex(sender, "pid", NULL));
	assert_false(json_object_object_get_ex(sender, "cmdline", NULL));
	assert_true(json_object_object_get_ex(sender, "running", &running));
	assert_int_equal(num(running, "pid"), 999);
	json_object_put(o);

	/* kill(2) from a process: that process is the sender */
	s.sig = SIGTERM;
	s.code = CW_SI_USER;
	s.si_code = 0;
	s.sender_kind = CW_SENDER_PROCESS;
	o = format(&s, sizeof(s));
	assert_true(json_object_object_get_ex(o, "sender", &sender));
	assert_string_equal(str(sender, "kind"), "process");
	assert_int_equal(num(sender, "pid"), 999);
	assert_string_equal(str(sender, "cmdline"), "/usr/bin/innocent --busy");
	json_object_put(o);
}

static void test_kernel_signal_reasons(void **state)
{
	(void)state;
	assert_string_equal(cw_kernel_signal_reason(SIGKILL, CW_SI_KERNEL, 0x80), "kernel");
	assert_string_equal(cw_kernel_signal_reason(SIGSEGV, CW_SI_FAULT, 1), "fault");
	assert_string_equal(cw_kernel_signal_reason(SIGALRM, CW_SI_OTHER, -2), "timer");
	assert_string_equal(cw_kernel_signal_reason(SIGCHLD, CW_SI_OTHER, 1), "sigchld");
	assert_string_equal(cw_kernel_signal_reason(SIGCHLD, CW_SI_OTHER, 6), "sigchld");
	assert_string_equal(cw_kernel_signal_reason(SIGIO, CW_SI_OTHER, 1), "sigio");
	assert_string_equal(cw_kernel_signal_reason(SIGRTMIN, CW_SI_OTHER, -3), "mqueue");
	assert_string_equal(cw_kernel_signal_reason(SIGSYS, CW_SI_OTHER, 1), "other");
}

/* The kernel could not track a Celery exec or a tracked process's child (map full): the
 * line says so, and the recorder does not remember an identity no exit will ever clear. */
static void test_untracked_map_full(void **state)
{
	(void)state;
	static const char argv[] = "/usr/bin/celery\0worker\0-Q\0full_q";
	struct cw_exec e = {0};
	hdr(&e.hdr, CW_EV_EXEC, sizeof(e), 320, 1000000000);
	e.tracked = CW_TRACK_EXEC | CW_TRACK_FULL;
	memcpy(e.argv, argv, sizeof(argv));
	e.argv_len = sizeof(argv);
	json_object *o = format(&e, sizeof(e));
	assert_string_equal(str(o, "untracked"), "map_full");
	assert_string_equal(str(o, "role"), "main");
	json_object_put(o);
	assert_null(cw_ptable_get(&procs, 320));

	exec_worker(330, 1000000000);
	struct cw_fork f = {0};
	hdr(&f.hdr, CW_EV_FORK, sizeof(f), 330, 1000000000);
	f.child_pid = 331;
	f.child_start_ns = 2000000000;
	f.tracked = CW_TRACK_FORK | CW_TRACK_FULL;
	o = format(&f, sizeof(f));
	assert_string_equal(str(o, "untracked"), "map_full");
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	json_object_put(o);
	assert_null(cw_ptable_get(&procs, 331));
	/* a tracked fork says nothing */
	f.child_pid = 332;
	f.tracked = CW_TRACK_FORK;
	o = format(&f, sizeof(f));
	assert_null(str(o, "untracked"));
	json_object_put(o);
	assert_non_null(cw_ptable_get(&procs, 332));
}

static void test_oom_without_mm_has_nulls(void **state)
{
	(void)state;
	struct cw_oom e = {0};
	hdr(&e.hdr, CW_EV_OOM, sizeof(e), 400, 0);
	json_object *o = format(&e, sizeof(e));
	assert_true(is_null(o, "anon_rss_kb"));
	assert_true(is_null(o, "pstart"));
	json_object *t;
	json_object_object_get_ex(o, "tracked", &t);
	assert_false(json_object_get_boolean(t));
	json_object_put(o);
}

static void test_broker_password_never_written(void **state)
{
	(void)state;
	static const char argv[] = "celery\0-b\0redis://:s3cret@10.0.0.5:6379/3\0worker";
	struct cw_exec e = {0};
	hdr(&e.hdr, CW_EV_EXEC, sizeof(e), 500, 1000000000);
	e.tracked = CW_TRACK_EXEC;
	memcpy(e.argv, argv, sizeof(argv));
	e.argv_len = sizeof(argv);
	json_object *o = format(&e, sizeof(e));
	assert_null(strstr(line.buf, "s3cret"));
	assert_non_null(strstr(line.buf, "\"redis://:***@10.0.0.5:6379/3\""));
	json_object_put(o);

	struct cw_signal s = {0};
	hdr(&s.hdr, CW_EV_SIGNAL, sizeof(s), 500, 1000000000);
	s.sig = SIGTERM;
	memcpy(s.sender_argv, argv, sizeof(argv));
	s.sender_argv_len = sizeof(argv);
	o = format(&s, sizeof(s));
	assert_null(strstr(line.buf, "s3cret"));
	json_object_put(o);
}

/* A worker that cannot reach its broker may print the URL: the tail is redacted word by word,
 * and the words around a URL are kept. */
static void test_stderr_tail_redacted(void **state)
{
	(void)state;
	static const char msg[] = "Cannot connect to redis://:hunter2@10.0.0.5:6379/3: refused\n"
				  "retry with 'amqp://u:pw2@mq//' (hint)\n";
	struct cw_exit e = {0};
	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 4200, 1000000000);
	e.hdr.ts_ns = 2000000000;
	e.exit_code = 1 << 8;
	e.tail_lens[7] = sizeof(msg) - 1;
	memcpy(e.tail[7], msg, sizeof(msg) - 1);
	json_object *o = format(&e, sizeof(e));
	assert_null(strstr(line.buf, "hunter2"));
	assert_null(strstr(line.buf, "pw2"));
	assert_string_equal(str(o, "stderr_tail"),
			    "Cannot connect to redis://:***@10.0.0.5:6379/3: refused\n"
			    "retry with 'amqp://u:***@mq//' (hint)\n");
	json_object_put(o);
}

/* The kernel keeps 1,024 bytes of argv (256 of a sender's): a cut inside a URL's password
 * leaves no '@', and the part of the password that was kept must not be written. */
static void test_cut_argv_password_never_written(void **state)
{
	(void)state;
	static const char argv[] = "celery\0-b\0redis://user:s3cr";
	struct cw_exec e = {0};
	hdr(&e.hdr, CW_EV_EXEC, sizeof(e), 501, 1000000000);
	e.tracked = CW_TRACK_EXEC;
	memcpy(e.argv, argv, sizeof(argv) - 1);
	e.argv_len = sizeof(argv) - 1;
	e.argv_truncated = 1;
	json_object *o = format(&e, sizeof(e));
	assert_null(strstr(line.buf, "s3cr"));
	assert_non_null(strstr(line.buf, "\"redis://***\""));
	json_object_put(o);

	struct cw_signal s = {0};
	hdr(&s.hdr, CW_EV_SIGNAL, sizeof(s), 501, 1000000000);
	s.sig = SIGTERM;
	memcpy(s.sender_argv, argv, sizeof(argv) - 1);
	s.sender_argv_len = sizeof(argv) - 1;
	s.sender_argv_truncated = 1;
	o = format(&s, sizeof(s));
	assert_null(strstr(line.buf, "s3cr"));
	json_object_put(o);
}

/* Before 6.8 mark_victim gives only the pid: the recorder knows the process's start */
static void test_old_kernel_oom_gets_pstart_from_the_table(void **state)
{
	(void)state;
	exec_worker(600, 3000000000);
	struct cw_oom e = {0};
	hdr(&e.hdr, CW_EV_OOM, sizeof(e), 600, 0);
	json_object *o = format(&e, sizeof(e));
	assert_int_equal(num(o, "pstart"), 300);
	assert_string_equal(str(o, "worker"), "worker_low@web1");
	json_object_put(o);
}

static void test_malformed_records_rejected(void **state)
{
	(void)state;
	const char *newq[CW_FMT_MAX_NEWQ];
	size_t nnew;
	struct cw_exit e = {0};
	uint64_t before = fmt.malformed;

	hdr(&e.hdr, CW_EV_EXIT, sizeof(e), 1, 1);
	assert_int_equal(cw_fmt_record(&fmt, &procs, &e, 10, &line, newq, &nnew), -EINVAL);
	e.hdr.size = 12;
	assert_int_equal(cw_fmt_record(&fmt, &procs, &e, sizeof(e), &line, newq, &nnew), -EINVAL);
	e.hdr.size = sizeof(e);
	e.hdr.type = 99;
	assert_int_equal(cw_fmt_record(&fmt, &procs, &e, sizeof(e), &line, newq, &nnew), -EINVAL);
	assert_int_equal(fmt.malformed, before + 3);
	/* an argv_len beyond the buffer is clamped */
	struct cw_exec x = {0};
	hdr(&x.hdr, CW_EV_EXEC, sizeof(x), 2, 1);
	x.tracked = CW_TRACK_EXEC;
	x.argv_len = 65535;
	memset(x.argv, 'a', sizeof(x.argv));
	json_object *o = format(&x, sizeof(x));
	json_object_put(o);
}

static void test_names(void **state)
{
	(void)state;
	char buf[32];
	struct cw_cgroup cg = {0};

	assert_string_equal(cw_signame(SIGTERM, buf, sizeof(buf)), "SIGTERM");
	assert_string_equal(cw_signame(SIGRTMIN + 3, buf, sizeof(buf)), "SIGRTMIN+3");
	assert_string_equal(cw_signame(0, buf, sizeof(buf)), "SIG0");
	cw_cgroup_path(&cg, buf, sizeof(buf));
	assert_string_equal(buf, "/");
	cg.depth = 1;
	cg.truncated = 1;
	strcpy(cg.names[0], "leaf");
	cw_cgroup_path(&cg, buf, sizeof(buf));
	assert_string_equal(buf, "/.../leaf");
}

/* A scanned worker's setproctitle title keeps its words; a broker password in it does not. */
static void test_scan_title_redacted_word_by_word(void **state)
{
	char title[] = "[celeryd: worker_low@web1:MainProcess] -active- (worker -A app "
		       "-b redis://:s3cret@10.0.0.5/0 -n worker_low@%h -Q low_priority)";
	char *argv[] = {title, NULL};
	struct cw_proc p = {.pid = 4100, .ppid = 1, .pstart = 500, .comm = "celery",
			    .argv = argv, .argc = 1};
	const char *newq[64];
	size_t nnew;

	(void)state;
	assert_int_equal(cw_identity_from_argv(&p.id, (const char *const *)argv, 1, "web1"), 0);
	assert_true(p.id.from_title);
	jw_reset(&line);
	cw_fmt_scan(&fmt, &procs, &p, false, &line, newq, &nnew);
	json_object *o = json_tokener_parse(line.buf), *a;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "argv", &a));
	assert_string_equal(json_object_get_string(json_object_array_get_idx(a, 0)),
			    "[celeryd: worker_low@web1:MainProcess] -active- (worker -A app "
			    "-b redis://:***@10.0.0.5/0 -n worker_low@%h -Q low_priority)");
	json_object_put(o);
	jw_reset(&line);
	cw_identity_free(&p.id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status_decoding),
		cmocka_unit_test(test_stderr_tail_joined_oldest_first),
		cmocka_unit_test(test_exit_says_whether_stderr_was_watched),
		cmocka_unit_test(test_fork_inherits_identity_and_exit_forgets),
		cmocka_unit_test(test_fork_of_pool_child_is_other),
		cmocka_unit_test(test_signal_sender_and_hostile_comm),
		cmocka_unit_test(test_oom_without_mm_has_nulls),
		cmocka_unit_test(test_broker_password_never_written),
		cmocka_unit_test(test_stderr_tail_redacted),
		cmocka_unit_test(test_cut_argv_password_never_written),
		cmocka_unit_test(test_old_kernel_oom_gets_pstart_from_the_table),
		cmocka_unit_test(test_malformed_records_rejected),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_scan_title_redacted_word_by_word),
		cmocka_unit_test(test_kernel_signal_has_no_sender),
		cmocka_unit_test(test_kernel_signal_reasons),
		cmocka_unit_test(test_untracked_map_full),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
