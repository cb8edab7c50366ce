/* Discovery (broker/discover.h) and arrived/drained (broker/flow.h) without a broker:
 * replies built by hiredis's reader from wire bytes, as a broker (or an impostor) sends them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "broker/broker.h"
#include "broker/discover.h"
#include "broker/flow.h"

#define SEP "\x06\x16"

/* n replies parsed from wire; the caller frees them with free_all. */
static redisReply **parse(const char *wire, size_t len, size_t n)
{
	redisReader *r = redisReaderCreate();
	redisReply **rep = calloc(n, sizeof(*rep));

	assert_non_null(r);
	assert_int_equal(redisReaderFeed(r, wire, len), REDIS_OK);
	for (size_t i = 0; i < n; i++) {
		void *x = NULL;
		assert_int_equal(redisReaderGetReply(r, &x), REDIS_OK);
		assert_non_null(x);
		rep[i] = x;
	}
	redisReaderFree(r);
	return rep;
}
#define PARSE(w, n) parse(w, sizeof(w) - 1, n)

static void free_all(redisReply **rep, size_t n)
{
	for (size_t i = 0; i < n; i++)
		freeReplyObject(rep[i]);
	free(rep);
}

static void test_init_escapes_the_prefix(void **state)
{
	struct cw_disc d;
	(void)state;

	assert_int_equal(cw_disc_init(&d, "p*x:"), 0);
	assert_string_equal(d.pattern, "p\\*x:_kombu.binding.*");
	assert_string_equal(d.track_prefix, "p*x:_kombu.binding.");
	assert_string_equal(d.cursor, "0");
	assert_int_equal(d.dbsize, -1);
	cw_disc_free(&d);
}

static void test_scan_pass_and_cost(void **state)
{
	static const char mid[] = "*2\r\n$2\r\n17\r\n*2\r\n$20\r\n_kombu.binding.tasks\r\n"
				  "$6\r\nresult\r\n";
	static const char end[] = "*2\r\n$1\r\n0\r\n*1\r\n$28\r\n_kombu.binding.celery.pidbox\r\n";
	static const char err[] = "-NOPERM no permission\r\n";
	const redisReply *bad;
	struct cw_disc d;
	redisReply **r;
	(void)state;

	cw_disc_init(&d, NULL);
	r = PARSE(mid, 1);
	assert_int_equal(cw_disc_read_scan(&d, r[0], &bad), 0);
	free_all(r, 1);
	assert_string_equal(d.cursor, "17");
	assert_int_equal(d.passes, 0);
	assert_true(d.rebuild);
	assert_true(cw_strset_has(&d.keys, "_kombu.binding.tasks", 20));
	assert_int_equal(d.keys.n, 1);

	r = PARSE(end, 1);
	assert_int_equal(cw_disc_read_scan(&d, r[0], &bad), 0);
	free_all(r, 1);
	assert_int_equal(d.passes, 1);	/* back to "0": a whole pass */
	assert_int_equal(d.keys.n, 1);	/* the control exchange is left out */

	r = PARSE(err, 1);
	assert_int_equal(cw_disc_read_scan(&d, r[0], &bad), -EPROTO);
	assert_ptr_equal(bad, r[0]);
	free_all(r, 1);

	/* the budget: a pass every CW_DISC_PASS_S, held to 1% of a core at the measured cost */
	d.dbsize = 10000;
	d.key_cost_s = 1e-6;
	assert_int_equal(cw_disc_scan_budget(&d, 5.0), 12500);
	d.dbsize = 1000000;
	assert_int_equal(cw_disc_scan_budget(&d, 5.0), 50000);	/* 50 ms of 5 s */
	d.tracking = true;
	assert_int_equal(cw_disc_scan_budget(&d, 5.0), 5000);	/* the safety net: 0.1% */
	/* a slower broker measured: the budget shrinks at once */
	cw_disc_scan_cost(&d, 0.040, 10000);
	assert_true(d.key_cost_s > 2e-6);
	assert_true(cw_disc_scan_budget(&d, 5.0) < 2500);
	cw_disc_scan_cost(&d, 1.0, 10);		/* a tiny call tells nothing */
	assert_true(d.key_cost_s < 3e-6);
	assert_int_equal(cw_disc_step_count(50000), CW_DISC_STEP_MAX);
	assert_int_equal(cw_disc_step_count(5), CW_DISC_STEP_MIN);
	cw_disc_free(&d);
}

static void test_invalidation_messages(void **state)
{
	static const char sub[] = "*3\r\n$9\r\nsubscribe\r\n$20\r\n__redis__:invalidate\r\n:1\r\n";
	static const char msg[] = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*4\r\n"
				  "$19\r\np:_kombu.binding.ex\r\n$17\r\n_kombu.binding.ex\r\n"
				  "$30\r\np:_kombu.binding.celery.pidbox\r\n$17\r\np:_kombu.binding.\r\n";
	static const char flush[] = "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n*-1\r\n";
	static const char junk[] = "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n:5\r\n";
	static const char err[] = "-ERR unknown command\r\n";
	struct cw_disc d;
	redisReply **r;
	(void)state;

	cw_disc_init(&d, "p:");
	r = PARSE(sub, 1);
	assert_int_equal(cw_disc_read_invalidate(&d, r[0]), 0);
	free_all(r, 1);
	r = PARSE(msg, 1);
	assert_int_equal(cw_disc_read_invalidate(&d, r[0]), 1);
	free_all(r, 1);
	/* only the binding key under our prefix, not a control exchange, not an empty name */
	assert_int_equal(d.keys.n, 1);
	assert_true(cw_strset_has(&d.keys, "p:_kombu.binding.ex", 19));
	assert_true(d.rebuild);
	r = PARSE(flush, 1);
	assert_int_equal(cw_disc_read_invalidate(&d, r[0]), 1);
	free_all(r, 1);
	r = PARSE(junk, 1);
	assert_int_equal(cw_disc_read_invalidate(&d, r[0]), -EPROTO);
	free_all(r, 1);
	r = PARSE(err, 1);
	assert_int_equal(cw_disc_read_invalidate(&d, r[0]), -EPROTO);
	free_all(r, 1);
	cw_disc_free(&d);
}

static void test_round_reads_sets_and_forgets_gone_keys(void **state)
{
	static const char round[] = ":12345\r\n"
				    "*2\r\n$14\r\nrk" SEP SEP "newqueue\r\n$7\r\nno-sep!\r\n"
				    "*0\r\n"
				    "-LOADING Redis is loading\r\n"
				    "-WRONGTYPE Operation against a key\r\n";
	const char *keys[] = { "_kombu.binding.a", "_kombu.binding.b", "_kombu.binding.c",
			       "_kombu.binding.d" };
	struct cw_disc d;
	redisReply **r = PARSE(round, 5);
	(void)state;

	cw_disc_init(&d, NULL);
	for (int i = 0; i < 4; i++)
		cw_strset_add(&d.keys, keys[i], strlen(keys[i]));
	cw_strset_add(&d.found, "old", 3);
	d.rebuild = true;
	assert_int_equal(cw_disc_read_round(&d, keys, 4, r), 0);
	free_all(r, 5);
	assert_int_equal(d.dbsize, 12345);
	assert_false(d.rebuild);
	assert_int_equal(d.found.n, 1);
	assert_true(cw_strset_has(&d.found, "newqueue", 8));
	/* the empty set and the string are forgotten; the loading one is asked again */
	assert_int_equal(d.keys.n, 2);
	assert_true(cw_strset_has(&d.keys, "_kombu.binding.a", 16));
	assert_true(cw_strset_has(&d.keys, "_kombu.binding.c", 16));
	cw_disc_free(&d);
}

/* ---- arrived/drained ---- */

struct flow_fx {
	struct cw_flow f;
	struct cw_sample s;
};

/* One sample of queue "q" with these list depths; wire: the pipeline's replies as planned
 * from f (HLEN/ZCARD left out: flow does not read them). Returns cw_flow_read's result. */
static int flow_sample(struct flow_fx *x, const int64_t depth[CW_NPRIO], const char *wire,
		       size_t expect_cmds)
{
	const char *names[] = { "q" };
	const struct cw_flow_queue *prev[1];
	size_t n = cw_flow_plan(&x->f, names, 1, prev);
	redisReply **rep;

	assert_int_equal(n, expect_cmds);
	rep = parse(wire, strlen(wire), n);
	cw_sample_free(&x->s);
	memset(&x->s, 0, sizeof(x->s));
	x->s.queues = calloc(1, sizeof(*x->s.queues));
	x->s.nqueues = 1;
	x->s.redis_ok = true;
	x->s.queues[0].queue = strdup("q");
	for (int p = 0; p < CW_NPRIO; p++) {
		x->s.queues[0].by_priority[p] = depth[p];
		x->s.queues[0].depth += depth[p];
	}
	int rc = cw_flow_read(&x->f, names, 1, rep, &x->s);
	free_all(rep, n);
	return rc;
}

#define EMPTY3 ":0\r\n$-1\r\n:0\r\n$-1\r\n:0\r\n$-1\r\n"	/* lists 3, 6, 9: empty, no head */

static void assert_flow(const struct flow_fx *x, int64_t arrived, int64_t drained)
{
	assert_int_equal(x->s.queues[0].arrived, arrived);
	assert_int_equal(x->s.queues[0].drained, drained);
}

static void test_flow_exact_then_unknown(void **state)
{
	struct flow_fx x = { 0 };
	(void)state;

	/* first sample: nothing before it, heads remembered */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 1, 0, 0, 0 }, ":1\r\n$2\r\nh1\r\n" EMPTY3, 8), 0);
	assert_flow(&x, -1, -1);
	/* 50 pushed in front of h1: LPOS says 50, nothing taken */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 51, 0, 0, 0 },
				     ":51\r\n:50\r\n$2\r\nh2\r\n" EMPTY3, 9), 0);
	assert_flow(&x, 50, 0);
	/* 20 taken at the tail, 3 pushed: h2 is at 3 */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 34, 0, 0, 0 },
				     ":34\r\n:3\r\n$2\r\nh3\r\n" EMPTY3, 9), 0);
	assert_flow(&x, 3, 20);
	/* drained past h3: how many came and went cannot be known */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 2, 0, 0, 0 },
				     ":2\r\n$-1\r\n$2\r\nh4\r\n" EMPTY3, 9), 0);
	assert_flow(&x, -1, -1);
	/* a list that was empty and is not now: unknown as well */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 2, 1, 0, 0 },
				     ":2\r\n:0\r\n$2\r\nh4\r\n:1\r\n$2\r\np3\r\n:0\r\n$-1\r\n:0\r\n$-1\r\n",
				     9), 0);
	assert_flow(&x, -1, -1);
	/* two exact lists add up */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 3, 2, 0, 0 },
				     ":3\r\n:1\r\n$2\r\nh5\r\n:2\r\n:1\r\n$2\r\np4\r\n:0\r\n$-1\r\n:0\r\n$-1\r\n",
				     10), 0);
	assert_flow(&x, 2, 0);
	/* a message put back at the tail (kombu's restore): depth grew with no push seen */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 5, 2, 0, 0 },
				     ":5\r\n:0\r\n$2\r\nh5\r\n:2\r\n:0\r\n$2\r\np4\r\n:0\r\n$-1\r\n:0\r\n$-1\r\n",
				     10), 0);
	assert_flow(&x, -1, -1);
	cw_flow_free(&x.f);
	cw_sample_free(&x.s);
}

static void test_flow_quiet_lists_prove_nothing(void **state)
{
	struct flow_fx x = { 0 };
	(void)state;

	assert_int_equal(flow_sample(&x, (int64_t[]){ 0, 0, 0, 0 }, ":0\r\n$-1\r\n" EMPTY3, 8), 0);
	assert_int_equal(flow_sample(&x, (int64_t[]){ 0, 0, 0, 0 }, ":0\r\n$-1\r\n" EMPTY3, 8), 0);
	assert_flow(&x, -1, -1);	/* tasks may have come and gone between the two */
	cw_flow_free(&x.f);
	cw_sample_free(&x.s);
}

static void test_flow_big_head_and_old_redis(void **state)
{
	struct flow_fx x = { 0 };
	size_t big = CW_FLOW_HEAD_MAX + 1;
	char *wire = malloc(big + 64);
	(void)state;

	int off = sprintf(wire, ":1\r\n$%zu\r\n", big);
	memset(wire + off, 'x', big);
	strcpy(wire + off + big, "\r\n" EMPTY3);
	assert_int_equal(flow_sample(&x, (int64_t[]){ 1, 0, 0, 0 }, wire, 8), 0);
	free(wire);
	assert_null(x.f.v[0].head[0]);		/* not kept: no LPOS next time */
	assert_int_equal(x.f.bytes, 0);
	assert_int_equal(flow_sample(&x, (int64_t[]){ 2, 0, 0, 0 }, ":2\r\n$2\r\nh2\r\n" EMPTY3, 8), 0);
	assert_flow(&x, -1, -1);
	/* Redis before 6.0.6: LPOS is an unknown command; from then on neither LPOS nor LINDEX */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 2, 0, 0, 0 },
				     ":2\r\n-ERR unknown command 'LPOS'\r\n$2\r\nh2\r\n" EMPTY3, 9), 0);
	assert_flow(&x, -1, -1);
	assert_true(x.f.no_lpos);
	assert_int_equal(flow_sample(&x, (int64_t[]){ 2, 0, 0, 0 }, ":2\r\n:0\r\n:0\r\n:0\r\n", 4), 0);
	assert_flow(&x, -1, -1);
	cw_flow_free(&x.f);
	cw_sample_free(&x.s);
}

static void test_flow_hostile_counts(void **state)
{
	struct flow_fx x = { 0 };
	(void)state;

	assert_int_equal(flow_sample(&x, (int64_t[]){ 1, 0, 0, 0 }, ":1\r\n$2\r\nh1\r\n" EMPTY3, 8), 0);
	/* an LPOS past any list's length, a string instead of a count: unknown, no overflow */
	assert_int_equal(flow_sample(&x, (int64_t[]){ 1, 0, 0, 0 },
				     ":1\r\n:9223372036854775807\r\n$2\r\nh1\r\n" EMPTY3, 9), 0);
	assert_flow(&x, -1, -1);
	assert_int_equal(flow_sample(&x, (int64_t[]){ 1, 0, 0, 0 },
				     ":1\r\n$1\r\n0\r\n*1\r\n:1\r\n" EMPTY3, 9), 0);
	assert_flow(&x, -1, -1);
	assert_null(x.f.v[0].head[0]);		/* an array is no head */
	cw_flow_free(&x.f);
	cw_sample_free(&x.s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_escapes_the_prefix),
		cmocka_unit_test(test_scan_pass_and_cost),
		cmocka_unit_test(test_invalidation_messages),
		cmocka_unit_test(test_round_reads_sets_and_forgets_gone_keys),
		cmocka_unit_test(test_flow_exact_then_unknown),
		cmocka_unit_test(test_flow_quiet_lists_prove_nothing),
		cmocka_unit_test(test_flow_big_head_and_old_redis),
		cmocka_unit_test(test_flow_hostile_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
