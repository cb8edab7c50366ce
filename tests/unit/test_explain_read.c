/* Unit tests of explain's input and output edges: unreadable lines reported as FILE:LINE,
 * time parsing (--since/--until), the --json shape checked key by key with json-c, HTML
 * escaping of hostile strings, and the HTML output refusing to follow a symlink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "explain/causes.h"
#include "log/logread.h"
#include "explain/report.h"
#include "explain/timeline.h"
#include "testdata.h"

static int count_cb(const struct cw_event *ev, void *ctx)
{
	(void)ev;
	(*(int *)ctx)++;
	return 0;
}

static void test_bad_lines_named_and_skipped(void **state)
{
	(void)state;
	char *err = NULL;
	size_t len = 0;
	FILE *errf = open_memstream(&err, &len);
	struct cw_logread_stats st = {0};
	int n = 0;
	char path[4096];

	snprintf(path, sizeof(path), "%s", data("bad.jsonl"));
	assert_int_equal(cw_logread_file(path, count_cb, &n, &st, errf), 0);
	fclose(errf);
	assert_int_equal(st.lines, 9);
	assert_int_equal(st.skipped, 6);
	assert_int_equal(n, 3);
	char want[4200];
	static const struct {
		int line;
		const char *why;
	} expect[] = {
		{2, "not JSON"},
		{3, "unsupported schema version v=3"},
		{4, "unknown type \"telepathy\""},
		{6, "process line without \"pid\" and \"pstart\""},
		{7, "bad ts \"bogus\""},
		{9, "truncated last line"},
	};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
		snprintf(want, sizeof(want), "%s:%d: %s", path, expect[i].line, expect[i].why);
		if (!strstr(err, want))
			fail_msg("missing '%s' in:\n%s", want, err);
	}
	/* nothing else was reported */
	int lines = 0;
	for (char *p = err; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 6);
	free(err);
}

static void test_bad_lines_do_not_stop_the_analysis(void **state)
{
	(void)state;
	struct cw_timeline tl;
	struct cw_analysis an;
	struct cw_logread_stats st = {0};
	char *path = strdup(data("bad.jsonl"));
	FILE *devnull = fopen("/dev/null", "w");

	assert_int_equal(cw_timeline_init(&tl), 0);
	assert_int_equal(cw_timeline_load(&tl, &path, 1, &st, devnull), 0);
	assert_int_equal(cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an), 0);
	assert_int_equal(an.nqueues, 1);
	assert_int_equal(an.queues[0].verdict, CW_OK);	/* the truncated exit was skipped */
	assert_int_equal(an.queues[0].depth_last, 3);
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
	fclose(devnull);
	free(path);
}

static void test_stream_edge_cases(void **state)
{
	(void)state;
	const char *text =
		"\n"
		"[1,2]\n"
		"{\"v\":1,\"type\":\"lost\",\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\",\"pid\":1,"
		"\"count\":3} trailing\n"
		"{\"v\":1,\"type\":\"lost\",\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\",\"pid\":1,"
		"\"count\":3,\"argv\":[\"\\udcff\\u0000x\"]}\n"
		"{\"type\":\"lost\"}\n";
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *err = NULL;
	size_t len = 0;
	FILE *errf = open_memstream(&err, &len);
	int n = 0;

	assert_int_equal(cw_logread_stream(in, "mem", count_cb, &n, NULL, errf), 0);
	fclose(errf);
	fclose(in);
	assert_int_equal(n, 1);
	assert_non_null(strstr(err, "mem:2: not a JSON object"));
	assert_non_null(strstr(err, "mem:3: not JSON: text after the object"));
	assert_non_null(strstr(err, "mem:5: no schema version"));
	free(err);
}

static void test_parse_ts(void **state)
{
	(void)state;
	int64_t t;

	assert_int_equal(cw_parse_ts("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(cw_parse_ts("2026-11-24T12:03:11.123456Z", &t), 0);
	assert_int_equal(t, 1795521791123456LL);
	assert_int_equal(cw_parse_ts("2026-11-24T13:03:11.123456+01:00", &t), 0);
	assert_int_equal(t, 1795521791123456LL);
	assert_int_equal(cw_parse_ts("2026-11-24T12:03:11.5Z", &t), 0);
	assert_int_equal(t % 1000000, 500000);
	assert_int_equal(cw_parse_ts("2024-02-29T00:00:00Z", &t), 0);
	assert_int_equal(t, 1709164800LL * 1000000);
	assert_int_equal(cw_parse_ts("2026-11-24 12:03:11", &t), -1);	/* no zone */
	assert_int_equal(cw_parse_ts("2026-13-24T12:03:11Z", &t), -1);
	assert_int_equal(cw_parse_ts("2026-11-24T12:03:11Zjunk", &t), -1);
	assert_int_equal(cw_parse_ts("", &t), -1);

	char buf[40];
	cw_format_ts(1795521791123456LL, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-24T12:03:11.123456Z");
}

static void test_parse_when(void **state)
{
	(void)state;
	int64_t now = 1795521791000000LL, t;

	assert_int_equal(cw_parse_when("-1h", now, &t), 0);
	assert_int_equal(t, now - 3600LL * 1000000);
	assert_int_equal(cw_parse_when("-30m", now, &t), 0);
	assert_int_equal(t, now - 1800LL * 1000000);
	assert_int_equal(cw_parse_when("-2d", now, &t), 0);
	assert_int_equal(t, now - 2 * 86400LL * 1000000);
	assert_int_equal(cw_parse_when("-90s", now, &t), 0);
	assert_int_equal(t, now - 90LL * 1000000);
	assert_int_equal(cw_parse_when("now", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(cw_parse_when("2026-11-24T12:00:00Z", now, &t), 0);
	assert_int_equal(t, 1795521600LL * 1000000);
	assert_int_equal(cw_parse_when("-1w", now, &t), -1);
	assert_int_equal(cw_parse_when("yesterday", now, &t), -1);
	assert_int_equal(cw_parse_when("-h", now, &t), -1);
}

/* Numbers outside JSON's interoperable integer range (or fractions) where an integer is
 * read: the line is refused with the key named, never cast. */
static void test_out_of_range_numbers(void **state)
{
	(void)state;
#define HEAD "{\"v\":1,\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\","
	const char *text =
		HEAD "\"type\":\"exit\",\"pid\":1e50,\"pstart\":5,\"exit_code\":0}\n"
		HEAD "\"type\":\"exit\",\"pid\":7,\"pstart\":-1e300,\"exit_code\":0}\n"
		HEAD "\"type\":\"lost\",\"pid\":1,\"count\":99999999999999999999}\n"
		HEAD "\"type\":\"signal\",\"pid\":7,\"pstart\":5,\"signal\":\"SIGKILL\",\"signo\":9,"
		"\"sender\":{\"pid\":1e19,\"uid\":0}}\n"
		HEAD "\"type\":\"sample\",\"pid\":1,\"redis_ok\":true,\"queues\":[{\"queue\":\"q\","
		"\"depth\":1e50}]}\n"
		HEAD "\"type\":\"exit\",\"pid\":7.5,\"pstart\":5,\"exit_code\":0}\n"
		HEAD "\"type\":\"exit\",\"pid\":7,\"pstart\":5,\"exit_code\":-9223372036854775808}\n"
		HEAD "\"type\":\"oom\",\"pid\":7,\"pstart\":5,\"anon_rss_kb\":1e400}\n"
		/* in range: 2^53, a float with no fraction, a null pstart on an oom line */
		HEAD "\"type\":\"exit\",\"pid\":7,\"pstart\":9007199254740992,\"exit_code\":1.0}\n"
		HEAD "\"type\":\"oom\",\"pid\":7,\"pstart\":null,\"anon_rss_kb\":null}\n";
#undef HEAD
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *err = NULL;
	size_t len = 0;
	FILE *errf = open_memstream(&err, &len);
	struct cw_logread_stats st = {0};
	int n = 0;

	assert_int_equal(cw_logread_stream(in, "mem", count_cb, &n, &st, errf), 0);
	fclose(errf);
	fclose(in);
	static const char *const want[] = {
		"mem:1: \"pid\" is not an integer within +-2^53: 1e50",
		"mem:2: \"pstart\" is not an integer within +-2^53: -1e300",
		"mem:3: \"count\" is not an integer within +-2^53: ",
		"mem:4: \"sender.pid\" is not an integer within +-2^53: 1e19",
		"mem:5: \"queues[].depth\" is not an integer within +-2^53: 1e50",
		"mem:6: \"pid\" is not an integer within +-2^53: 7.5",
		"mem:7: \"exit_code\" is not an integer within +-2^53: ",
		"mem:8: \"anon_rss_kb\" is not an integer within +-2^53: ",
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(err, want[i]))
			fail_msg("missing '%s' in:\n%s", want[i], err);
	assert_int_equal(st.skipped, 8);
	assert_int_equal(n, 2);
	free(err);
}

static int oom_cb(const struct cw_event *ev, void *ctx)
{
	*(struct cw_event *)ctx = *ev;
	return 0;
}

static void test_oom_null_pstart_read(void **state)
{
	(void)state;
	const char *text = "{\"v\":1,\"type\":\"oom\",\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\","
			   "\"pid\":4766,\"pstart\":null,\"comm\":\"celery\",\"anon_rss_kb\":null,"
			   "\"cgroup\":\"/c\",\"tracked\":true}\n"
			   "{\"v\":1,\"type\":\"oom\",\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\","
			   "\"pstart\":3}\n";
	FILE *in = fmemopen((void *)text, strlen(text), "r");
	char *err = NULL;
	size_t len = 0;
	FILE *errf = open_memstream(&err, &len);
	static struct cw_event ev;

	assert_int_equal(cw_logread_stream(in, "mem", oom_cb, &ev, NULL, errf), 0);
	fclose(errf);
	fclose(in);
	assert_int_equal(ev.type, CW_LOG_OOM);
	assert_int_equal(ev.pid, 4766);
	assert_int_equal(ev.pstart, CW_NONE);
	assert_int_equal(ev.anon_rss_kb, CW_NONE);
	/* a pid it still needs */
	assert_non_null(strstr(err, "mem:2: oom line without \"pid\""));
	assert_null(strstr(err, "mem:1:"));
	free(err);
}

static void test_parse_when_range(void **state)
{
	(void)state;
	int64_t now = 1795521791000000LL, t = 42;

	assert_int_equal(cw_parse_when("-1e30d", now, &t), -2);
	assert_int_equal(cw_parse_when("+1e30d", now, &t), -2);
	assert_int_equal(cw_parse_when("-1e400s", now, &t), -2);
	assert_int_equal(cw_parse_when("-100000000000000000000000000000d", now, &t), -2);
	assert_int_equal(cw_parse_when("-1000001d", now, &t), -2);
	assert_int_equal(t, 42);	/* untouched */
	assert_int_equal(cw_parse_when("-inf", now, &t), -1);
	assert_int_equal(cw_parse_when("-nan", now, &t), -1);
	assert_int_equal(cw_parse_when("-0x10h", now, &t), -1);
	assert_int_equal(cw_parse_when("- 5h", now, &t), -1);
	assert_int_equal(cw_parse_when("-1000000d", now, &t), 0);
	assert_int_equal(t, now - 1000000LL * 86400 * 1000000);
	assert_int_equal(cw_parse_when("-1.5h", now, &t), 0);
	assert_int_equal(t, now - 5400LL * 1000000);
	assert_int_equal(cw_parse_when("-1e2s", now, &t), 0);
	assert_int_equal(t, now - 100LL * 1000000);
}

/* ---- text output of hostile strings ---- */

static void test_text_safe(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	/* C0, ESC, DEL; C1 (U+009B CSI) as UTF-8; a bidi override; bytes that are not UTF-8
	 * (0xff, a cut sequence, an overlong, a surrogate); valid UTF-8 and a backslash kept */
	const char *in = "a\r\n\t\x1b[2K\x7f\x01|\xc2\x9b|\xc2\x85|\xe2\x80\xae|\xe2\x80\xa8|"
			 "\xff|\xc3|\xc0\xaf|\xed\xa0\x80|é€😀\\x";
	const char *want = "a\\r\\n\\t\\e[2K\\x7f\\x01|\\u009b|\\u0085|\\u202e|\\u2028|"
			   "\\xff|\\xc3|\\xc0\\xaf|\\xed\\xa0\\x80|é€😀\\x";

	cw_text_safe(f, in);
	fclose(f);
	assert_string_equal(buf, want);
	free(buf);

	char out[128];
	assert_string_equal(cw_text_sanitize(out, sizeof(out), in), want);
	/* cut only between whole escapes or characters */
	assert_string_equal(cw_text_sanitize(out, 4, "ab\x1b"), "ab");
	assert_string_equal(cw_text_sanitize(out, 5, "ab\x1b"), "ab\\e");
	assert_string_equal(cw_text_sanitize(out, 4, "ab€"), "ab");
	assert_string_equal(cw_text_sanitize(out, 6, "ab€"), "ab€");
	assert_string_equal(cw_text_sanitize(out, 1, "ab"), "");
	cw_text_safe(stdout, NULL);	/* nothing, no crash */
}

/* ---- --json shape ---- */

static void need(json_object *o, const char *key, json_type type, bool nullable)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		fail_msg("key \"%s\" missing in %s", key, json_object_to_json_string(o));
	if (v == NULL) {
		if (!nullable)
			fail_msg("key \"%s\" is null", key);
		return;
	}
	if (!json_object_is_type(v, type))
		fail_msg("key \"%s\" has type %s, want %s", key,
			 json_type_to_name(json_object_get_type(v)), json_type_to_name(type));
}

static void check_ts(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);
	int64_t t;

	if (v)
		assert_int_equal(cw_parse_ts(json_object_get_string(v), &t), 0);
}

static void check_cause(json_object *c)
{
	static const char *const kinds[] = {"oom_kill", "signal", "crash", "exit_error",
					    "exit_clean", "recycled", "time_limit", "parent_died",
					    "exec_failed", "never_started", "unknown"};
	need(c, "kind", json_type_string, false);
	const char *k = json_object_get_string(json_object_object_get(c, "kind"));
	bool known = false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		known |= !strcmp(k, kinds[i]);
	assert_true(known);
	need(c, "ts", json_type_string, false);
	check_ts(c, "ts");
	need(c, "pid", json_type_int, true);
	need(c, "worker", json_type_string, true);
	need(c, "role", json_type_string, true);
	json_object *role = json_object_object_get(c, "role");
	if (role) {
		const char *r = json_object_get_string(role);
		assert_true(!strcmp(r, "main") || !strcmp(r, "pool") || !strcmp(r, "beat"));
	}
	need(c, "queues", json_type_array, false);
	json_object *qs = json_object_object_get(c, "queues");
	for (size_t i = 0; i < json_object_array_length(qs); i++)
		assert_true(json_object_is_type(json_object_array_get_idx(qs, i), json_type_string));
	need(c, "signal", json_type_string, true);
	need(c, "exit_code", json_type_int, true);
	need(c, "sender", json_type_object, true);
	json_object *s = json_object_object_get(c, "sender");
	if (s) {
		need(s, "pid", json_type_int, false);
		need(s, "comm", json_type_string, false);
		need(s, "uid", json_type_int, false);
		need(s, "cmdline", json_type_string, false);
	}
	need(c, "oom", json_type_object, true);
	json_object *m = json_object_object_get(c, "oom");
	if (m) {
		/* null where the kernel gave no figures (before 6.8) */
		static const char *const ints[] = {"anon_rss_kb", "file_rss_kb", "shmem_rss_kb",
						   "total_vm_kb", "oom_score_adj"};
		for (size_t i = 0; i < 5; i++)
			need(m, ints[i], json_type_int, true);
		need(m, "cgroup", json_type_string, true);
		assert_string_equal(k, "oom_kill");
	}
	need(c, "stderr_tail", json_type_string, true);
	need(c, "summary", json_type_string, false);
	assert_true(strlen(json_object_get_string(json_object_object_get(c, "summary"))) > 10);
}

static json_object *explain_json(const char *name)
{
	struct cw_timeline tl;
	struct cw_analysis an;
	char *path = strdup(data(name)), *buf = NULL;
	size_t len = 0;
	FILE *devnull = fopen("/dev/null", "w"), *out = open_memstream(&buf, &len);

	assert_int_equal(cw_timeline_init(&tl), 0);
	cw_timeline_load(&tl, &path, 1, NULL, devnull);
	assert_int_equal(cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an), 0);
	struct cw_report_in in = {.tl = &tl, .a = &an};
	assert_int_equal(cw_report_json(out, &in), 0);
	fclose(out);
	fclose(devnull);
	/* one line, one document */
	assert_non_null(strchr(buf, '\n'));
	assert_int_equal(strchr(buf, '\n') - buf, (long)len - 1);
	json_object *doc = json_tokener_parse(buf);
	assert_non_null(doc);
	free(buf);
	free(path);
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
	return doc;
}

static void check_doc(json_object *doc)
{
	need(doc, "window", json_type_object, false);
	json_object *w = json_object_object_get(doc, "window");
	need(w, "from", json_type_string, false);
	need(w, "to", json_type_string, false);
	check_ts(w, "from");
	check_ts(w, "to");
	need(doc, "queues", json_type_array, false);
	json_object *qs = json_object_object_get(doc, "queues");
	for (size_t i = 0; i < json_object_array_length(qs); i++) {
		json_object *q = json_object_array_get_idx(qs, i);
		need(q, "queue", json_type_string, false);
		need(q, "verdict", json_type_string, false);
		const char *v = json_object_get_string(json_object_object_get(q, "verdict"));
		assert_true(!strcmp(v, "ok") || !strcmp(v, "degraded") || !strcmp(v, "no_consumer"));
		need(q, "depth_first", json_type_int, true);
		need(q, "depth_last", json_type_int, true);
		json_object *g = json_object_object_get(q, "growth_per_min");
		if (!json_object_object_get_ex(q, "growth_per_min", NULL))
			fail_msg("growth_per_min missing");
		assert_true(!g || json_object_is_type(g, json_type_double) ||
			    json_object_is_type(g, json_type_int));
		need(q, "consumers_now", json_type_int, false);
		need(q, "uncovered_since", json_type_string, true);
		check_ts(q, "uncovered_since");
		need(q, "cause", json_type_object, true);
		if (json_object_object_get(q, "cause"))
			check_cause(json_object_object_get(q, "cause"));
	}
	need(doc, "deaths", json_type_array, false);
	json_object *ds = json_object_object_get(doc, "deaths");
	for (size_t i = 0; i < json_object_array_length(ds); i++)
		check_cause(json_object_array_get_idx(ds, i));
}

static void test_json_shape_every_log(void **state)
{
	(void)state;
	static const char *const logs[] = {"incident.jsonl", "signal_kill.jsonl",
					   "warm_shutdown.jsonl", "pool_events.jsonl",
					   "exits.jsonl", "never.jsonl", "lost.jsonl",
					   "pidreuse.jsonl", "hosts.jsonl", "detach.jsonl",
					   "stop_degraded.jsonl", "restart.jsonl", "bad.jsonl",
					   "pathsearch.jsonl", "oom_nopstart.jsonl", "pool_term.jsonl",
					   "qsets.jsonl", "hostile.jsonl"};
	for (size_t i = 0; i < sizeof(logs) / sizeof(logs[0]); i++) {
		json_object *doc = explain_json(logs[i]);
		check_doc(doc);
		json_object_put(doc);
	}
}

static void test_json_values(void **state)
{
	(void)state;
	json_object *doc = explain_json("incident.jsonl");
	json_object *qs = json_object_object_get(doc, "queues"), *low = NULL;

	for (size_t i = 0; i < json_object_array_length(qs); i++) {
		json_object *q = json_object_array_get_idx(qs, i);
		if (!strcmp(json_object_get_string(json_object_object_get(q, "queue")), "low_priority"))
			low = q;
	}
	assert_non_null(low);
	assert_string_equal(json_object_get_string(json_object_object_get(low, "verdict")),
			    "no_consumer");
	assert_int_equal(json_object_get_int64(json_object_object_get(low, "depth_first")), 120);
	assert_int_equal(json_object_get_int64(json_object_object_get(low, "depth_last")), 19334);
	assert_float_equal(json_object_get_double(json_object_object_get(low, "growth_per_min")),
			   31.0, 0.001);
	assert_string_equal(json_object_get_string(json_object_object_get(low, "uncovered_since")),
			    "2026-11-24T12:03:11.123456Z");
	json_object *cause = json_object_object_get(low, "cause");
	assert_string_equal(json_object_get_string(json_object_object_get(cause, "kind")), "oom_kill");
	assert_int_equal(json_object_get_int64(json_object_object_get(cause, "pid")), 4766);
	assert_string_equal(json_object_get_string(json_object_object_get(cause, "worker")),
			    "worker_low@web1");
	json_object *oom = json_object_object_get(cause, "oom");
	assert_string_equal(json_object_get_string(json_object_object_get(oom, "cgroup")),
			    "/celery/low");
	json_object *ds = json_object_object_get(doc, "deaths");
	assert_int_equal(json_object_array_length(ds), 3);
	json_object *oo = json_object_object_get(doc, "other_oom_kills");
	assert_int_equal(json_object_array_length(oo), 1);
	json_object *o0 = json_object_array_get_idx(oo, 0);
	assert_int_equal(json_object_get_int64(json_object_object_get(o0, "pid")), 900);
	assert_string_equal(json_object_get_string(json_object_object_get(o0, "cgroup")),
			    "/system.slice/reports.service");
	json_object_put(doc);

	doc = explain_json("signal_kill.jsonl");
	ds = json_object_object_get(doc, "deaths");
	json_object *d0 = json_object_array_get_idx(ds, 0);
	json_object *s = json_object_object_get(d0, "sender");
	assert_string_equal(json_object_get_string(json_object_object_get(s, "comm")), "bash");
	assert_int_equal(json_object_get_int64(json_object_object_get(s, "uid")), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(d0, "signal")), "SIGKILL");
	json_object_put(doc);
}

/* ---- HTML ---- */

static void test_html_escape(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	cw_html_escape(f, "<script>alert('x')</script> & \"q\" \xff\xfe \x01 é");
	fclose(f);
	assert_string_equal(buf, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot; "
			    "\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd é");
	free(buf);
}

static void test_html_no_symlink(void **state)
{
	(void)state;
	char dir[] = "/tmp/cw_test_htmlXXXXXX", link[256], target[256], err[256];
	struct cw_timeline tl;
	struct cw_analysis an;

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/out.html", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(cw_timeline_init(&tl), 0);
	assert_int_equal(cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an), 0);
	struct cw_report_in in = {.tl = &tl, .a = &an};
	assert_int_not_equal(cw_report_html(link, &in, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1);	/* nothing created through it */
	unlink(link);

	/* a plain path works, mode 0640 whatever the umask */
	mode_t old = umask(022);
	assert_int_equal(cw_report_html(link, &in, err, sizeof(err)), 0);
	umask(old);
	struct stat sb;
	assert_int_equal(stat(link, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
	unlink(link);
	rmdir(dir);
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
}

static void test_html_hostile_log(void **state)
{
	(void)state;
	/* argv and comm are attacker-chosen: nothing of them may reach the page unescaped */
	char dir[] = "/tmp/cw_test_hostXXXXXX", log[256], out[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(log, sizeof(log), "%s/h.jsonl", dir);
	snprintf(out, sizeof(out), "%s/h.html", dir);
	FILE *f = fopen(log, "w");
	fputs("{\"v\":1,\"type\":\"scan\",\"ts\":\"2026-11-24T10:00:00Z\",\"host\":\"h\",\"pid\":10,"
	      "\"pstart\":1,\"ppid\":1,\"comm\":\"<img src=x onerror=alert(1)>\",\"argv\":[\"</svg>"
	      "<script>alert(1)</script>\"],\"worker\":\"w<b>@h\",\"queues\":[\"q<i>\"],"
	      "\"role\":\"main\",\"pool\":\"solo\"}\n", f);
	fputs("{\"v\":1,\"type\":\"signal\",\"ts\":\"2026-11-24T10:01:00Z\",\"host\":\"h\",\"pid\":10,"
	      "\"pstart\":1,\"signal\":\"SIGKILL\",\"signo\":9,\"code\":\"user\",\"result\":\"delivered\","
	      "\"sender\":{\"pid\":66,\"comm\":\"<script>x\",\"uid\":0,\"cmdline\":\"kill '<&>'\"}}\n", f);
	fputs("{\"v\":1,\"type\":\"exit\",\"ts\":\"2026-11-24T10:01:01Z\",\"host\":\"h\",\"pid\":10,"
	      "\"pstart\":1,\"exit_code\":null,\"signal\":\"SIGKILL\"}\n", f);
	fclose(f);
	struct cw_timeline tl;
	struct cw_analysis an;
	char *paths[] = {log};
	assert_int_equal(cw_timeline_init(&tl), 0);
	assert_int_equal(cw_timeline_load(&tl, paths, 1, NULL, stderr), 0);
	assert_int_equal(cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an), 0);
	struct cw_report_in in = {.tl = &tl, .a = &an};
	assert_int_equal(cw_report_html(out, &in, err, sizeof(err)), 0);
	f = fopen(out, "r");
	char *page = calloc(1, 1 << 20);
	size_t n = fread(page, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(n > 0);
	assert_null(strstr(page, "<script"));
	assert_null(strstr(page, "<img"));
	assert_null(strstr(page, "<b>"));
	assert_null(strstr(page, "<i>"));
	assert_non_null(strstr(page, "&lt;script&gt;x"));
	/* exactly the svg elements we drew: two opened, two closed */
	int open = 0, close = 0;
	for (char *p = page; (p = strstr(p, "<svg")); p++)
		open++;
	for (char *p = page; (p = strstr(p, "</svg>")); p++)
		close++;
	assert_int_equal(open, 2);
	assert_int_equal(close, 2);
	/* no network: nothing to fetch */
	assert_null(strstr(page, "http://www.w3.org/1999"));
	assert_null(strstr(page, "src=\""));
	assert_null(strstr(page, "href=\""));
	free(page);
	unlink(out);
	unlink(log);
	rmdir(dir);
	cw_analysis_free(&an);
	cw_timeline_free(&tl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_lines_named_and_skipped),
		cmocka_unit_test(test_bad_lines_do_not_stop_the_analysis),
		cmocka_unit_test(test_stream_edge_cases),
		cmocka_unit_test(test_parse_ts),
		cmocka_unit_test(test_parse_when),
		cmocka_unit_test(test_parse_when_range),
		cmocka_unit_test(test_out_of_range_numbers),
		cmocka_unit_test(test_oom_null_pstart_read),
		cmocka_unit_test(test_text_safe),
		cmocka_unit_test(test_json_shape_every_log),
		cmocka_unit_test(test_json_values),
		cmocka_unit_test(test_html_escape),
		cmocka_unit_test(test_html_no_symlink),
		cmocka_unit_test(test_html_hostile_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
