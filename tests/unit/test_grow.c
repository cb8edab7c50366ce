/* Growable arrays (user/common/grow.c): doubling from the first capacity, exact zeroed
 * growth for flags, and nothing changed when the size cannot be represented. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "common/grow.h"

static void test_doubles_from_first(void **state)
{
	int *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(cw_grow_from((void **)&v, &cap, 1, sizeof(*v), 16), 0);
	assert_int_equal(cap, 16);
	for (int i = 0; i < 16; i++)
		v[i] = i;
	assert_int_equal(cw_grow_from((void **)&v, &cap, 16, sizeof(*v), 16), 0);
	assert_int_equal(cap, 16);	/* enough already: untouched */
	assert_int_equal(cw_grow_from((void **)&v, &cap, 17, sizeof(*v), 16), 0);
	assert_int_equal(cap, 32);
	assert_int_equal(cw_grow_from((void **)&v, &cap, 200, sizeof(*v), 16), 0);
	assert_int_equal(cap, 256);	/* doubled as often as needed, in one realloc */
	for (int i = 0; i < 16; i++)
		assert_int_equal(v[i], i);
	free(v);
}

static void test_overflow_leaves_array(void **state)
{
	char *v = NULL;
	size_t cap = 0;

	(void)state;
	assert_int_equal(cw_grow_from((void **)&v, &cap, 4, 1, 4), 0);
	char *was = v;
	assert_int_equal(cw_grow_from((void **)&v, &cap, SIZE_MAX / 2 + 2, 1, 4), -ENOMEM);
	assert_int_equal(cw_grow_from((void **)&v, &cap, SIZE_MAX / 8, 16, 4), -ENOMEM);
	assert_ptr_equal(v, was);
	assert_int_equal(cap, 4);
	free(v);
}

static void test_int_capacity_from_64(void **state)
{
	double *v = NULL;
	int cap = 0;

	(void)state;
	assert_int_equal(cw_grow((void **)&v, &cap, 1, sizeof(*v)), 0);
	assert_int_equal(cap, 64);
	assert_int_equal(cw_grow((void **)&v, &cap, 65, sizeof(*v)), 0);
	assert_int_equal(cap, 128);
	free(v);
}

static void test_zeroed_flags(void **state)
{
	bool *f = NULL;
	int n = 0;

	(void)state;
	assert_int_equal(cw_grow_zeroed((void **)&f, &n, 3, sizeof(*f)), 0);
	assert_int_equal(n, 3);
	f[0] = f[1] = f[2] = true;
	assert_int_equal(cw_grow_zeroed((void **)&f, &n, 2, sizeof(*f)), 0);
	assert_int_equal(n, 3);	/* never shrinks */
	assert_int_equal(cw_grow_zeroed((void **)&f, &n, 1000, sizeof(*f)), 0);
	assert_int_equal(n, 1000);
	assert_true(f[0] && f[1] && f[2]);
	for (int i = 3; i < 1000; i++)
		assert_false(f[i]);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doubles_from_first),
		cmocka_unit_test(test_overflow_leaves_array),
		cmocka_unit_test(test_int_capacity_from_64),
		cmocka_unit_test(test_zeroed_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
