/* Unit tests for user/broker/redisurl.c: every URL form, kombu's defaults, hostile URLs, the
 * password file, and error messages that never leak a password (even from URLs that don't
 * parse). The redaction rules themselves are tested in test_redact.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/redisurl.h"

static void parse_ok(const char *url, struct cw_redis_url *u)
{
	char err[512] = "";
	int rc = cw_redis_url_parse(url, u, err, sizeof(err));
	if (rc)
		fail_msg("%s: unexpected error: %s", url, err);
}

/* Must fail with a message; the message must not contain secret (when given). */
static void parse_bad(const char *url, const char *secret)
{
	struct cw_redis_url u;
	char err[512] = "";
	int rc = cw_redis_url_parse(url, &u, err, sizeof(err));
	if (rc == 0) {
		cw_redis_url_free(&u);
		fail_msg("%.80s: parsed, expected an error", url ? url : "(null)");
	}
	assert_int_equal(rc, -EINVAL);
	assert_true(strlen(err) > 10);
	assert_null(strchr(err, '\n'));
	if (secret && strstr(err, secret))
		fail_msg("error for a hostile URL leaks the password: %s", err);
	/* u is zeroed on failure: freeing it again is harmless */
	cw_redis_url_free(&u);
}

static void test_tcp_forms(void **state)
{
	struct cw_redis_url u;
	(void)state;

	parse_ok("redis://localhost:6379/0", &u);
	assert_int_equal(u.kind, CW_REDIS_TCP);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	assert_null(u.user);
	assert_null(u.password);
	cw_redis_url_free(&u);

	parse_ok("redis://10.1.2.3:6380/15", &u);
	assert_string_equal(u.host, "10.1.2.3");
	assert_int_equal(u.port, 6380);
	assert_int_equal(u.db, 15);
	cw_redis_url_free(&u);

	parse_ok("redis://:secret@redis.example.com:1/3", &u);
	assert_string_equal(u.host, "redis.example.com");
	assert_int_equal(u.port, 1);
	assert_null(u.user);
	assert_string_equal(u.password, "secret");
	cw_redis_url_free(&u);

	/* Redis 6 ACL user, percent-escapes in both parts */
	parse_ok("redis://al%69ce:s3cr%40t%3A%2F%25@h/2", &u);
	assert_string_equal(u.user, "alice");
	assert_string_equal(u.password, "s3cr@t:/%");
	assert_string_equal(u.host, "h");
	assert_int_equal(u.db, 2);
	cw_redis_url_free(&u);

	/* a user without a password: kept, no AUTH */
	parse_ok("redis://bob@h", &u);
	assert_string_equal(u.user, "bob");
	assert_null(u.password);
	cw_redis_url_free(&u);

	/* an unescaped '@' in the password: the last '@' ends userinfo, as in urllib */
	parse_ok("redis://:p@ss@h:7/1", &u);
	assert_string_equal(u.password, "p@ss");
	assert_string_equal(u.host, "h");
	cw_redis_url_free(&u);

	parse_ok("REDIS://H_1.example-x:2/3", &u);
	assert_string_equal(u.host, "H_1.example-x");
	assert_int_equal(u.port, 2);
	cw_redis_url_free(&u);

	parse_ok("redis://h:00080/007", &u);
	assert_int_equal(u.port, 80);
	assert_int_equal(u.db, 7);
	cw_redis_url_free(&u);

	parse_ok("redis://h:65535/2147483647", &u);
	assert_int_equal(u.port, 65535);
	assert_int_equal(u.db, 2147483647);
	cw_redis_url_free(&u);
}

static void test_ipv6(void **state)
{
	struct cw_redis_url u;
	char where[128];
	(void)state;

	parse_ok("redis://[::1]:6390/1", &u);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 6390);
	assert_int_equal(u.db, 1);
	cw_redis_url_where(&u, where, sizeof(where));
	assert_string_equal(where, "[::1]:6390 db 1");
	cw_redis_url_free(&u);

	parse_ok("redis://u:p@[fe80::1:2]", &u);
	assert_string_equal(u.host, "fe80::1:2");
	assert_int_equal(u.port, 6379);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.password, "p");
	cw_redis_url_free(&u);

	parse_ok("redis://[::ffff:127.0.0.1]:1/", &u);
	assert_string_equal(u.host, "::ffff:127.0.0.1");
	cw_redis_url_free(&u);
}

static void test_query(void **state)
{
	struct cw_redis_url u;
	(void)state;

	parse_ok("redis://h/?db=4", &u);
	assert_int_equal(u.db, 4);
	cw_redis_url_free(&u);

	/* the query's db wins, as in redis-py */
	parse_ok("redis://h/1?db=5", &u);
	assert_int_equal(u.db, 5);
	cw_redis_url_free(&u);

	parse_ok("redis://h?password=p%26w&db=2", &u);
	assert_string_equal(u.password, "p&w");
	assert_int_equal(u.db, 2);
	cw_redis_url_free(&u);

	/* Celery's and redis-py's own parameters are not ours: ignored */
	parse_ok("redis://h:1/3?socket_timeout=3&health_check_interval=&x", &u);
	assert_int_equal(u.db, 3);
	cw_redis_url_free(&u);

	parse_ok("redis://h/2#fragment", &u);
	assert_int_equal(u.db, 2);
	cw_redis_url_free(&u);
}

static void test_unix_forms(void **state)
{
	struct cw_redis_url u;
	char where[128];
	(void)state;

	parse_ok("unix:///run/redis/redis.sock", &u);
	assert_int_equal(u.kind, CW_REDIS_UNIX);
	assert_string_equal(u.path, "/run/redis/redis.sock");
	assert_int_equal(u.db, 0);
	assert_null(u.host);
	cw_redis_url_where(&u, where, sizeof(where));
	assert_string_equal(where, "/run/redis/redis.sock db 0");
	cw_redis_url_free(&u);

	parse_ok("unix:///tmp/r.sock?db=2", &u);
	assert_string_equal(u.path, "/tmp/r.sock");
	assert_int_equal(u.db, 2);
	cw_redis_url_free(&u);

	parse_ok("unix://:pw@/tmp/r.sock?db=1", &u);
	assert_string_equal(u.password, "pw");
	assert_int_equal(u.db, 1);
	cw_redis_url_free(&u);

	parse_ok("unix://u:pw@/tmp/r.sock?password=other", &u);
	assert_string_equal(u.user, "u");
	assert_string_equal(u.password, "other");
	cw_redis_url_free(&u);

	/* kombu's spellings */
	parse_ok("redis+socket:///tmp/r%20x.sock?virtual_host=3", &u);
	assert_string_equal(u.path, "/tmp/r x.sock");
	assert_int_equal(u.db, 3);
	cw_redis_url_free(&u);

	parse_ok("socket:///tmp/r.sock", &u);
	assert_string_equal(u.path, "/tmp/r.sock");
	cw_redis_url_free(&u);
}

static void test_defaults(void **state)
{
	struct cw_redis_url u;
	bool env;
	char *d;
	(void)state;

	/* kombu: an empty host is localhost, an empty port 6379, no path db 0 */
	parse_ok("redis://", &u);
	assert_string_equal(u.host, "localhost");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	cw_redis_url_free(&u);

	/* empty user and password are no user and no password (no AUTH "") */
	parse_ok("redis://:@", &u);
	assert_string_equal(u.host, "localhost");
	assert_null(u.user);
	assert_null(u.password);
	cw_redis_url_free(&u);

	parse_ok("redis://h:/", &u);
	assert_int_equal(u.port, 6379);
	cw_redis_url_free(&u);

	unsetenv("CELERY_BROKER_URL");
	d = cw_redis_url_default(&env);
	assert_string_equal(d, CW_REDIS_DEFAULT_URL);
	assert_false(env);
	free(d);

	setenv("CELERY_BROKER_URL", "", 1);
	d = cw_redis_url_default(&env);
	assert_string_equal(d, CW_REDIS_DEFAULT_URL);
	assert_false(env);
	free(d);

	setenv("CELERY_BROKER_URL", "redis://e:1/2", 1);
	d = cw_redis_url_default(&env);
	assert_string_equal(d, "redis://e:1/2");
	assert_true(env);
	free(d);

	/* kombu failover list: the first URL */
	setenv("CELERY_BROKER_URL", "redis://a:1/2;redis://b:3/4", 1);
	d = cw_redis_url_default(NULL);
	assert_string_equal(d, "redis://a:1/2");
	free(d);
	unsetenv("CELERY_BROKER_URL");

	parse_ok(CW_REDIS_DEFAULT_URL, &u);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 6379);
	assert_int_equal(u.db, 0);
	cw_redis_url_free(&u);
}

static void test_hostile(void **state)
{
	char *big;
	(void)state;

	parse_bad(NULL, NULL);
	parse_bad("", NULL);
	parse_bad("localhost:6379", NULL);
	parse_bad("redis:/h", NULL);
	parse_bad("://h", NULL);
	parse_bad("amqp://guest:guest@h//", "guest:guest");
	parse_bad("http://h/", NULL);
	parse_bad("redis-sentinel://h:26379", NULL);

	/* ports */
	parse_bad("redis://h:0", NULL);
	parse_bad("redis://h:65536", NULL);
	parse_bad("redis://h:99999", NULL);
	parse_bad("redis://h:99999999999999999999999", NULL);
	parse_bad("redis://h:abc", NULL);
	parse_bad("redis://h:-1", NULL);
	parse_bad("redis://h:+1", NULL);
	parse_bad("redis://h: 1", NULL);
	parse_bad("redis://h:1x/0", NULL);
	parse_bad("redis://h:1:2/0", NULL);

	/* databases */
	parse_bad("redis://h/-1", NULL);
	parse_bad("redis://h/abc", NULL);
	parse_bad("redis://h/99999999999", NULL);
	parse_bad("redis://h/2147483648", NULL);
	parse_bad("redis://h/1/2", NULL);
	parse_bad("redis://h/ 1", NULL);
	parse_bad("redis://h/0?db=x", NULL);
	parse_bad("redis://h/0?db=", NULL);
	parse_bad("unix:///tmp/s?db=-3", NULL);

	/* escapes */
	parse_bad("redis://:Xq9%zzW@h", "Xq9");
	parse_bad("redis://:Xq9%4@h", "Xq9");
	parse_bad("redis://:Xq9%@h", "Xq9");
	parse_bad("redis://u%g1:p@h", NULL);
	parse_bad("redis://:pa%00ss@h", "pa%00ss");
	parse_bad("redis://u%00x:pw@h", NULL);
	parse_bad("redis://h?password=a%zz", NULL);
	parse_bad("unix:///tmp/a%00b.sock", NULL);

	/* hosts */
	parse_bad("redis://a b:1", NULL);
	parse_bad("redis://a\tb", NULL);
	parse_bad("redis://h%41st", NULL);
	parse_bad("redis://::1:6379", NULL);
	parse_bad("redis://[::1:6379", NULL);
	parse_bad("redis://[]:1", NULL);
	parse_bad("redis://[zz::1]:1", NULL);
	parse_bad("redis://[127.0.0.1]:1", NULL);
	parse_bad("redis://[::1]x", NULL);
	parse_bad("redis://[::1]:0", NULL);

	/* unix */
	parse_bad("unix://", NULL);
	parse_bad("unix:///", NULL);
	parse_bad("unix://?db=1", NULL);
	parse_bad("unix://host/tmp/s", NULL);
	parse_bad("unix://:pw@", "pw@");

	/* TLS: a clear refusal */
	{
		struct cw_redis_url u;
		char err[512];
		assert_int_equal(cw_redis_url_parse("rediss://:topsecret@h:6380/0", &u, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "TLS"));
		assert_non_null(strstr(err, "not supported"));
		assert_null(strstr(err, "topsecret"));
	}

	/* 10 KB URLs: refused before parsing, whatever is in them */
	big = malloc(10 * 1024 + 64);
	strcpy(big, "redis://:");
	memset(big + 9, 'p', 10 * 1024);
	strcpy(big + 9 + 10 * 1024, "@h:1/0");
	parse_bad(big, "pppppppp");
	strcpy(big, "redis://");
	memset(big + 8, 'a', 10 * 1024);
	big[8 + 10 * 1024] = '\0';
	parse_bad(big, NULL);
	free(big);

	/* just under the limit, but a host longer than DNS allows */
	big = malloc(400);
	strcpy(big, "redis://");
	memset(big + 8, 'a', 300);
	big[308] = '\0';
	parse_bad(big, NULL);
	free(big);

	/* a unix path longer than sun_path */
	big = malloc(300);
	strcpy(big, "unix:///");
	memset(big + 8, 's', 200);
	big[208] = '\0';
	parse_bad(big, NULL);
	free(big);
}

/* A long password is legal (Redis allows them): only the URL length limit applies. */
static void test_long_password(void **state)
{
	struct cw_redis_url u;
	char *url = malloc(4200);
	(void)state;

	strcpy(url, "redis://:");
	memset(url + 9, 'x', 3000);
	strcpy(url + 9 + 3000, "@h/1");
	parse_ok(url, &u);
	assert_int_equal(strlen(u.password), 3000);
	cw_redis_url_free(&u);
	free(url);
}

/* The redaction rules are tested in test_redact.c; this is the NUL-terminated wrapper. */
static void test_redacted_wrapper(void **state)
{
	const char *url = "redis://:hunter2@h:1/0", *want = "redis://:***@h:1/0";
	size_t n = strlen(want);
	char r[64];
	(void)state;

	assert_int_equal(cw_redis_url_redacted(url, r, sizeof(r)), n);
	assert_string_equal(r, want);
	assert_int_equal(cw_redis_url_redacted(url, NULL, 0), n);	/* length query */
	/* a short buffer gets a prefix of the redacted text, never of the URL */
	for (size_t len = 1; len <= n; len++) {
		char small[64];
		cw_redis_url_redacted(url, small, len);
		assert_int_equal(strlen(small), len - 1);
		assert_memory_equal(small, want, len - 1);
	}
	assert_int_equal(cw_redis_url_redacted(NULL, r, sizeof(r)), 0);
	assert_string_equal(r, "");
}

/* errors for URLs that carry a password but fail to parse never quote it */
static void test_error_no_leak(void **state)
{
	(void)state;

	parse_bad("redis://:hunter2@h:abc/0", "hunter2");
	parse_bad("redis://:hunter2@h/xyz", "hunter2");
	parse_bad("redis://:hun/ter2@h/0", "ter2");
	parse_bad("redis://:hun/ter2@h/0", "hun/");
	parse_bad("redis://:hunter2@[::1/0", "hunter2");
	parse_bad("redis://u:hunter2@h:99999", "hunter2");
	parse_bad("rediss://u:hunter2@h", "hunter2");
	parse_bad("ftp://u:hunter2@h", "hunter2");
	parse_bad("redis://:hunter2%00@h", "hunter2");
	parse_bad("redis://h/0?password=hunter2&db=x", "hunter2");
	parse_bad("unix://:hunter2@host/tmp/s", "hunter2");

	/* the one rule set: an '@' in a query password ends the userinfo too (the message
	 * showed "redis://h:6379/x?password=***" before) */
	char err[512] = "";
	struct cw_redis_url u;
	assert_int_equal(cw_redis_url_parse("redis://h:6379/x?password=p@ss", &u, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "Redis URL redis://h:***: "));
	assert_null(strstr(err, "p@ss"));
}

static char *write_tmp(const char *content, size_t n)
{
	char *path = strdup("/tmp/cw-test-pw-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, n), (ssize_t)n);
	close(fd);
	return path;
}

static void pwfile_ok(const char *content, size_t n, const char *expect)
{
	char *path = write_tmp(content, n), *pw = NULL, err[256];

	if (cw_redis_read_password_file(path, &pw, err, sizeof(err)))
		fail_msg("password file: %s", err);
	assert_string_equal(pw, expect);
	free(pw);
	unlink(path);
	free(path);
}

static void pwfile_bad(const char *content, size_t n)
{
	char *path = write_tmp(content, n), *pw = NULL, err[256] = "";

	assert_true(cw_redis_read_password_file(path, &pw, err, sizeof(err)) < 0);
	assert_null(pw);
	assert_non_null(strstr(err, path));
	unlink(path);
	free(path);
}

static void test_password_file(void **state)
{
	char *pw = NULL, err[256], *big;
	(void)state;

	pwfile_ok("hunter2\n", 8, "hunter2");
	pwfile_ok("hunter2", 7, "hunter2");
	pwfile_ok("hunter2\r\n", 9, "hunter2");
	pwfile_ok("hunter2\nsecond line\n", 20, "hunter2");
	pwfile_ok(" sp ace \n", 9, " sp ace ");	/* only the newline is stripped */
	pwfile_ok("p@ss:w/rd%zz\n", 13, "p@ss:w/rd%zz");	/* no percent-decoding */
	pwfile_bad("", 0);
	pwfile_bad("\n", 1);
	pwfile_bad("\r\n", 2);
	pwfile_bad("hun\0ter\n", 8);

	big = malloc(5000);
	memset(big, 'x', 5000);
	pwfile_bad(big, 5000);
	free(big);

	assert_int_equal(cw_redis_read_password_file("/nonexistent/cw/pw", &pw, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/cw/pw"));
	assert_int_equal(cw_redis_read_password_file("/tmp", &pw, err, sizeof(err)), -EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_forms),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_unix_forms),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_long_password),
		cmocka_unit_test(test_redacted_wrapper),
		cmocka_unit_test(test_error_no_leak),
		cmocka_unit_test(test_password_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
