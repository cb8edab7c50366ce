/* The one URL redaction rule set (identity/redact.c): process arguments and broker URLs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "identity/redact.h"

static const char *r(const char *s)
{
	static char out[1024];
	size_t n = cw_redact_arg(s, strlen(s), out, sizeof(out) - 1);
	out[n] = '\0';
	return out;
}

typedef size_t (*redact_fn)(const char *s, size_t n, char *out, size_t cap);

/* expect (when given) is the whole result of fn; secret (when given) must not be in it. */
static void check_with(redact_fn fn, const char *url, const char *expect, const char *secret)
{
	char res[512];
	size_t n = fn(url, strlen(url), res, sizeof(res) - 1);

	assert_true(n < sizeof(res));
	res[n] = '\0';
	assert_int_equal(fn(url, strlen(url), NULL, 0), n);	/* length query */
	if (expect)
		assert_string_equal(res, expect);
	if (secret && strstr(res, secret))
		fail_msg("redacted %s still holds %s: %s", url, secret, res);
	/* a short buffer gets a prefix of the redacted text, never of the URL */
	for (size_t len = 0; len < n; len++) {
		char small[512];
		memset(small, '#', sizeof(small));
		assert_int_equal(fn(url, strlen(url), small, len), n);
		assert_memory_equal(small, res, len);
		assert_int_equal(small[len], '#');
	}
}

static void check_redacted(const char *url, const char *expect, const char *secret)
{
	check_with(cw_redact_url, url, expect, secret);
}

/* text cut at its end (argv_truncated) */
static void check_cut(const char *url, const char *expect, const char *secret)
{
	check_with(cw_redact_truncated, url, expect, secret);
}

static void test_urls(void **state)
{
	(void)state;
	assert_string_equal(r("redis://:s3cret@127.0.0.1:6379/3"), "redis://:***@127.0.0.1:6379/3");
	assert_string_equal(r("--broker=amqp://user:pa@ss@mq/vhost"), "--broker=amqp://user:***@mq/vhost");
	assert_string_equal(r("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
	assert_string_equal(r("amqp://guest@mq//"), "amqp://guest@mq//");	/* a user alone stays */
	assert_string_equal(r("plain -Q low"), "plain -Q low");
	assert_string_equal(r("://"), "://");
	assert_string_equal(r("x://:@"), "x://:***@");
	assert_string_equal(r("sqla+postgresql://u:p@db/x?sslmode=require"), "sqla+postgresql://u:***@db/x?sslmode=require");
	/* '@' after the authority with no ':' before it: nothing looks like a password */
	assert_string_equal(r("http://host/a@c"), "http://host/a@c");
}

static void test_redaction(void **state)
{
	(void)state;

	check_redacted("redis://:hunter2@h:1/0", "redis://:***@h:1/0", "hunter2");
	check_redacted("redis://bob:hunter2@h", "redis://bob:***@h", "hunter2");
	check_redacted("redis://bob:@h", "redis://bob:***@h", NULL);
	check_redacted("redis://h:1/0", "redis://h:1/0", NULL);
	check_redacted("redis://bob@h:1/0", "redis://bob@h:1/0", NULL);
	check_redacted("redis://[::1]:6379/0", "redis://[::1]:6379/0", NULL);
	check_redacted("unix://:pw12@/tmp/s?db=1", "unix://:***@/tmp/s?db=1", "pw12");
	check_redacted("unix:///tmp/a@b.sock", "unix:///tmp/a@b.sock", NULL);
	check_redacted("redis://h/0?password=hunter2&db=1", "redis://h/0?password=***", "hunter2");
	check_redacted("redis://h/0?db=1&PASSWORD=hunter2", "redis://h/0?db=1&PASSWORD=***", "hunter2");
	check_redacted("redis://h/0?xpassword=1", "redis://h/0?xpassword=1", NULL);
	check_redacted("", "", NULL);

	/* malformed passwords: unescaped @ / ? # & : must be hidden entirely */
	check_redacted("redis://:hu@nter2@h", NULL, "nter2");
	check_redacted("redis://:hu@nter2@h", NULL, "hu@");
	check_redacted("redis://:hunt/er2@h/0", NULL, "er2");
	check_redacted("redis://:hunt/er2@h/0", NULL, "hunt");
	check_redacted("redis://:hunt?er2@h", NULL, "er2");
	check_redacted("redis://:hunt#er2@h", NULL, "hunt");
	check_redacted("redis://u:hu:nt:er@h", NULL, "nt:er");
	check_redacted("redis://h/0?password=a&b@c", NULL, "&b");
	check_redacted("redis://:a%zzbcd@h", NULL, "a%zzbcd");
	check_redacted("user:hunter2@h", NULL, "hunter2");

	/* a URL far over the parser's limit is still redacted whole */
	char *big = malloc(20100), out[64];
	strcpy(big, "redis://:");
	memset(big + 9, 'Z', 20000);
	strcpy(big + 9 + 20000, "@h/0");
	assert_int_equal(cw_redact_url(big, strlen(big), out, sizeof(out)), 16);
	assert_memory_equal(out, "redis://:***@h/0", 16);
	free(big);

	/* every awkward byte in a password, raw and escaped: never in the output */
	static const char *const pw[] = { "s3cret", "p@ss", "p:w:d", "a/b", "q?r", "f#g", "x&y=z",
					  "per%cent", "sp ace", "\"quote\\" };
	for (size_t i = 0; i < sizeof(pw) / sizeof(pw[0]); i++) {
		char url[256];
		snprintf(url, sizeof(url), "redis://user:%s@host:6379/3", pw[i]);
		check_redacted(url, NULL, pw[i]);
		snprintf(url, sizeof(url), "redis://:%s@host", pw[i]);
		check_redacted(url, NULL, pw[i]);
		snprintf(url, sizeof(url), "redis://host/0?password=%s", pw[i]);
		check_redacted(url, NULL, pw[i]);
		snprintf(url, sizeof(url), "unix://u:%s@/run/r.sock?db=1", pw[i]);
		check_redacted(url, NULL, pw[i]);
	}
}

/* Outputs that changed when the two rule sets became one (each hides more than before). */
static void test_stricter_than_before(void **state)
{
	(void)state;
	/* arguments: rule 2 now runs to the last '@' of the argument, not of the authority */
	check_redacted("redis://:a@h/0;redis://:b@h2/0", "redis://:***@h2/0", "a@h/0");
	check_redacted("http://host/a:b@c", "http://host/a:***@c", ":b@");
	check_redacted("redis://:pa/ss@h/0", "redis://:***@h/0", "pa/ss");
	check_redacted("redis://:p w@h/0", "redis://:***@h/0", "p w");
	check_redacted("-b redis://:pw@h/0 -n w1@%h", "-b redis://:***@%h", "pw");
	/* arguments: no "://" needed, and rule 1 (?password=) applies to them too */
	check_redacted("user:pw@host", "user:***@host", "pw");
	check_redacted("--result-backend=redis://h/0?password=pw", "--result-backend=redis://h/0?password=***", "pw");
	/* broker URLs: rule 2 reads the text before rule 1 hides the query, so an '@' in a
	 * query password ends the userinfo (it did not when rule 1 ran first) */
	check_redacted("redis://h:6379/0?password=p@ss", "redis://h:***", "p@ss");
	check_redacted("redis://:pw@h/0?password=a@b", "redis://:***", "a@b");
	/* and the one case the old argument rule hid that the old URL rule showed */
	check_redacted("?x redis://u:pw&password=q@host", "?x redis://u:***", "pw");
}

static void test_argbuf_keeps_separators(void **state)
{
	(void)state;
	const char in[] = "celery\0-b\0redis://:pw@h/0\0worker";
	char out[128];
	size_t n = cw_redact_argbuf(in, sizeof(in) - 1, out, sizeof(out));
	const char want[] = "celery\0-b\0redis://:***@h/0\0worker";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
	/* trailing NUL kept, capacity respected */
	const char in2[] = "a\0redis://:longpassword@h\0";
	n = cw_redact_argbuf(in2, sizeof(in2) - 1, out, 5);
	assert_true(n <= 5);
}

/* argv cut by the kernel before the '@' of a URL with credentials: the password's start
 * is all that is left, and there is no '@' for rule 2 to find. */
static void test_cut_before_at(void **state)
{
	(void)state;
	check_cut("redis://user:secr", "redis://***", "secr");
	check_cut("redis://:hunt", "redis://***", "hunt");
	check_cut("redis://:", "redis://***", NULL);
	check_cut("--broker=amqp://guest:gu", "--broker=amqp://***", ":gu");
	/* a cut host:port cannot be told from a cut user:password: hidden as well */
	check_cut("redis://host:63", "redis://***", NULL);
	/* the cut URL is the last one: a whole one before it keeps its own redaction */
	check_cut("redis://:a@h/0 redis://u:sec", "redis://:***@h/0 redis://***", "sec");
	check_cut("redis://h:1/0 redis://u:sec", "redis://h:1/0 redis://***", "sec");
	/* a query password runs to the end already; together they are one span */
	check_cut("redis://h/0?password=hun", "redis://h/0?password=***", "hun");
	check_cut("redis://h/0?password=x redis://u:s", "redis://h/0?password=***", NULL);
	check_cut("redis://u:p?password=x", "redis://***", "p?");
	/* nothing to hide: no ':' after the "://", an '@' left, or no "://" at all */
	check_cut("redis://host/0", "redis://host/0", NULL);
	check_cut("redis://u@host:63", "redis://u@host:63", NULL);
	check_cut("redis://:pw@h:6379/0", "redis://:***@h:6379/0", "pw");
	check_cut("at 12:30", "at 12:30", NULL);
	check_cut("", "", NULL);
	/* whole text keeps showing host:port (the rule is for cut text only) */
	check_redacted("redis://host:6379", "redis://host:6379", NULL);
}

static void check_argbuf_cut(const char *in, size_t len, const char *want, size_t wlen)
{
	char out[256];
	size_t n = cw_redact_argbuf_truncated(in, len, out, sizeof(out));

	assert_int_equal(n, wlen);
	assert_memory_equal(out, want, n);
}

/* In a cut argument buffer only the last argument was cut. */
static void test_argbuf_cut(void **state)
{
	(void)state;
	const char in[] = "celery\0-b\0redis://h:6379/0\0redis://user:se";
	const char want[] = "celery\0-b\0redis://h:6379/0\0redis://***";
	check_argbuf_cut(in, sizeof(in) - 1, want, sizeof(want) - 1);
	/* trailing NULs (a terminator, setproctitle's padding) do not hide the last argument */
	const char in2[] = "celery\0redis://:hunter\0\0\0";
	const char want2[] = "celery\0redis://***\0\0\0";
	check_argbuf_cut(in2, sizeof(in2) - 1, want2, sizeof(want2) - 1);
	/* the arguments before the last are whole */
	const char in3[] = "a\0redis://h:1/0\0b";
	check_argbuf_cut(in3, sizeof(in3) - 1, in3, sizeof(in3) - 1);
	check_argbuf_cut("", 0, "", 0);
	check_argbuf_cut("\0\0", 2, "\0\0", 2);
}

static const char *words(const char *s)
{
	static char out[1024];
	size_t n = cw_redact_words(s, strlen(s), out, sizeof(out) - 1);
	out[n] = '\0';
	return out;
}

/* A setproctitle title is the command line joined by spaces: the argv rule run over all of
 * it hid "worker_low@vm:MainProcess] ... -n worker_low" as if it were a password. */
static void test_title_word_by_word(void **state)
{
	const char *title = "[celeryd: worker_low@vm:MainProcess] -active- (worker -A app "
			    "-n worker_low@%h -Q low_priority)";

	(void)state;
	assert_string_equal(words(title), title);
	assert_string_equal(words("[celeryd: w@vm:MainProcess] -active- (worker "
				  "-b redis://:s3cret@10.0.0.5:6379/0 -n w@%h)"),
			    "[celeryd: w@vm:MainProcess] -active- (worker "
			    "-b redis://:***@10.0.0.5:6379/0 -n w@%h)");
	assert_string_equal(words("Cannot connect to redis://u:pw@h:6379//: refused."),
			    "Cannot connect to redis://u:***@h:6379//: refused.");
	/* a short buffer: a prefix of the result, never past cap */
	char small[8];
	assert_int_equal(cw_redact_words("redis://u:pw@h", 14, small, sizeof(small)), sizeof(small));
	assert_memory_equal(small, "redis://", 8);
}

/* Found by tests/fuzz/fuzz_redisurl (corpus file redact-query-after-userinfo-q): a '?'
 * inside the userinfo's password was taken for the start of the query, so the real query's
 * "?password=" was not at the start of that "query" nor after a '&', and was shown. The
 * broker URL parser reads the query after the host and uses that password. */
static void test_question_mark_in_userinfo(void **state)
{
	(void)state;
	check_redacted("redis://:a?b@host/0?password=secret", "redis://:***@host/0?password=***",
		       "secret");
	check_redacted("redis://u:p?x@h:6379/0?db=2&password=secret", NULL, "secret");
	check_redacted("-b=redis://:x?y@h/0?password=secret", NULL, "secret");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_redaction),
		cmocka_unit_test(test_stricter_than_before),
		cmocka_unit_test(test_argbuf_keeps_separators),
		cmocka_unit_test(test_cut_before_at),
		cmocka_unit_test(test_argbuf_cut),
		cmocka_unit_test(test_title_word_by_word),
		cmocka_unit_test(test_question_mark_in_userinfo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
