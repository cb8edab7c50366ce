/* One JSON line as a flat, reused table of nodes: what the log reader asks of a parsed line
 * (members by key, array elements in order, scalars), without a tree of allocations per line.
 * Two producers fill it: simdjson's On-Demand walker (jflat_simd.cpp, the fast path) and
 * json-c (jflat_jsonc.c: lines simdjson refuses, and every line the reader skips, so that
 * messages stay json-c's). Strings are NUL-terminated copies: valid until the next reset. */
#ifndef CW_JFLAT_H
#define CW_JFLAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum cw_jtype { CW_J_NULL, CW_J_BOOL, CW_J_INT, CW_J_DOUBLE, CW_J_STRING, CW_J_OBJECT, CW_J_ARRAY };

/* Deeper lines go to json-c, whose own limit (32) then decides: same answer as before. */
#define CW_JFLAT_MAX_DEPTH 30

struct cw_jnode {
	uint8_t type;		/* enum cw_jtype */
	bool b;
	int32_t key;		/* members: the key's offset in strs; -1 otherwise */
	int32_t next;		/* next sibling; -1 */
	int32_t child, last;	/* objects and arrays: first and last child; -1 */
	int32_t text;		/* numbers from json-c: their text (for messages); -1 */
	union {
		int64_t i;	/* CW_J_INT (json-c's clamping: beyond int64 is INT64_MIN/MAX) */
		double d;	/* CW_J_DOUBLE */
		int32_t s;	/* CW_J_STRING: offset in strs */
	};
};

struct cw_jflat {
	struct cw_jnode *n;
	int32_t nn, ncap;
	char *strs;
	size_t slen, scap;
	/* the root's members by key hash (cw_jflat_index): the reader asks the root for some 30
	 * keys per line, and a scan of its members each time was most of the reading time */
	int32_t *idx;
	uint32_t *idxh;		/* each slot's key hash: most probes end without a strcmp */
	uint32_t idxcap;
	bool idx_built;
};

void cw_jflat_free(struct cw_jflat *f);
static inline void cw_jflat_reset(struct cw_jflat *f)
{
	f->nn = 0;
	f->slen = 0;
	f->idx_built = false;
}
/* A new node under parent (-1: the root), as member key[0..klen) (key NULL: an element).
 * Returns its index, or -1 when out of memory or the line is absurdly large. */
int32_t cw_jflat_add(struct cw_jflat *f, int32_t parent, const char *key, size_t klen, int type);
/* A NUL-terminated copy of s[0..n) in strs; its offset, or -1. */
int32_t cw_jflat_str(struct cw_jflat *f, const char *s, size_t n);
/* Index the root object's members for cw_jget, once the table is complete (lookups work
 * without it, by a scan). 0, or -1 when out of memory (then without it). */
int cw_jflat_index(struct cw_jflat *f);

/* ---- reading (node -1 is "absent" everywhere) ---- */
static inline int cw_jtype(const struct cw_jflat *f, int32_t i)
{
	return i < 0 ? -1 : f->n[i].type;
}
/* Member k of object o (the last one, as json-c keeps the last of duplicate keys); -1. */
int32_t cw_jget(const struct cw_jflat *f, int32_t o, const char *k);
/* The string, or NULL when i is not a string. */
const char *cw_jstr(const struct cw_jflat *f, int32_t i);
/* A number's text as json-c prints it ("?" for the fast path, which never reports it). */
const char *cw_jnumtext(const struct cw_jflat *f, int32_t i);
static inline int32_t cw_jfirst(const struct cw_jflat *f, int32_t i)
{
	return i < 0 ? -1 : f->n[i].child;
}
static inline int32_t cw_jnext(const struct cw_jflat *f, int32_t i)
{
	return f->n[i].next;
}

/* ---- producers: 0, or -1 (the line is then read by the other one, or refused) ---- */
struct cw_jsimd;
struct cw_jsimd *cw_jsimd_new(void);
void cw_jsimd_free(struct cw_jsimd *s);
/* Fills f from line[0..n) if it is one JSON object simdjson accepts, followed by nothing but
 * whitespace, not deeper than CW_JFLAT_MAX_DEPTH; -1 otherwise (f is then garbage). */
int cw_jsimd_parse(struct cw_jsimd *s, struct cw_jflat *f, const char *line, size_t n);

#ifdef __cplusplus
}
#endif

#endif
