/* The reply budget (user/broker/replybudget.c): hiredis's reader charges every object it
 * builds, refuses the one that would go over before allocating it, and says it was the cap;
 * replies within the budget come out as hiredis builds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>

#include "broker/replybudget.h"

static redisReader *reader(struct cw_reply_budget *b)
{
	redisReader *r = redisReaderCreate();

	assert_non_null(r);
	cw_reply_budget_attach(r, b);
	return r;
}

static int feed_get(redisReader *r, const char *s, redisReply **out)
{
	void *rep = NULL;
	int rc;

	assert_int_equal(redisReaderFeed(r, s, strlen(s)), REDIS_OK);
	rc = redisReaderGetReply(r, &rep);
	*out = rep;
	return rc;
}

static void test_reply_within_budget_is_built(void **state)
{
	struct cw_reply_budget b;
	redisReader *r = reader(&b);
	redisReply *rep;

	(void)state;
	assert_int_equal(feed_get(r, "*3\r\n:7\r\n$2\r\nab\r\n$-1\r\n", &rep), REDIS_OK);
	assert_non_null(rep);
	assert_int_equal(rep->type, REDIS_REPLY_ARRAY);
	assert_int_equal(rep->elements, 3);
	assert_int_equal(rep->element[0]->integer, 7);
	assert_string_equal(rep->element[1]->str, "ab");
	assert_int_equal(rep->element[2]->type, REDIS_REPLY_NIL);
	assert_int_equal(b.left, CW_REPLY_BUDGET - 7);	/* the array 1 + 3, its elements 3 */
	assert_false(b.spent);
	freeReplyObject(rep);
	redisReaderFree(r);
}

static void test_huge_header_refused_before_allocation(void **state)
{
	struct cw_reply_budget b;
	redisReader *r = reader(&b);
	redisReply *rep;

	(void)state;
	/* 300 million elements: hiredis alone would calloc 2.4 GB here and wait for more */
	assert_int_equal(feed_get(r, "*300000000\r\n", &rep), REDIS_ERR);
	assert_null(rep);
	assert_true(b.spent);
	assert_int_equal(b.left, CW_REPLY_BUDGET);	/* nothing charged for the refused one */
	redisReaderFree(r);
}

static void test_nested_header_refused_parent_freed(void **state)
{
	struct cw_reply_budget b;
	redisReader *r = reader(&b);
	redisReply *rep;
	char buf[64];

	(void)state;
	snprintf(buf, sizeof(buf), "*2\r\n:1\r\n*%u\r\n", CW_REPLY_BUDGET);
	assert_int_equal(feed_get(r, buf, &rep), REDIS_ERR);	/* ASan: no leak of the parent */
	assert_true(b.spent);
	redisReaderFree(r);
}

static void test_many_small_replies_add_up(void **state)
{
	struct cw_reply_budget b;
	redisReader *r = reader(&b);
	redisReply *rep = NULL;
	size_t built = 0;
	int rc;

	(void)state;
	/* 4-byte integers: 64 MiB of them would be 16 million objects in one round trip */
	while ((rc = feed_get(r, ":1\r\n", &rep)) == REDIS_OK && rep) {
		freeReplyObject(rep);
		built++;
	}
	assert_int_equal(rc, REDIS_ERR);
	assert_int_equal(built, CW_REPLY_BUDGET);
	assert_true(b.spent);
	redisReaderFree(r);

	/* a new round trip on a new reader, or after a reset: the whole budget again */
	r = reader(&b);
	cw_reply_budget_reset(&b);
	assert_int_equal(feed_get(r, ":1\r\n", &rep), REDIS_OK);
	assert_non_null(rep);
	assert_false(b.spent);
	freeReplyObject(rep);
	redisReaderFree(r);
}

static void test_attached_twice_still_charges_once(void **state)
{
	struct cw_reply_budget b;
	redisReader *r = reader(&b);
	redisReply *rep;

	(void)state;
	cw_reply_budget_attach(r, &b);	/* must not wrap our own functions in themselves */
	assert_int_equal(feed_get(r, ":5\r\n", &rep), REDIS_OK);
	assert_int_equal(rep->integer, 5);
	assert_int_equal(b.left, CW_REPLY_BUDGET - 1);
	freeReplyObject(rep);
	redisReaderFree(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_within_budget_is_built),
		cmocka_unit_test(test_huge_header_refused_before_allocation),
		cmocka_unit_test(test_nested_header_refused_parent_freed),
		cmocka_unit_test(test_many_small_replies_add_up),
		cmocka_unit_test(test_attached_twice_still_charges_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
