/* A (pointer, int64, int64) -> int hash table (open addressing, linear probing): the
 * timeline's process, pid and name indexes. Keys compare by value; the pointer is an
 * interned string or any other stable address. */
#ifndef CW_PTAB_H
#define CW_PTAB_H

#include <stddef.h>
#include <stdint.h>

struct pslot {
	const void *a;
	int64_t b, c;
	int v;			/* -1: empty */
};

struct cw_ptab {
	struct pslot *s;
	size_t cap, n;
};

/* the value of (a, b, c), or -1 */
int cw_ptab_get(const struct cw_ptab *t, const void *a, int64_t b, int64_t c);
/* set (a, b, c) to v (>= 0). Returns 0, or -ENOMEM. */
int cw_ptab_put(struct cw_ptab *t, const void *a, int64_t b, int64_t c, int v);
/* remove (a, b, c) if there */
void cw_ptab_del(struct cw_ptab *t, const void *a, int64_t b, int64_t c);
/* frees t and its slots (t from calloc) */
void cw_ptab_free(struct cw_ptab *t);

#endif
