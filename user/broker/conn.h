/* One Redis connection of the broker sampler, shared by broker.c (which implements it:
 * connect, AUTH/SELECT, pipelined round trips with one deadline, stop by eventfd) and
 * discover.c (discovery's round trips). Internal to user/broker/: not an API. */
#ifndef CW_BROKER_CONN_H
#define CW_BROKER_CONN_H

#include <stddef.h>

#include <hiredis/hiredis.h>

#include "broker/replybudget.h"

struct cw_redis_url;
struct cw_lookup;

/* Outcome of a Redis exchange; decides whether the connection is kept. */
enum rc {
	RC_OK,
	RC_TIMEOUT,	/* no answer in time: connection dropped */
	RC_STOPPED,	/* cw_sampler_stop() while waiting */
	RC_IO,		/* refused, reset, closed, protocol error: connection dropped */
	RC_AUTH,	/* password rejected or required: connection dropped */
	RC_REPLY,	/* an error reply (LOADING, out-of-range db...): connection kept */
	RC_NOMEM,
	RC_TOOBIG,	/* more than MAX_ROUNDTRIP_BYTES or CW_REPLY_BUDGET objects in one round
			 * trip: connection dropped */
};

struct conn {
	redisContext *c;
	const struct cw_redis_url *url;
	const char *password;
	const char *prefix;
	size_t prefix_len;
	int stopfd;		/* -1: nothing can stop us but the deadline */
	double timeout;
	char where[320];
	char *kbuf;		/* key under construction */
	size_t kcap;
	struct cw_lookup *lookup;	/* a DNS lookup that outlived its connect attempt */
	double resolve_max;	/* > 0: wait for DNS at most this long */
	struct cw_reply_budget budget;	/* the reader's, for the round trip under way */
};

/* Send everything appended, then read n replies into out, all by deadline (monotonic s);
 * a failure other than RC_REPLY drops the connection, with one sentence in err. */
enum rc cw_conn_roundtrip(struct conn *k, size_t n, redisReply **out, double deadline,
			  char *err, size_t errlen);
enum rc cw_conn_append(struct conn *k, int argc, const char **argv, const size_t *lens);
/* Connect, AUTH, SELECT by k->timeout. */
enum rc cw_conn_open(struct conn *k, char *err, size_t errlen);
void cw_conn_close(struct conn *k);
/* Out of memory with commands perhaps half appended: the connection is dropped. */
enum rc cw_conn_nomem(struct conn *k, char *err, size_t errlen);
/* An error reply to what, password hidden: RC_AUTH (NOAUTH, WRONGPASS) or RC_REPLY. */
enum rc cw_conn_reply_fail(const struct conn *k, const redisReply *r, const char *what,
			   char *err, size_t errlen);
/* What the socket holds into the reader, *total counting bytes (RC_TOOBIG past 64 MiB). */
enum rc cw_conn_read_more(struct conn *k, size_t *total);
/* Free the non-NULL replies of v, and v. */
void cw_conn_free_replies(redisReply **v, size_t n);

#endif
