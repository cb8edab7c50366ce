/* The two-thread reader (cw_logread_pipe, log/logread_pipe.c: cw_logread_file's for files of
 * 16 MiB and more) against the one-thread one (cw_logread_stream) on the same file: the same events in the same order, the same messages,
 * the same counts, the same return value, also when the callback stops early and when the
 * lines run over several batches with blank, bad and json-c-only lines among them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log/logread.h"
#include "log/logread_int.h"

struct seen {
	char *buf;
	size_t len;
	FILE *f;		/* one line per event: its line number, type, pid, comm */
	long stop_at;		/* return 1 at this line; 0 never */
};

static int keep(const struct cw_event *ev, void *ctx)
{
	struct seen *s = ctx;

	fprintf(s->f, "%ld %d %lld %s\n", ev->line, ev->type, (long long)ev->pid,
		ev->comm ? ev->comm : "-");
	return s->stop_at && ev->line >= s->stop_at ? 1 : 0;
}

/* nlines lines: mostly forks, every 97th blank, every 101st not JSON, every 89th with a lone
 * surrogate (simdjson refuses it, json-c reads it), every 113th missing its pid; the last
 * line cut short when `cut` */
static char *gen(int nlines, bool cut)
{
	char *path = strdup("/tmp/cw_test_pipeXXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	for (int i = 1; i <= nlines; i++) {
		if (i % 97 == 0)
			fprintf(f, "  \n");
		else if (i % 101 == 0)
			fprintf(f, "{\"v\":1,\"type\":\"fork\", oops\n");
		else if (i % 113 == 0)
			fprintf(f, "{\"v\":1,\"type\":\"fork\",\"ts\":\"2026-11-24T10:00:00Z\","
				"\"host\":\"h\"}\n");
		else
			fprintf(f, "{\"v\":1,\"type\":\"fork\",\"ts\":\"2026-11-24T10:00:%02d.%06dZ\","
				"\"host\":\"h\",\"pid\":%d,\"pstart\":%d,\"ppid\":1,\"comm\":\"%s\"}\n",
				i % 60, i, 1000 + i, 5000 + i, i % 89 == 0 ? "a\\udcff" : "celery");
	}
	if (cut)
		fprintf(f, "{\"v\":1,\"type\":\"fork\",\"ts\":");
	assert_int_equal(fclose(f), 0);
	return path;
}

struct result {
	int ret;
	struct cw_logread_stats st;
	char *events, *msgs;
};

static void run(const char *path, bool piped, long stop_at, struct result *r)
{
	struct seen s = {.stop_at = stop_at};
	char *mbuf = NULL;
	size_t mlen = 0;
	FILE *errf = open_memstream(&mbuf, &mlen);

	memset(r, 0, sizeof(*r));
	FILE *in = fopen(path, "r");

	s.f = open_memstream(&s.buf, &s.len);
	if (piped)
		r->ret = cw_logread_pipe(in, path, keep, &s, &r->st, errf);
	else
		r->ret = cw_logread_stream(in, path, keep, &s, &r->st, errf);
	fclose(in);
	fclose(s.f);
	fclose(errf);
	r->events = s.buf;
	r->msgs = mbuf;
}

/* Returns how many lines were skipped. */
static long same(const char *path, long stop_at)
{
	struct result a, b;

	run(path, false, stop_at, &a);
	run(path, true, stop_at, &b);
	assert_int_equal(a.ret, b.ret);
	assert_int_equal(a.st.lines, b.st.lines);
	assert_int_equal(a.st.events, b.st.events);
	assert_int_equal(a.st.skipped, b.st.skipped);
	assert_string_equal(a.events, b.events);
	assert_string_equal(a.msgs, b.msgs);
	free(a.events);
	free(a.msgs);
	free(b.events);
	free(b.msgs);
	return a.st.skipped;
}

static void test_pipe_same_as_stream(void **state)
{
	(void)state;
	char *path = gen(5000, false);

	assert_true(same(path, 0) > 50);
	unlink(path);
	free(path);
}

static void test_pipe_cut_last_line(void **state)
{
	(void)state;
	char *path = gen(3000, true);

	assert_true(same(path, 0) > 30);
	unlink(path);
	free(path);
}

/* stops in the first batch, in a later one, on a batch's last line */
static void test_pipe_stops_early(void **state)
{
	(void)state;
	char *path = gen(9000, false);

	same(path, 3);
	same(path, 4321);
	same(path, 256);
	unlink(path);
	free(path);
}

static void test_pipe_empty_and_blank(void **state)
{
	(void)state;
	char path[] = "/tmp/cw_test_pipeXXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(same(path, 0), 0);
	FILE *f = fopen(path, "w");
	fprintf(f, "\n\n  \n");
	fclose(f);
	struct result r;
	run(path, true, 0, &r);
	assert_int_equal(r.ret, 0);
	assert_int_equal(r.st.lines, 3);
	assert_int_equal(r.st.events, 0);
	free(r.events);
	free(r.msgs);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipe_same_as_stream),
		cmocka_unit_test(test_pipe_cut_last_line),
		cmocka_unit_test(test_pipe_stops_early),
		cmocka_unit_test(test_pipe_empty_and_blank),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
