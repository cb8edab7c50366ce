/* hiredis reply functions that charge a budget before building each object, then hand over
 * to hiredis's own. A refused object makes the reader fail ("Out of memory", as a failed
 * calloc would) before anything is allocated; the budget says it was the cap. */
#include "broker/replybudget.h"

#include <pthread.h>

/* hiredis's defaults, copied from the first reader seen: every reader starts with them */
static redisReplyObjectFunctions base;
static redisReplyObjectFunctions capped;
static bool have_base;
static pthread_mutex_t base_lock = PTHREAD_MUTEX_INITIALIZER;

static bool charge(const redisReadTask *t, size_t cost)
{
	struct cw_reply_budget *b = t->privdata;

	if (cost > b->left) {
		b->spent = true;
		return false;
	}
	b->left -= cost;
	return true;
}

static void *create_string(const redisReadTask *t, char *s, size_t len)
{
	return charge(t, 1) ? base.createString(t, s, len) : NULL;
}

static void *create_array(const redisReadTask *t, int elements)
{
	size_t n = elements > 0 ? (size_t)elements : 0;

	return charge(t, 1 + n) ? base.createArray(t, elements) : NULL;
}

static void *create_integer(const redisReadTask *t, long long v)
{
	return charge(t, 1) ? base.createInteger(t, v) : NULL;
}

static void *create_nil(const redisReadTask *t)
{
	return charge(t, 1) ? base.createNil(t) : NULL;
}

static void init_capped(const redisReplyObjectFunctions *fn)
{
	base = *fn;
	capped = base;
	capped.createString = base.createString ? create_string : NULL;
	capped.createArray = base.createArray ? create_array : NULL;
	capped.createInteger = base.createInteger ? create_integer : NULL;
	capped.createNil = base.createNil ? create_nil : NULL;
}

void cw_reply_budget_attach(redisReader *r, struct cw_reply_budget *b)
{
	cw_reply_budget_reset(b);
	if (!r->fn)	/* a reader that builds nothing costs nothing */
		return;
	pthread_mutex_lock(&base_lock);
	if (!have_base && r->fn != &capped) {
		init_capped(r->fn);
		have_base = true;
	}
	pthread_mutex_unlock(&base_lock);
	r->privdata = b;
	r->fn = &capped;
}

void cw_reply_budget_reset(struct cw_reply_budget *b)
{
	b->left = CW_REPLY_BUDGET;
	b->spent = false;
}
