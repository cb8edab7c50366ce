/* The reader's pre-filter (logread.h's cw_line_want, timeline.c's `wanted`): lines past
 * --until are dropped unparsed. Every hand-written log of tests/unit/data is explained with
 * --until at every time a line has (and just before and after it), with and without --since,
 * through both paths (tl.read_all: every line parsed); the text and --json reports must be
 * the same byte for byte. A filter that drops a line the window needs changes them. */

#include "explain_run.h"
#include "explain/timeline_fold.h"

#define MAX_TIMES 4096

struct report {
	char *text, *json;
};

/* explain's own set-up (cli/explain.c): fold recycled children from --since on; a small
 * keep so that folding happens in these short logs too. */
static void explain(const char *path, int64_t since, int64_t until, bool read_all,
		    struct report *out)
{
	struct cw_timeline tl;
	struct cw_analysis an;
	struct cw_logread_stats st = {0};
	struct cw_judge_opts o = {CW_CONNECT_GRACE_DEFAULT_US, CW_STALL_AFTER_DEFAULT_US};
	char *files[] = {(char *)path};
	size_t len;

	assert_int_equal(cw_timeline_init(&tl), 0);
	tl.fold = true;
	tl.fold_keep = 1;
	tl.fold_from = since;
	tl.until = until;
	tl.read_all = read_all;
	assert_int_equal(cw_timeline_load(&tl, files, 1, &st, NULL), 0);
	assert_int_equal(cw_analyze_opts(&tl, since, until, NULL, &o, &an), 0);
	struct cw_report_in in = {.tl = &tl, .a = &an, .skipped = st.skipped};
	FILE *f = open_memstream(&out->text, &len);
	assert_int_equal(cw_report_text(f, &in), 0);
	fclose(f);
	f = open_memstream(&out->json, &len);
	assert_int_equal(cw_report_json(f, &in), 0);
	fclose(f);
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
}

static int add_time(const struct cw_event *ev, void *ctx)
{
	int64_t *t = ctx;

	if (t[0] + 1 < MAX_TIMES)
		t[++t[0]] = ev->ts;
	return 0;
}

/* t[1..t[0]]: the ts of every line of the log, and whether it has unreadable lines */
static bool line_times(const char *path, int64_t *t)
{
	struct cw_logread_stats st = {0};

	t[0] = 0;
	assert_int_equal(cw_logread_file(path, add_time, t, &st, NULL), 0);
	return st.skipped == 0;
}

/* Both paths agree for this window; returns 1 (one comparison). */
static int same_both_ways(const char *path, int64_t since, int64_t until)
{
	struct report full, filtered;

	explain(path, since, until, true, &full);
	explain(path, since, until, false, &filtered);
	if (strcmp(full.text, filtered.text) || strcmp(full.json, filtered.json))
		fail_msg("%s since %lld until %lld: the pre-filter changed the report\n"
			 "--- every line parsed:\n%s\n--- pre-filtered:\n%s", path,
			 (long long)since, (long long)until, full.json, filtered.json);
	free(full.text);
	free(full.json);
	free(filtered.text);
	free(filtered.json);
	return 1;
}

/* --until at each line's time, 1 µs either side, before and after the log; --since none,
 * before the log, at its first quarter and its middle (in a gap or a stall where the log
 * has one: gap_drain, flapstall, saturated...) and after it. */
static int compare_log(const char *path)
{
	static int64_t t[MAX_TIMES];
	int n = 0;

	if (!line_times(path, t) || !t[0])
		return 0;	/* unreadable lines are reported only when parsed: not compared */
	int64_t first = t[1], last = t[t[0]];
	int64_t sinces[] = {CW_NONE, first - 1000000, first + (last - first) / 4,
			    first + (last - first) / 2, last + 1};
	for (size_t s = 0; s < sizeof(sinces) / sizeof(sinces[0]); s++) {
		if (sinces[s] == CW_NONE || sinces[s] < first)
			n += same_both_ways(path, sinces[s], first - 1000000);
		n += same_both_ways(path, sinces[s], last + 1000000);
		for (int64_t i = 1; i <= t[0]; i++)
			for (int64_t d = -1; d <= 1; d++)
				if (sinces[s] == CW_NONE || t[i] + d >= sinces[s])
					n += same_both_ways(path, sinces[s], t[i] + d);
	}
	return n;
}

struct tally {
	int compared, logs;
};

static void compare_one(const char *path, void *ctx)
{
	struct tally *t = ctx;
	int n = compare_log(path);

	t->compared += n;
	t->logs += n > 0;
}

static void test_until_prefilter_changes_nothing(void **state)
{
	struct tally t = { 0 };

	(void)state;
	assert_true(each_data_log(compare_one, &t) > 0);
	/* the data holds dozens of logs: a test that compared nothing proves nothing */
	assert_true(t.logs >= 20);
	assert_true(t.compared >= 1000);
}

/* The filter does drop lines (or the comparison above tests nothing): a line after --until
 * is counted as unread, one before it is parsed. */
static void test_until_lines_are_unread(void **state)
{
	static int64_t t[MAX_TIMES];
	const char *path = data("gap_drain.jsonl");
	struct cw_timeline tl;
	struct cw_logread_stats st = {0};
	char *files[] = {(char *)path};

	(void)state;
	assert_true(line_times(path, t));
	assert_true(t[0] > 4);
	assert_int_equal(cw_timeline_init(&tl), 0);
	tl.until = t[2];
	assert_int_equal(cw_timeline_load(&tl, files, 1, &st, NULL), 0);
	assert_true(st.unread > 0);
	assert_int_equal(st.events + st.unread, t[0]);
	assert_true(tl.past_until);
	cw_timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_until_prefilter_changes_nothing),
		cmocka_unit_test(test_until_lines_are_unread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
