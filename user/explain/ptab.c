/* The timeline's hash tables; see ptab.h. */
#include <errno.h>
#include <stdlib.h>

#include "explain/ptab.h"

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static uint64_t pkey_hash(const void *a, int64_t b, int64_t c)
{
	return mix64((uint64_t)(uintptr_t)a ^ mix64((uint64_t)b * 31 + (uint64_t)c));
}

/* The slot holding (a, b, c), or the empty slot where it would go (s has cap slots). */
static size_t ptab_slot(const struct pslot *s, size_t cap, const void *a, int64_t b, int64_t c)
{
	size_t j = pkey_hash(a, b, c) & (cap - 1);

	while (s[j].v >= 0 && !(s[j].a == a && s[j].b == b && s[j].c == c))
		j = (j + 1) & (cap - 1);
	return j;
}

static int ptab_grow(struct cw_ptab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct pslot *ns = malloc(ncap * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < ncap; i++)
		ns[i].v = -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->s[i].v >= 0)
			ns[ptab_slot(ns, ncap, t->s[i].a, t->s[i].b, t->s[i].c)] = t->s[i];
	free(t->s);
	t->s = ns;
	t->cap = ncap;
	return 0;
}

int cw_ptab_get(const struct cw_ptab *t, const void *a, int64_t b, int64_t c)
{
	if (!t->cap)
		return -1;
	return t->s[ptab_slot(t->s, t->cap, a, b, c)].v;
}

int cw_ptab_put(struct cw_ptab *t, const void *a, int64_t b, int64_t c, int v)
{
	if ((t->n + 1) * 2 > t->cap && ptab_grow(t))
		return -ENOMEM;
	struct pslot *s = &t->s[ptab_slot(t->s, t->cap, a, b, c)];
	if (s->v < 0)
		t->n++;
	*s = (struct pslot){a, b, c, v};
	return 0;
}

/* Backward-shift deletion: later slots of the same probe run move up into the hole, so
 * lookups never need tombstones. */
void cw_ptab_del(struct cw_ptab *t, const void *a, int64_t b, int64_t c)
{
	if (!t->cap)
		return;
	size_t mask = t->cap - 1, hole = ptab_slot(t->s, t->cap, a, b, c);

	if (t->s[hole].v < 0)
		return;
	t->n--;
	for (size_t j = (hole + 1) & mask; t->s[j].v >= 0; j = (j + 1) & mask) {
		size_t home = pkey_hash(t->s[j].a, t->s[j].b, t->s[j].c) & mask;
		/* j may move to hole only if its home is not in (hole, j] (cyclically) */
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			t->s[hole] = t->s[j];
			hole = j;
		}
	}
	t->s[hole].v = -1;
}

void cw_ptab_free(struct cw_ptab *t)
{
	if (t)
		free(t->s);
	free(t);
}
