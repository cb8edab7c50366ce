/* The recorder's view of live tracked processes: pid -> (start time, Celery identity), so
 * every event line carries its process's worker, queues and role. */
#ifndef CW_PROCTABLE_H
#define CW_PROCTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include "identity/celery.h"

struct cw_pentry {
	uint32_t pid;
	uint64_t pstart;	/* clock ticks since boot */
	struct cw_identity id;
	/* what the previous proc_sample read (cli/procfacts.c): no change is no progress */
	bool pf_seen;
	uint64_t pf_cpu_ticks, pf_ctxsw;
	struct cw_pentry *next;
};

#define CW_PTABLE_BUCKETS 4096

struct cw_ptable {
	struct cw_pentry *buckets[CW_PTABLE_BUCKETS];
	size_t n;
};

void cw_ptable_init(struct cw_ptable *t);
void cw_ptable_free(struct cw_ptable *t);
struct cw_pentry *cw_ptable_get(struct cw_ptable *t, uint32_t pid);
/* The entry for pid, created empty (or emptied if it held an older process of that pid). */
struct cw_pentry *cw_ptable_put(struct cw_ptable *t, uint32_t pid, uint64_t pstart);
void cw_ptable_del(struct cw_ptable *t, uint32_t pid);

#endif
