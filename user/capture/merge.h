/* Deaths (exit, oom) come through their own ring buffer, reserved so that a flood of other
 * records cannot crowd them out. Two rings have no common order: a death is held here until
 * the shared ring has been drained past it, so that the signal that caused an exit is still
 * written before that exit. Pure: no libbpf, unit-tested. */
#ifndef CW_MERGE_H
#define CW_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"

#define CW_MERGE_SLOTS 64
#define CW_MERGE_REC (sizeof(struct cw_exit) > sizeof(struct cw_oom) ? sizeof(struct cw_exit) : sizeof(struct cw_oom))

struct cw_merge_slot {
	uint32_t size;
	_Alignas(8) unsigned char data[CW_MERGE_REC];
};

struct cw_merge {
	int (*emit)(void *ctx, const void *data, size_t size);
	void *ctx;
	size_t head, n;		/* pending deaths: slot[head], ... in arrival order */
	struct cw_merge_slot slot[CW_MERGE_SLOTS];
};

void cw_merge_init(struct cw_merge *m, int (*emit)(void *, const void *, size_t), void *ctx);
/* A record of the shared ring: deaths that happened before it go first. */
int cw_merge_event(struct cw_merge *m, const void *data, size_t size);
/* A record of the deaths ring: held (the oldest is written when all slots are taken). */
int cw_merge_death(struct cw_merge *m, const void *data, size_t size);
/* Write every held death, oldest first. */
void cw_merge_flush(struct cw_merge *m);

#endif
