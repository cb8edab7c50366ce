/* The flat node table of one JSON line (jflat.h): appending while a producer walks a line,
 * and lookups for the reader. Memory grows to the longest line and is reused. */
#include <stdlib.h>
#include <string.h>

#include "log/jflat.h"

#define JFLAT_MAX_NODES (1 << 24)
#define JFLAT_MAX_STRS ((size_t)1 << 30)

void cw_jflat_free(struct cw_jflat *f)
{
	free(f->n);
	free(f->strs);
	free(f->idx);
	free(f->idxh);
	memset(f, 0, sizeof(*f));
}

int32_t cw_jflat_str(struct cw_jflat *f, const char *s, size_t n)
{
	if (n >= JFLAT_MAX_STRS - f->slen)
		return -1;
	if (f->slen + n + 1 > f->scap) {
		size_t cap = f->scap ? f->scap : 4096;
		while (cap < f->slen + n + 1)
			cap *= 2;
		char *p = realloc(f->strs, cap);
		if (!p)
			return -1;
		f->strs = p;
		f->scap = cap;
	}
	int32_t off = (int32_t)f->slen;
	memcpy(f->strs + off, s, n);
	f->strs[off + n] = 0;
	f->slen += n + 1;
	return off;
}

int32_t cw_jflat_add(struct cw_jflat *f, int32_t parent, const char *key, size_t klen, int type)
{
	int32_t key_off = -1;

	if (key && (key_off = cw_jflat_str(f, key, klen)) < 0)
		return -1;
	if (f->nn == f->ncap) {
		if (f->ncap >= JFLAT_MAX_NODES)
			return -1;
		int32_t cap = f->ncap ? f->ncap * 2 : 256;
		struct cw_jnode *p = realloc(f->n, (size_t)cap * sizeof(*p));
		if (!p)
			return -1;
		f->n = p;
		f->ncap = cap;
	}
	int32_t i = f->nn++;
	struct cw_jnode *nd = &f->n[i];
	memset(nd, 0, sizeof(*nd));
	nd->type = (uint8_t)type;
	nd->key = key_off;
	nd->next = nd->child = nd->last = nd->text = -1;
	if (parent >= 0) {
		struct cw_jnode *pa = &f->n[parent];
		if (pa->last >= 0)
			f->n[pa->last].next = i;
		else
			pa->child = i;
		pa->last = i;
	}
	return i;
}

static uint32_t key_hash(const char *k)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (*k)
		h = (h ^ (unsigned char)*k++) * 16777619u;
	return h;
}

/* The slot of key k (hash h) in the root's index, or the empty slot where it goes. */
static uint32_t idx_slot(const struct cw_jflat *f, const char *k, uint32_t h)
{
	uint32_t j = h & (f->idxcap - 1);

	while (f->idx[j] >= 0 && (f->idxh[j] != h || strcmp(f->strs + f->n[f->idx[j]].key, k)))
		j = (j + 1) & (f->idxcap - 1);
	return j;
}

int cw_jflat_index(struct cw_jflat *f)
{
	uint32_t need = 16;

	f->idx_built = false;
	if (f->nn < 1 || f->n[0].type != CW_J_OBJECT)
		return 0;
	for (int32_t c = f->n[0].child; c >= 0; c = f->n[c].next)
		need += 2;
	uint32_t cap = 16;
	while (cap < need)
		cap *= 2;
	if (cap > f->idxcap) {
		int32_t *p = realloc(f->idx, cap * sizeof(*p));
		if (p)
			f->idx = p;
		uint32_t *ph = realloc(f->idxh, cap * sizeof(*ph));
		if (ph)
			f->idxh = ph;
		if (!p || !ph)
			return -1;
		f->idxcap = cap;
	}
	memset(f->idx, 0xff, f->idxcap * sizeof(*f->idx));	/* -1 */
	for (int32_t c = f->n[0].child; c >= 0; c = f->n[c].next) {
		const char *k = f->strs + f->n[c].key;
		uint32_t h = key_hash(k), j = idx_slot(f, k, h);
		f->idx[j] = c;
		f->idxh[j] = h;
	}
	f->idx_built = true;
	return 0;
}

int32_t cw_jget(const struct cw_jflat *f, int32_t o, const char *k)
{
	int32_t found = -1;

	if (o < 0 || f->n[o].type != CW_J_OBJECT)
		return -1;
	if (o == 0 && f->idx_built)
		return f->idx[idx_slot(f, k, key_hash(k))];
	for (int32_t c = f->n[o].child; c >= 0; c = f->n[c].next) {
		const char *key = f->strs + f->n[c].key;
		if (key[0] == k[0] && !strcmp(key, k))	/* the first byte rules out most */
			found = c;
	}
	return found;
}

const char *cw_jstr(const struct cw_jflat *f, int32_t i)
{
	return i >= 0 && f->n[i].type == CW_J_STRING ? f->strs + f->n[i].s : NULL;
}

const char *cw_jnumtext(const struct cw_jflat *f, int32_t i)
{
	return i >= 0 && f->n[i].text >= 0 ? f->strs + f->n[i].text : "?";
}
