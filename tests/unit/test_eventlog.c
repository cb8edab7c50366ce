/* Event log output file: permissions, symlink refusal, whose files and which kinds we append to,
 * reopen, write errors, line header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "log/eventlog.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cw-eventlog-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_creates_0640_and_appends(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;
	struct stat st;

	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	mode_t old = umask(0);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(cw_output_write(&o, "{\"a\":1}\n", 8), 0);
	cw_output_close(&o);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_output_write(&o, "{\"b\":2}\n", 8), 0);
	assert_int_equal(o.lines, 1);
	cw_output_close(&o);
	assert_string_equal(slurp(path), "{\"a\":1}\n{\"b\":2}\n");
}

static void test_refuses_symlink(void **state)
{
	(void)state;
	char target[128], link[128], err[256];
	struct cw_output o;

	snprintf(target, sizeof(target), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/ev-link.jsonl", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(cw_output_open(&o, link, err, sizeof(err)), -ELOOP);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1);	/* nothing created through the link */
	cw_output_close(&o);
}

/* a file someone else owns (planted in a shared directory) is not appended to */
static void test_refuses_foreign_file(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/planted.jsonl", dir);
	int fd = open(path, O_WRONLY | O_CREAT, 0666);
	assert_true(fd >= 0);
	assert_int_equal(fchown(fd, 65534, 65534), 0);
	close(fd);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	cw_output_close(&o);
}

/* a FIFO nobody reads fails at once instead of hanging the recorder's start */
static void test_fifo_without_reader_fails_fast(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;

	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), -ENXIO);
	cw_output_close(&o);
}

/* a FIFO someone else made is refused before it is opened (a reader of theirs gets our lines) */
static void test_refuses_foreign_fifo(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/their-fifo", dir);
	assert_int_equal(mkfifo(path, 0666), 0);
	assert_int_equal(chown(path, 65534, 65534), 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK);	/* their reader is there */
	assert_true(rd >= 0);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	assert_non_null(strstr(err, path));
	cw_output_close(&o);
	close(rd);
}

/* the same for a character device node someone else made (a copy of /dev/null here) */
static void test_refuses_foreign_chardev(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/their-null", dir);
	if (mknod(path, S_IFCHR | 0666, makedev(1, 3)))
		skip();		/* no CAP_MKNOD here */
	assert_int_equal(chown(path, 65534, 65534), 0);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "belongs to uid 65534"));
	cw_output_close(&o);
}

/* a second name for a file (a hard link planted to one we own) is refused */
static void test_refuses_hard_linked_file(void **state)
{
	(void)state;
	char path[128], other[128], err[256];
	struct cw_output o;

	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	snprintf(path, sizeof(path), "%s/linked.jsonl", dir);
	int fd = open(other, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(link(other, path), 0);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "hard links"));
	assert_non_null(strstr(err, path));
	cw_output_close(&o);
	assert_string_equal(slurp(other), "");
}

/* what stays allowed: our own FIFO with a reader (a log shipper), and /dev/null (root's) */
static void test_own_fifo_and_dev_null_allowed(void **state)
{
	(void)state;
	char path[128], err[256], buf[16];
	struct cw_output o;

	snprintf(path, sizeof(path), "%s/ship", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	int rd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(rd >= 0);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_output_write(&o, "1\n", 2), 0);
	assert_int_equal(read(rd, buf, sizeof(buf)), 2);
	cw_output_close(&o);
	close(rd);
	assert_int_equal(cw_output_open(&o, "/dev/null", err, sizeof(err)), 0);
	assert_int_equal(cw_output_write(&o, "1\n", 2), 0);
	cw_output_close(&o);
}

/* SIGHUP applies the same rules: a hard link planted at the path is not reopened */
static void test_reopen_refuses_hard_link(void **state)
{
	(void)state;
	char path[128], rotated[128], err[256];
	struct cw_output o;

	snprintf(path, sizeof(path), "%s/hup.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s/hup.jsonl.1", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(rename(path, rotated), 0);
	assert_int_equal(link(rotated, path), 0);
	assert_int_equal(cw_output_reopen(&o, err, sizeof(err)), -EPERM);
	assert_int_equal(cw_output_write(&o, "old\n", 4), 0);	/* still the old file */
	cw_output_close(&o);
	assert_string_equal(slurp(rotated), "old\n");
}

static void test_reopen_after_rotation(void **state)
{
	(void)state;
	char path[128], rotated[128], err[256];
	struct cw_output o;

	snprintf(path, sizeof(path), "%s/rot.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s/rot.jsonl.1", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	cw_output_write(&o, "1\n", 2);
	assert_int_equal(rename(path, rotated), 0);
	cw_output_write(&o, "2\n", 2);	/* still the old file until SIGHUP */
	assert_int_equal(cw_output_reopen(&o, err, sizeof(err)), 0);
	cw_output_write(&o, "3\n", 2);
	cw_output_close(&o);
	assert_string_equal(slurp(rotated), "1\n2\n");
	assert_string_equal(slurp(path), "3\n");
}

/* /dev/full answers every write with ENOSPC: the error is counted, not fatal */
static void test_disk_full_counted(void **state)
{
	(void)state;
	char err[256];
	struct cw_output o;

	assert_int_equal(cw_output_open(&o, "/dev/full", err, sizeof(err)), 0);
	assert_int_equal(cw_output_write(&o, "x\n", 2), -ENOSPC);
	assert_int_equal(cw_output_write(&o, "y\n", 2), -ENOSPC);
	assert_int_equal(o.write_errors, 2);
	assert_int_equal(o.last_errno, ENOSPC);
	assert_int_equal(o.lines, 0);
	cw_output_close(&o);
}

/* After a partial write the next line starts on a line of its own, never glued on */
static void test_partial_write_is_terminated(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;

	snprintf(path, sizeof(path), "%s/partial.jsonl", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	write(o.fd, "{\"trunc", 7);	/* what a full disk can leave behind */
	o.dangling = true;
	assert_int_equal(cw_output_write(&o, "{\"ok\":1}\n", 9), 0);
	cw_output_close(&o);
	assert_string_equal(slurp(path), "{\"trunc\n{\"ok\":1}\n");
}

/* Several lines in one write are counted one by one */
static void test_batch_counts_lines(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;

	snprintf(path, sizeof(path), "%s/batch.jsonl", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_output_write(&o, "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", 24), 0);
	assert_int_equal(o.lines, 3);
	cw_output_close(&o);
}

/* A disk that fills in the middle of a line (RLIMIT_FSIZE stands in for the full disk: the
 * same short write, then an error): the half line is cut off the file again, the lines
 * not written are counted, and when space returns the next line follows the last whole one. */
static void test_disk_full_mid_line_is_cut_back(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;
	struct rlimit old, lim;

	snprintf(path, sizeof(path), "%s/full.jsonl", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_output_write(&o, "{\"a\":1}\n", 8), 0);
	signal(SIGXFSZ, SIG_IGN);	/* the write fails with EFBIG instead of killing us */
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 8 + 5;	/* room for 5 bytes of the next line */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = cw_output_write(&o, "{\"b\":22}\n{\"c\":3}\n", 17);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -EFBIG);
	assert_int_equal(o.write_errors, 2);
	assert_int_equal(o.lines, 1);
	assert_string_equal(slurp(path), "{\"a\":1}\n");	/* not {"b" */
	assert_int_equal(cw_output_write(&o, "{\"d\":4}\n", 8), 0);	/* space is back */
	cw_output_close(&o);
	assert_string_equal(slurp(path), "{\"a\":1}\n{\"d\":4}\n");
}

/* The same cut inside a batch: the whole lines before it stay, counted as written */
static void test_disk_full_keeps_whole_lines_of_a_batch(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;
	struct rlimit old, lim;

	snprintf(path, sizeof(path), "%s/full2.jsonl", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 8 + 3;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int r = cw_output_write(&o, "{\"a\":1}\n{\"b\":2}\n", 16);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -EFBIG);
	assert_int_equal(o.lines, 1);
	assert_int_equal(o.write_errors, 1);
	cw_output_close(&o);
	assert_string_equal(slurp(path), "{\"a\":1}\n");
}

static void test_line_type(void **state)
{
	(void)state;
	char t[16];
	const char *l = "{\"v\":2,\"type\":\"exec_fail\",\"ts\":\"x\"}\n";

	cw_line_type(l, strlen(l), t, sizeof(t));
	assert_string_equal(t, "exec_fail");
	cw_line_type("{\"a\":1}\n", 8, t, sizeof(t));
	assert_string_equal(t, "");
	cw_line_type(l, 12, t, sizeof(t));	/* cut short */
	assert_string_equal(t, "");
	cw_line_type(l, strlen(l), t, 5);	/* a small buffer: cut, terminated */
	assert_string_equal(t, "exec");
}

static void test_line_begin(void **state)
{
	(void)state;
	struct jw w;
	jw_init(&w);
	cw_eventlog_set_host("web1");
	cw_line_begin(&w, "exit", 1795521791123456000ull, 4766);
	jw_end(&w);
	assert_string_equal(w.buf, "{\"v\":2,\"type\":\"exit\",\"ts\":\"2026-11-24T12:03:11.123456Z\","
				   "\"host\":\"web1\",\"pid\":4766}\n");
	jw_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_creates_0640_and_appends),
		cmocka_unit_test(test_refuses_symlink),
		cmocka_unit_test(test_refuses_foreign_file),
		cmocka_unit_test(test_fifo_without_reader_fails_fast),
		cmocka_unit_test(test_refuses_foreign_fifo),
		cmocka_unit_test(test_refuses_foreign_chardev),
		cmocka_unit_test(test_refuses_hard_linked_file),
		cmocka_unit_test(test_own_fifo_and_dev_null_allowed),
		cmocka_unit_test(test_reopen_after_rotation),
		cmocka_unit_test(test_reopen_refuses_hard_link),
		cmocka_unit_test(test_disk_full_counted),
		cmocka_unit_test(test_partial_write_is_terminated),
		cmocka_unit_test(test_batch_counts_lines),
		cmocka_unit_test(test_disk_full_mid_line_is_cut_back),
		cmocka_unit_test(test_disk_full_keeps_whole_lines_of_a_batch),
		cmocka_unit_test(test_line_type),
		cmocka_unit_test(test_line_begin),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
