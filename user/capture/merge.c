/* Ordering of the deaths ring against the shared ring; see merge.h. */
#include "capture/merge.h"

#include <string.h>

void cw_merge_init(struct cw_merge *m, int (*emit)(void *, const void *, size_t), void *ctx)
{
	m->emit = emit;
	m->ctx = ctx;
	m->head = m->n = 0;
}

static uint64_t rec_ts(const void *data, size_t size)
{
	const struct cw_hdr *h = data;
	return size >= sizeof(*h) ? h->ts_ns : 0;
}

static void pop(struct cw_merge *m)
{
	struct cw_merge_slot *s = &m->slot[m->head];

	m->head = (m->head + 1) % CW_MERGE_SLOTS;
	m->n--;
	m->emit(m->ctx, s->data, s->size);
}

int cw_merge_event(struct cw_merge *m, const void *data, size_t size)
{
	uint64_t ts = rec_ts(data, size);

	while (m->n && rec_ts(m->slot[m->head].data, m->slot[m->head].size) <= ts)
		pop(m);
	return m->emit(m->ctx, data, size);
}

int cw_merge_death(struct cw_merge *m, const void *data, size_t size)
{
	if (size > CW_MERGE_REC)	/* not a death record: the formatter will call it malformed */
		return m->emit(m->ctx, data, size);
	if (m->n == CW_MERGE_SLOTS)
		pop(m);
	struct cw_merge_slot *s = &m->slot[(m->head + m->n) % CW_MERGE_SLOTS];
	memcpy(s->data, data, size);
	s->size = (uint32_t)size;
	m->n++;
	return 0;
}

void cw_merge_flush(struct cw_merge *m)
{
	while (m->n)
		pop(m);
}
