/* String set: open-addressing hash table of pointers into an arena of copies. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strset.h"

struct cw_strset_chunk {
	struct cw_strset_chunk *next;
	size_t used, cap;
	char data[];
};

uint64_t cw_fnv1a(const char *s, size_t n)
{
	uint64_t h = 14695981039346656037ULL;	/* FNV-1a 64-bit offset basis */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static char *arena_copy(struct cw_strset *set, const char *s, size_t n)
{
	struct cw_strset_chunk *c = set->chunks;

	if (!c || c->cap - c->used < n + 1) {
		size_t cap = n + 1 > 16384 ? n + 1 : 16384;
		c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = set->chunks;
		set->chunks = c;
	}
	char *p = c->data + c->used;
	memcpy(p, s, n);
	p[n] = 0;
	c->used += n + 1;
	return p;
}

/* The slot holding s[0..n), or the empty slot where it would go. */
static size_t find_slot(const struct cw_strset *set, const char *s, size_t n)
{
	size_t i = cw_fnv1a(s, n) & (set->cap - 1);

	for (; set->slot[i]; i = (i + 1) & (set->cap - 1))
		if (strnlen(set->slot[i], n + 1) == n && !memcmp(set->slot[i], s, n))
			return i;
	return i;
}

static int grow(struct cw_strset *set)
{
	size_t ncap = set->cap ? set->cap * 2 : 16;
	const char **old = set->slot;
	size_t ocap = set->cap;

	set->slot = calloc(ncap, sizeof(*set->slot));
	if (!set->slot) {
		set->slot = old;
		return -ENOMEM;
	}
	set->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			set->slot[find_slot(set, old[i], strlen(old[i]))] = old[i];
	free(old);
	return 0;
}

const char *cw_strset_get(const struct cw_strset *set, const char *s, size_t n)
{
	if (!set->n)
		return NULL;
	return set->slot[find_slot(set, s, n)];
}

static int insert(struct cw_strset *set, const char *s, size_t n, const char **stored)
{
	if ((set->n + 1) * 2 > set->cap && grow(set))
		return -ENOMEM;
	size_t i = find_slot(set, s, n);
	if (set->slot[i]) {
		*stored = set->slot[i];
		return 0;
	}
	char *copy = arena_copy(set, s, n);
	if (!copy)
		return -ENOMEM;
	set->slot[i] = *stored = copy;
	set->n++;
	return 1;
}

const char *cw_strset_intern(struct cw_strset *set, const char *s, size_t n)
{
	const char *stored = NULL;

	return insert(set, s, n, &stored) < 0 ? NULL : stored;
}

int cw_strset_add(struct cw_strset *set, const char *s, size_t n)
{
	const char *stored;

	return insert(set, s, n, &stored);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **cw_strset_sorted(const struct cw_strset *set)
{
	const char **v = malloc((set->n + 1) * sizeof(*v));
	size_t k = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < set->cap; i++)
		if (set->slot[i])
			v[k++] = set->slot[i];
	qsort(v, k, sizeof(*v), cmp_str);
	v[k] = NULL;
	return v;
}

void cw_strset_free(struct cw_strset *set)
{
	while (set->chunks) {
		struct cw_strset_chunk *c = set->chunks;
		set->chunks = c->next;
		free(c);
	}
	free(set->slot);
	set->slot = NULL;
	set->cap = set->n = 0;
}
