/* A set of strings: open addressing on FNV-1a, copies kept in an arena, O(1) per operation,
 * so hostile inputs with 100k names stay linear. The one string set of the code base (queue
 * names in argv, queues the broker knows, the explain side's interned strings). */
#ifndef CW_STRSET_H
#define CW_STRSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cw_strset_chunk;

struct cw_strset {
	const char **slot;	/* cap slots, NULL when empty */
	size_t cap, n;
	struct cw_strset_chunk *chunks;
};

#define CW_STRSET_INIT { 0 }

uint64_t cw_fnv1a(const char *s, size_t n);

/* The stored copy of s[0..n) (added if absent; the copy is NUL-terminated and lives until
 * cw_strset_free), or NULL when out of memory. */
const char *cw_strset_intern(struct cw_strset *set, const char *s, size_t n);
/* 1 added, 0 already there, -ENOMEM. */
int cw_strset_add(struct cw_strset *set, const char *s, size_t n);
/* The stored copy of s[0..n), or NULL if absent. */
const char *cw_strset_get(const struct cw_strset *set, const char *s, size_t n);
static inline bool cw_strset_has(const struct cw_strset *set, const char *s, size_t n)
{
	return cw_strset_get(set, s, n) != NULL;
}
/* The members in bytewise (strcmp) order: a malloc'd array of set->n pointers into the set
 * (NULL when out of memory; an empty set gives a non-NULL array). */
const char **cw_strset_sorted(const struct cw_strset *set);
/* Free everything; the set is empty and usable again. */
void cw_strset_free(struct cw_strset *set);

#endif
