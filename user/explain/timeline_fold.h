/* Folding: a log of months holds hundreds of thousands of pool children recycled by
 * --max-tasks-per-child (exit 155), each a ~400-byte process record that no report prints
 * but as a count. Past the first tl->fold_keep of them, such a child is folded when it exits:
 * a 40-byte cw_folded record (its life, pid and a shared profile) replaces it, and its slot
 * is reused (tl->fold turns it on). Only children nothing else points at are folded: no child
 * processes, no stall record, no stop, no OOM, not untracked. record's live engine folds
 * every one (fold_keep 0); what it keeps per slot carries the slot's creation number. */
#ifndef CW_TIMELINE_FOLD_H
#define CW_TIMELINE_FOLD_H

#include <stdbool.h>

#include "explain/timeline.h"

/* explain's tl->fold_keep: recycled children kept whole, listed one by one in --json */
#define CW_FOLD_KEEP_DEFAULT 2000

/* After p's exit line: fold it if it may be (boot: the key its host's processes are under).
 * Returns 0, or -ENOMEM. */
int cw_fold_on_exit(struct cw_timeline *tl, int proc, const void *boot);
/* Make process i's slot free, with no record of it (cw_timeline_forget_dead). 0 or -ENOMEM. */
int cw_fold_release(struct cw_timeline *tl, int proc, const void *boot);
/* A slot to reuse for a new process, or -1. */
int cw_fold_take_slot(struct cw_timeline *tl);
/* Whether (boot, pid, pstart) was folded lately: a late line about it (a second exit from a
 * kernel race) is ignored, as it would be for the process it was. */
bool cw_fold_was_folded(const struct cw_timeline *tl, const void *boot, int64_t pid,
			int64_t pstart);
void cw_fold_free(struct cw_timeline *tl);

#endif
