/* See grow.h. */
#include "common/grow.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int cw_grow_from(void **arr, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t ncap = *cap ? *cap : (first ? first : 1);

	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return -ENOMEM;
		ncap *= 2;
	}
	if (elem && ncap > SIZE_MAX / elem)
		return -ENOMEM;
	void *p = realloc(*arr, ncap * elem);

	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

int cw_grow(void **arr, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap > 0 ? (size_t)*cap : 0;
	/* from 64: the first doubling of a capacity of 0 */
	int err = cw_grow_from(arr, &c, (size_t)need, elem, 64);

	if (err)
		return err;
	if (c > INT_MAX)	/* a realloc past INT_MAX elements is kept, the capacity clamped */
		c = INT_MAX;
	*cap = (int)c;
	return 0;
}

int cw_grow_zeroed(void **arr, int *n, int want, size_t elem)
{
	if (want <= *n)
		return 0;
	void *p = realloc(*arr, (size_t)want * elem);

	if (!p)
		return -ENOMEM;
	memset((char *)p + (size_t)*n * elem, 0, (size_t)(want - *n) * elem);
	*arr = p;
	*n = want;
	return 0;
}
