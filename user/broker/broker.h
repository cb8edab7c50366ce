/* Redis broker sampler: queue depths as kombu counts them, sampled in a thread of its own
 * that never blocks the recorder, plus a one-shot sample for `celerywatch status`. */
#ifndef CW_BROKER_H
#define CW_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CW_NPRIO		4	/* kombu's default priority_steps [0, 3, 6, 9] */
#define CW_MAX_QUEUES		2048	/* queues sampled at most; the rest are counted as omitted */
#define CW_QUEUE_NAME_MAX	1024	/* longer names are ignored */
#define CW_SAMPLER_PENDING	256	/* default bound on samples waiting for cw_sampler_take() */

extern const int cw_priority_steps[CW_NPRIO];

struct cw_broker_config {
	const char *url;		/* NULL: $CELERY_BROKER_URL, else redis://127.0.0.1:6379/0 */
	const char *password_file;	/* NULL, or a file whose first line is the password */
	const char *key_prefix;		/* kombu's global_keyprefix; NULL or "" for none */
	const char *const *queues;	/* always sampled */
	size_t nqueues;
	double interval_s;		/* 0: 5 s; at least 0.1 s */
	bool discover;			/* also sample queues bound in _kombu.binding.* sets
					 * (broker/discover.h: continuous, no rescan period) */
	/* tuning, 0 for the defaults */
	double timeout_s;		/* per round trip: interval clamped to 1..10 s */
	double rescan_s;		/* ignored: discovery runs at every tick (discover.h) */
	size_t max_pending;		/* CW_SAMPLER_PENDING */
};

struct cw_queue_depth {
	char *queue;
	int64_t depth;			/* sum of by_priority */
	int64_t by_priority[CW_NPRIO];
	char *error;			/* NULL, or why a list could not be counted (WRONGTYPE) */
	int64_t arrived, drained;	/* tasks pushed / taken since the previous sample,
					 * -1 unknown (broker/flow.h) */
};

/* One connection CLIENT LIST reported. */
struct cw_broker_client {
	char addr[64];		/* the client's ip:port as Redis sees it ("[::1]:5" for IPv6) */
	char laddr[64];		/* the broker's own ip:port of that connection (Redis >= 6.2) */
	int64_t idle_s;		/* -1 unknown */
	char cmd[32];		/* last command, lowercase as Redis reports it ("brpop") */
};

struct cw_sample {
	uint64_t realtime_ns;		/* when the sample was started */
	bool redis_ok;
	char error[256];		/* when !redis_ok; never contains the password */
	struct cw_queue_depth *queues;	/* sorted by name (bytewise) */
	size_t nqueues;
	size_t queues_omitted;		/* known queues over CW_MAX_QUEUES, not sampled */
	int64_t unacked;		/* HLEN unacked, -1 unknown */
	int64_t unacked_index;		/* ZCARD unacked_index, -1 unknown */
	double latency_ms;		/* the pipelined round trip (or the failed attempt) */
	uint64_t dropped_before;	/* samples the sampler dropped since the last one it
					 * queued (the line's "dropped_samples"); 0 one-shot */
	bool clients_ok;		/* CLIENT LIST answered (not refused by an ACL, not old) */
	struct cw_broker_client *clients;
	size_t nclients;
};

/* Free what s holds (not s itself): for a struct cw_sample of the caller's. */
void cw_sample_free(struct cw_sample *s);
/* Free a sample cw_sampler_take() returned, contents and struct (NULL is fine). */
void cw_sample_delete(struct cw_sample *s);

/*
 * One sample, synchronously: parse, connect, AUTH, SELECT, discover (if cfg->discover),
 * one pipelined round trip, disconnect. Each round trip is bounded by cfg->timeout_s, else
 * 1 s (or max(1 s, interval) when an interval is given).
 * Returns 0 with *out filled (out->redis_ok), or -errno with one sentence in err; out is then
 * still valid to free. Always cw_sample_free(out).
 */
int cw_broker_sample_once(const struct cw_broker_config *cfg, struct cw_sample *out,
			  char *err, size_t errlen);

/*
 * Reply handling without I/O, as the sampler does it, for tests and fuzzers: give them
 * replies from hiredis's reader (any bytes a broker may send). No function here keeps rep.
 *
 * cw_broker_read_sample: rep holds one sample pipeline's n * CW_NPRIO + 2 replies (LLEN of
 * each queue's CW_NPRIO lists, queue by queue, then HLEN unacked and ZCARD unacked_index);
 * names the n queues, sorted. where names the broker in errors. Returns 0 (out->redis_ok),
 * -EPROTO (an error reply but WRONGTYPE, or not a count: out->error), -EACCES (NOAUTH,
 * WRONGPASS), -ENOMEM. out is overwritten; always cw_sample_free(out).
 */
struct redisReply;
struct cw_strset;
int cw_broker_read_sample(const char *where, const char *const *names, size_t n,
			  struct redisReply **rep, struct cw_sample *out);
/* One SCAN reply: the _kombu.binding.* keys under prefix (NULL: none) into keys, the next
 * cursor into cursor. 0, -EPROTO (err says why: an error reply or not a SCAN reply), -ENOMEM. */
int cw_broker_read_scan(const char *prefix, const struct redisReply *sr, char cursor[32],
			struct cw_strset *keys, char *err, size_t errlen);
/* One SMEMBERS reply of a binding set: the work queues it binds into found (control queues
 * and names kombu would not unpack are left out; anything but an array binds nothing).
 * 0 or -ENOMEM. */
int cw_broker_read_bindings(const struct redisReply *set, struct cw_strset *found);

/* The sampler thread. */
struct cw_sampler;

/*
 * Parse the URL, read the password file, connect, AUTH and SELECT once, synchronously; on
 * a bad URL, a refused connection or a rejected password return -errno with one sentence in
 * err (the caller prints it and exits 2). A broker that accepts but does not answer within
 * the timeout is not fatal: the thread starts and reports it in its samples.
 * Errors: -EINVAL (URL, interval, queue name), -errno of the password file, -ECONNREFUSED
 * (cannot connect, or the server hung up), -EACCES (password rejected or missing), -EPROTO
 * (SELECT refused), -ENOMEM. The thread blocks every signal; the caller's mask is untouched.
 */
int cw_sampler_start(struct cw_sampler **out, const struct cw_broker_config *cfg,
		     char *err, size_t errlen);
/* Non-blocking fd, readable while samples are pending: poll it, then take until NULL. */
int cw_sampler_fd(struct cw_sampler *s);
/* The oldest pending sample, or NULL; the caller formats it (log/samplefmt.h) and frees it
 * with cw_sample_delete(). */
struct cw_sample *cw_sampler_take(struct cw_sampler *s);
/* Sample these queues too (workers seen consuming them). Thread-safe, deduplicated. */
void cw_sampler_add_queues(struct cw_sampler *s, const char *const *queues, size_t n);
/* The effective URL with the password replaced by "***", for tracer_start. */
const char *cw_sampler_url(const struct cw_sampler *s);

/* Where the sampler's connection goes: the peer address of its TCP socket (as connected,
 * so the host name is resolved), or the unix socket's path. */
struct cw_broker_endpoint {
	bool known;		/* false before the first connection */
	bool is_unix;
	char path[108];		/* is_unix */
	struct sockaddr_storage addr;	/* TCP: the broker's address and port */
	char text[128];		/* "127.0.0.1:6379", "[::1]:6379" or the path, for the log */
};
/* A copy of the endpoint (thread-safe); false when not known yet. */
bool cw_sampler_endpoint(struct cw_sampler *s, struct cw_broker_endpoint *out);
/* Ask CLIENT LIST TYPE normal in each round (on while tracked processes exist). */
void cw_sampler_want_clients(struct cw_sampler *s, bool on);

struct cw_sampler_stats {
	uint64_t samples;		/* samples queued */
	uint64_t dropped;		/* samples dropped because the consumer lagged */
	uint64_t failures;		/* samples with redis_ok false */
	uint64_t reconnects;		/* successful connections after the first */
};
void cw_sampler_get_stats(struct cw_sampler *s, struct cw_sampler_stats *st);

/*
 * At stop, before the last lines: one last discovery (its SCAN pass continued for at most
 * half of timeout_s) and sample, queued for cw_sampler_take() when this returns 0. After
 * timeout_s (a broker that hangs) -ETIMEDOUT, and no sample is queued from then on (the
 * stats count none). The thread samples no more either way; call cw_sampler_stop().
 */
int cw_sampler_finish(struct cw_sampler *s, double timeout_s);

/* Stop and join the thread (promptly, even while Redis hangs), free pending samples. */
void cw_sampler_stop(struct cw_sampler *s);

#endif
