/* The engine: fed a log line by line, a judgement says what changed since the last one and
 * nothing else; the first judgement names queues that are not ok but not old deaths; a live
 * engine forgets samples older than two windows, keeping the depth at the cutoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine.h"
#include "testdata.h"

struct seen {
	int n;
	char kinds[16][16];
	char verdicts[16][24];
	char json[16][4096];
};

static void collect(const struct cw_incident *inc, void *ctx)
{
	struct seen *s = ctx;

	if (s->n == 16)
		return;
	snprintf(s->kinds[s->n], sizeof(s->kinds[0]), "%s", cw_incident_kind_name(inc->kind));
	snprintf(s->verdicts[s->n], sizeof(s->verdicts[0]), "%s", inc->verdict ? inc->verdict : "-");
	snprintf(s->json[s->n], sizeof(s->json[0]), "%s", inc->json);
	s->n++;
}

static void feed_file(struct cw_engine *e, const char *name, long first, long last)
{
	FILE *f = fopen(data(name), "r");
	char *line = NULL, why[256];
	size_t cap = 0;
	ssize_t n;
	long no = 0;

	assert_non_null(f);
	while ((n = getline(&line, &cap, f)) > 0) {
		no++;
		if (no >= first && no <= last)
			assert_int_equal(cw_engine_feed_line(e, line, (size_t)n, why, sizeof(why)), 0);
	}
	free(line);
	fclose(f);
}

static long lines_of(const char *name)
{
	FILE *f = fopen(data(name), "r");
	long n = 0;
	int c;

	assert_non_null(f);
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

/* incident.jsonl: the runbook's OOM kill of worker_low's pool child and MainProcess */
static void test_first_judgement_names_bad_queues_not_old_deaths(void **state)
{
	struct cw_engine *e;
	struct seen s = {0};
	(void)state;
	assert_int_equal(cw_engine_new(&e, NULL), 0);
	feed_file(e, "incident.jsonl", 1, 1000000);
	assert_int_equal(cw_engine_judge(e, collect, &s), 0);
	int nc = -1;
	for (int i = 0; i < s.n; i++) {
		assert_string_not_equal(s.kinds[i], "death");	/* history, not news */
		if (!strcmp(s.verdicts[i], "no_consumer"))
			nc = i;
	}
	assert_true(nc >= 0);
	assert_non_null(strstr(s.json[nc], "\"queue\":\"low_priority\""));
	assert_non_null(strstr(s.json[nc], "\"cause\":{\"kind\":\"oom_kill\""));
	/* nothing new: nothing said */
	struct seen again = {0};
	assert_int_equal(cw_engine_judge(e, collect, &again), 0);
	assert_int_equal(again.n, 0);
	cw_engine_free(e);
}

static void test_death_told_once_as_it_comes(void **state)
{
	struct cw_engine *e;
	struct seen before = {0}, after = {0}, later = {0};
	long n = lines_of("incident.jsonl");
	(void)state;
	assert_int_equal(cw_engine_new(&e, NULL), 0);
	/* the log up to its first exit line, judged; then the rest */
	FILE *f = fopen(data("incident.jsonl"), "r");
	char *line = NULL;
	size_t cap = 0;
	long first_exit = 0, no = 0;
	while (getline(&line, &cap, f) > 0 && !first_exit) {
		no++;
		if (strstr(line, "\"type\":\"exit\""))
			first_exit = no;
	}
	free(line);
	fclose(f);
	assert_true(first_exit > 1);
	feed_file(e, "incident.jsonl", 1, first_exit - 1);
	assert_int_equal(cw_engine_judge(e, collect, &before), 0);
	feed_file(e, "incident.jsonl", first_exit, n);
	assert_true(cw_engine_dirty(e));
	assert_int_equal(cw_engine_judge(e, collect, &after), 0);
	int deaths = 0, verdicts = 0;
	for (int i = 0; i < after.n; i++) {
		deaths += !strcmp(after.kinds[i], "death");
		verdicts += !strcmp(after.verdicts[i], "no_consumer");
	}
	assert_true(deaths >= 1);
	assert_int_equal(verdicts, 1);
	assert_int_equal(cw_engine_judge(e, collect, &later), 0);
	assert_int_equal(later.n, 0);
	cw_engine_free(e);
}

/* record and watch judge at once after a death, at their tick otherwise: the engine says
 * which, from the events it parsed */
static void test_death_pending_until_judged(void **state)
{
	struct cw_engine *e;
	struct seen s = {0};
	FILE *f = fopen(data("incident.jsonl"), "r");
	char *line = NULL, why[256];
	size_t cap = 0;
	ssize_t n;
	int deaths = 0;
	(void)state;
	assert_non_null(f);
	assert_int_equal(cw_engine_new(&e, NULL), 0);
	assert_false(cw_engine_death_pending(e));
	while ((n = getline(&line, &cap, f)) > 0) {
		bool death = strstr(line, "\"type\":\"exit\"") || strstr(line, "\"type\":\"oom\"");
		assert_int_equal(cw_engine_feed_line(e, line, (size_t)n, why, sizeof(why)), 0);
		assert_int_equal(cw_engine_death_pending(e), death);
		deaths += death;
		assert_int_equal(cw_engine_judge(e, collect, &s), 0);
		assert_false(cw_engine_death_pending(e));
	}
	assert_true(deaths >= 2);
	free(line);
	fclose(f);
	cw_engine_free(e);
}

static void test_unreadable_line_is_refused(void **state)
{
	struct cw_engine *e;
	char why[256] = "";
	(void)state;
	assert_int_equal(cw_engine_new(&e, NULL), 0);
	assert_int_equal(cw_engine_feed_line(e, "{\"v\":1,\"type\":\n", 15, why, sizeof(why)), -EINVAL);
	assert_true(why[0]);
	assert_int_equal(cw_engine_feed_line(e, "\n", 1, why, sizeof(why)), 0);
	cw_engine_free(e);
}

static void test_forget_samples_keeps_the_depth_at_the_cutoff(void **state)
{
	struct cw_timeline tl;
	struct cw_event ev;
	(void)state;
	assert_int_equal(cw_timeline_init(&tl), 0);
	for (int i = 0; i < 10; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.type = CW_LOG_SAMPLE;
		ev.host = "web1";
		ev.pid = 1;
		ev.ts = 1000000LL * (i + 1);
		ev.redis_ok = true;
		ev.nsamples = 1;
		ev.samples[0] = (struct cw_ev_depth){.queue = "q", .depth = i, .arrived = CW_NONE,
						     .drained = CW_NONE};
		assert_int_equal(cw_timeline_add(&ev, &tl), 0);
	}
	assert_int_equal(tl.nqueues, 1);
	assert_int_equal(tl.queues[0].nsamples, 10);
	cw_timeline_forget_samples(&tl, 5500000);	/* samples at 1..10 s: keep 5 s on */
	assert_int_equal(tl.queues[0].nsamples, 6);
	assert_int_equal(tl.queues[0].samples[0].ts, 5000000);
	assert_int_equal(tl.queues[0].samples[0].depth, 4);
	cw_timeline_forget_samples(&tl, 5500000);	/* again: nothing more */
	assert_int_equal(tl.queues[0].nsamples, 6);
	cw_timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_judgement_names_bad_queues_not_old_deaths),
		cmocka_unit_test(test_death_told_once_as_it_comes),
		cmocka_unit_test(test_death_pending_until_judged),
		cmocka_unit_test(test_unreadable_line_is_refused),
		cmocka_unit_test(test_forget_samples_keeps_the_depth_at_the_cutoff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
