/* Growable arrays: one helper for the doubling every array of records does, one for the
 * per-record flags kept beside them. */
#ifndef CW_GROW_H
#define CW_GROW_H

#include <stddef.h>

/* Make *arr hold at least need elements of elem bytes (capacity *cap, doubled from first).
 * 0, or -ENOMEM with *arr and *cap unchanged. */
int cw_grow_from(void **arr, size_t *cap, size_t need, size_t elem, size_t first);

/* The same for an int capacity, doubled from 64 (the timeline's arrays). */
int cw_grow(void **arr, int *cap, int need, size_t elem);

/* Make *arr hold exactly want elements of elem bytes when it holds fewer (*n), the new ones
 * zeroed: flags indexed like another array. 0, or -ENOMEM with *arr and *n unchanged. */
int cw_grow_zeroed(void **arr, int *n, int want, size_t elem);

#endif
