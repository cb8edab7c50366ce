/* pid -> identity table of the recorder; see proctable.h. */
#include "identity/proctable.h"

#include <stdlib.h>
#include <string.h>

void cw_ptable_init(struct cw_ptable *t)
{
	memset(t, 0, sizeof(*t));
}

void cw_ptable_free(struct cw_ptable *t)
{
	for (size_t i = 0; i < CW_PTABLE_BUCKETS; i++) {
		struct cw_pentry *e = t->buckets[i], *next;
		for (; e; e = next) {
			next = e->next;
			cw_identity_free(&e->id);
			free(e);
		}
	}
	cw_ptable_init(t);
}

static struct cw_pentry **slot(struct cw_ptable *t, uint32_t pid)
{
	struct cw_pentry **p = &t->buckets[pid % CW_PTABLE_BUCKETS];
	while (*p && (*p)->pid != pid)
		p = &(*p)->next;
	return p;
}

struct cw_pentry *cw_ptable_get(struct cw_ptable *t, uint32_t pid)
{
	return *slot(t, pid);
}

struct cw_pentry *cw_ptable_put(struct cw_ptable *t, uint32_t pid, uint64_t pstart)
{
	struct cw_pentry **p = slot(t, pid);
	if (*p) {
		if ((*p)->pstart != pstart) {
			/* pid reused: the old process's exit was lost */
			cw_identity_free(&(*p)->id);
			cw_identity_init(&(*p)->id);
			(*p)->pstart = pstart;
			(*p)->pf_seen = false;
		}
		return *p;
	}
	struct cw_pentry *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->pid = pid;
	e->pstart = pstart;
	cw_identity_init(&e->id);
	*p = e;
	t->n++;
	return e;
}

void cw_ptable_del(struct cw_ptable *t, uint32_t pid)
{
	struct cw_pentry **p = slot(t, pid);
	struct cw_pentry *e = *p;
	if (!e)
		return;
	*p = e->next;
	cw_identity_free(&e->id);
	free(e);
	t->n--;
}
