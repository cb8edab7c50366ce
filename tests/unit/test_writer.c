/* The event log's writer thread: a full queue drops lines instead of blocking and says so
 * when writing resumes; SIGHUP reopens in line order; a stop gives up on an output that
 * takes nothing, in the time it was given; lines that keep coming are written in batches,
 * whole and in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "common/timeutil.h"
#include "log/writer.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/cw-writer-XXXXXX");
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

/* An output on the write end of a pipe (as `record -o -` into a pipe) */
static void pipe_output(struct cw_output *o, int fds[2])
{
	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	memset(o, 0, sizeof(*o));
	o->fd = fds[1];
}

static double ms_since(uint64_t t0)
{
	return (double)(cw_clock_ns(CLOCK_MONOTONIC) - t0) / 1e6;
}

/* Read what the pipe holds until the writer has nothing left (the read end is O_NONBLOCK). */
static size_t drain(int rd, struct cw_writer *w, char *buf, size_t cap, size_t len)
{
	for (int i = 0; i < 2000; i++) {
		ssize_t n = read(rd, buf + len, cap - len - 1);
		if (n > 0) {
			len += (size_t)n;
			continue;
		}
		if (cw_writer_flush(w, 5) != 0)
			continue;
		n = read(rd, buf + len, cap - len - 1);	/* the writer is idle: the last of it */
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return len;
}

static void test_full_queue_drops_without_blocking(void **state)
{
	(void)state;
	struct cw_output o;
	struct cw_writer *w;
	struct cw_writer_stats st;
	int fds[2], refused = 0;
	char line[100];
	static char got[1 << 20];

	pipe_output(&o, fds);
	assert_int_equal(cw_writer_start(&w, &o, 4096, 42, NULL), 0);
	memset(line, 'x', sizeof(line));
	memcpy(line, "{\"v\":2,\"type\":\"exec\",\"n\":\"", 26);
	memcpy(line + sizeof(line) - 3, "\"}\n", 3);
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 2000; i++)	/* 200 KB into a 64 KiB pipe nobody reads yet */
		refused += cw_writer_put(w, line, sizeof(line)) == -ENOBUFS;
	assert_true(ms_since(t0) < 500);	/* never waited on the pipe */
	assert_true(refused > 0);
	cw_writer_stats(w, &st);
	assert_int_equal(st.dropped, refused);

	/* the reader comes back: the next line comes after one that says what was dropped */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	size_t len = drain(fds[0], w, got, sizeof(got), 0);
	assert_int_equal(cw_writer_put(w, "{\"v\":2,\"type\":\"marker\"}\n", 25), 0);
	len = drain(fds[0], w, got, sizeof(got), len);
	char want[96];
	snprintf(want, sizeof(want), "\"count\":%d,\"by_reason\":{\"queue_full\":%d},\"total\":%d}\n", refused,
		 refused, refused);
	char *dropped = strstr(got, "\"type\":\"dropped\"");
	assert_non_null(dropped);
	assert_non_null(strstr(dropped, want));
	assert_non_null(strstr(dropped, "\"type\":\"marker\""));
	assert_null(strstr(dropped + 1, "\"type\":\"dropped\""));	/* said once */
	/* lines whole: every line is one of ours */
	size_t lines = 0;
	for (char *p = got; *p; p = strchr(p, '\n') + 1, lines++)
		assert_memory_equal(p, "{\"v\":2,\"type\":\"", 15);
	cw_writer_stats(w, &st);
	assert_int_equal(st.lines, lines);
	assert_int_equal(lines, 2000 - refused + 2);
	assert_int_equal(cw_writer_stop(w, 1000), 0);
	close(fds[0]);
}

static void test_reopen_in_line_order(void **state)
{
	(void)state;
	char path[128], rotated[128], err[256];
	struct cw_output o;
	struct cw_writer *w;

	snprintf(path, sizeof(path), "%s/rot.jsonl", dir);
	snprintf(rotated, sizeof(rotated), "%s/rot.jsonl.1", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_writer_start(&w, &o, 0, 42, NULL), 0);
	assert_int_equal(o.fd, -1);	/* the writer owns it now */
	cw_writer_put(w, "1\n", 2);
	assert_int_equal(cw_writer_flush(w, 1000), 0);
	assert_int_equal(rename(path, rotated), 0);
	cw_writer_put(w, "2\n", 2);	/* before SIGHUP: still the old file */
	cw_writer_reopen(w);
	cw_writer_put(w, "3\n", 2);
	assert_int_equal(cw_writer_stop(w, 1000), 0);
	assert_string_equal(slurp(rotated), "1\n2\n");
	assert_string_equal(slurp(path), "3\n");
}

/* A pipe nobody reads: stop gives up in the time it was given, and can be tried again */
static void test_stop_gives_up_on_an_output_that_takes_nothing(void **state)
{
	(void)state;
	struct cw_output o;
	struct cw_writer *w;
	int fds[2];
	static char big[70000], sink[1 << 17];

	pipe_output(&o, fds);
	assert_int_equal(cw_writer_start(&w, &o, sizeof(big) + 16, 42, NULL), 0);
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	assert_int_equal(cw_writer_put(w, big, sizeof(big)), 0);	/* more than the pipe holds */
	uint64_t t0 = cw_clock_ns(CLOCK_MONOTONIC);
	assert_int_equal(cw_writer_stop(w, 100), -ETIMEDOUT);
	double took = ms_since(t0);
	assert_true(took >= 90 && took < 600);
	/* the reader comes back (here, not in the recorder, which exits): the thread ends */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	uint64_t t1 = cw_clock_ns(CLOCK_MONOTONIC);
	size_t got = 0;
	while (got < sizeof(big) && ms_since(t1) < 5000) {
		ssize_t n = read(fds[0], sink, sizeof(sink));
		if (n > 0)
			got += (size_t)n;
	}
	assert_int_equal(got, sizeof(big));
	assert_int_equal(cw_writer_stop(w, 1000), 0);
	close(fds[0]);
}

/* A write error (RLIMIT_FSIZE stands in for a full disk): counted, tracing goes on, and the
 * first line written after it says how many lines went missing and why. */
static void test_write_errors_are_counted_and_told(void **state)
{
	(void)state;
	char path[128], err[256];
	struct cw_output o;
	struct cw_writer *w;
	struct cw_writer_stats st;
	struct rlimit old, lim;

	snprintf(path, sizeof(path), "%s/full.jsonl", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_writer_start(&w, &o, 0, 42, NULL), 0);
	cw_writer_put(w, "{\"a\":1}\n", 8);
	assert_int_equal(cw_writer_flush(w, 1000), 0);
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 8;	/* full */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	cw_writer_put(w, "{\"b\":2}\n{\"c\":3}\n", 16);
	assert_int_equal(cw_writer_flush(w, 1000), 0);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);
	cw_writer_stats(w, &st);
	assert_int_equal(st.write_errors, 2);
	assert_int_equal(st.last_errno, EFBIG);
	assert_int_equal(st.lines, 1);
	cw_writer_put(w, "{\"d\":4}\n", 8);	/* space is back */
	assert_int_equal(cw_writer_stop(w, 1000), 0);
	const char *got = slurp(path);
	assert_memory_equal(got, "{\"a\":1}\n{\"v\":2,\"type\":\"dropped\"", 31);
	assert_non_null(strstr(got, "\"pid\":42,\"count\":2,\"by_reason\":{\"write_error\":2},\"total\":2}\n{\"d\":4}\n"));
}

/* Lines that keep coming make the writer rest between batches (CW_WRITER_GATHER_MS) and not
 * wake for each: whatever is put during a rest is written whole and in order, a flush ends
 * a rest, and a stop during one writes the rest of the queue. */
static void test_lines_during_rests_come_whole_and_in_order(void **state)
{
	(void)state;
	struct cw_output o;
	struct cw_writer *w;
	struct cw_writer_stats st;
	char path[128], err[256], line[32];
	static char want[8192];
	size_t wl = 0;

	snprintf(path, sizeof(path), "%s/rest.jsonl", dir);
	assert_int_equal(cw_output_open(&o, path, err, sizeof(err)), 0);
	assert_int_equal(cw_writer_start(&w, &o, 0, 42, NULL), 0);
	for (int i = 0; i < 200; i++) {
		int n = snprintf(line, sizeof(line), "{\"n\":%d}\n", i);
		assert_int_equal(cw_writer_put(w, line, (size_t)n), 0);
		memcpy(want + wl, line, (size_t)n);
		wl += (size_t)n;
		if (i % 50 == 49) {	/* a flush in the middle of it all is served */
			assert_int_equal(cw_writer_flush(w, 2000), 0);
			cw_writer_stats(w, &st);
			assert_int_equal(st.lines, (uint64_t)i + 1);
		}
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);	/* a line a millisecond: the writer rests */
	}
	assert_int_equal(cw_writer_put(w, "{\"last\":1}\n", 11), 0);
	memcpy(want + wl, "{\"last\":1}\n", 12);
	assert_int_equal(cw_writer_stop(w, 1000), 0);
	assert_string_equal(slurp(path), want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_queue_drops_without_blocking),
		cmocka_unit_test(test_reopen_in_line_order),
		cmocka_unit_test(test_stop_gives_up_on_an_output_that_takes_nothing),
		cmocka_unit_test(test_write_errors_are_counted_and_told),
		cmocka_unit_test(test_lines_during_rests_come_whole_and_in_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
