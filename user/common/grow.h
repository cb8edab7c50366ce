/* A growable array's capacity, doubled as needed: one helper for the timeline's arrays. */
#ifndef CW_GROW_H
#define CW_GROW_H

#include <stddef.h>

/* Make *arr hold at least need elements of elem bytes (capacity *cap, doubled from 64).
 * 0, or -ENOMEM with *arr and *cap unchanged. */
int cw_grow(void **arr, int *cap, int need, size_t elem);

#endif
