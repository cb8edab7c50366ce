/* --tail-window in explain: a death whose exit line says the write hook was off gets the
 * "not watched" note (text and --json) and the worker's own --logfile; others get none. */
#include "explain_run.h"
#include "explain/stderr_note.h"

static const struct cw_death *death_of(struct run *r, int64_t pid)
{
	for (int i = 0; i < r->an.ndeaths; i++)
		if (r->an.deaths[i].pid == pid)
			return &r->an.deaths[i];
	fail_msg("no death of %lld", (long long)pid);
	return NULL;
}

static void test_unwatched_death_is_noted(void **state)
{
	struct run *r = load("tail_window.jsonl");
	char lf[256];

	(void)state;
	const struct cw_death *e = death_of(r, 5300), *c = death_of(r, 5400), *d = death_of(r, 5500);
	assert_string_equal(cw_stderr_note(e), CW_STDERR_UNWATCHED);
	assert_true(cw_death_logfile(e, lf, sizeof(lf)));
	assert_string_equal(lf, "/var/log/celery/e.log");
	assert_null(cw_stderr_note(c));	/* watched */
	assert_null(cw_stderr_note(d));	/* a log without the field: always watched, or older */
	char *t = text(r);
	assert_non_null(strstr(t, "stderr was not watched at the time (--tail-window); its own log: "
				  "/var/log/celery/e.log\n"));
	assert_null(strstr(t, "c.log"));
	free(t);
	json_object *q = json_queue(r, "qe"), *cause = field(q, "cause");
	assert_string_equal(json_object_get_string(field(cause, "stderr_note")), CW_STDERR_UNWATCHED);
	assert_string_equal(json_object_get_string(field(cause, "logfile")), "/var/log/celery/e.log");
	json_object_put(q);
	q = json_queue(r, "qc");
	assert_null(field(field(q, "cause"), "stderr_note"));
	assert_null(field(field(q, "cause"), "logfile"));
	json_object_put(q);
	unload(r);
}

static void test_logfile_forms(void **state)
{
	static const struct {
		const char *cmdline, *want;
	} cases[] = {
		{"celery -A proj worker --logfile=/l/a.log -Q q", "/l/a.log"},
		{"celery -A proj worker --logfile /l/b.log", "/l/b.log"},
		{"celery -A proj worker -f /l/c.log -c 2", "/l/c.log"},
		{"celery -A proj worker -f/l/d.log", "/l/d.log"},
		{"celery -A proj worker -Q q", NULL},
		{"celery -A proj worker --logfile", NULL},
		{"celery -A proj worker -f -Q q", NULL},
		{"celery -A proj worker -Q-f /x", NULL},	/* not a word of its own */
		{NULL, NULL},
	};
	char lf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cw_death d = {.cmdline = cases[i].cmdline};
		bool found = cw_death_logfile(&d, lf, sizeof(lf));
		if (!cases[i].want) {
			assert_false(found);
			continue;
		}
		assert_true(found);
		assert_string_equal(lf, cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwatched_death_is_noted),
		cmocka_unit_test(test_logfile_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
