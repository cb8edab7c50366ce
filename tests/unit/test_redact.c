/* URL credentials out of process arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static void test_urls(void **state)
{
	(void)state;
	assert_string_equal(r("redis://:s3cret@127.0.0.1:6379/3"), "redis://:***@127.0.0.1:6379/3");
	assert_string_equal(r("--broker=amqp://user:pa@ss@mq/vhost"), "--broker=amqp://user:***@mq/vhost");
	assert_string_equal(r("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
	assert_string_equal(r("amqp://guest@mq//"), "amqp://guest@mq//");	/* a user alone stays */
	assert_string_equal(r("redis://:a@h/0;redis://:b@h2/0"), "redis://:***@h/0;redis://:***@h2/0");
	assert_string_equal(r("plain -Q low"), "plain -Q low");
	assert_string_equal(r("://"), "://");
	assert_string_equal(r("x://:@"), "x://:***@");
	assert_string_equal(r("sqla+postgresql://u:p@db/x?sslmode=require"), "sqla+postgresql://u:***@db/x?sslmode=require");
	/* '@' after the authority (in a path) is not userinfo */
	assert_string_equal(r("http://host/a:b@c"), "http://host/a:b@c");
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_argbuf_keeps_separators),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
