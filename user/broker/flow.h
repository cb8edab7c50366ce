/* Tasks pushed to and taken from each queue between two samples: the sample line's
 * "arrived" and "drained", counted from what Redis shows, without I/O here (broker.c sends
 * the commands; tests and fuzzers feed replies).
 *
 * kombu LPUSHes a message at a list's head and workers BRPOP at its tail. At each sample the
 * head element of every priority list is remembered (LINDEX key 0); at the next one,
 * LPOS key <that element> is how many were pushed in front of it since: the list's
 * arrivals; drained = depth before + arrived - depth now. Messages carry unique ids, so a
 * head is found once. When the old head is gone (drained past it), or a list was empty
 * before and is not now, nothing exact can be said: that list is unknown. */
#ifndef CW_FLOW_H
#define CW_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"

#define CW_FLOW_HEAD_MAX	(64u << 10)	/* a longer head is not kept: that list is unknown */
#define CW_FLOW_BYTES_MAX	(16u << 20)	/* all heads kept, at most */
#define CW_FLOW_LPOS_MAXLEN	"1000000"	/* arrivals counted per list and sample, at most */

struct redisReply;

struct cw_flow_queue {
	char *queue;
	int64_t depth[CW_NPRIO];	/* at the previous sample */
	char *head[CW_NPRIO];		/* its head element then, NULL if none kept */
	size_t hlen[CW_NPRIO];
};

/* The previous sample's state, for its queues only (queues no longer sampled are dropped). */
struct cw_flow {
	struct cw_flow_queue *v;	/* sorted by name */
	size_t n;
	size_t bytes;			/* sum of hlen */
	bool no_lpos;			/* LPOS or LINDEX refused (Redis < 6.0.6, an ACL): no more */
};

void cw_flow_free(struct cw_flow *f);

/*
 * The sample pipeline with flow commands: for each queue (names sorted) and priority list,
 * LLEN, then "LPOS key <head> MAXLEN ..." when the list's previous head was kept, then
 * "LINDEX key 0" (neither once f->no_lpos); then HLEN unacked and ZCARD unacked_index.
 * cw_flow_plan: prev[i] gets queue i's previous state (or NULL); returns the number of
 * commands before HLEN. cw_flow_list_cmds: the commands after list p's LLEN (0, 1 or 2).
 */
size_t cw_flow_plan(const struct cw_flow *f, const char *const *names, size_t n,
		    const struct cw_flow_queue **prev);
int cw_flow_list_cmds(const struct cw_flow *f, const struct cw_flow_queue *prev, int p);

/*
 * The flow replies of one sample whose depths read_sample already put in out (redis_ok):
 * out->queues[i].arrived/drained are set (-1: unknown) and f becomes this sample's state.
 * rep: all replies of the pipeline above, planned from f as it was. 0 or -ENOMEM (then
 * every count is unknown and f is emptied).
 */
int cw_flow_read(struct cw_flow *f, const char *const *names, size_t n,
		 struct redisReply **rep, struct cw_sample *out);

#endif
