/* Queue discovery; see discover.h. The state and reply handling first (no I/O), then the
 * round trips on the sampler's connections. */
#include "broker/discover.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

#include "broker/broker.h"
#include "broker/conn.h"
#include "common/timeutil.h"

#define KOMBU_SEP	"\x06\x16"	/* kombu.transport.redis.Channel.sep */
#define COST_INIT_S	1e-6		/* per key before any measure: Redis 7.0 scans ~1 µs/key */
#define COST_MIN_S	1e-8

int cw_disc_init(struct cw_disc *d, const char *prefix)
{
	size_t n;

	memset(d, 0, sizeof(*d));
	strcpy(d->cursor, "0");
	d->dbsize = -1;
	d->full_scan = true;
	d->key_cost_s = COST_INIT_S;
	prefix = prefix ? prefix : "";
	n = strlen(prefix);
	d->prefix = strdup(prefix);
	d->pattern = malloc(2 * n + sizeof(CW_DISC_BINDING_PREFIX) + 2);
	d->track_prefix = malloc(n + sizeof(CW_DISC_BINDING_PREFIX));
	if (!d->prefix || !d->pattern || !d->track_prefix)
		return -ENOMEM;
	d->prefix_len = n;
	/* the prefix is literal text; SCAN MATCH would read its *?[]\ as a glob */
	char *o = d->pattern;
	for (size_t i = 0; i < n; i++) {
		if (strchr("*?[]\\", prefix[i]))
			*o++ = '\\';
		*o++ = prefix[i];
	}
	strcpy(o, CW_DISC_BINDING_PREFIX "*");
	strcpy(d->track_prefix, prefix);
	strcat(d->track_prefix, CW_DISC_BINDING_PREFIX);
	return 0;
}

void cw_disc_free(struct cw_disc *d)
{
	free(d->prefix);
	free(d->pattern);
	free(d->track_prefix);
	cw_strset_free(&d->keys);
	cw_strset_free(&d->found);
	memset(d, 0, sizeof(*d));
}

/* ---- the SCAN budget ---- */

long cw_disc_scan_budget(const struct cw_disc *d, double interval_s)
{
	double keys = d->dbsize >= 0 ? (double)d->dbsize : 10000.0;
	double want = keys * interval_s / CW_DISC_PASS_S;
	double share = d->tracking && d->passes ? CW_DISC_NET_SHARE : CW_DISC_COST_SHARE;
	double cap = share * interval_s / d->key_cost_s;

	if (d->tracking && d->passes)
		want = cap;	/* the net: as fast as its small share allows */
	if (want > cap)
		want = cap;
	if (want < CW_DISC_STEP_MIN / 10)	/* tiny dbs: one small call per tick */
		want = CW_DISC_STEP_MIN / 10;
	return want > 1e9 ? 1000000000L : (long)want;
}

long cw_disc_step_count(long left)
{
	return left > CW_DISC_STEP_MAX ? CW_DISC_STEP_MAX :
	       left < CW_DISC_STEP_MIN ? CW_DISC_STEP_MIN : left;
}

void cw_disc_scan_argv(const struct cw_disc *d, long count, const char *argv[6],
		       size_t lens[6], char countbuf[24])
{
	snprintf(countbuf, 24, "%ld", count);
	argv[0] = "SCAN";
	argv[1] = d->cursor;
	argv[2] = "MATCH";
	argv[3] = d->pattern;
	argv[4] = "COUNT";
	argv[5] = countbuf;
	for (int i = 0; i < 6; i++)
		lens[i] = strlen(argv[i]);
}

void cw_disc_scan_cost(struct cw_disc *d, double secs, long count)
{
	if (count < CW_DISC_STEP_MIN || !(secs >= 0))
		return;		/* a small call is mostly the network's round trip */
	double c = secs / (double)count;
	/* a moving average, quick to rise (a loaded broker) and slow to fall */
	d->key_cost_s = c > d->key_cost_s ? (d->key_cost_s + c) / 2 : d->key_cost_s * 0.9 + c * 0.1;
	if (d->key_cost_s < COST_MIN_S)
		d->key_cost_s = COST_MIN_S;
}

/* ---- binding keys ---- */

/* Control-plane exchanges (remote control, events, replies) bind no work queue. */
static bool exchange_skipped(const char *e, size_t n)
{
	static const char *const skip[] = { "celery.pidbox", "celeryev", "reply.celery.pidbox" };

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (n == strlen(skip[i]) && !memcmp(e, skip[i], n))
			return true;
	return false;
}

/* A key "<prefix>_kombu.binding.<exchange>" into keys (others ignored). */
static int add_binding_key(const char *prefix, size_t plen, const char *s, size_t len,
			   struct cw_strset *keys)
{
	size_t skip = plen + strlen(CW_DISC_BINDING_PREFIX);

	if (len <= skip || memchr(s, '\0', len) || memcmp(s, prefix, plen) ||
	    memcmp(s + plen, CW_DISC_BINDING_PREFIX, skip - plen))
		return 0;
	if (exchange_skipped(s + skip, len - skip) || keys->n >= CW_DISC_MAX_KEYS)
		return 0;
	return cw_strset_add(keys, s, len) < 0 ? -ENOMEM : 0;
}

int cw_disc_scan_reply(const char *prefix, const redisReply *sr, char cursor[32],
		       struct cw_strset *keys, const redisReply **bad)
{
	size_t plen = prefix ? strlen(prefix) : 0;

	*bad = NULL;
	if (sr->type == REDIS_REPLY_ERROR) {
		*bad = sr;
		return -EPROTO;
	}
	if (sr->type != REDIS_REPLY_ARRAY || sr->elements != 2 ||
	    sr->element[0]->type != REDIS_REPLY_STRING ||
	    sr->element[1]->type != REDIS_REPLY_ARRAY || sr->element[0]->len >= 32 ||
	    memchr(sr->element[0]->str, '\0', sr->element[0]->len))
		return -EPROTO;
	const redisReply *ks = sr->element[1];
	for (size_t i = 0; i < ks->elements; i++) {
		const redisReply *e = ks->element[i];
		if (e->type == REDIS_REPLY_STRING &&
		    add_binding_key(prefix ? prefix : "", plen, e->str, e->len, keys))
			return -ENOMEM;
	}
	memcpy(cursor, sr->element[0]->str, sr->element[0]->len);
	cursor[sr->element[0]->len] = '\0';
	return 0;
}

int cw_disc_read_scan(struct cw_disc *d, const redisReply *sr, const redisReply **bad)
{
	size_t before = d->keys.n;
	int rc = cw_disc_scan_reply(d->prefix, sr, d->cursor, &d->keys, bad);

	if (rc)
		return rc;
	if (d->keys.n != before)
		d->rebuild = true;
	if (!strcmp(d->cursor, "0"))
		d->passes++;
	return 0;
}

int cw_disc_read_invalidate(struct cw_disc *d, const redisReply *msg)
{
	if (msg->type != REDIS_REPLY_ARRAY || msg->elements < 3 ||
	    msg->element[0]->type != REDIS_REPLY_STRING)
		return -EPROTO;
	const redisReply *kind = msg->element[0];
	if (kind->len != 7 || memcmp(kind->str, "message", 7))
		return 0;	/* "subscribe" and the like */
	const redisReply *ks = msg->element[2];
	if (ks->type == REDIS_REPLY_NIL)
		return 1;	/* FLUSHALL/FLUSHDB: keys went away, none came */
	if (ks->type != REDIS_REPLY_ARRAY)
		return -EPROTO;
	size_t before = d->keys.n;
	for (size_t i = 0; i < ks->elements; i++) {
		const redisReply *e = ks->element[i];
		if (e->type == REDIS_REPLY_STRING &&
		    add_binding_key(d->prefix, d->prefix_len, e->str, e->len, &d->keys))
			return -ENOMEM;
	}
	if (d->keys.n != before)
		d->rebuild = true;
	return 1;
}

/* ---- binding sets ---- */

static bool queue_name_ok(const char *q, size_t len)
{
	return len > 0 && len <= CW_QUEUE_NAME_MAX && !memchr(q, '\0', len);
}

static bool has_suffix(const char *s, size_t n, const char *suf)
{
	size_t m = strlen(suf);
	return n >= m && !memcmp(s + n - m, suf, m);
}

/* Control queues bound on a work exchange are not work queues either. */
static bool queue_skipped(const char *q, size_t n)
{
	return has_suffix(q, n, ".reply.celery.pidbox") || (n >= 9 && !memcmp(q, "celeryev.", 9));
}

/* "routing_key\x06\x16pattern\x06\x16queue" (kombu's _queue_bind): the queue, or NULL */
static const char *binding_queue(const char *m, size_t n, size_t *qlen)
{
	const char *a = memmem(m, n, KOMBU_SEP, 2);
	if (!a)
		return NULL;
	const char *b = memmem(a + 2, n - (size_t)(a + 2 - m), KOMBU_SEP, 2);
	if (!b)
		return NULL;
	const char *q = b + 2;
	*qlen = n - (size_t)(q - m);
	if (memmem(q, *qlen, KOMBU_SEP, 2))	/* kombu would not unpack it either */
		return NULL;
	return q;
}

int cw_disc_bound_queues(const redisReply *set, struct cw_strset *found)
{
	if (set->type != REDIS_REPLY_ARRAY)
		return 0;	/* the set went away or is not a set: nothing bound */
	for (size_t j = 0; j < set->elements; j++) {
		const redisReply *m = set->element[j];
		const char *q;
		size_t qlen;

		if (m->type != REDIS_REPLY_STRING || !(q = binding_queue(m->str, m->len, &qlen)))
			continue;
		if (!queue_name_ok(q, qlen) || queue_skipped(q, qlen))
			continue;
		if (found->n < CW_MAX_QUEUES * 2 && cw_strset_add(found, q, qlen) < 0)
			return -ENOMEM;
	}
	return 0;
}

const char **cw_disc_round_keys(const struct cw_disc *d, size_t *n)
{
	*n = d->keys.n;
	return cw_strset_sorted(&d->keys);
}

int cw_disc_read_round(struct cw_disc *d, const char *const *keys, size_t n, redisReply **rep)
{
	struct cw_strset found = CW_STRSET_INIT, live = CW_STRSET_INIT;

	d->dbsize = rep[0]->type == REDIS_REPLY_INTEGER && rep[0]->integer >= 0 ?
		    rep[0]->integer : -1;
	for (size_t i = 0; i < n; i++) {
		const redisReply *set = rep[1 + i];
		/* a set that went away is forgotten (kombu deletes none, but FLUSHDB does);
		 * an error reply (LOADING...) keeps the key for the next round */
		bool keep = (set->type == REDIS_REPLY_ERROR && (!set->str ||
			     strncmp(set->str, "WRONGTYPE", 9))) ||
			    (set->type == REDIS_REPLY_ARRAY && set->elements);
		if (cw_disc_bound_queues(set, &found) ||
		    (keep && cw_strset_add(&live, keys[i], strlen(keys[i])) < 0))
			goto nomem;
	}
	/* keys added while the round was out (none: the thread is the only writer) stay */
	cw_strset_free(&d->found);
	d->found = found;
	cw_strset_free(&d->keys);
	d->keys = live;
	d->rebuild = false;
	return 0;
nomem:
	cw_strset_free(&found);
	cw_strset_free(&live);
	return -ENOMEM;
}

/* ---- the round trips, on broker.c's connections (broker/conn.h) ---- */

#define MAX_SCAN_CALLS	10000
#define SCAN_TIMEOUTS	4	/* a whole pass at start: this many round-trip timeouts */
#define TRACK_RETRY	60.0	/* a tracking connection lost: ask again after this */

static enum rc unexpected(const struct conn *k, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "Redis at %s: unexpected reply to %s", k->where, what);
	return RC_REPLY;
}

/* One SCAN call of count keys into d. */
static enum rc scan_step(struct cw_disc *d, struct conn *k, long count, char *err, size_t errlen)
{
	const char *argv[6];
	size_t lens[6];
	char cbuf[24];
	const redisReply *bad;
	redisReply *sr = NULL;
	double t0 = cw_mono_s();
	enum rc r;
	int rc;

	cw_disc_scan_argv(d, count, argv, lens, cbuf);
	if (cw_conn_append(k, 6, argv, lens))
		return cw_conn_nomem(k, err, errlen);
	if ((r = cw_conn_roundtrip(k, 1, &sr, t0 + k->timeout, err, errlen)))
		return r;
	cw_disc_scan_cost(d, cw_mono_s() - t0, count);
	if ((rc = cw_disc_read_scan(d, sr, &bad)) == -ENOMEM)
		r = cw_conn_nomem(k, err, errlen);
	else if (rc && bad)
		r = cw_conn_reply_fail(k, bad, "SCAN failed: ", err, errlen);
	else if (rc)
		r = unexpected(k, "SCAN", err, errlen);
	freeReplyObject(sr);
	return r;
}

/* SCAN steps (never KEYS, which blocks Redis) from d's cursor, budget keys' worth or, with
 * LONG_MAX, to the end of the pass; until the monotonic time end. */
static enum rc scan(struct cw_disc *d, struct conn *k, long budget, double end, char *err,
		    size_t errlen)
{
	uint64_t passes = d->passes;
	bool whole = budget == LONG_MAX;

	for (int calls = 0; calls < MAX_SCAN_CALLS; calls++) {
		long count = cw_disc_step_count(budget);
		enum rc r = scan_step(d, k, count, err, errlen);

		budget -= count;
		if (r || d->passes != passes || budget <= 0)
			return r;
		/* each call has its own deadline: a broker answering every one just in time
		 * would hold the sampler (no sample lines) for MAX_SCAN_CALLS of them */
		if (cw_mono_s() > end) {
			if (!whole)
				return RC_OK;
			snprintf(err, errlen, "Redis at %s: the scan for queue bindings took over %.1f s",
				 k->where, k->timeout * SCAN_TIMEOUTS);
			return RC_REPLY;	/* the connection is fine: keep it and the queues known */
		}
	}
	return RC_OK;
}

/* DBSIZE and SMEMBERS of every known binding key, pipelined in one round trip. */
static enum rc round_trip(struct cw_disc *d, struct conn *k, char *err, size_t errlen)
{
	size_t n;
	const char **keys = cw_disc_round_keys(d, &n);
	redisReply **rep = calloc(n + 1, sizeof(*rep));
	enum rc r = RC_OK;

	if (!keys || !rep || cw_conn_append(k, 1, (const char *[]){ "DBSIZE" }, (const size_t[]){ 6 }))
		goto nomem;
	for (size_t i = 0; i < n; i++) {
		const char *argv[2] = { "SMEMBERS", keys[i] };
		size_t lens[2] = { 8, strlen(keys[i]) };
		if (cw_conn_append(k, 2, argv, lens))
			goto nomem;
	}
	if ((r = cw_conn_roundtrip(k, n + 1, rep, cw_mono_s() + k->timeout, err, errlen)))
		goto out;
	if (cw_disc_read_round(d, keys, n, rep))
		goto nomem;
	goto out;
nomem:
	r = cw_conn_nomem(k, err, errlen);
out:
	if (rep)
		cw_conn_free_replies(rep, n + 1);
	free(keys);
	return r;
}

int cw_disc_full(struct cw_disc *d, struct conn *k, char *err, size_t errlen)
{
	enum rc r = scan(d, k, LONG_MAX, cw_mono_s() + k->timeout * SCAN_TIMEOUTS, err, errlen);

	return r ? r : round_trip(d, k, err, errlen);
}

/* ---- tracking ---- */

static void track_close(struct cw_disc *d, struct conn *sub)
{
	cw_conn_close(sub);
	d->tracking = false;
	d->track_retry_at = cw_mono_s() + TRACK_RETRY;
}

void cw_disc_reconnected(struct cw_disc *d, struct conn *sub)
{
	track_close(d, sub);	/* tracking went with the old connection */
	d->track_retry_at = 0;
	d->full_scan = true;	/* the broker may have been replaced */
}

/* CLIENT TRACKING OFF, then ON in BCAST mode for the binding prefix, redirected to the
 * subscribed connection whose id is given: on the main connection, one round trip. */
static enum rc track_enable(struct cw_disc *d, struct conn *k, long long id, bool *on,
			    char *err, size_t errlen)
{
	char idbuf[24];
	redisReply *rep[2] = { NULL, NULL };
	const char *argv[8] = { "CLIENT", "TRACKING", "ON", "REDIRECT", idbuf, "BCAST", "PREFIX",
				d->track_prefix };
	size_t lens[8];
	enum rc r;

	snprintf(idbuf, sizeof(idbuf), "%lld", id);
	for (int i = 0; i < 8; i++)
		lens[i] = strlen(argv[i]);
	/* OFF first: a redirect to an old subscriber cannot be changed while on */
	if (cw_conn_append(k, 3, (const char *[]){ "CLIENT", "TRACKING", "OFF" },
			   (const size_t[]){ 6, 8, 3 }) || cw_conn_append(k, 8, argv, lens))
		return cw_conn_nomem(k, err, errlen);
	if ((r = cw_conn_roundtrip(k, 2, rep, cw_mono_s() + k->timeout, err, errlen)))
		return r;
	*on = rep[1]->type == REDIS_REPLY_STATUS;
	if (rep[1]->type == REDIS_REPLY_ERROR)
		d->track_refused = true;	/* Redis < 6, an ACL: not worth asking again */
	freeReplyObject(rep[0]);
	freeReplyObject(rep[1]);
	return RC_OK;
}

/* Open the subscribed connection and turn tracking on. Refusal is not an error (the scan
 * covers alone); a main connection lost on the way is (said in err; k->c is NULL). */
static enum rc track_open(struct cw_disc *d, struct conn *k, struct conn *sub, char *err,
			  size_t errlen)
{
	redisReply *rep[2] = { NULL, NULL };
	bool on = false;
	enum rc r;

	track_close(d, sub);
	/* the subscriber's own failures only end tracking: err is the main connection's */
	if ((r = cw_conn_open(sub, err, errlen)))
		goto out;
	if (cw_conn_append(sub, 2, (const char *[]){ "CLIENT", "ID" }, (const size_t[]){ 6, 2 }) ||
	    cw_conn_append(sub, 2, (const char *[]){ "SUBSCRIBE", "__redis__:invalidate" },
			   (const size_t[]){ 9, 20 })) {
		r = cw_conn_nomem(sub, err, errlen);
		goto out;
	}
	if ((r = cw_conn_roundtrip(sub, 2, rep, cw_mono_s() + sub->timeout, err, errlen)))
		goto out;
	if (rep[0]->type != REDIS_REPLY_INTEGER || cw_disc_read_invalidate(d, rep[1]) != 0) {
		d->track_refused = rep[0]->type == REDIS_REPLY_ERROR;
		goto out;
	}
	r = track_enable(d, k, rep[0]->integer, &on, err, errlen);
out:
	for (int i = 0; i < 2; i++)
		if (rep[i])
			freeReplyObject(rep[i]);
	if (on)
		d->tracking = true;
	else
		track_close(d, sub);
	return r == RC_STOPPED || !k->c ? (r ? r : RC_IO) : RC_OK;
}

/* The invalidation messages waiting on the subscribed connection, without waiting. A broken
 * subscriber ends tracking: the scan takes over at its full share until it is back. */
static void track_poll(struct cw_disc *d, struct conn *sub)
{
	cw_reply_budget_reset(&sub->budget);	/* at most 16 reads of messages, each 16 KiB */
	for (int reads = 0; d->tracking && reads < 16; reads++) {
		struct pollfd p = { .fd = sub->c->fd, .events = POLLIN };
		size_t total = 0;
		void *msg;

		if (poll(&p, 1, 0) <= 0 || !p.revents)
			return;
		if (cw_conn_read_more(sub, &total))
			goto lost;
		while (redisGetReplyFromReader(sub->c, &msg) == REDIS_OK && msg) {
			int rc = cw_disc_read_invalidate(d, msg);
			freeReplyObject(msg);
			if (rc < 0)
				goto lost;
		}
		if (sub->c->err)
			goto lost;
	}
	return;
lost:
	track_close(d, sub);
}

int cw_disc_tick(struct cw_disc *d, struct conn *k, struct conn *sub, double interval_s,
		 double final_end, char *err, size_t errlen)
{
	bool final = final_end >= 0;
	double t0 = cw_mono_s();
	enum rc r;

	if (!d->tracking && !d->track_refused && t0 >= d->track_retry_at && !final &&
	    (r = track_open(d, k, sub, err, errlen)))
		return r;
	track_poll(d, sub);
	if (final && d->tracking && !d->full_scan) {
		r = RC_OK;	/* Redis named every new key: no burst of SCAN at stop */
	} else if (d->full_scan || final) {
		r = scan(d, k, LONG_MAX, final ? final_end : t0 + k->timeout * SCAN_TIMEOUTS,
			 err, errlen);
		if (r == RC_OK || r == RC_REPLY)
			d->full_scan = false;	/* the cursor is kept: later ticks go on */
	} else {
		r = scan(d, k, cw_disc_scan_budget(d, interval_s), t0 + k->timeout, err, errlen);
	}
	if (final && r == RC_REPLY)
		r = RC_OK;	/* out of time at stop: what the pass found so far */
	if (r == RC_STOPPED || !k->c)
		return r;
	char err2[256];
	enum rc r2 = round_trip(d, k, r ? err2 : err, r ? sizeof(err2) : errlen);
	return r ? r : r2;
}
