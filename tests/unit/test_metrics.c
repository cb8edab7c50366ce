/* Prometheus metrics (user/metrics/): the exposition text of a snapshot (each family's shape,
 * unknowns left out, hostile label values), process_* parsing, line types, addresses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "common/utf8.h"
#include "log/eventlog.h"
#include "metrics/feed.h"
#include "metrics/metrics.h"
#include "metrics/procself.h"
#include "metrics/server.h"

static const struct cw_metrics_count events[] = {{"exit", 3}, {"sample", 12}};
static const struct cw_metrics_count lost[] = {{"exec", 0}, {"tracked_map_full", 2}};

static char *render(const struct cw_metrics_snapshot *s)
{
	size_t len = 99;
	char *t = cw_metrics_render(s, &len);

	assert_non_null(t);
	assert_int_equal(len, strlen(t));
	return t;
}

static void want_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("missing line: %s\nin:\n%s", line, text);
}

static int count_lines_with(const char *text, const char *prefix)
{
	int n = 0;

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		n += !strncmp(p, prefix, strlen(prefix));
	return n;
}

static int alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int digit(char c)
{
	return c >= '0' && c <= '9';
}

/* One sample line as the format says: name, optional {k="v",...}, a space, a number. */
static int check_sample(const char *l, size_t n)
{
	size_t i = 0;

	if (!n || !(l[0] == '_' || l[0] == ':' || alpha(l[0])))
		return -1;
	while (i < n && (l[i] == '_' || l[i] == ':' || alpha(l[i]) || digit(l[i])))
		i++;
	if (i < n && l[i] == '{') {
		for (i++; i < n && l[i] != '}';) {
			size_t k = i;
			while (i < n && (l[i] == '_' || alpha(l[i]) || digit(l[i])))
				i++;
			if (i == k || i + 1 >= n || l[i] != '=' || l[i + 1] != '"')
				return -2;
			for (i += 2; i < n && l[i] != '"';) {
				if (l[i] == '\\') {
					if (i + 1 >= n || !strchr("\\\"n", l[i + 1]))
						return -3;
					i += 2;
					continue;
				}
				size_t u = cw_utf8_decode((const unsigned char *)l + i, n - i, NULL);
				if (!u)
					return -4;
				i += u;
			}
			if (i >= n)
				return -5;
			i++;
			if (i < n && l[i] == ',')
				i++;
		}
		if (i >= n)
			return -6;
		i++;
	}
	if (i >= n || l[i] != ' ')
		return -7;
	char num[64], *end;
	if (n - i - 1 >= sizeof(num) || n - i - 1 == 0)
		return -8;
	memcpy(num, l + i + 1, n - i - 1);
	num[n - i - 1] = '\0';
	strtod(num, &end);
	return *end ? -9 : 0;
}

static void check_format(const char *text)
{
	const char *p = text;

	while (*p) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		size_t n = (size_t)(nl - p);
		if (!strncmp(p, "# HELP ", 7) || !strncmp(p, "# TYPE ", 7))
			assert_int_equal(memchr(p, '\\', n) == NULL, 1);
		else if (check_sample(p, n))
			fail_msg("bad sample line (%d): %.*s", check_sample(p, n), (int)n, p);
		p = nl + 1;
	}
}

/* promtool, where installed (Debian's prometheus package), as a second opinion. */
static void promtool_accepts(const char *text)
{
	if (access("/usr/bin/promtool", X_OK))
		return;
	FILE *f = popen("/usr/bin/promtool check metrics >/dev/null 2>&1", "w");
	assert_non_null(f);
	fputs(text, f);
	int st = pclose(f);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("promtool check metrics refused:\n%s", text);
}

static void test_all_families(void **state)
{
	static const struct cw_metrics_queue q[] = {
		{"celery", 5, 2, "ok", 1}, {"low_priority", 19334, 0, "no_consumer", -1},
	};
	static const struct cw_metrics_worker w[] = {{"celery@web1", 1, 4}, {"w2@web1", 0, -1}};
	static const struct cw_metrics_death d[] = {{"celery@web1", "oom_kill", 2}};
	struct cw_metrics_snapshot s = {
		.queues = q, .nqueues = 2, .workers = w, .nworkers = 2, .deaths = d, .ndeaths = 1,
		.events = events, .nevents = 2, .lost = lost, .nlost = 2, .broker_up = 1,
		.broker_sample_duration_seconds = 0.0021, .broker_unacked = 3,
		.version = "1.2", .kernel = "6.1.0",
	};
	char *t;

	(void)state;
	t = render(&s);
	want_line(t, "# TYPE celerywatch_queue_depth gauge");
	want_line(t, "celerywatch_queue_depth{queue=\"celery\"} 5");
	want_line(t, "celerywatch_queue_depth{queue=\"low_priority\"} 19334");
	want_line(t, "celerywatch_queue_consumers{queue=\"low_priority\"} 0");
	want_line(t, "celerywatch_queue_verdict{queue=\"low_priority\",verdict=\"no_consumer\"} 1");
	want_line(t, "celerywatch_queue_verdict{queue=\"low_priority\",verdict=\"ok\"} 0");
	assert_int_equal(count_lines_with(t, "celerywatch_queue_verdict{"), 12);
	assert_int_equal(count_lines_with(t, "celerywatch_queue_verdict{queue=\"celery\""), 6);
	want_line(t, "celerywatch_queue_unacked{queue=\"celery\"} 1");
	assert_int_equal(count_lines_with(t, "celerywatch_queue_unacked{"), 1);
	want_line(t, "# TYPE celerywatch_worker_up gauge");
	want_line(t, "celerywatch_worker_up{worker=\"w2@web1\"} 0");
	want_line(t, "celerywatch_worker_pool_processes{worker=\"celery@web1\"} 4");
	assert_int_equal(count_lines_with(t, "celerywatch_worker_pool_processes{"), 1);
	want_line(t, "# TYPE celerywatch_deaths_total counter");
	want_line(t, "celerywatch_deaths_total{worker=\"celery@web1\",kind=\"oom_kill\"} 2");
	want_line(t, "# TYPE celerywatch_events_total counter");
	want_line(t, "celerywatch_events_total{type=\"exit\"} 3");
	want_line(t, "celerywatch_events_lost_total{type=\"tracked_map_full\"} 2");
	want_line(t, "celerywatch_broker_up 1");
	want_line(t, "celerywatch_broker_sample_duration_seconds 0.002100");
	want_line(t, "celerywatch_broker_unacked 3");
	want_line(t, "celerywatch_build_info{version=\"1.2\",kernel=\"6.1.0\"} 1");
	/* one HELP and one TYPE per family */
	assert_int_equal(count_lines_with(t, "# TYPE celerywatch_queue_verdict "), 1);
	assert_int_equal(count_lines_with(t, "# HELP "), count_lines_with(t, "# TYPE "));
	assert_int_equal(count_lines_with(t, "# TYPE "), 13);
	check_format(t);
	promtool_accepts(t);
	free(t);
}

/* What nobody measured is absent, never 0. */
static void test_unknown_left_out(void **state)
{
	static const struct cw_metrics_queue q[] = {{"celery", -1, -1, NULL, -1}, {"b", 7, -1, NULL, -1}};
	struct cw_metrics_snapshot s = {.queues = q, .nqueues = 2, .broker_up = -1,
					.broker_sample_duration_seconds = 0.5, .broker_unacked = 4};
	char *t;

	(void)state;
	t = render(&s);
	want_line(t, "celerywatch_queue_depth{queue=\"b\"} 7");
	assert_null(strstr(t, "queue=\"celery\""));
	assert_null(strstr(t, "consumers"));
	assert_null(strstr(t, "verdict"));
	assert_null(strstr(t, "unacked"));
	assert_null(strstr(t, "celerywatch_broker"));
	assert_null(strstr(t, "build_info"));
	assert_null(strstr(t, "worker"));
	free(t);

	struct cw_metrics_snapshot empty = {.broker_up = 0, .broker_sample_duration_seconds = -1,
					    .broker_unacked = -1};
	t = render(&empty);
	assert_string_equal(t, "# HELP celerywatch_broker_up 1 when the last broker sample succeeded.\n"
			       "# TYPE celerywatch_broker_up gauge\ncelerywatch_broker_up 0\n");
	free(t);
}

/* Names with any bytes: escaped or replaced, never a broken line or a duplicate series. */
static void test_hostile_names(void **state)
{
	static const struct cw_metrics_queue q[] = {
		{"a\"b", 1, 1, "ok", -1},
		{"back\\slash", 2, -1, NULL, -1},
		{"new\nline} 99\nceleryw_forged 1", 3, -1, NULL, -1},
		{"bad\xff\xfe utf8 \xc3(", 4, -1, NULL, -1},
		{"bad\xfe\xff utf8 \xc3(", 5, -1, NULL, -1},	/* the same once sanitised */
		{"\xed\xa0\x80surrogate \xc0\xaf overlong", 6, -1, NULL, -1},
		{"ctl\r\t\x01 é 日本 🙂 {}=,#", 7, -1, NULL, -1},
		{"", 8, -1, NULL, -1},
		{"x", 9, -1, "not_a_verdict", -1},
	};
	static const struct cw_metrics_worker w[] = {{"w\"\\\n@\xff", 1, 2}, {"w\"\\\n@\xfe", 0, 3}};
	static const struct cw_metrics_death d[] = {
		{"w\n", "sig\"kill", 1}, {"w\n", "sig\"kill", 2},
		/* the worker/kind split differs: no duplicate */
		{"a\"b", "c", 3}, {"a", "b\"c", 4},
	};
	struct cw_metrics_snapshot s = {.queues = q, .nqueues = 9, .workers = w, .nworkers = 2,
					.deaths = d, .ndeaths = 4, .broker_up = -1,
					.version = "v\"1\n", .kernel = "k\\\xff"};
	char *t;

	(void)state;
	t = render(&s);
	want_line(t, "celerywatch_queue_depth{queue=\"a\\\"b\"} 1");
	want_line(t, "celerywatch_queue_depth{queue=\"back\\\\slash\"} 2");
	want_line(t, "celerywatch_queue_depth{queue=\"new\\nline} 99\\nceleryw_forged 1\"} 3");
	want_line(t, "celerywatch_queue_depth{queue=\"bad\xef\xbf\xbd\xef\xbf\xbd utf8 \xef\xbf\xbd(\"} 4");
	assert_null(strstr(t, "} 5\n"));	/* the duplicate is left out */
	want_line(t, "celerywatch_queue_depth{queue=\"ctl\r\t\x01 é 日本 🙂 {}=,#\"} 7");
	want_line(t, "celerywatch_queue_depth{queue=\"\"} 8");
	/* an unknown verdict is no verdict of the list: every series 0 */
	want_line(t, "celerywatch_queue_verdict{queue=\"x\",verdict=\"ok\"} 0");
	want_line(t, "celerywatch_worker_up{worker=\"w\\\"\\\\\\n@\xef\xbf\xbd\"} 1");
	want_line(t, "celerywatch_deaths_total{worker=\"w\\n\",kind=\"sig\\\"kill\"} 1");
	assert_int_equal(count_lines_with(t, "celerywatch_worker_up{"), 1);
	assert_int_equal(count_lines_with(t, "celerywatch_worker_pool_processes{"), 1);
	assert_int_equal(count_lines_with(t, "celerywatch_deaths_total{"), 3);
	want_line(t, "celerywatch_deaths_total{worker=\"a\\\"b\",kind=\"c\"} 3");
	want_line(t, "celerywatch_deaths_total{worker=\"a\",kind=\"b\\\"c\"} 4");
	want_line(t, "celerywatch_build_info{version=\"v\\\"1\\n\",kernel=\"k\\\\\xef\xbf\xbd\"} 1");
	assert_null(strstr(t, "\nceleryw_forged"));
	check_format(t);
	promtool_accepts(t);
	free(t);
}

/* Each sample line's name and labels appear once: a duplicate series fails the scrape. */
static void check_unique(const char *text)
{
	size_t n = 0, cap = 64;
	char **seen = malloc(cap * sizeof(*seen));

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n'), *sp = p;
		if (*p != '#') {
			/* the series ends at the last space of the line (values have none) */
			for (const char *q = p; q < nl; q++)
				if (*q == ' ')
					sp = q;
			char *key = strndup(p, (size_t)(sp - p));
			for (size_t i = 0; i < n; i++)
				if (!strcmp(seen[i], key))
					fail_msg("duplicate series: %s", key);
			if (n == cap)
				seen = realloc(seen, (cap *= 2) * sizeof(*seen));
			seen[n++] = key;
		}
		p = nl + 1;
	}
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
	free(seen);
}

/* Random names over an alphabet of the dangerous bytes: the text always parses, never has
 * a duplicate series (a fixed seed: the same names on every run). */
static void test_random_names(void **state)
{
	static const char alphabet[] = "ab\\\"\n\r{}=, \x80\xbf\xc3\xa9\xe6\x97\xa5\xed\xa0\xf0\x9f\x99\x82\xfe\xff";
	enum { NQ = 12, LEN = 6 };
	char names[NQ][LEN + 1];
	struct cw_metrics_queue q[NQ];
	struct cw_metrics_worker w[NQ];
	struct cw_metrics_death d[NQ];
	unsigned seed = 12345;

	(void)state;
	for (int round = 0; round < 300; round++) {
		for (int i = 0; i < NQ; i++) {
			int len = (int)(rand_r(&seed) % (LEN + 1));
			for (int k = 0; k < len; k++)
				names[i][k] = alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)];
			names[i][len] = '\0';
			q[i] = (struct cw_metrics_queue){names[i], i, i % 2, cw_metrics_verdicts[i % 6], i};
			w[i] = (struct cw_metrics_worker){names[i], 1, i};
			d[i] = (struct cw_metrics_death){names[i], names[(i + 1) % NQ], 1};
		}
		struct cw_metrics_snapshot s = {.queues = q, .nqueues = NQ, .workers = w, .nworkers = NQ,
						.deaths = d, .ndeaths = NQ, .broker_up = 1,
						.broker_sample_duration_seconds = 0, .broker_unacked = 0,
						.version = names[0], .kernel = names[1]};
		char *t = render(&s);
		check_format(t);
		check_unique(t);
		if (round % 50 == 0)
			promtool_accepts(t);
		free(t);
	}
}

/* Thousands of queues: linear, and every one there. */
static void test_many_queues(void **state)
{
	enum { N = 4096 };
	struct cw_metrics_queue *q = calloc(N, sizeof(*q));
	char (*names)[16] = calloc(N, 16);
	struct cw_metrics_snapshot s = {.queues = q, .nqueues = N, .broker_up = 1,
					.broker_sample_duration_seconds = 0.001, .broker_unacked = -1};

	(void)state;
	for (int i = 0; i < N; i++) {
		snprintf(names[i], 16, "q%d", i);
		q[i] = (struct cw_metrics_queue){names[i], i, i % 3, cw_metrics_verdicts[i % 6], -1};
	}
	char *t = render(&s);
	assert_int_equal(count_lines_with(t, "celerywatch_queue_depth{"), N);
	assert_int_equal(count_lines_with(t, "celerywatch_queue_verdict{"), N * 6);
	free(t);
	free(q);
	free(names);
}

static void test_procself_stat(void **state)
{
	struct cw_procself p;
	const char *stat = "4242 (cel) (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 "
			   "12345 200000000 3000 18446744073709551615";

	(void)state;
	assert_int_equal(cw_procself_parse_stat(stat, 100, 4096, 1700000000, &p), 0);
	assert_true(p.cpu_seconds > 2.99 && p.cpu_seconds < 3.01);
	assert_true(p.start_time > 1700000123.44 && p.start_time < 1700000123.46);
	assert_int_equal(p.vsize, 200000000);
	assert_int_equal(p.rss, 3000 * 4096);
	assert_int_not_equal(cw_procself_parse_stat("4242 (cel S 1", 100, 4096, 0, &p), 0);
	assert_int_not_equal(cw_procself_parse_stat("1 (a) S 1 2", 100, 4096, 0, &p), 0);

	char buf[2048];
	assert_int_equal(cw_procself_read(&p), 0);
	assert_true(p.rss > 0 && p.open_fds >= 3 && p.max_fds > 0);
	size_t n = cw_procself_format(&p, buf, sizeof(buf));
	assert_true(n > 0 && n == strlen(buf));
	check_format(buf);
	want_line(buf, "# TYPE process_cpu_seconds_total counter");
	for (const char *m = "process_resident_memory_bytes\0process_virtual_memory_bytes\0"
			     "process_start_time_seconds\0process_open_fds\0process_max_fds\0"; *m; m += strlen(m) + 1)
		assert_int_equal(count_lines_with(buf, m), 1);
	assert_int_equal(cw_procself_format(&p, buf, 100), 0);
}

static void test_line_types(void **state)
{
	static const char *lines[][2] = {
		{"{\"v\":1,\"type\":\"exit\",\"ts\":\"x\"}", "exit"},
		{"{\"v\":2,\"type\":\"proc_sample\",\"ts\":\"x\"}", "proc_sample"},
		{"{\"v\":1,\"type\":\"exit_x\",\"ts\":\"x\"}", "other"},
		{"{\"v\":1,\"ts\":\"x\",\"type\":\"exit\"}", "other"},
		{"{\"v\":1,\"type\":\"exi", "other"},
		{"", "other"},
	};

	char t[32];

	(void)state;
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		cw_line_type(lines[i][0], strlen(lines[i][0]), t, sizeof(t));
		assert_string_equal(cw_feed_type_name(cw_feed_type(t)), lines[i][1]);
	}
}

static void test_addresses(void **state)
{
	static const char *good[] = {"127.0.0.1:9808", "0.0.0.0:1", "[::1]:9808", "[::]:65535",
				     "[fe80::1]:80"};
	static const char *bad[] = {"127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
				    "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:80x", ":9808", "::1:9808",
				    "[127.0.0.1]:80", "localhost:9808", "[::1:9808", "1.2.3:80", ""};
	struct sockaddr_storage ss;
	socklen_t sl;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (cw_metrics_parse_addr(good[i], &ss, &sl))
			fail_msg("refused %s", good[i]);
	assert_int_equal(cw_metrics_parse_addr("[::1]:9808", &ss, &sl), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9808);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!cw_metrics_parse_addr(bad[i], &ss, &sl))
			fail_msg("accepted %s", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_families),
		cmocka_unit_test(test_unknown_left_out),
		cmocka_unit_test(test_hostile_names),
		cmocka_unit_test(test_random_names),
		cmocka_unit_test(test_many_queues),
		cmocka_unit_test(test_procself_stat),
		cmocka_unit_test(test_line_types),
		cmocka_unit_test(test_addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
