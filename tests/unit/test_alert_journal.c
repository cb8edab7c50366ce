/* --alert-journal. Against the real journald when one runs here (sent, then read back with
 * journalctl), skipped with the reason when none does. Everywhere (as root): in a private
 * mount namespace, first no socket at all (counted as failed, never as sent), then a
 * datagram socket at journald's path that receives exactly the fields sd_journal_send put
 * on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "alert/alerts.h"
#include "common/timeutil.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

static struct cw_incident incident(const char *summary)
{
	return (struct cw_incident){
		.kind = CW_INC_VERDICT, .ts = 1764000000000000, .queue = "low_priority", .worker = "w1@host",
		.verdict = "no_consumer", .prev_verdict = "ok", .summary = summary,
		.json = "{\"kind\":\"verdict\",\"queue\":\"low_priority\",\"verdict\":\"no_consumer\"}", .priority = 3,
	};
}

static void send_through_thread(const struct cw_incident *inc, struct cw_alert_journal_stats *st)
{
	struct cw_alerts_opts o = {.journal = true};
	struct cw_alerts *a = NULL;
	struct cw_alerts_stats s;

	assert_int_equal(cw_alerts_new(&a, &o), 0);
	assert_int_equal(cw_alerts_fd(a), -1);	/* nothing for the loop to poll */
	cw_alerts_incident(a, inc);
	cw_alerts_stop(a, cw_clock_ns(CLOCK_MONOTONIC) + 2000000000ull);
	cw_alerts_stats(a, &s);
	assert_true(s.journal && !s.exec);
	*st = s.j;
	cw_alerts_free(a);
}

static void test_real_journald(void **state)
{
	(void)state;
	if (access(JOURNAL_SOCKET, W_OK)) {
		print_message("SKIP: journald is not running on this host (%s: %s): nothing to read back; "
			      "the wire format is checked by test_fake_journald_socket\n", JOURNAL_SOCKET, strerror(errno));
		skip();
	}
	char marker[96], cmd[256];
	snprintf(marker, sizeof(marker), "celerywatch unit test %d.%llu", getpid(),
		 (unsigned long long)cw_clock_ns(CLOCK_MONOTONIC));
	struct cw_incident inc = incident(marker);
	struct cw_alert_journal_stats st;
	send_through_thread(&inc, &st);
	assert_int_equal(st.sent, 1);
	assert_int_equal(st.failed, 0);

	snprintf(cmd, sizeof(cmd), "journalctl -t celerywatch -o json --since=-5min --no-pager 2>/dev/null");
	json_object *found = NULL;
	for (int tries = 0; tries < 30 && !found; tries++) {
		char line[65536];
		FILE *p = popen(cmd, "r");
		assert_non_null(p);
		while (!found && fgets(line, sizeof(line), p)) {
			json_object *o = json_tokener_parse(line), *m;
			if (o && json_object_object_get_ex(o, "MESSAGE", &m) && !strcmp(json_object_get_string(m), marker))
				found = o;
			else if (o)
				json_object_put(o);
		}
		pclose(p);
		if (!found)
			usleep(100000);
	}
	assert_non_null(found);
	static const char *const want[][2] = {
		{"PRIORITY", "3"}, {"SYSLOG_IDENTIFIER", "celerywatch"}, {"CELERYWATCH_KIND", "verdict"},
		{"CELERYWATCH_QUEUE", "low_priority"}, {"CELERYWATCH_WORKER", "w1@host"},
		{"CELERYWATCH_VERDICT", "no_consumer"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		json_object *v;
		assert_true(json_object_object_get_ex(found, want[i][0], &v));
		assert_string_equal(json_object_get_string(v), want[i][1]);
	}
	json_object_put(found);
}

/* In the child: the fields of one datagram, '\n'-separated NAME=value (all short, no
 * newline in a value: the plain form of the native protocol). Returns a failure or NULL. */
static const char *check_datagram(const char *buf, const struct cw_incident *inc)
{
	static char msg[256];
	char want[8][512];
	int n = 0;

	snprintf(want[n++], 512, "MESSAGE=%s\n", inc->summary);
	snprintf(want[n++], 512, "PRIORITY=%d\n", inc->priority);
	snprintf(want[n++], 512, "SYSLOG_IDENTIFIER=celerywatch\n");
	snprintf(want[n++], 512, "CELERYWATCH_KIND=verdict\n");
	snprintf(want[n++], 512, "CELERYWATCH_QUEUE=%s\n", inc->queue);
	snprintf(want[n++], 512, "CELERYWATCH_WORKER=%s\n", inc->worker);
	snprintf(want[n++], 512, "CELERYWATCH_VERDICT=%s\n", inc->verdict);
	snprintf(want[n++], 512, "CELERYWATCH_JSON=%s\n", inc->json);
	for (int i = 0; i < n; i++)
		if (!strstr(buf, want[i])) {
			snprintf(msg, sizeof(msg), "field missing: %.200s", want[i]);
			return msg;
		}
	return NULL;
}

/* The child's whole test; its exit status: 0 ok, 77 cannot make the namespace, 1 failed. */
static int fake_journald(void)
{
	struct cw_incident inc = incident("queue low_priority has no consumer");
	struct cw_alert_journal_stats st;
	struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = JOURNAL_SOCKET};
	char buf[8192];

	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("cwtest", "/run/systemd", "tmpfs", 0, "mode=0755"))
		return 77;
	/* no journald: counted as failed (ENOENT), never as sent */
	send_through_thread(&inc, &st);
	if (st.sent || st.failed != 1)
		return fprintf(stderr, "no socket: sent %llu failed %llu\n", (unsigned long long)st.sent,
			       (unsigned long long)st.failed), 1;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (mkdir("/run/systemd/journal", 0755) || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return fprintf(stderr, "fake journald: %s\n", strerror(errno)), 1;
	send_through_thread(&inc, &st);
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	if (st.sent != 1 || st.failed || n <= 0)
		return fprintf(stderr, "socket: sent %llu failed %llu recv %zd\n", (unsigned long long)st.sent,
			       (unsigned long long)st.failed, n), 1;
	buf[n] = '\0';
	const char *why = check_datagram(buf, &inc);
	if (why)
		return fprintf(stderr, "%s\ngot:\n%s", why, buf), 1;
	return 0;
}

static void test_fake_journald_socket(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(fake_journald());
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("SKIP: cannot make a private mount namespace (not root?)\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_journald),
		cmocka_unit_test(test_fake_journald_socket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
