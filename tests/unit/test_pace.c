/* The record loop's pace on the ring buffers (user/cli/pace.c), on a real epoll: records
 * after a quiet spell are read at once; records that keep coming make the ring rest (its fd
 * out of epoll) until the pace's timer brings it back; a consume cut short by its budget,
 * or one that read nothing, never rests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli/pace.h"
#include "common/timeutil.h"

enum { RING = 1, TIMER = 2 };

static int ep, ring;
static struct cw_pace pace;

static int setup(void **state)
{
	(void)state;
	ep = epoll_create1(EPOLL_CLOEXEC);
	ring = eventfd(1, EFD_CLOEXEC);	/* always readable: a ring with records waiting */
	return ep < 0 || ring < 0 || cw_pace_init(&pace, ep, ring, RING, TIMER);
}

static int teardown(void **state)
{
	(void)state;
	cw_pace_close(&pace);
	close(ring);
	close(ep);
	return 0;
}

/* The tag epoll_wait reports within timeout_ms, or 0 for none. */
static uint32_t next_event(int timeout_ms)
{
	struct epoll_event ev;
	return epoll_wait(ep, &ev, 1, timeout_ms) == 1 ? ev.data.u32 : 0;
}

static uint64_t now(void)
{
	return cw_clock_ns(CLOCK_MONOTONIC);
}

static void test_quiet_ring_is_read_at_once(void **state)
{
	(void)state;
	cw_pace_consumed(&pace, now(), 3, false);	/* the first read after a quiet spell */
	assert_true(cw_pace_ring_ready(&pace));
	assert_int_equal(next_event(0), RING);
	cw_pace_consumed(&pace, now() + 20 * 1000000ULL, 1, false);	/* 20 ms later: quiet again */
	assert_int_equal(next_event(0), RING);
}

static void test_records_that_keep_coming_rest_until_the_timer(void **state)
{
	(void)state;
	uint64_t t = now();
	cw_pace_consumed(&pace, t, 2, false);
	cw_pace_consumed(&pace, t + 1000000ULL, 2, false);	/* 1 ms later: busy */
	assert_false(cw_pace_ring_ready(&pace));
	assert_int_equal(next_event(0), 0);	/* the ring's fd is out of epoll */
	assert_int_equal(next_event(1000), TIMER);	/* the rest ends by itself */
	cw_pace_timer(&pace);
	assert_true(cw_pace_ring_ready(&pace));
	assert_int_equal(next_event(0), RING);
}

static void test_budget_cut_or_empty_read_never_rests(void **state)
{
	(void)state;
	uint64_t t = now();
	cw_pace_consumed(&pace, t, 512, false);
	cw_pace_consumed(&pace, t + 1000, 512, true);	/* stopped at its budget: more wait */
	assert_true(cw_pace_ring_ready(&pace));
	assert_int_equal(next_event(0), RING);
	cw_pace_consumed(&pace, t + 2000, 0, false);	/* read nothing */
	assert_true(cw_pace_ring_ready(&pace));
	assert_int_equal(next_event(0), RING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quiet_ring_is_read_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_records_that_keep_coming_rest_until_the_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_budget_cut_or_empty_read_never_rests, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
