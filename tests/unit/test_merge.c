/* The deaths ring merged into the shared one (user/capture/merge.c): a death is written
 * after everything of the shared ring that happened before it, and never lost. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "capture/merge.h"

static uint64_t out[256];
static size_t nout;

static int emit(void *ctx, const void *data, size_t size)
{
	(void)ctx;
	assert_true(size >= sizeof(struct cw_hdr));
	out[nout++] = ((const struct cw_hdr *)data)->ts_ns;
	return 0;
}

static struct cw_merge m;

static void rec(bool death, uint64_t ts)
{
	struct cw_exit e = {0};	/* the biggest record: size checks stay honest */
	e.hdr.type = death ? CW_EV_EXIT : CW_EV_SIGNAL;
	e.hdr.ts_ns = ts;
	if (death)
		cw_merge_death(&m, &e, sizeof(e));
	else
		cw_merge_event(&m, &e, sizeof(struct cw_signal));
}

static void test_signal_before_exit(void **state)
{
	(void)state;
	nout = 0;
	cw_merge_init(&m, emit, NULL);
	/* the consumer read the deaths ring first: exit (ts 20) is held until the signal (ts 10)
	 * that caused it and anything older is out; a later record (30) comes after it */
	rec(true, 20);
	assert_int_equal(nout, 0);
	rec(false, 10);
	rec(false, 30);
	cw_merge_flush(&m);
	assert_int_equal(nout, 3);
	assert_int_equal(out[0], 10);
	assert_int_equal(out[1], 20);
	assert_int_equal(out[2], 30);
}

static void test_flush_writes_all_in_order(void **state)
{
	(void)state;
	nout = 0;
	cw_merge_init(&m, emit, NULL);
	for (uint64_t i = 1; i <= 5; i++)
		rec(true, i);
	cw_merge_flush(&m);
	assert_int_equal(nout, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(out[i], i + 1);
	assert_int_equal(m.n, 0);
}

static void test_full_merge_never_drops(void **state)
{
	(void)state;
	nout = 0;
	cw_merge_init(&m, emit, NULL);
	for (uint64_t i = 1; i <= CW_MERGE_SLOTS + 10; i++)
		rec(true, i);
	assert_int_equal(nout, 10);	/* the oldest went out to make room */
	cw_merge_flush(&m);
	assert_int_equal(nout, CW_MERGE_SLOTS + 10);
	for (size_t i = 0; i < nout; i++)
		assert_int_equal(out[i], i + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signal_before_exit),
		cmocka_unit_test(test_flush_writes_all_in_order),
		cmocka_unit_test(test_full_merge_never_drops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
