/* A cap on the reply objects hiredis builds in one round trip. hiredis 0.14 callocs an array
 * reply's element table as soon as it reads the header: "*300000000\r\n", 12 bytes from a
 * hostile or broken broker, is a 2.4 GB allocation, and 64 MiB of ":1\r\n" (the round trip's
 * byte limit) would be 16 million reply objects, about 1 GB. Internal to user/broker/. */
#ifndef CW_BROKER_REPLYBUDGET_H
#define CW_BROKER_REPLYBUDGET_H

#include <stdbool.h>
#include <stddef.h>

#include <hiredis/read.h>

/* Every object costs 1 and an array header its element count more: the largest reply we
 * ask for (a SCAN step of 20,000 keys, SMEMBERS of thousands of binding sets) costs a few
 * hundred thousand; this much is at most ~100 MB of replies. */
#define CW_REPLY_BUDGET	(2u << 20)

struct cw_reply_budget {
	size_t left;
	bool spent;	/* an object was refused: the reader's "Out of memory" is ours */
};

/* Make reader r charge b for every object it builds (b must outlive r). */
void cw_reply_budget_attach(redisReader *r, struct cw_reply_budget *b);
/* A new round trip: the whole budget again. */
void cw_reply_budget_reset(struct cw_reply_budget *b);

#endif
