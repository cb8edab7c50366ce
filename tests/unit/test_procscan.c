/* /proc scan: a fake /proc tree in a temp dir (hostile comm, vanished pids, titles, pool
 * children without setproctitle), and one check against the real /proc. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture/procscan.h"

#define HOST "web1"

static char root[64];

static void put(int pid, const char *name, const char *data, size_t len)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/%s", root, pid, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* a complete fake process; cmdline is NUL-separated (its length given), cgroup may be NULL */
static void fake(int pid, int ppid, const char *comm, unsigned long long start, unsigned uid,
		 const char *cmdline, size_t cmdlen, const char *cgroup)
{
	char buf[1024];
	int n;

	n = snprintf(buf, sizeof(buf),
		     "%d (%s) S %d %d %d 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 %llu 1000 200 "
		     "18446744073709551615 1 1 0 0 0 0 0 16781312 2 0 0 0 17 1 0 0 0 0 0\n",
		     pid, comm, ppid, pid, pid, start);
	put(pid, "stat", buf, (size_t)n);
	put(pid, "cmdline", cmdline, cmdlen);
	n = snprintf(buf, sizeof(buf), "%.15s\n", comm);
	put(pid, "comm", buf, (size_t)n);
	n = snprintf(buf, sizeof(buf), "Name:\t%.15s\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%d\n"
		     "Pid:\t%d\nPPid:\t%d\nUid:\t%u\t%u\t%u\t%u\nGid:\t0\t0\t0\t0\n",
		     comm, pid, pid, ppid, uid, uid + 1, uid + 2, uid + 3);
	put(pid, "status", buf, (size_t)n);
	if (cgroup)
		put(pid, "cgroup", cgroup, strlen(cgroup));
}

#define CMD(lit) lit, sizeof(lit) - 1	/* a cmdline literal with its embedded NULs */

static const char V1[] = "12:pids:/system.slice/celery.service\n"
			 "4:memory:/process_api/ca833f262565b53e5c5cc3b2c2a017e1\n"
			 "3:cpu,cpuacct:/\n1:name=systemd:/system.slice/celery.service\n0::/\n";
static const char V2[] = "0::/system.slice/celery-low.service\n";

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/cw-procscan-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* collects what the scan reports, by pid */
struct seen {
	int n;
	struct cw_identity id[64];
	int pid[64];
	size_t argc[64];
	unsigned long long pstart[64];
	char comm[64][17];
	char *cgroup[64];
	int stop_after;
};

static int collect(const struct cw_proc *p, void *ctx)
{
	struct seen *s = ctx;

	assert_true(s->n < 64);
	s->pid[s->n] = p->pid;
	s->argc[s->n] = p->argc;
	s->pstart[s->n] = p->pstart;
	memcpy(s->comm[s->n], p->comm, sizeof(p->comm));
	s->cgroup[s->n] = p->cgroup ? strdup(p->cgroup) : NULL;
	assert_int_equal(cw_identity_copy(&s->id[s->n], &p->id), 0);
	s->n++;
	return s->stop_after && s->n == s->stop_after ? -42 : 0;
}

static int scan(const char *root, const char *host, int (*each)(const struct cw_proc *, void *),
		void *ctx)
{
	struct cw_scan_cbs cbs = {.each = each, .ctx = ctx};

	return cw_procscan(root, host, &cbs);
}

/* found: each Celery process as soon as it is read, before `each` sees any */
struct found {
	int pid[64];
	unsigned long long pstart[64];
	int n, each_calls_before;
	int each_calls;
	int drop;	/* found says this pid was gone */
};

static bool on_found(const struct cw_proc *p, void *ctx)
{
	struct found *f = ctx;

	assert_true(f->n < 64);
	f->pid[f->n] = p->pid;
	f->pstart[f->n++] = p->pstart;
	f->each_calls_before += f->each_calls;
	return p->pid != f->drop;
}

static int on_each(const struct cw_proc *p, void *ctx)
{
	(void)p;
	((struct found *)ctx)->each_calls++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (int i = 0; i < s->n; i++) {
		cw_identity_free(&s->id[i]);
		free(s->cgroup[i]);
	}
}

static int find(const struct seen *s, int pid)
{
	for (int i = 0; i < s->n; i++)
		if (s->pid[i] == pid)
			return i;
	return -1;
}

/* ------------------------------------------------------------------ one process */

static void test_read_stat_comm_with_parens_and_spaces(void **state)
{
	struct cw_proc p;
	(void)state;

	/* a comm can be anything: ") S 999 (" must not shift the fields */
	fake(100, 77, "a) S 999 (b c)", 4242, 1000, CMD("celery\0worker\0"), V1);
	assert_int_equal(cw_proc_read(root, 100, HOST, &p), 0);
	assert_int_equal(p.pid, 100);
	assert_int_equal(p.ppid, 77);
	assert_int_equal(p.pstart, 4242);
	assert_int_equal(p.uid, 1000);	/* real uid, not effective (1001) */
	assert_string_equal(p.comm, "a) S 999 (b c)");
	assert_string_equal(p.cgroup, "/process_api/ca833f262565b53e5c5cc3b2c2a017e1");
	assert_int_equal(p.argc, 2);
	assert_string_equal(p.argv[0], "celery");
	assert_null(p.argv[2]);
	assert_true(p.id.is_celery);
	assert_string_equal(p.id.role, "main");
	assert_string_equal(p.id.worker, "celery@web1");
	cw_proc_free(&p);

	/* the real titles' comms: 15 bytes of the title, with spaces and ']' */
	fake(101, 1, "[celery beat] -", 39958, 0, CMD("[celery beat] -A tasks beat\0\0\0\0"), V2);
	assert_int_equal(cw_proc_read(root, 101, HOST, &p), 0);
	assert_int_equal(p.ppid, 1);
	assert_int_equal(p.pstart, 39958);
	assert_string_equal(p.comm, "[celery beat] -");
	assert_string_equal(p.cgroup, "/system.slice/celery-low.service");	/* unified */
	assert_int_equal(p.argc, 1);	/* setproctitle's padding dropped */
	assert_true(p.id.from_title);
	assert_string_equal(p.id.role, "beat");
	cw_proc_free(&p);
	cw_proc_free(&p);	/* twice is harmless */
}

static void test_read_fallbacks_and_errors(void **state)
{
	struct cw_proc p;
	char big[70000];
	(void)state;

	/* no comm file: stat's comm; no cgroup file: NULL */
	fake(200, 1, "celery", 5, 0, CMD("celery\0beat\0"), NULL);
	snprintf(big, sizeof(big), "%s/200/comm", root);
	unlink(big);
	assert_int_equal(cw_proc_read(root, 200, HOST, &p), 0);
	assert_string_equal(p.comm, "celery");
	assert_null(p.cgroup);
	cw_proc_free(&p);

	/* vanished: no directory, or the directory without files */
	assert_int_equal(cw_proc_read(root, 201, HOST, &p), -ENOENT);
	snprintf(big, sizeof(big), "%s/202", root);
	mkdir(big, 0755);
	assert_int_equal(cw_proc_read(root, 202, HOST, &p), -ENOENT);
	put(203, "stat", "203 (x) S 1", 11);	/* truncated stat */
	assert_int_equal(cw_proc_read(root, 203, HOST, &p), -EINVAL);
	put(204, "stat", "garbage", 7);
	assert_int_equal(cw_proc_read(root, 204, HOST, &p), -EINVAL);

	/* a long cmdline (64 KiB+) is read whole */
	memset(big, 'x', sizeof(big));
	memcpy(big, "celery\0worker\0-Q\0", 17);
	big[sizeof(big) - 1] = '\0';
	fake(205, 1, "celery", 9, 0, big, sizeof(big), V2);
	assert_int_equal(cw_proc_read(root, 205, HOST, &p), 0);
	assert_int_equal(p.argc, 4);
	assert_int_equal(strlen(p.argv[3]), sizeof(big) - 18);
	assert_int_equal(strlen(p.id.queues[0]), sizeof(big) - 18);
	cw_proc_free(&p);

	/* kernel thread: empty cmdline, read fine, not Celery */
	fake(206, 2, "kworker/0:1", 3, 0, "", 0, V2);
	assert_int_equal(cw_proc_read(root, 206, HOST, &p), 0);
	assert_int_equal(p.argc, 0);
	assert_false(p.id.is_celery);
	cw_proc_free(&p);
}

/* ------------------------------------------------------------------ the scan */

static void test_scan_skips_and_orders(void **state)
{
	struct seen s = { 0 };
	char path[128];
	(void)state;

	fake(30, 1, "celery", 10, 0, CMD("celery\0-A\0a\0worker\0-n\0w30@%h\0"), V1);
	fake(4, 1, "sleep", 11, 0, CMD("sleep\0" "30\0"), V1);	/* not Celery */
	fake(2, 0, "kthreadd", 1, 0, "", 0, V1);			/* kernel thread */
	fake(1000, 1, "python3", 12, 0, CMD("python3\0-m\0celery\0inspect\0ping\0"), V2);
	put(5, "cmdline", CMD("celery\0worker\0"));			/* vanished: no stat */
	snprintf(path, sizeof(path), "%s/6", root);
	mkdir(path, 0755);						/* vanished: empty dir */
	/* not pids */
	snprintf(path, sizeof(path), "%s/self", root);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/12a", root);
	mkdir(path, 0755);
	put(0, "cmdline", CMD("celery\0worker\0"));
	fake(7, 1, "celery", 13, 0, CMD("celery\0worker\0"), V1);	/* reported */

	assert_int_equal(scan(root, HOST, collect, &s), 3);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.pid[0], 7);	/* pid order */
	assert_int_equal(s.pid[1], 30);
	assert_int_equal(s.pid[2], 1000);
	assert_string_equal(s.id[1].worker, "w30@web1");
	assert_string_equal(s.id[2].command, "inspect");
	assert_string_equal(s.id[2].role, "other");
	assert_string_equal(s.cgroup[2], "/system.slice/celery-low.service");
	assert_int_equal(s.pstart[1], 10);
	seen_free(&s);

	/* the callback can stop the scan */
	struct seen t = { .stop_after = 2 };
	assert_int_equal(scan(root, HOST, collect, &t), -42);
	assert_int_equal(t.n, 2);
	seen_free(&t);

	assert_int_equal(scan(root, HOST, NULL, NULL), 3);
	assert_int_equal(scan("/nonexistent/proc", HOST, collect, &s), -ENOENT);

	/* found sees every Celery process, with its start time, before each sees any */
	struct found f = { 0 };
	struct cw_scan_cbs cbs = {.found = on_found, .each = on_each, .ctx = &f};
	assert_int_equal(cw_procscan(root, HOST, &cbs), 3);
	assert_int_equal(f.n, 3);
	assert_int_equal(f.each_calls_before, 0);
	assert_int_equal(f.each_calls, 3);
	for (int i = 0; i < f.n; i++)
		if (f.pid[i] == 30)
			assert_int_equal(f.pstart[i], 10);

	/* a process found gone is left out */
	struct found g = { .drop = 30 };
	cbs.ctx = &g;
	assert_int_equal(cw_proc_pstart(root, 30, &(unsigned long long){0}), 0);
	assert_int_equal(cw_procscan(root, HOST, &cbs), 2);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.each_calls, 2);

	/* the start time alone, for the recorder's re-check */
	unsigned long long st = 0;
	assert_int_equal(cw_proc_pstart(root, 30, &st), 0);
	assert_int_equal(st, 10);
	assert_int_equal(cw_proc_pstart(root, 5, &st), -ENOENT);
	/* a zombie has exited: its exit hook ran before the recorder could track it */
	const char zstat[] = "31 (celery) Z 30 31 31 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
			     "77 0 0\n";
	put(31, "stat", zstat, sizeof(zstat) - 1);
	assert_int_equal(cw_proc_pstart(root, 31, &st), -ESRCH);
	/* running but in do_exit (PF_EXITING, 0x4 in flags): its exit hook may have run before
	 * the map had it, so it is exiting too; its start time still tells it apart */
	const char xstat[] = "32 (celery) R 30 32 32 0 -1 4194564 100 0 0 0 5 3 0 0 20 0 1 0 "
			     "78 0 0\n";
	put(32, "stat", xstat, sizeof(xstat) - 1);
	st = 0;
	assert_int_equal(cw_proc_pstart(root, 32, &st), -ESRCH);
	assert_int_equal(st, 78);
	const char rstat[] = "33 (celery) S 30 33 33 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 1 0 "
			     "79 0 0\n";
	put(33, "stat", rstat, sizeof(rstat) - 1);
	assert_int_equal(cw_proc_pstart(root, 33, &st), 0);
	assert_int_equal(cw_proc_pstart(root, 99999, &st), -ENOENT);
}

/* Without setproctitle (NOSETPS=1 or the module missing) prefork children keep their
 * parent's cmdline; the scan tells them apart by parentage. Seen live on Debian 12:
 *   8181 python3 /usr/bin/celery -A tasks worker -n nops@%h -c 2 -Q nq   (ppid 1)
 *   8186, 8187 the same argv, ppid 8181 */
static void test_scan_pool_children_without_titles(void **state)
{
	static const char argv[] = "python3\0/usr/bin/celery\0-A\0tasks\0worker\0-n\0nops@%h\0-c\0"
				   "2\0-Q\0nq\0";
	struct seen s = { 0 };
	int i;
	(void)state;

	fake(8181, 1, "python3", 100, 0, argv, sizeof(argv) - 1, V1);
	fake(8186, 8181, "python3", 110, 0, argv, sizeof(argv) - 1, V1);
	fake(8187, 8181, "python3", 111, 0, argv, sizeof(argv) - 1, V1);
	/* same argv, but started separately (another terminal): its own main */
	fake(9000, 1, "python3", 120, 0, argv, sizeof(argv) - 1, V1);
	/* a different worker forked by the main (not a pool child): stays main */
	fake(8190, 8181, "celery", 130, 0, CMD("celery\0worker\0-n\0other@%h\0"), V1);
	/* a child of the main that ran another program: not Celery, not reported */
	fake(8191, 8181, "sh", 131, 0, CMD("sh\0-c\0echo hi\0"), V1);

	assert_int_equal(scan(root, HOST, collect, &s), 5);
	i = find(&s, 8181);
	assert_string_equal(s.id[i].role, "main");
	assert_string_equal(s.id[i].worker, "nops@web1");
	i = find(&s, 8186);
	assert_string_equal(s.id[i].role, "pool");
	assert_string_equal(s.id[i].worker, "nops@web1");
	assert_string_equal(s.id[i].queues[0], "nq");
	assert_int_equal(s.id[i].concurrency, 2);
	assert_string_equal(s.id[find(&s, 8187)].role, "pool");
	assert_string_equal(s.id[find(&s, 9000)].role, "main");
	assert_string_equal(s.id[find(&s, 8190)].role, "main");
	assert_int_equal(find(&s, 8191), -1);
	seen_free(&s);
}

/* The live titled family of "worker -B" and of a --detach launcher */
static void test_scan_titled_families(void **state)
{
	struct seen s = { 0 };
	int i;
	(void)state;

	fake(4681, 1, "[celeryd: wb@vm", 39958, 0,
	     CMD("[celeryd: wb@vm.example:MainProcess] -active- (-A tasks worker -B -n wb@%n.example "
		 "-c 1 -s /tmp/cwreal/sched2 -Q q1,q2)\0"), V1);
	fake(4684, 4681, "[celeryd: wb@vm", 39988, 0,
	     CMD("[celeryd: wb@vm.example:ForkPoolWorker-2]\0\0\0\0\0\0\0\0"), V1);
	fake(4685, 4681, "[celery beat]", 39989, 0, CMD("[celery beat]\0\0\0\0\0\0\0\0\0\0\0"), V1);
	/* a child caught before it retitled itself: the exec argv, under the titled main */
	fake(4686, 4681, "python3", 39990, 0,
	     CMD("python3\0-m\0celery\0-A\0tasks\0worker\0-B\0-n\0wb@%n.example\0"), V1);
	/* pool child of another worker with a title, whose main we cannot see (other pid ns) */
	fake(5000, 4999, "[celeryd: w2@vm", 1, 0, CMD("[celeryd: w2@vm:ForkPoolWorker-1]\0\0"), V2);
	/* a --detach launcher and its pre-exec child: both "other" */
	fake(6000, 1, "python3", 2, 0, CMD("python3\0-m\0celery\0worker\0--detach\0-n\0d@%h\0"), V2);
	fake(6001, 6000, "python3", 3, 0, CMD("python3\0-m\0celery\0worker\0--detach\0-n\0d@%h\0"), V2);

	assert_int_equal(scan(root, "vm", collect, &s), 7);
	i = find(&s, 4681);
	assert_string_equal(s.id[i].role, "main");
	assert_true(s.id[i].beat_embedded);
	assert_string_equal(s.comm[i], "[celeryd: wb@vm");

	i = find(&s, 4684);
	assert_int_equal(s.argc[i], 1);
	assert_string_equal(s.id[i].role, "pool");
	assert_string_equal(s.id[i].worker, "wb@vm.example");
	/* inherited from the MainProcess, as the recorder's fork path does */
	assert_int_equal(s.id[i].nqueues, 2);
	assert_string_equal(s.id[i].queues[1], "q2");
	assert_string_equal(s.id[i].app, "tasks");
	assert_int_equal(s.id[i].concurrency, 1);
	assert_false(s.id[i].beat_embedded);

	i = find(&s, 4685);
	assert_string_equal(s.id[i].role, "beat");
	assert_true(s.id[i].beat_embedded);
	assert_string_equal(s.id[i].worker, "wb@vm.example");
	assert_string_equal(s.id[i].app, "tasks");
	assert_null(s.id[i].queues);

	i = find(&s, 4686);
	assert_string_equal(s.id[i].role, "pool");

	i = find(&s, 5000);
	assert_string_equal(s.id[i].role, "pool");
	assert_null(s.id[i].queues);	/* no main seen: unknown */
	assert_string_equal(s.cgroup[i], "/system.slice/celery-low.service");

	assert_string_equal(s.id[find(&s, 6000)].role, "other");
	assert_string_equal(s.id[find(&s, 6001)].role, "other");
	seen_free(&s);
}

/* ------------------------------------------------------------------ the real /proc */

static unsigned long long stat_field22(int pid)
{
	char path[64], buf[1024], *p;
	unsigned long long v = 0;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	assert_non_null(p);
	/* fields 3..21 skipped, 22 read */
	assert_int_equal(sscanf(p + 2, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
				"%*s %*s %*s %*s %*s %llu", &v), 1);
	return v;
}

static void test_real_proc(void **state)
{
	char dir[] = "/tmp/cw-realproc-XXXXXX", link[128];
	struct seen s = { 0 };
	pid_t pid;
	int i;
	(void)state;

	/* /bin/sleep under the name "celery": the argv "celery 30" is a Celery one (command
	 * "30", role other), and sleep ignores its name */
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/celery", dir);
	assert_int_equal(symlink("/bin/sleep", link), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(link, link, "30", (char *)NULL);
		_exit(127);
	}
	/* wait for the exec to show in /proc (the child's cmdline stops being ours) */
	for (int tries = 0; tries < 500; tries++) {
		struct cw_proc p;

		if (!cw_proc_read("/proc", pid, HOST, &p)) {
			bool done = p.argc == 2 && !strcmp(p.argv[0], link);

			cw_proc_free(&p);
			if (done)
				break;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 2000000 }, NULL);
	}

	assert_true(scan("/proc", HOST, collect, &s) >= 1);
	i = find(&s, pid);
	assert_true(i >= 0);
	assert_int_equal(s.pstart[i], stat_field22(pid));
	assert_int_equal(s.argc[i], 2);
	assert_string_equal(s.comm[i], "celery");	/* comm is the exec'd name, here the link */
	assert_true(s.id[i].is_celery);
	assert_string_equal(s.id[i].command, "30");
	assert_string_equal(s.id[i].role, "other");
	assert_null(s.id[i].worker);
	assert_int_equal(find(&s, getpid()), -1);	/* this test binary is not Celery */
	seen_free(&s);

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, NULL, 0), pid);
	unlink(link);
	rmdir(dir);

	/* our own process, read directly */
	struct cw_proc me;
	assert_int_equal(cw_proc_read("/proc", getpid(), HOST, &me), 0);
	assert_int_equal(me.ppid, getppid());
	assert_int_equal(me.uid, getuid());
	assert_int_equal(me.pstart, stat_field22(getpid()));
	assert_non_null(me.cgroup);
	assert_false(me.id.is_celery);
	cw_proc_free(&me);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_stat_comm_with_parens_and_spaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_fallbacks_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_skips_and_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_pool_children_without_titles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scan_titled_families, setup, teardown),
		cmocka_unit_test(test_real_proc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
