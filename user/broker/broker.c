/* Redis broker sampler; see broker.h. Queue depth is what kombu's Redis transport counts
 * (Channel._size): LLEN of the queue's list and of its priority lists "name\x06\x16<step>",
 * every key under kombu's global_keyprefix. One sample is one pipelined round trip. */
#include "broker/broker.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "broker/clients.h"
#include "broker/conn.h"
#include "broker/discover.h"
#include "broker/flow.h"
#include "broker/redisurl.h"
#include "broker/resolve.h"
#include "common/strset.h"
#include "common/threadcaps.h"
#include "common/timeutil.h"

const int cw_priority_steps[CW_NPRIO] = { 0, 3, 6, 9 };

#define KOMBU_SEP		"\x06\x16"	/* kombu.transport.redis.Channel.sep */
#define DEFAULT_INTERVAL	5.0
#define MIN_INTERVAL		0.1
#define MAX_INTERVAL		86400.0
#define MIN_TIMEOUT		1.0
#define MAX_TIMEOUT		10.0
#define START_TIMEOUT_MAX	2.0	/* start is synchronous in the caller: keep it short */
#define START_RESOLVE_MAX	0.5	/* of which DNS: a missing name is answered sooner; a
					 * slower lookup goes on and the thread's retry uses it */
#define BACKOFF_MIN		0.5
#define BACKOFF_MAX		10.0
#define MAX_ROUNDTRIP_BYTES	(64u << 20)	/* SMEMBERS of 4096 binding sets fits well */

static int rc_errno(enum rc r)
{
	switch (r) {
	case RC_OK:
		return 0;
	case RC_TIMEOUT:
		return -ETIMEDOUT;
	case RC_STOPPED:
		return -ECANCELED;
	case RC_IO:
		return -ECONNREFUSED;
	case RC_AUTH:
		return -EACCES;
	case RC_REPLY:
		return -EPROTO;
	case RC_TOOBIG:
		return -EMSGSIZE;
	default:
		return -ENOMEM;
	}
}

static bool queue_name_ok(const char *q, size_t len)
{
	return len > 0 && len <= CW_QUEUE_NAME_MAX && !memchr(q, '\0', len);
}

/* Union of two sets in bytewise order, at most CW_MAX_QUEUES names (pointers into a and b). */
static const char **merge_names(const struct cw_strset *a, const struct cw_strset *b, size_t *n,
				size_t *omitted)
{
	const char **sa = cw_strset_sorted(a), **sb = cw_strset_sorted(b);
	const char **v = malloc((a->n + b->n + 1) * sizeof(*v));
	size_t i = 0, j = 0, k = 0;

	if (!sa || !sb || !v) {
		free(v);
		v = NULL;
		goto out;
	}
	while (i < a->n || j < b->n) {
		int c = i == a->n ? 1 : j == b->n ? -1 : strcmp(sa[i], sb[j]);
		v[k++] = c <= 0 ? sa[i] : sb[j];
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	*omitted = k > CW_MAX_QUEUES ? k - CW_MAX_QUEUES : 0;
	*n = k - *omitted;
out:
	free(sa);
	free(sb);
	return v;
}

/* ---- one connection ---- */

static void conn_close(struct conn *k)
{
	if (k->c)
		redisFree(k->c);
	k->c = NULL;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A server's error text, with the password hidden should the server ever echo it. The
 * password is looked for in the whole text, not in what fits in out: cut first, a password
 * at the cut would be shown in part. */
static void reply_text(const struct conn *k, const redisReply *r, char *out, size_t outlen)
{
	size_t n = r->len;
	size_t plen = k->password ? strlen(k->password) : 0;
	size_t j = 0;

	for (size_t i = 0; i < n && j + 1 < outlen;) {
		if (plen && n - i >= plen && !memcmp(r->str + i, k->password, plen)) {
			for (const char *m = "***"; *m && j + 1 < outlen; m++)
				out[j++] = *m;
			i += plen;
			continue;
		}
		char c = r->str[i++];
		out[j++] = (c == '\0' || c == '\n' || c == '\r') ? ' ' : c;
	}
	out[j] = '\0';
}

static bool reply_is_auth_error(const redisReply *r)
{
	return r->type == REDIS_REPLY_ERROR && r->str &&
	       (!strncmp(r->str, "NOAUTH", 6) || !strncmp(r->str, "WRONGPASS", 9));
}

/* An error reply to what: "Redis at <where>: <what><text>" in err; the connection is kept. */
static enum rc reply_fail(const struct conn *k, const redisReply *r, const char *what,
			  char *err, size_t errlen)
{
	char text[200];

	reply_text(k, r, text, sizeof(text));
	seterr(err, errlen, "Redis at %s: %s%s", k->where, what, text);
	return reply_is_auth_error(r) ? RC_AUTH : RC_REPLY;
}

/* Out of memory with commands perhaps half appended: the connection's state is unknown. */
static enum rc conn_nomem(struct conn *k, char *err, size_t errlen)
{
	seterr(err, errlen, "out of memory");
	conn_close(k);
	return RC_NOMEM;
}

/* Wait until fd is ready, the deadline passes, or stop is asked for. */
static enum rc wait_fd(struct conn *k, short events, double deadline)
{
	for (;;) {
		double left = deadline - cw_mono_s();
		struct pollfd p[2] = {
			{ .fd = k->c->fd, .events = events },
			{ .fd = k->stopfd, .events = POLLIN },
		};

		if (left <= 0)
			return RC_TIMEOUT;
		int n = poll(p, k->stopfd >= 0 ? 2 : 1, (int)(left * 1000) + 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return RC_IO;
		if (k->stopfd >= 0 && (p[1].revents & POLLIN))
			return RC_STOPPED;
		if (p[0].revents)	/* POLLERR/POLLHUP too: the read or write reports it */
			return RC_OK;
	}
}

static enum rc io_fail(struct conn *k, enum rc r, char *err, size_t errlen)
{
	if (r == RC_TIMEOUT)
		seterr(err, errlen, "no reply from Redis at %s within %.1f s", k->where, k->timeout);
	else if (r == RC_STOPPED)
		seterr(err, errlen, "stopped");
	else if (r == RC_TOOBIG && k->budget.spent)
		seterr(err, errlen, "Redis at %s sent more than %u reply elements in one round "
		       "trip; connection dropped", k->where, CW_REPLY_BUDGET);
	else if (r == RC_TOOBIG)
		seterr(err, errlen, "Redis at %s sent more than %u MiB in one round trip; "
		       "connection dropped", k->where, MAX_ROUNDTRIP_BYTES >> 20);
	else
		seterr(err, errlen, "lost the connection to Redis at %s: %s", k->where,
		       k->c && k->c->err ? k->c->errstr : strerror(errno));
	conn_close(k);
	return r;
}

/* hiredis writes with write(2): a peer that went away raises SIGPIPE, which would kill the
 * recorder. Block it around the write and consume the one our write raised. */
static int buffer_write(redisContext *c, int *done)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };
	bool was_pending;
	int r;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	r = redisBufferWrite(c, done);
	if (r != REDIS_OK && !was_pending)
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Read what the socket holds into hiredis's buffer, *total counting the round trip's bytes.
 * hiredis 0.14 has no limit: a broker streaming one endless reply (a bulk length of
 * gigabytes, a huge array) would be buffered whole until the deadline, at loopback speed. */
static enum rc read_more(struct conn *k, size_t *total)
{
	size_t before = k->c->reader->len;

	if (redisBufferRead(k->c) != REDIS_OK)
		return RC_IO;
	*total += k->c->reader->len - before;	/* the reader only compacts when parsing */
	return *total > MAX_ROUNDTRIP_BYTES ? RC_TOOBIG : RC_OK;
}

/*
 * Send everything appended, then read n replies. The context is non-blocking and every wait
 * is a poll on the socket and the stop eventfd with one deadline for the whole round trip:
 * a broker that accepts and never answers costs at most the timeout, and stop is immediate
 * (SO_RCVTIMEO via redisSetTimeout would make stop wait out the timeout instead).
 */
static enum rc roundtrip(struct conn *k, size_t n, redisReply **out, double deadline,
			 char *err, size_t errlen)
{
	size_t i, total = 0;
	int done = 0;
	enum rc r;

	cw_reply_budget_reset(&k->budget);
	while (!done) {
		if (buffer_write(k->c, &done) != REDIS_OK)
			return io_fail(k, RC_IO, err, errlen);
		if (!done && (r = wait_fd(k, POLLOUT, deadline)))
			return io_fail(k, r, err, errlen);
	}
	for (i = 0; i < n; i++) {
		for (;;) {
			void *reply = NULL;
			if (redisGetReplyFromReader(k->c, &reply) != REDIS_OK) {
				r = k->budget.spent ? RC_TOOBIG : RC_IO;
				goto fail;
			}
			if (reply) {
				out[i] = reply;
				break;
			}
			if ((r = wait_fd(k, POLLIN, deadline)))
				goto fail;
			if ((r = read_more(k, &total)))
				goto fail;
		}
	}
	return RC_OK;
fail:
	while (i--) {
		freeReplyObject(out[i]);
		out[i] = NULL;	/* callers may free the array's replies again */
	}
	return io_fail(k, r, err, errlen);
}

static void free_replies(redisReply **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i])
			freeReplyObject(v[i]);
	free(v);
}

static enum rc append(struct conn *k, int argc, const char **argv, const size_t *lens)
{
	return redisAppendCommandArgv(k->c, argc, argv, lens) == REDIS_OK ? RC_OK : RC_NOMEM;
}

/* cmd, prefix + name [+ sep + step] (the key kombu's PrefixedStrictRedis uses), then nx
 * more arguments (at most 4) */
static enum rc append_key_args(struct conn *k, const char *cmd, const char *name, int step,
			       int nx, const char *const *xv, const size_t *xl)
{
	size_t nlen = strlen(name), need = k->prefix_len + nlen + 16;

	if (need > k->kcap) {
		char *nb = realloc(k->kbuf, need);
		if (!nb)
			return RC_NOMEM;
		k->kbuf = nb;
		k->kcap = need;
	}
	memcpy(k->kbuf, k->prefix, k->prefix_len);
	memcpy(k->kbuf + k->prefix_len, name, nlen);
	size_t len = k->prefix_len + nlen;
	if (step)	/* kombu's _q_for_pri: priority 0 is the bare name */
		len += (size_t)snprintf(k->kbuf + len, 16, "%s%d", KOMBU_SEP, step);

	const char *argv[6] = { cmd, k->kbuf };
	size_t lens[6] = { strlen(cmd), len };
	for (int i = 0; i < nx && i < 4; i++) {
		argv[2 + i] = xv[i];
		lens[2 + i] = xl[i];
	}
	return append(k, 2 + (nx < 4 ? nx : 4), argv, lens);
}

static enum rc append_key_cmd(struct conn *k, const char *cmd, const char *name, int step)
{
	return append_key_args(k, cmd, name, step, 0, NULL, NULL);
}

static enum rc connect_fail(struct conn *k, const char *why, char *err, size_t errlen)
{
	seterr(err, errlen, "cannot connect to Redis at %s: %s", k->where, why);
	conn_close(k);
	return RC_IO;
}

/* The host name to a numeric address by the deadline. hiredis would resolve it itself with a
 * blocking getaddrinfo, outside every timeout: a DNS server that does not answer would hold
 * start-up, the sampler and its stop for resolv.conf's timeout × attempts. */
static enum rc conn_resolve(struct conn *k, double deadline, char *addr, size_t len,
			    char *err, size_t errlen)
{
	double t0 = cw_mono_s();
	char why[160];

	if (k->resolve_max > 0 && deadline > t0 + k->resolve_max)
		deadline = t0 + k->resolve_max;
	switch (cw_resolve(k->url->host, deadline, k->stopfd, &k->lookup, addr, len, why,
			   sizeof(why))) {
	case CW_RESOLVE_OK:
		return RC_OK;
	case CW_RESOLVE_TIMEOUT:
		seterr(err, errlen, "cannot resolve the host of Redis at %s: no answer from DNS "
		       "within %.1f s", k->where, cw_mono_s() - t0);
		return RC_TIMEOUT;
	case CW_RESOLVE_STOPPED:
		seterr(err, errlen, "stopped");
		return RC_STOPPED;
	case CW_RESOLVE_FAILED:
		return connect_fail(k, why, err, errlen);
	default:
		seterr(err, errlen, "out of memory resolving the Redis host");
		return RC_NOMEM;
	}
}

/* The TCP (or unix) connect, non-blocking, until the socket is writable or deadline. */
static enum rc conn_connect(struct conn *k, double deadline, char *err, size_t errlen)
{
	const struct cw_redis_url *u = k->url;
	char addr[INET6_ADDRSTRLEN];
	int soerr = 0;
	socklen_t sl = sizeof(soerr);
	enum rc r;

	if (u->kind == CW_REDIS_UNIX) {
		k->c = redisConnectUnixNonBlock(u->path);
	} else {
		if ((r = conn_resolve(k, deadline, addr, sizeof(addr), err, errlen)))
			return r;
		k->c = redisConnectNonBlock(addr, u->port);
	}
	if (!k->c) {
		seterr(err, errlen, "out of memory connecting to Redis");
		return RC_NOMEM;
	}
	if (k->c->err)
		return connect_fail(k, k->c->errstr, err, errlen);
	cw_reply_budget_attach(k->c->reader, &k->budget);
	if ((r = wait_fd(k, POLLOUT, deadline))) {
		if (r == RC_TIMEOUT)
			seterr(err, errlen, "timed out after %.1f s connecting to Redis at %s",
			       k->timeout, k->where);
		else
			seterr(err, errlen, "stopped");
		conn_close(k);
		return r;
	}
	if (getsockopt(k->c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	return soerr ? connect_fail(k, strerror(soerr), err, errlen) : RC_OK;
}

/* AUTH (when there is a password) and SELECT; *n is the number of commands appended. */
static enum rc append_auth_select(struct conn *k, size_t *n)
{
	const struct cw_redis_url *u = k->url;
	char dbs[16];

	*n = 0;
	if (k->password) {
		const char *argv[3] = { "AUTH", u->user, k->password };
		size_t lens[3] = { 4, u->user ? strlen(u->user) : 0, strlen(k->password) };
		/* user + password: Redis 6 ACL AUTH; password alone: the default user */
		if (u->user ? append(k, 3, argv, lens) :
			      append(k, 2, (const char *[]){ "AUTH", k->password },
				     (const size_t[]){ 4, lens[2] }))
			return RC_NOMEM;
		(*n)++;
	}
	/* SELECT even for db 0: it proves the server answers and that no password is missing */
	snprintf(dbs, sizeof(dbs), "%d", u->db);
	if (append(k, 2, (const char *[]){ "SELECT", dbs }, (const size_t[]){ 6, strlen(dbs) }))
		return RC_NOMEM;
	(*n)++;
	return RC_OK;
}

/* What the AUTH (NULL when not sent) and SELECT replies say. */
static enum rc check_auth_select(const struct conn *k, const redisReply *auth,
				 const redisReply *sel, char *err, size_t errlen)
{
	const struct cw_redis_url *u = k->url;
	char text[200];

	if (auth && auth->type == REDIS_REPLY_ERROR) {
		reply_text(k, auth, text, sizeof(text));
		seterr(err, errlen, "Redis at %s rejected the password%s%.64s: %s", k->where,
		       u->user ? " of user " : "", u->user ? u->user : "", text);
		return RC_AUTH;
	}
	if (sel->type == REDIS_REPLY_ERROR) {
		reply_text(k, sel, text, sizeof(text));
		if (reply_is_auth_error(sel)) {
			seterr(err, errlen, "Redis at %s requires a password (%s); give it in the URL "
			       "or with --redis-password-file", k->where, text);
			return RC_AUTH;
		}
		seterr(err, errlen, "Redis at %s: cannot select database %d: %s", k->where,
		       u->db, text);
		return RC_REPLY;
	}
	if (sel->type != REDIS_REPLY_STATUS) {
		seterr(err, errlen, "Redis at %s gave an unexpected reply to SELECT (is it Redis?)",
		       k->where);
		return RC_IO;
	}
	return RC_OK;
}

/* Connect, AUTH, SELECT: one round trip after the TCP (or unix) connect. */
static enum rc conn_open(struct conn *k, char *err, size_t errlen)
{
	double deadline = cw_mono_s() + k->timeout;
	redisReply *rep[2] = { NULL, NULL };
	size_t n;
	enum rc r;

	conn_close(k);
	if ((r = conn_connect(k, deadline, err, errlen)))
		return r;
	if (append_auth_select(k, &n))
		return conn_nomem(k, err, errlen);
	if ((r = roundtrip(k, n, rep, deadline, err, errlen)))
		return r;
	r = check_auth_select(k, n == 2 ? rep[0] : NULL, rep[n - 1], err, errlen);
	for (size_t i = 0; i < n; i++)
		freeReplyObject(rep[i]);
	if (r)
		conn_close(k);
	return r;
}

/* ---- the connection for discover.c (broker/conn.h) ---- */

enum rc cw_conn_roundtrip(struct conn *k, size_t n, redisReply **out, double deadline,
			  char *err, size_t errlen)
{
	return roundtrip(k, n, out, deadline, err, errlen);
}

enum rc cw_conn_append(struct conn *k, int argc, const char **argv, const size_t *lens)
{
	return append(k, argc, argv, lens);
}

enum rc cw_conn_open(struct conn *k, char *err, size_t errlen)
{
	return conn_open(k, err, errlen);
}

void cw_conn_close(struct conn *k)
{
	conn_close(k);
}

enum rc cw_conn_nomem(struct conn *k, char *err, size_t errlen)
{
	return conn_nomem(k, err, errlen);
}

enum rc cw_conn_reply_fail(const struct conn *k, const redisReply *r, const char *what,
			   char *err, size_t errlen)
{
	return reply_fail(k, r, what, err, errlen);
}

enum rc cw_conn_read_more(struct conn *k, size_t *total)
{
	return read_more(k, total);
}

void cw_conn_free_replies(redisReply **v, size_t n)
{
	free_replies(v, n);
}

/* A reply that must be a count: its value, or -1 with *bad set to the reply when it is not. */
static int64_t reply_count(redisReply *r, redisReply **bad)
{
	if (r->type == REDIS_REPLY_INTEGER)
		return r->integer;
	if (!*bad)
		*bad = r;
	return -1;
}

static bool is_wrongtype(const redisReply *x)
{
	return x->type == REDIS_REPLY_ERROR && x->str && !strncmp(x->str, "WRONGTYPE", 9);
}

/* 4 LLEN per queue (names sorted), HLEN unacked, ZCARD unacked_index. */
static enum rc append_flow_cmds(struct conn *k, const struct cw_flow *f,
				const struct cw_flow_queue *prev, const char *name, int p)
{
	int extra = cw_flow_list_cmds(f, prev, p), step = cw_priority_steps[p];

	if (extra == 2 &&
	    append_key_args(k, "LPOS", name, step, 3,
			    (const char *[]){ prev->head[p], "MAXLEN", CW_FLOW_LPOS_MAXLEN },
			    (const size_t[]){ prev->hlen[p], 6, strlen(CW_FLOW_LPOS_MAXLEN) }))
		return RC_NOMEM;
	if (extra && append_key_args(k, "LINDEX", name, step, 1, (const char *[]){ "0" },
				     (const size_t[]){ 1 }))
		return RC_NOMEM;
	return RC_OK;
}

/* Per list LLEN, and with a flow its LPOS/LINDEX right after (flow.h): one client's
 * pipelined commands run back to back, so the head goes with the depth. */
static enum rc append_sample_cmds(struct conn *k, const char *const *names, size_t n,
				  const struct cw_flow *f, const struct cw_flow_queue **prev)
{
	for (size_t i = 0; i < n; i++)
		for (int p = 0; p < CW_NPRIO; p++)
			if (append_key_cmd(k, "LLEN", names[i], cw_priority_steps[p]) ||
			    (f && append_flow_cmds(k, f, prev[i], names[i], p)))
				return RC_NOMEM;
	if (append_key_cmd(k, "HLEN", "unacked", 0) || append_key_cmd(k, "ZCARD", "unacked_index", 0))
		return RC_NOMEM;
	return RC_OK;
}

/* One queue's CW_NPRIO LLEN replies into q. WRONGTYPE (a key that is not a list) is the
 * queue's problem, noted in q->error; any other bad reply goes to *bad (the first wins). */
static void fill_queue(const struct conn *k, struct cw_queue_depth *q, redisReply **rep,
		       redisReply **bad)
{
	q->arrived = q->drained = -1;
	for (int p = 0; p < CW_NPRIO; p++) {
		redisReply *x = rep[p], *wrong = NULL;
		int64_t v = reply_count(x, &wrong);

		if (v > INT64_MAX - q->depth) {	/* no list is that long: not a count */
			if (!*bad)
				*bad = x;
		} else if (v >= 0) {
			q->by_priority[p] = v;
			q->depth += v;
		} else if (!is_wrongtype(x)) {
			if (!*bad)
				*bad = x;
		} else if (!q->error) {
			char text[200], msg[300];
			reply_text(k, x, text, sizeof(text));
			snprintf(msg, sizeof(msg), "priority %d list: %s", cw_priority_steps[p], text);
			q->error = strdup(msg);
		}
	}
}

/* The sample's replies into out. Any error reply but WRONGTYPE (NOAUTH, LOADING,
 * MISCONF...) fails the whole sample; a rejected password also drops the connection. */
static enum rc read_sample(struct conn *k, const char *const *names, size_t n,
			   redisReply **rep, struct cw_sample *out)
{
	redisReply *bad = NULL, *wrong = NULL;
	enum rc r = RC_OK;

	for (size_t i = 0; i < n; i++) {
		if (!(out->queues[i].queue = strdup(names[i])))
			return RC_NOMEM;
		out->nqueues++;
		fill_queue(k, &out->queues[i], rep + i * CW_NPRIO, &bad);
	}
	out->unacked = reply_count(rep[n * CW_NPRIO], &wrong);
	out->unacked_index = reply_count(rep[n * CW_NPRIO + 1], &wrong);
	if (wrong && !is_wrongtype(wrong) && !bad)
		bad = wrong;
	if (bad && bad->type == REDIS_REPLY_ERROR) {
		r = reply_fail(k, bad, "", out->error, sizeof(out->error));
	} else if (bad) {
		seterr(out->error, sizeof(out->error), "Redis at %s: unexpected reply type %d",
		       k->where, bad->type);
		r = RC_REPLY;
	}
	if (r == RC_AUTH)	/* re-AUTH on reconnect, after the backoff */
		conn_close(k);
	out->redis_ok = r == RC_OK;
	return r;
}

/* The LLEN replies of a flow pipeline (flow.h), with HLEN and ZCARD, into the layout
 * read_sample reads (n * CW_NPRIO + 2). */
static void llen_replies(const struct cw_flow *f, const struct cw_flow_queue **prev, size_t n,
			 redisReply **rep, size_t ncmd, redisReply **llen)
{
	size_t at = 0;

	for (size_t i = 0; i < n; i++)
		for (int p = 0; p < CW_NPRIO; p++) {
			llen[i * CW_NPRIO + p] = rep[at];
			at += 1 + (size_t)cw_flow_list_cmds(f, prev[i], p);
		}
	llen[n * CW_NPRIO] = rep[ncmd - 2];
	llen[n * CW_NPRIO + 1] = rep[ncmd - 1];
}

/*
 * The sample: every command appended together and read back together (one write, one read
 * when the replies fit the socket buffers). names are sorted; on RC_OK out->queues is
 * filled and redis_ok set. flow (NULL for none): arrived/drained too, and its state moves on.
 */
static enum rc conn_sample(struct conn *k, const char *const *names, size_t n,
			   struct cw_flow *flow, struct cw_sample *out)
{
	const struct cw_flow_queue **prev = calloc(n ? n : 1, sizeof(*prev));
	size_t ncmd = (flow && prev ? cw_flow_plan(flow, names, n, prev) : n * CW_NPRIO) + 2;
	redisReply **rep = calloc(ncmd, sizeof(*rep));
	redisReply **llen = flow ? calloc(n * CW_NPRIO + 2, sizeof(*llen)) : rep;
	double t0 = cw_mono_s();
	enum rc r;

	out->queues = calloc(n ? n : 1, sizeof(*out->queues));
	if (!prev || !rep || !llen || !out->queues || append_sample_cmds(k, names, n, flow, prev)) {
		r = conn_nomem(k, out->error, sizeof(out->error));
		goto out;
	}
	r = roundtrip(k, ncmd, rep, t0 + k->timeout, out->error, sizeof(out->error));
	out->latency_ms = (cw_mono_s() - t0) * 1e3;
	if (!r && flow)
		llen_replies(flow, prev, n, rep, ncmd, llen);
	if (!r && (r = read_sample(k, names, n, llen, out)) == RC_NOMEM)
		conn_nomem(k, out->error, sizeof(out->error));
	if (!r && flow && cw_flow_read(flow, names, n, rep, out))
		r = conn_nomem(k, out->error, sizeof(out->error));
out:
	if (flow)
		free(llen);
	if (rep)
		free_replies(rep, ncmd);	/* roundtrip leaves NULLs when it fails */
	free(prev);
	return r;
}

/* ---- reply handling without a connection (tests, the fuzzer) ---- */

static void conn_detached(struct conn *k, const char *where, const char *prefix)
{
	memset(k, 0, sizeof(*k));
	k->stopfd = -1;
	k->prefix = prefix ? prefix : "";
	k->prefix_len = strlen(k->prefix);
	snprintf(k->where, sizeof(k->where), "%s", where ? where : "Redis");
}

int cw_broker_read_sample(const char *where, const char *const *names, size_t n,
			  struct redisReply **rep, struct cw_sample *out)
{
	struct conn k;

	conn_detached(&k, where, NULL);
	memset(out, 0, sizeof(*out));
	out->unacked = out->unacked_index = -1;
	if (!(out->queues = calloc(n ? n : 1, sizeof(*out->queues))))
		return -ENOMEM;
	return rc_errno(read_sample(&k, names, n, rep, out));
}

int cw_broker_read_scan(const char *prefix, const struct redisReply *sr, char cursor[32],
			struct cw_strset *keys, char *err, size_t errlen)
{
	const redisReply *bad;
	struct conn k;
	int rc = cw_disc_scan_reply(prefix, sr, cursor, keys, &bad);

	conn_detached(&k, NULL, prefix);
	if (rc == -EPROTO && bad)
		return rc_errno(reply_fail(&k, bad, "SCAN failed: ", err, errlen));
	if (rc == -EPROTO)
		seterr(err, errlen, "Redis at %s: unexpected reply to SCAN", k.where);
	return rc;
}

int cw_broker_read_bindings(const struct redisReply *set, struct cw_strset *found)
{
	return cw_disc_bound_queues(set, found);
}

void cw_sample_free(struct cw_sample *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nqueues; i++) {
		free(s->queues[i].queue);
		free(s->queues[i].error);
	}
	free(s->queues);
	s->queues = NULL;
	s->nqueues = 0;
	free(s->clients);
	s->clients = NULL;
	s->nclients = 0;
	s->clients_ok = false;
}

void cw_sample_delete(struct cw_sample *s)
{
	cw_sample_free(s);
	free(s);
}

/* ---- configuration shared by the thread and the one-shot ---- */

struct setup {
	struct cw_redis_url url;
	char *password;
	char *prefix;
	char *redacted;
	struct cw_strset queues;
	double interval, timeout;
};

static void setup_free(struct setup *st)
{
	cw_redis_url_free(&st->url);
	if (st->password) {
		explicit_bzero(st->password, strlen(st->password));
		free(st->password);
	}
	free(st->prefix);
	free(st->redacted);
	cw_strset_free(&st->queues);
	memset(st, 0, sizeof(*st));
}

static int setup_init(struct setup *st, const struct cw_broker_config *cfg, bool oneshot,
		      char *err, size_t errlen)
{
	bool from_env = false;
	char *url = NULL;
	int rc;

	memset(st, 0, sizeof(*st));
	st->interval = cfg->interval_s ? cfg->interval_s : DEFAULT_INTERVAL;
	if (!(st->interval >= MIN_INTERVAL && st->interval <= MAX_INTERVAL)) {	/* NaN too */
		seterr(err, errlen, "the broker sampling interval must be from %.1f to %.0f seconds",
		       MIN_INTERVAL, MAX_INTERVAL);
		return -EINVAL;
	}
	/* a slow broker must not stall a sample past the next one, nor hang forever */
	st->timeout = cfg->timeout_s > 0 ? cfg->timeout_s :
		      oneshot && !cfg->interval_s ? MIN_TIMEOUT :
		      st->interval < MIN_TIMEOUT ? MIN_TIMEOUT :
		      st->interval > MAX_TIMEOUT ? MAX_TIMEOUT : st->interval;

	url = cfg->url ? strdup(cfg->url) : cw_redis_url_default(&from_env);
	if (!url)
		goto nomem;
	if ((rc = cw_redis_url_parse(url, &st->url, err, errlen))) {
		if (from_env) {	/* say where the URL came from */
			char tmp[512];
			snprintf(tmp, sizeof(tmp), "%s", err);
			seterr(err, errlen, "$CELERY_BROKER_URL: %s (or pass --redis)", tmp);
		}
		goto fail;
	}
	size_t rlen = cw_redis_url_redacted(url, NULL, 0);
	st->redacted = malloc(rlen + 1);
	if (!st->redacted)
		goto nomem;
	cw_redis_url_redacted(url, st->redacted, rlen + 1);
	if (cfg->password_file) {
		/* the file wins over a password in the URL: it is the explicit, safer place */
		if ((rc = cw_redis_read_password_file(cfg->password_file, &st->password, err, errlen)))
			goto fail;
	} else if (st->url.password && !(st->password = strdup(st->url.password))) {
		goto nomem;
	}
	st->prefix = strdup(cfg->key_prefix ? cfg->key_prefix : "");
	if (!st->prefix)
		goto nomem;
	for (size_t i = 0; i < cfg->nqueues; i++) {
		const char *q = cfg->queues[i];
		if (!q || !queue_name_ok(q, strlen(q))) {
			seterr(err, errlen, "queue name %zu of %zu is empty or longer than %d bytes",
			       i + 1, cfg->nqueues, CW_QUEUE_NAME_MAX);
			rc = -EINVAL;
			goto fail;
		}
		if (cw_strset_add(&st->queues, q, strlen(q)) < 0)
			goto nomem;
	}
	if (url)
		explicit_bzero(url, strlen(url));
	free(url);
	return 0;
nomem:
	seterr(err, errlen, "out of memory");
	rc = -ENOMEM;
fail:
	if (url)
		explicit_bzero(url, strlen(url));
	free(url);
	setup_free(st);
	return rc;
}

static void conn_init(struct conn *k, const struct setup *st, int stopfd, double timeout)
{
	memset(k, 0, sizeof(*k));
	k->url = &st->url;
	k->password = st->password;
	k->prefix = st->prefix;
	k->prefix_len = strlen(st->prefix);
	k->stopfd = stopfd;
	k->timeout = timeout;
	cw_redis_url_where(&st->url, k->where, sizeof(k->where));
}

static void conn_fini(struct conn *k)
{
	conn_close(k);
	cw_lookup_abandon(&k->lookup);
	free(k->kbuf);
	k->kbuf = NULL;
}

int cw_broker_sample_once(const struct cw_broker_config *cfg, struct cw_sample *out,
			  char *err, size_t errlen)
{
	struct setup st;
	struct cw_disc d;
	struct conn k;
	const char **names = NULL;
	size_t n;
	enum rc r;
	int rc;

	memset(out, 0, sizeof(*out));
	out->unacked = out->unacked_index = -1;
	out->realtime_ns = cw_clock_ns(CLOCK_REALTIME);
	if ((rc = setup_init(&st, cfg, true, err, errlen))) {
		snprintf(out->error, sizeof(out->error), "%s", err);
		return rc;
	}
	conn_init(&k, &st, -1, st.timeout);
	if (cw_disc_init(&d, st.prefix)) {
		r = RC_NOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if ((r = conn_open(&k, err, errlen)))
		goto out;
	if (cfg->discover && (r = cw_disc_full(&d, &k, err, errlen)))
		goto out;
	names = merge_names(&st.queues, &d.found, &n, &out->queues_omitted);
	if (!names) {
		r = RC_NOMEM;
		seterr(err, errlen, "out of memory");
		goto out;
	}
	if ((r = conn_sample(&k, names, n, NULL, out)))
		seterr(err, errlen, "%s", out->error);
out:
	if (r && !out->error[0])
		snprintf(out->error, sizeof(out->error), "%s", err);
	free(names);
	cw_disc_free(&d);
	conn_fini(&k);
	setup_free(&st);
	return rc_errno(r);
}

/* ---- the sampler thread ---- */

struct cw_sampler {
	struct setup st;
	struct conn k;		/* thread-only once started */
	bool discover;
	int efd;		/* eventfd: readable while samples are pending */
	int stopfd;		/* eventfd: written once by cw_sampler_stop */
	int finalfd;		/* eventfd: written once by cw_sampler_finish */
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;	/* guards the fields below */
	struct cw_strset *extra;	/* configured + added at runtime (= &st.queues) */
	struct cw_sample **ring;
	size_t max_pending, head, count;
	uint64_t unreported;	/* dropped samples not yet reported in a sample */
	struct cw_sampler_stats stats;
	struct cw_broker_endpoint ep;	/* where the last connection went */
	bool want_clients;	/* CLIENT LIST in each round */
	bool clients_too_big;	/* thread-only: a CLIENT LIST broke the round-trip bound */
	pthread_cond_t finished_cv;	/* signalled when the final sample is queued */
	bool finished;		/* the final sample is queued */
	bool closed;		/* cw_sampler_finish gave up: later samples are not queued */

	/* thread-only */
	struct cw_disc d;
	struct cw_flow flow;	/* list heads of the last sample, for arrived/drained */
	struct conn sub;	/* tracking's subscribed connection, while d.tracking */
	double final_end;	/* the final tick's discovery ends by then (set before finalfd) */
	double retry_at, backoff;
	bool connected, ever_connected;
	char last_error[256];
};

int cw_sampler_fd(struct cw_sampler *s)
{
	return s->efd;
}

struct cw_sample *cw_sampler_take(struct cw_sampler *s)
{
	struct cw_sample *smp = NULL;

	pthread_mutex_lock(&s->mu);
	if (s->count) {
		smp = s->ring[s->head];
		s->head = (s->head + 1) % s->max_pending;
		s->count--;
	}
	if (!s->count) {
		uint64_t v;
		/* empty: clear the eventfd under the lock, so a push after this re-arms it */
		if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			v = 0;
	}
	pthread_mutex_unlock(&s->mu);
	return smp;
}

void cw_sampler_add_queues(struct cw_sampler *s, const char *const *queues, size_t n)
{
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < n; i++)
		if (queues[i] && queue_name_ok(queues[i], strlen(queues[i])) &&
		    s->extra->n < CW_MAX_QUEUES * 2)
			cw_strset_add(s->extra, queues[i], strlen(queues[i]));
	pthread_mutex_unlock(&s->mu);
}

const char *cw_sampler_url(const struct cw_sampler *s)
{
	return s->st.redacted;
}

bool cw_sampler_endpoint(struct cw_sampler *s, struct cw_broker_endpoint *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->ep;
	pthread_mutex_unlock(&s->mu);
	return out->known;
}

void cw_sampler_want_clients(struct cw_sampler *s, bool on)
{
	pthread_mutex_lock(&s->mu);
	s->want_clients = on;
	pthread_mutex_unlock(&s->mu);
}

/* After a connect: the peer the socket reached (the resolved address), or the path. */
static void note_endpoint(struct cw_sampler *s)
{
	struct cw_broker_endpoint ep = { .known = true };
	socklen_t sl = sizeof(ep.addr);
	char ip[INET6_ADDRSTRLEN];

	if (s->st.url.kind == CW_REDIS_UNIX) {
		ep.is_unix = true;
		snprintf(ep.path, sizeof(ep.path), "%s", s->st.url.path);
		snprintf(ep.text, sizeof(ep.text), "%s", s->st.url.path);
	} else if (s->k.c && getpeername(s->k.c->fd, (struct sockaddr *)&ep.addr, &sl) == 0 &&
		   (ep.addr.ss_family == AF_INET || ep.addr.ss_family == AF_INET6)) {
		const struct sockaddr_in *a4 = (const void *)&ep.addr;
		const struct sockaddr_in6 *a6 = (const void *)&ep.addr;
		bool v4 = ep.addr.ss_family == AF_INET;
		inet_ntop(ep.addr.ss_family, v4 ? (const void *)&a4->sin_addr : (const void *)&a6->sin6_addr,
			  ip, sizeof(ip));
		snprintf(ep.text, sizeof(ep.text), v4 ? "%s:%u" : "[%s]:%u", ip,
			 ntohs(v4 ? a4->sin_port : a6->sin6_port));
	} else {
		ep.known = false;
	}
	pthread_mutex_lock(&s->mu);
	s->ep = ep;
	pthread_mutex_unlock(&s->mu);
}

/* CLIENT LIST TYPE normal into smp, when asked for. An error reply (NOPERM for a
 * restricted ACL user, an old server) leaves clients_ok false; the sample stands. */
static void sample_clients(struct cw_sampler *s, struct cw_sample *smp)
{
	const char *argv[4] = { "CLIENT", "LIST", "TYPE", "normal" };
	size_t lens[4] = { 6, 4, 4, 6 };
	redisReply *rep = NULL;
	char err[256];
	bool want;

	pthread_mutex_lock(&s->mu);
	want = s->want_clients;
	pthread_mutex_unlock(&s->mu);
	if (!want || !s->k.c || s->clients_too_big)
		return;
	if (append(&s->k, 4, argv, lens)) {
		conn_nomem(&s->k, err, sizeof(err));
		return;
	}
	/* a failure drops the connection (the next round reconnects); a list over the bound
	 * would do it again each round: asked no more */
	if (roundtrip(&s->k, 1, &rep, cw_mono_s() + s->k.timeout, err, sizeof(err)) == RC_TOOBIG)
		s->clients_too_big = true;
	if (!rep)
		return;
	smp->clients_ok = cw_broker_read_clients(rep, &smp->clients, &smp->nclients) == 0;
	freeReplyObject(rep);
}

void cw_sampler_get_stats(struct cw_sampler *s, struct cw_sampler_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->stats;
	pthread_mutex_unlock(&s->mu);
}

/* Queue a sample with the count of those dropped before it; when the consumer lags, the
 * oldest goes and its count travels on. */
static void push_sample(struct cw_sampler *s, struct cw_sample *smp)
{
	uint64_t one = 1;

	pthread_mutex_lock(&s->mu);
	if (s->closed) {	/* after the stop's deadline: never written, so never counted */
		pthread_mutex_unlock(&s->mu);
		cw_sample_delete(smp);
		return;
	}
	smp->dropped_before = s->unreported;
	s->unreported = 0;
	if (s->count == s->max_pending) {
		struct cw_sample *old = s->ring[s->head];
		s->unreported += 1 + old->dropped_before;
		s->stats.dropped++;
		cw_sample_delete(old);
		s->head = (s->head + 1) % s->max_pending;
		s->count--;
	}
	s->ring[(s->head + s->count) % s->max_pending] = smp;
	s->count++;
	s->stats.samples++;
	if (!smp->redis_ok)
		s->stats.failures++;
	if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		one = 0;	/* cannot happen with a counter this small; nothing to do */
	pthread_mutex_unlock(&s->mu);
}

/* Hand the sample's contents to the queue (smp is left empty). */
static void emit(struct cw_sampler *s, struct cw_sample *smp)
{
	struct cw_sample *q = malloc(sizeof(*q));

	if (!q) {	/* the sample is lost: count it like a dropped one */
		pthread_mutex_lock(&s->mu);
		s->unreported++;
		s->stats.dropped++;
		pthread_mutex_unlock(&s->mu);
		return;
	}
	*q = *smp;
	memset(smp, 0, sizeof(*smp));
	push_sample(s, q);
}

static void failed(struct cw_sampler *s, const char *why, double now)
{
	snprintf(s->last_error, sizeof(s->last_error), "%s", why);
	s->connected = false;
	s->retry_at = now + s->backoff;
	s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
}

/* One tick: (re)connect if due, discover, sample, emit. false: stop asked. final: the
 * stop's last sample, its discovery bounded by end (monotonic). */
static bool tick(struct cw_sampler *s, bool final, double end)
{
	struct cw_sample smp = { 0 };
	double t0 = cw_mono_s();
	char err[256] = "";
	enum rc r;

	smp.realtime_ns = cw_clock_ns(CLOCK_REALTIME);
	smp.unacked = smp.unacked_index = -1;
	if (!s->connected) {
		if (t0 < s->retry_at) {
			snprintf(smp.error, sizeof(smp.error), "%.200s (reconnecting in %.1f s)",
				 s->last_error, s->retry_at - t0);
			goto out;
		}
		if ((r = conn_open(&s->k, err, sizeof(err)))) {
			if (r == RC_STOPPED)
				return false;
			failed(s, err, cw_mono_s());
			snprintf(smp.error, sizeof(smp.error), "%s", err);
			goto out;
		}
		s->connected = true;
		note_endpoint(s);
		/* the broker may have been replaced, and tracking went with the connection */
		cw_disc_reconnected(&s->d, &s->sub);
		if (s->ever_connected) {
			pthread_mutex_lock(&s->mu);
			s->stats.reconnects++;
			pthread_mutex_unlock(&s->mu);
		}
		s->ever_connected = true;
	}
	if (s->discover) {
		r = cw_disc_tick(&s->d, &s->k, &s->sub, s->st.interval, final ? end : -1, err,
				 sizeof(err));
		if (r == RC_STOPPED)
			return false;
		/* a failed discovery keeps the last known queues; a dead connection fails the sample */
		if (!s->k.c) {
			failed(s, err, cw_mono_s());
			snprintf(smp.error, sizeof(smp.error), "%s", err);
			goto out;
		}
	}

	const char **names;
	size_t n;
	pthread_mutex_lock(&s->mu);
	names = merge_names(s->extra, &s->d.found, &n, &smp.queues_omitted);
	pthread_mutex_unlock(&s->mu);
	if (!names) {
		snprintf(smp.error, sizeof(smp.error), "out of memory");
		goto out;
	}
	/* extra only grows and its strings live until stop: the pointers stay valid unlocked */
	r = conn_sample(&s->k, names, n, &s->flow, &smp);
	free(names);
	if (r == RC_STOPPED) {
		cw_sample_free(&smp);
		return false;
	}
	if (r == RC_OK) {
		s->backoff = BACKOFF_MIN;
		sample_clients(s, &smp);
		if (!s->k.c)
			failed(s, "the connection dropped during CLIENT LIST", cw_mono_s());
	} else if (!s->k.c) {
		failed(s, smp.error, cw_mono_s());
	}
out:
	if (!smp.redis_ok && !smp.latency_ms)
		smp.latency_ms = (cw_mono_s() - t0) * 1e3;
	emit(s, &smp);
	cw_sample_free(&smp);
	return true;
}

enum wake { WAKE_TIME, WAKE_STOP, WAKE_FINAL };

/* Sleep until t (monotonic), or until stop or the final sample is asked for. */
static enum wake sleep_until(struct cw_sampler *s, double t)
{
	for (;;) {
		double left = t - cw_mono_s();
		struct pollfd p[2] = { { .fd = s->stopfd, .events = POLLIN },
				       { .fd = s->finalfd, .events = POLLIN } };

		if (poll(p, 2, left > 0 ? (int)(left * 1000) + 1 : 0) > 0) {
			if (p[0].revents & POLLIN)
				return WAKE_STOP;
			if (p[1].revents & POLLIN)
				return WAKE_FINAL;
		}
		if (left <= 0)
			return WAKE_TIME;
	}
}

/* The stop's last discovery and sample, then nothing until stop. */
static void final_tick(struct cw_sampler *s)
{
	uint64_t v;

	if (read(s->finalfd, &v, sizeof(v)) < 0)
		v = 0;
	if (!tick(s, true, s->final_end))
		return;
	pthread_mutex_lock(&s->mu);
	s->finished = true;
	pthread_cond_broadcast(&s->finished_cv);
	pthread_mutex_unlock(&s->mu);
	while (sleep_until(s, cw_mono_s() + 3600) != WAKE_STOP)
		;
}

static void *sampler_main(void *arg)
{
	struct cw_sampler *s = arg;
	double next = cw_mono_s();	/* the first sample at once: short runs get data too */

	cw_thread_drop_caps();

	for (;;) {
		enum wake w = sleep_until(s, next);
		if (w == WAKE_STOP)
			break;
		if (w == WAKE_FINAL) {
			final_tick(s);
			break;
		}
		if (!tick(s, false, 0))
			break;
		double now = cw_mono_s();
		next += s->st.interval;
		if (next <= now)	/* a slow sample: skip the missed ticks rather than burst */
			next = now + s->st.interval;
	}
	return NULL;
}

static void sampler_free(struct cw_sampler *s)
{
	if (s->ring) {
		for (size_t i = 0; i < s->count; i++)
			cw_sample_delete(s->ring[(s->head + i) % s->max_pending]);
		free(s->ring);
	}
	conn_fini(&s->k);
	conn_fini(&s->sub);
	cw_disc_free(&s->d);
	cw_flow_free(&s->flow);
	setup_free(&s->st);
	if (s->efd >= 0)
		close(s->efd);
	if (s->stopfd >= 0)
		close(s->stopfd);
	if (s->finalfd >= 0)
		close(s->finalfd);
	pthread_cond_destroy(&s->finished_cv);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

int cw_sampler_start(struct cw_sampler **out, const struct cw_broker_config *cfg,
		     char *err, size_t errlen)
{
	struct cw_sampler *s = calloc(1, sizeof(*s));
	sigset_t all, old;
	enum rc r;
	int rc;

	*out = NULL;
	if (!s) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pthread_condattr_t ca;

	s->efd = s->stopfd = s->finalfd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->finished_cv, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = setup_init(&s->st, cfg, false, err, errlen))) {
		sampler_free(s);
		return rc;
	}
	s->extra = &s->st.queues;
	s->discover = cfg->discover;
	s->max_pending = cfg->max_pending ? cfg->max_pending : CW_SAMPLER_PENDING;
	s->backoff = BACKOFF_MIN;
	s->want_clients = true;	/* the recorder turns it off while it tracks nothing */
	s->ring = calloc(s->max_pending, sizeof(*s->ring));
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	s->finalfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cw_disc_init(&s->d, s->st.prefix)) {
		seterr(err, errlen, "out of memory");
		sampler_free(s);
		return -ENOMEM;
	}
	if (!s->ring || s->efd < 0 || s->stopfd < 0 || s->finalfd < 0) {
		rc = s->ring ? -errno : -ENOMEM;
		seterr(err, errlen, "cannot set up the broker sampler: %s", strerror(-rc));
		sampler_free(s);
		return rc;
	}

	conn_init(&s->k, &s->st, s->stopfd,
		  s->st.timeout < START_TIMEOUT_MAX ? s->st.timeout : START_TIMEOUT_MAX);
	s->k.resolve_max = START_RESOLVE_MAX;
	r = conn_open(&s->k, err, errlen);
	s->k.timeout = s->st.timeout;
	s->k.resolve_max = 0;
	conn_init(&s->sub, &s->st, s->stopfd, s->st.timeout);
	if (r == RC_TIMEOUT) {
		/* slow, not wrong: trace anyway and let the samples say what Redis does */
		failed(s, err, cw_mono_s());
	} else if (r) {
		sampler_free(s);
		return rc_errno(r);
	} else {
		s->connected = s->ever_connected = true;
		note_endpoint(s);
	}

	/* The thread takes no signals: the recorder's handlers and signalfd stay its own. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&s->thread, NULL, sampler_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		seterr(err, errlen, "cannot start the broker sampler thread: %s", strerror(rc));
		sampler_free(s);
		return -rc;
	}
	s->started = true;
	*out = s;
	return 0;
}

int cw_sampler_finish(struct cw_sampler *s, double timeout_s)
{
	uint64_t one = 1;
	double t0 = cw_mono_s(), end = t0 + timeout_s;
	struct timespec ts;
	int rc = 0;

	if (!s || !s->started)
		return 0;
	/* discovery gets the first part of the time, the sample the rest */
	s->final_end = t0 + timeout_s / 2;
	if (write(s->finalfd, &one, sizeof(one)) < 0)
		return -errno;
	ts.tv_sec = (time_t)end;
	ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
	pthread_mutex_lock(&s->mu);
	while (!s->finished && rc != ETIMEDOUT)
		rc = pthread_cond_timedwait(&s->finished_cv, &s->mu, &ts);
	if (!s->finished)
		s->closed = true;	/* whatever the thread finishes later is not counted */
	rc = s->finished ? 0 : -ETIMEDOUT;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

void cw_sampler_stop(struct cw_sampler *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	if (s->started) {
		/* every wait in the thread polls this fd, so the join is prompt */
		if (write(s->stopfd, &one, sizeof(one)) < 0)
			one = 0;
		pthread_join(s->thread, NULL);
	}
	sampler_free(s);
}
