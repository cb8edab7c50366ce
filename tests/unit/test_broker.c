/* Tests for user/broker/broker.c, and its `sample` lines as user/log/samplefmt.c writes
 * them, against a real redis-server started here on a free loopback port (its own temp
 * dir, killed by PID), plus fake brokers that hang or check pipelining.
 * Skipped, with a message, when redis-server is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <json-c/json.h>

#include "broker/broker.h"
#include "common/strset.h"
#include "log/eventlog.h"
#include "log/samplefmt.h"

#define SEP "\x06\x16"

static char redis_bin[256];

struct redis_proc {
	pid_t pid;
	int port;
	char dir[64];
	char sock[128];
};

struct hung_peer;

struct fx {
	struct redis_proc r;
	redisContext *admin;
	struct cw_sampler *s;
	int fake_fd;
	struct hung_peer *peer;
	char pwfile[64];
};

static void hung_peer_stop(struct hung_peer *p);

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool find_redis(void)
{
	const char *cands[] = { "/usr/bin/redis-server", "/usr/local/bin/redis-server",
				"/usr/sbin/redis-server" };

	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++)
		if (access(cands[i], X_OK) == 0) {
			snprintf(redis_bin, sizeof(redis_bin), "%s", cands[i]);
			return true;
		}
	return false;
}

/* Start redis-server on r->port (0: a free one) and wait until it answers. */
static void redis_start(struct redis_proc *r, const char *const *extra)
{
	char port[16], log[128];
	const char *argv[32];
	int n = 0;

	if (!r->dir[0]) {
		snprintf(r->dir, sizeof(r->dir), "/tmp/cw-test-redis-XXXXXX");
		assert_non_null(mkdtemp(r->dir));
		snprintf(r->sock, sizeof(r->sock), "%s/redis.sock", r->dir);
	}
	if (!r->port)
		r->port = free_port();
	snprintf(port, sizeof(port), "%d", r->port);
	snprintf(log, sizeof(log), "%s/redis.log", r->dir);
	argv[n++] = redis_bin;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--bind";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--save";
	argv[n++] = "";
	argv[n++] = "--appendonly";
	argv[n++] = "no";
	argv[n++] = "--daemonize";
	argv[n++] = "no";
	argv[n++] = "--dir";
	argv[n++] = r->dir;
	argv[n++] = "--logfile";
	argv[n++] = log;
	argv[n++] = "--unixsocket";
	argv[n++] = r->sock;
	argv[n++] = "--unixsocketperm";
	argv[n++] = "700";
	for (; extra && *extra; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;

	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);	/* never outlive a crashed test */
		execv(redis_bin, (char **)argv);
		_exit(127);
	}
	for (double t0 = now_s(); now_s() - t0 < 10;) {
		struct timeval tv = { 0, 200000 };
		redisContext *c = redisConnectWithTimeout("127.0.0.1", r->port, tv);
		if (c && !c->err) {
			redisReply *rep = redisCommand(c, "PING");	/* PONG or NOAUTH: it is up */
			bool up = rep != NULL;
			if (rep)
				freeReplyObject(rep);
			redisFree(c);
			if (up)
				return;
		} else if (c) {
			redisFree(c);
		}
		int st;
		if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
			r->pid = 0;
			fail_msg("redis-server exited at start; see %s", log);
		}
		usleep(20000);
	}
	fail_msg("redis-server did not answer on port %d within 10 s", r->port);
}

static void redis_kill(struct redis_proc *r, int sig)
{
	if (r->pid > 0) {
		kill(r->pid, sig);
		waitpid(r->pid, NULL, 0);
	}
	r->pid = 0;
}

static void redis_cleanup(struct redis_proc *r)
{
	redis_kill(r, SIGKILL);
	if (!r->dir[0])
		return;
	DIR *d = opendir(r->dir);
	if (d) {
		struct dirent *e;
		char p[512];
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
				snprintf(p, sizeof(p), "%s/%s", r->dir, e->d_name);
				unlink(p);
			}
		closedir(d);
	}
	rmdir(r->dir);
	r->dir[0] = '\0';
}

static redisContext *admin_connect(int port, const char *password)
{
	redisContext *c = redisConnect("127.0.0.1", port);

	assert_non_null(c);
	assert_int_equal(c->err, 0);
	if (password) {
		redisReply *rep = redisCommand(c, "AUTH %s", password);
		assert_non_null(rep);
		assert_int_equal(rep->type, REDIS_REPLY_STATUS);
		freeReplyObject(rep);
	}
	return c;
}

/* Run a command; its reply must not be an error. */
static void cmd(redisContext *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	redisReply *rep = redisvCommand(c, fmt, ap);
	va_end(ap);
	assert_non_null(rep);
	if (rep->type == REDIS_REPLY_ERROR)
		fail_msg("%s: %s", fmt, rep->str);
	freeReplyObject(rep);
}

/* RPUSH n items onto a key (binary-safe key) */
static void push_n(redisContext *c, const char *key, int n)
{
	for (int i = 0; i < n; i++)
		cmd(c, "RPUSH %b %d", key, strlen(key), i);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->fake_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cw_sampler_stop(f->s);
	hung_peer_stop(f->peer);
	if (f->admin)
		redisFree(f->admin);
	redis_cleanup(&f->r);
	if (f->fake_fd >= 0)
		close(f->fake_fd);
	if (f->pwfile[0])
		unlink(f->pwfile);
	free(f);
	return 0;
}

#define NEED_REDIS()								\
	do {									\
		if (!redis_bin[0]) {						\
			print_message("redis-server not installed (apt-get install " \
				      "redis-server): skipping\n");		\
			skip();							\
		}								\
	} while (0)

/* Start redis with extra args and an admin connection on db 3. */
static struct fx *with_redis(void **state, const char *const *extra, const char *password)
{
	struct fx *f = *state;

	redis_start(&f->r, extra);
	f->admin = admin_connect(f->r.port, password);
	cmd(f->admin, "SELECT 3");
	return f;
}

static void url_for(const struct fx *f, char *buf, size_t n, int db)
{
	snprintf(buf, n, "redis://127.0.0.1:%d/%d", f->r.port, db);
}

static const struct cw_queue_depth *find_q(const struct cw_sample *s, const char *name)
{
	for (size_t i = 0; i < s->nqueues; i++)
		if (!strcmp(s->queues[i].queue, name))
			return &s->queues[i];
	return NULL;
}

static void assert_depths(const struct cw_queue_depth *q, int64_t p0, int64_t p3, int64_t p6,
			  int64_t p9)
{
	assert_non_null(q);
	assert_int_equal(q->by_priority[0], p0);
	assert_int_equal(q->by_priority[1], p3);
	assert_int_equal(q->by_priority[2], p6);
	assert_int_equal(q->by_priority[3], p9);
	assert_int_equal(q->depth, p0 + p3 + p6 + p9);
}

static void sample_once(const struct cw_broker_config *cfg, struct cw_sample *s)
{
	char err[512];

	if (cw_broker_sample_once(cfg, s, err, sizeof(err)))
		fail_msg("sample_once: %s", err);
	assert_true(s->redis_ok);
	for (size_t i = 1; i < s->nqueues; i++)	/* sorted, unique */
		assert_true(strcmp(s->queues[i - 1].queue, s->queues[i].queue) < 0);
}

/* Next sample from the sampler within timeout seconds, as its line, parsed; NULL on timeout. */
static json_object *next_line(struct cw_sampler *s, double timeout)
{
	double end = now_s() + timeout;

	for (;;) {
		struct cw_sample *smp = cw_sampler_take(s);
		if (smp) {
			struct jw w;
			jw_init(&w);
			cw_sample_json(&w, smp);	/* as record's drain loop does */
			cw_sample_delete(smp);
			assert_false(w.oom);
			const char *line = w.buf;
			size_t n = w.len;
			assert_true(n > 2 && line[n - 1] == '\n' && strlen(line) == n);
			assert_null(memchr(line, '\n', n - 1));	/* one line, never split */
			json_object *j = json_tokener_parse(line);
			if (!j)
				fail_msg("not JSON: %s", line);
			jw_free(&w);
			return j;
		}
		double left = end - now_s();
		if (left <= 0)
			return NULL;
		struct pollfd p = { .fd = cw_sampler_fd(s), .events = POLLIN };
		poll(&p, 1, (int)(left * 1000) + 1);
	}
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static bool line_ok(json_object *j)
{
	return json_object_get_boolean(get(j, "redis_ok"));
}

/* depth of queue name in a sample line, -1 if absent */
static int64_t line_depth(json_object *j, const char *name)
{
	json_object *qs = get(j, "queues");

	for (size_t i = 0; qs && i < json_object_array_length(qs); i++) {
		json_object *q = json_object_array_get_idx(qs, i);
		if (!strcmp(json_object_get_string(get(q, "queue")), name))
			return json_object_get_int64(get(q, "depth"));
	}
	return -1;
}

/* Wait for a line matching pred; NULL after timeout. */
static json_object *wait_line(struct cw_sampler *s, double timeout, bool (*pred)(json_object *, const void *),
			      const void *arg)
{
	double end = now_s() + timeout;

	while (now_s() < end) {
		json_object *j = next_line(s, end - now_s());
		if (!j)
			return NULL;
		if (pred(j, arg))
			return j;
		json_object_put(j);
	}
	return NULL;
}

static bool is_ok(json_object *j, const void *a)
{
	(void)a;
	return line_ok(j);
}

static bool is_not_ok(json_object *j, const void *a)
{
	(void)a;
	return !line_ok(j);
}

static bool err_contains(json_object *j, const void *text)
{
	return !line_ok(j) && strstr(json_object_get_string(get(j, "error")), text);
}

static bool has_queue(json_object *j, const void *name)
{
	return line_ok(j) && line_depth(j, name) >= 0;
}

/* ---- tests ---- */

static void test_depths_by_priority(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	char url[128];
	struct cw_sample s;

	push_n(f->admin, "celery", 2);
	push_n(f->admin, "celery" SEP "3", 3);
	push_n(f->admin, "celery" SEP "6", 1);
	push_n(f->admin, "celery" SEP "9", 4);
	push_n(f->admin, "celery" SEP "5", 7);	/* not a kombu step: not counted */
	push_n(f->admin, "low", 5);
	cmd(f->admin, "HSET unacked t1 x t2 y t3 z");
	cmd(f->admin, "ZADD unacked_index 1 t1 2 t2");
	cmd(f->admin, "SET strq notalist");
	/* db 0 holds other numbers: SELECT must be honoured */
	cmd(f->admin, "SELECT 0");
	push_n(f->admin, "celery", 11);

	const char *queues[] = { "low", "celery", "empty", "strq", "celery" };
	struct cw_broker_config cfg = { .url = url, .queues = queues, .nqueues = 5 };
	url_for(f, url, sizeof(url), 3);
	double t0 = now_s();
	sample_once(&cfg, &s);
	double call_ms = (now_s() - t0) * 1e3;
	assert_int_equal(s.nqueues, 4);
	assert_string_equal(s.queues[0].queue, "celery");
	assert_string_equal(s.queues[1].queue, "empty");
	assert_string_equal(s.queues[2].queue, "low");
	assert_depths(find_q(&s, "celery"), 2, 3, 1, 4);
	assert_depths(find_q(&s, "low"), 5, 0, 0, 0);
	assert_depths(find_q(&s, "empty"), 0, 0, 0, 0);
	assert_null(find_q(&s, "celery")->error);
	/* a key that is not a list is that queue's problem, not the sample's */
	assert_non_null(find_q(&s, "strq")->error);
	assert_non_null(strstr(find_q(&s, "strq")->error, "WRONGTYPE"));
	assert_int_equal(s.unacked, 3);
	assert_int_equal(s.unacked_index, 2);
	/* milliseconds of the round trip, which happens inside the call */
	assert_true(s.latency_ms > 0 && s.latency_ms <= call_ms);

	/* the JSON line of docs/events.md */
	struct jw w;
	jw_init(&w);
	cw_sample_json(&w, &s);
	json_object *j = json_tokener_parse(w.buf);
	assert_non_null(j);
	assert_string_equal(json_object_get_string(get(j, "type")), "sample");
	assert_int_equal(json_object_get_int(get(j, "pid")), getpid());
	assert_true(line_ok(j));
	assert_null(get(j, "error"));
	assert_null(get(j, "dropped_samples"));
	json_object *q0 = json_object_array_get_idx(get(j, "queues"), 0);
	assert_int_equal(json_object_get_int(get(get(q0, "by_priority"), "9")), 4);
	assert_int_equal(json_object_get_int(get(j, "unacked_index")), 2);
	json_object_put(j);
	jw_free(&w);
	cw_sample_free(&s);

	/* db 0 through the unix socket */
	char uurl[256];
	const char *one[] = { "celery" };
	snprintf(uurl, sizeof(uurl), "unix://%s?db=0", f->r.sock);
	cfg = (struct cw_broker_config){ .url = uurl, .queues = one, .nqueues = 1 };
	sample_once(&cfg, &s);
	assert_depths(find_q(&s, "celery"), 11, 0, 0, 0);
	assert_int_equal(s.unacked, 0);	/* no hash: HLEN is 0 */
	cw_sample_free(&s);

	/* and through $CELERY_BROKER_URL when no URL is given */
	setenv("CELERY_BROKER_URL", url, 1);
	cfg = (struct cw_broker_config){ .queues = one, .nqueues = 1 };
	sample_once(&cfg, &s);
	assert_depths(find_q(&s, "celery"), 2, 3, 1, 4);
	cw_sample_free(&s);
	unsetenv("CELERY_BROKER_URL");
}

static void test_key_prefix(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	char url[128];
	struct cw_sample s;

	push_n(f->admin, "pfx:q1", 2);
	push_n(f->admin, "pfx:q1" SEP "9", 3);
	push_n(f->admin, "q1", 50);	/* the unprefixed list is another app's */
	push_n(f->admin, "q1" SEP "9", 50);
	cmd(f->admin, "HSET pfx:unacked a 1");
	cmd(f->admin, "HSET unacked a 1 b 2 c 3");
	cmd(f->admin, "ZADD pfx:unacked_index 1 a");

	const char *queues[] = { "q1" };
	struct cw_broker_config cfg = { .url = url, .key_prefix = "pfx:", .queues = queues, .nqueues = 1 };
	url_for(f, url, sizeof(url), 3);
	sample_once(&cfg, &s);
	assert_depths(find_q(&s, "q1"), 2, 0, 0, 3);
	assert_int_equal(s.unacked, 1);
	assert_int_equal(s.unacked_index, 1);
	cw_sample_free(&s);

	cfg.key_prefix = NULL;
	sample_once(&cfg, &s);
	assert_depths(find_q(&s, "q1"), 50, 0, 0, 50);
	assert_int_equal(s.unacked, 3);
	cw_sample_free(&s);
}

static void test_binding_discovery(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	char url[128];
	struct cw_sample s;

	/* what kombu's _queue_bind writes: routing_key SEP pattern SEP queue */
	cmd(f->admin, "SADD _kombu.binding.celery %s", "celery" SEP SEP "celery");
	cmd(f->admin, "SADD _kombu.binding.tasks %s %s", "rk" SEP SEP "hipri", "rk2" SEP "p" SEP "lopri");
	cmd(f->admin, "SADD _kombu.binding.celery.pidbox %s", SEP SEP "w1@h.celery.pidbox");
	cmd(f->admin, "SADD _kombu.binding.reply.celery.pidbox %s", "x" SEP SEP "abc.reply.celery.pidbox");
	cmd(f->admin, "SADD _kombu.binding.celeryev %s", "worker.#" SEP SEP "celeryev.1234");
	/* control queues bound elsewhere are skipped by name; malformed members ignored */
	cmd(f->admin, "SADD _kombu.binding.other %s %s %s %s %s", "a" SEP SEP "x.reply.celery.pidbox",
	    "a" SEP SEP "celeryev.99", "nosep", "only" SEP "one", "a" SEP SEP "");
	/* a binding key that is not a set: skipped without failing */
	cmd(f->admin, "SET _kombu.binding.broken x");
	/* many unrelated keys, so SCAN needs several cursors */
	for (int i = 0; i < 3000; i += 100) {
		redisReply *rep;
		for (int k = 0; k < 100; k++)
			redisAppendCommand(f->admin, "SET junk:%d x", i + k);
		for (int k = 0; k < 100; k++) {
			assert_int_equal(redisGetReply(f->admin, (void **)&rep), REDIS_OK);
			freeReplyObject(rep);
		}
	}
	for (int i = 0; i < 40; i++)
		cmd(f->admin, "SADD _kombu.binding.ex%d q%02d" SEP SEP "bq%02d", i, i, i);
	push_n(f->admin, "hipri", 4);
	push_n(f->admin, "hipri" SEP "6", 2);
	push_n(f->admin, "w1@h.celery.pidbox", 9);

	const char *queues[] = { "configured" };
	struct cw_broker_config cfg = { .url = url, .queues = queues, .nqueues = 1, .discover = true };
	url_for(f, url, sizeof(url), 3);
	sample_once(&cfg, &s);
	assert_depths(find_q(&s, "hipri"), 4, 0, 2, 0);
	assert_non_null(find_q(&s, "celery"));
	assert_non_null(find_q(&s, "lopri"));
	assert_non_null(find_q(&s, "configured"));
	assert_non_null(find_q(&s, "bq00"));
	assert_non_null(find_q(&s, "bq39"));
	assert_null(find_q(&s, "w1@h.celery.pidbox"));
	assert_null(find_q(&s, "abc.reply.celery.pidbox"));
	assert_null(find_q(&s, "x.reply.celery.pidbox"));
	assert_null(find_q(&s, "celeryev.1234"));
	assert_null(find_q(&s, "celeryev.99"));
	assert_int_equal(s.nqueues, 4 + 40);
	cw_sample_free(&s);

	/* discovery off: only what was asked for */
	cfg.discover = false;
	sample_once(&cfg, &s);
	assert_int_equal(s.nqueues, 1);
	cw_sample_free(&s);

	/* a prefix with glob characters is matched literally */
	cmd(f->admin, "SADD p*x:_kombu.binding.celery %s", "celery" SEP SEP "starq");
	cmd(f->admin, "SADD pax:_kombu.binding.celery %s", "celery" SEP SEP "wrongq");
	cmd(f->admin, "RPUSH p*x:starq" SEP "3 a b");
	cfg = (struct cw_broker_config){ .url = url, .key_prefix = "p*x:", .discover = true };
	sample_once(&cfg, &s);
	assert_int_equal(s.nqueues, 1);
	assert_depths(find_q(&s, "starq"), 0, 2, 0, 0);
	cw_sample_free(&s);
}

static void test_pipeline_50_queues(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	char url[128], names[50][24], key[40];
	const char *queues[50];
	struct cw_sample s;

	for (int i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "queue-%02d", i);
		queues[i] = names[i];
		for (int p = 0; p < CW_NPRIO; p++) {
			int step = cw_priority_steps[p];
			if (step)
				snprintf(key, sizeof(key), "%.24s" SEP "%d", names[i], step);
			else
				snprintf(key, sizeof(key), "%.24s", names[i]);
			push_n(f->admin, key, (i * (p + 1)) % 7);
		}
	}
	struct cw_broker_config cfg = { .url = url, .queues = queues, .nqueues = 50 };
	url_for(f, url, sizeof(url), 3);
	sample_once(&cfg, &s);
	assert_int_equal(s.nqueues, 50);
	for (int i = 0; i < 50; i++)
		assert_depths(&s.queues[i], i % 7, (i * 2) % 7, (i * 3) % 7, (i * 4) % 7);
	cw_sample_free(&s);

	/* the thread: latency of the pipelined round trip (202 commands) */
	cfg.interval_s = 0.1;
	char err[512];
	if (cw_sampler_start(&f->s, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	double lat[10], sum = 0, min = 1e9, max = 0;
	for (int k = 0; k < 10; k++) {
		json_object *j = next_line(f->s, 2);
		assert_non_null(j);
		assert_true(line_ok(j));
		assert_int_equal(json_object_array_length(get(j, "queues")), 50);
		assert_int_equal(line_depth(j, "queue-13"), 13 % 7 + 26 % 7 + 39 % 7 + 52 % 7);
		lat[k] = json_object_get_double(get(j, "latency_ms"));
		sum += lat[k];
		min = fmin(min, lat[k]);
		max = fmax(max, lat[k]);
		json_object_put(j);
	}
	/* a speed figure, printed: speed targets belong to `make bench`, not to tests */
	print_message("50 queues, 202 pipelined commands: latency_ms min %.3f mean %.3f max %.3f\n",
		      min, sum / 10, max);
}

/* A fake server that answers only once it has received every command of the sample: a
 * client that waited for each reply would deadlock and time out. */
struct pipe_srv {
	int lfd, nqueues;
	bool replied;
};

static void *pipe_srv_main(void *arg)
{
	struct pipe_srv *p = arg;
	int fd = accept(p->lfd, NULL, NULL);
	size_t cap = 1 << 20, len = 0;
	char *buf = malloc(cap);
	bool selected = false;

	while (fd >= 0) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 3000) <= 0)
			break;
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (!selected && strstr(buf, "SELECT\r\n$1\r\n0\r\n")) {
			assert_int_equal(write(fd, "+OK\r\n", 5), 5);
			selected = true;
			len = 0;
			continue;
		}
		int llen = 0;
		for (char *q = buf; (q = strstr(q, "$4\r\nLLEN\r\n")); q++)
			llen++;
		if (selected && llen == 4 * p->nqueues && strstr(buf, "unacked_index\r\n")) {
			char out[16];
			for (int i = 0; i < 4 * p->nqueues; i++) {
				int n = snprintf(out, sizeof(out), ":%d\r\n", 1 + i % 4);
				assert_int_equal(write(fd, out, n), n);
			}
			assert_int_equal(write(fd, ":7\r\n:8\r\n", 8), 8);
			p->replied = true;
			break;
		}
	}
	usleep(100000);
	if (fd >= 0)
		close(fd);
	free(buf);
	return NULL;
}

static int listen_fake(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A server that accepts AUTH and answers SELECT with an error ending in the password, which
 * starts 4 bytes before the 199 the error message keeps of a server's text. */
static void *echo_pw_main(void *arg)
{
	int *lfd = arg, fd = accept(*lfd, NULL, NULL);
	char buf[4096], reply[300];
	size_t len = 0;

	while (fd >= 0 && len < sizeof(buf) - 1) {
		struct pollfd pf = { .fd = fd, .events = POLLIN };
		if (poll(&pf, 1, 3000) <= 0)
			break;
		ssize_t r = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		buf[len] = '\0';
		if (strstr(buf, "SELECT\r\n")) {
			int n = snprintf(reply, sizeof(reply), "+OK\r\n-ERR %.191s%s\r\n",
					 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
					 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
					 "s3cr3t-Pw");
			assert_int_equal(write(fd, reply, n), n);
			break;
		}
	}
	usleep(100000);
	if (fd >= 0)
		close(fd);
	return NULL;
}

/* Found while writing tests/fuzz/fuzz_broker.c: the server's text was cut to 199 bytes
 * before the password was looked for, so a password cut by that limit was shown in part. */
static void test_echoed_password_cut(void **state)
{
	struct fx *f = *state;
	char url[96], err[512];
	struct cw_sample s;
	pthread_t t;
	int port;

	f->fake_fd = listen_fake(&port);
	snprintf(url, sizeof(url), "redis://:s3cr3t-Pw@127.0.0.1:%d/0", port);
	pthread_create(&t, NULL, echo_pw_main, &f->fake_fd);
	struct cw_broker_config cfg = { .url = url };
	int rc = cw_broker_sample_once(&cfg, &s, err, sizeof(err));
	pthread_join(t, NULL);
	cw_sample_free(&s);
	assert_int_equal(rc, -EPROTO);
	assert_non_null(strstr(err, "cannot select database 0: ERR xxx"));
	if (strstr(err, "s3cr"))
		fail_msg("part of the password in: %s", err);
}

static void test_one_round_trip(void **state)
{
	struct fx *f = *state;
	struct pipe_srv p = { .nqueues = 50 };
	char url[64], names[50][24], err[256];
	const char *queues[50];
	struct cw_sample s;
	pthread_t t;
	int port;

	f->fake_fd = p.lfd = listen_fake(&port);
	for (int i = 0; i < 50; i++) {
		snprintf(names[i], sizeof(names[i]), "q%02d", i);
		queues[i] = names[i];
	}
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d", port);
	pthread_create(&t, NULL, pipe_srv_main, &p);
	struct cw_broker_config cfg = { .url = url, .queues = queues, .nqueues = 50 };
	int rc = cw_broker_sample_once(&cfg, &s, err, sizeof(err));
	pthread_join(t, NULL);
	if (rc)
		fail_msg("not pipelined? %s", err);
	assert_true(p.replied);
	assert_int_equal(s.nqueues, 50);
	for (int i = 0; i < 50; i++)
		assert_depths(&s.queues[i], 1, 2, 3, 4);
	assert_int_equal(s.unacked, 7);
	assert_int_equal(s.unacked_index, 8);
	cw_sample_free(&s);
}

static void test_auth(void **state)
{
	NEED_REDIS();
	const char *extra[] = { "--requirepass", "s3cr3t-pw", NULL };
	struct fx *f = with_redis(state, extra, "s3cr3t-pw");
	struct cw_broker_config cfg = { 0 };
	char url[256], err[512];
	struct cw_sample s;
	int rc;

	cmd(f->admin, "ACL SETUSER alice on >alice%%pw ~* &* +@all");

	/* wrong password: start fails, one sentence, no password in it */
	snprintf(url, sizeof(url), "redis://:wrong-guess@127.0.0.1:%d/0", f->r.port);
	cfg.url = url;
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	assert_int_equal(rc, -EACCES);
	assert_null(f->s);
	print_message("wrong password: %s\n", err);
	assert_non_null(strstr(err, "rejected the password"));
	assert_null(strstr(err, "wrong-guess"));
	assert_null(strchr(err, '\n'));

	/* none at all */
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", f->r.port);
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	assert_int_equal(rc, -EACCES);
	print_message("no password: %s\n", err);
	assert_non_null(strstr(err, "requires a password"));

	/* the right one, in the URL: start works; the redacted URL hides it */
	snprintf(url, sizeof(url), "redis://:s3cr3t-pw@127.0.0.1:%d/3", f->r.port);
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	assert_null(strstr(cw_sampler_url(f->s), "s3cr3t"));
	assert_non_null(strstr(cw_sampler_url(f->s), ":***@"));
	cw_sampler_stop(f->s);
	f->s = NULL;

	/* from --redis-password-file, with a newline */
	snprintf(f->pwfile, sizeof(f->pwfile), "/tmp/cw-test-pw-XXXXXX");
	int fd = mkstemp(f->pwfile);
	assert_int_equal(write(fd, "s3cr3t-pw\n", 10), 10);
	close(fd);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/3", f->r.port);
	cfg.password_file = f->pwfile;
	sample_once(&cfg, &s);
	cw_sample_free(&s);
	cfg.password_file = NULL;

	/* Redis 6 ACL user with a percent-escaped password */
	snprintf(url, sizeof(url), "redis://alice:alice%%25pw@127.0.0.1:%d/3", f->r.port);
	sample_once(&cfg, &s);
	cw_sample_free(&s);
	snprintf(url, sizeof(url), "redis://alice:nope-nope@127.0.0.1:%d/3", f->r.port);
	rc = cw_broker_sample_once(&cfg, &s, err, sizeof(err));
	assert_int_equal(rc, -EACCES);
	assert_null(strstr(err, "nope-nope"));
	assert_false(s.redis_ok);
	cw_sample_free(&s);

	/* a database that does not exist */
	snprintf(url, sizeof(url), "redis://:s3cr3t-pw@127.0.0.1:%d/99", f->r.port);
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	assert_true(rc < 0);
	print_message("db 99: %s\n", err);
	assert_non_null(strstr(err, "database 99"));

	/* the password changes while running: samples say so, without either password */
	snprintf(url, sizeof(url), "redis://:s3cr3t-pw@127.0.0.1:%d/3", f->r.port);
	cfg.interval_s = 0.1;
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	json_object *j = wait_line(f->s, 3, is_ok, NULL);
	assert_non_null(j);
	json_object_put(j);
	cmd(f->admin, "CONFIG SET requirepass changed-pw");
	cmd(f->admin, "CLIENT KILL TYPE normal");
	j = wait_line(f->s, 3, is_not_ok, NULL);
	assert_non_null(j);
	const char *e = json_object_get_string(get(j, "error"));
	print_message("after the password changed: %s\n", e);
	j = (json_object_put(j), wait_line(f->s, 5, err_contains, "password"));
	assert_non_null(j);
	e = json_object_get_string(get(j, "error"));
	assert_non_null(strstr(e, "password"));
	assert_null(strstr(e, "s3cr3t"));
	assert_null(strstr(e, "changed-pw"));
	json_object_put(j);
}

static void test_start_errors(void **state)
{
	struct fx *f = *state;
	struct cw_broker_config cfg = { 0 };
	char url[128], err[512];
	double t0;
	int rc;

	/* nothing listens there */
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", free_port());
	cfg.url = url;
	t0 = now_s();
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	assert_int_equal(rc, -ECONNREFUSED);
	print_message("refused: %s (%.0f ms)\n", err, (now_s() - t0) * 1e3);
	assert_non_null(strstr(err, "Connection refused"));
	assert_null(f->s);

	cfg.url = "unix:///nonexistent/cw/redis.sock";
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	assert_true(rc < 0);
	assert_non_null(strstr(err, "/nonexistent/cw/redis.sock"));

	cfg.url = "redis://:hunter2@127.0.0.1:abc/0";
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	assert_int_equal(rc, -EINVAL);
	assert_null(strstr(err, "hunter2"));

	cfg.url = "rediss://127.0.0.1/0";
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "TLS"));

	setenv("CELERY_BROKER_URL", "amqp://guest:guest@localhost//", 1);
	cfg.url = NULL;
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -EINVAL);
	print_message("env: %s\n", err);
	assert_non_null(strstr(err, "CELERY_BROKER_URL"));
	unsetenv("CELERY_BROKER_URL");

	cfg.url = "redis://127.0.0.1:1/0";
	cfg.interval_s = 0.05;
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "interval"));
	cfg.interval_s = NAN;
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -EINVAL);
	cfg.interval_s = -1;
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -EINVAL);

	const char *bad[] = { "ok", "" };
	cfg = (struct cw_broker_config){ .url = "redis://127.0.0.1:1/0", .queues = bad, .nqueues = 2 };
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -EINVAL);

	cfg = (struct cw_broker_config){ .url = "redis://127.0.0.1/0", .password_file = "/nonexistent/pw" };
	assert_int_equal(cw_sampler_start(&f->s, &cfg, err, sizeof(err)), -ENOENT);
	assert_null(f->s);
}

static void test_thread_lines(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	const char *queues[] = { "cfg_q" };
	struct cw_broker_config cfg = { .queues = queues, .nqueues = 1, .interval_s = 0.1,
					.discover = true };
	char url[128], err[512];
	json_object *j;

	cmd(f->admin, "SADD _kombu.binding.celery %s", "bound_q" SEP SEP "bound_q");
	push_n(f->admin, "bound_q" SEP "3", 2);
	cw_eventlog_set_host("testhost");
	url_for(f, url, sizeof(url), 3);
	cfg.url = url;
	if (cw_sampler_start(&f->s, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	assert_non_null(strstr(cw_sampler_url(f->s), url));

	j = next_line(f->s, 2);
	assert_non_null(j);
	assert_int_equal(json_object_get_int(get(j, "v")), CW_SCHEMA_VERSION);
	assert_string_equal(json_object_get_string(get(j, "type")), "sample");
	assert_string_equal(json_object_get_string(get(j, "host")), "testhost");
	assert_int_equal(json_object_get_int(get(j, "pid")), getpid());
	assert_int_equal(strlen(json_object_get_string(get(j, "ts"))), 27);
	assert_true(line_ok(j));
	json_object *qs = get(j, "queues");
	assert_int_equal(json_object_array_length(qs), 2);
	json_object *q0 = json_object_array_get_idx(qs, 0);
	assert_string_equal(json_object_get_string(get(q0, "queue")), "bound_q");
	assert_int_equal(json_object_get_int(get(q0, "depth")), 2);
	json_object *bp = get(q0, "by_priority");
	assert_int_equal(json_object_object_length(bp), 4);
	assert_int_equal(json_object_get_int(get(bp, "0")), 0);
	assert_int_equal(json_object_get_int(get(bp, "3")), 2);
	assert_int_equal(json_object_get_int(get(bp, "6")), 0);
	assert_int_equal(json_object_get_int(get(bp, "9")), 0);
	json_object *q1 = json_object_array_get_idx(qs, 1);
	assert_string_equal(json_object_get_string(get(q1, "queue")), "cfg_q");
	assert_int_equal(json_object_get_int(get(j, "unacked")), 0);
	assert_int_equal(json_object_get_int(get(j, "unacked_index")), 0);
	assert_true(json_object_get_double(get(j, "latency_ms")) > 0);
	json_object_put(j);

	/* workers seen at runtime, deduplicated, hostile names escaped */
	const char *added[] = { "added_q", "cfg_q", "added_q", "we\"ird\\q\n\x01", "", NULL };
	cw_sampler_add_queues(f->s, added, 6);
	push_n(f->admin, "we\"ird\\q\n\x01", 3);
	j = wait_line(f->s, 2, has_queue, "added_q");
	assert_non_null(j);
	assert_int_equal(json_object_array_length(get(j, "queues")), 4);
	assert_int_equal(line_depth(j, "we\"ird\\q\n\x01"), 3);
	json_object_put(j);

	/* a queue bound while running is picked up at the next sample */
	cmd(f->admin, "SADD _kombu.binding.late %s", "late_q" SEP SEP "late_q");
	push_n(f->admin, "late_q", 6);
	double t0 = now_s();
	j = wait_line(f->s, 3, has_queue, "late_q");
	assert_non_null(j);
	print_message("new binding seen after %.0f ms (interval 0.2 s)\n", (now_s() - t0) * 1e3);
	assert_int_equal(line_depth(j, "late_q"), 6);
	json_object_put(j);

	struct cw_sampler_stats st;
	cw_sampler_get_stats(f->s, &st);
	assert_true(st.samples >= 3);
	assert_int_equal(st.failures, 0);

	/* stop while the thread sleeps between samples; promptness is asserted, by events, in
	 * test_fake_broker_hangs: here the time is only printed */
	t0 = now_s();
	cw_sampler_stop(f->s);
	f->s = NULL;
	print_message("cw_sampler_stop between samples: %.1f ms\n", (now_s() - t0) * 1e3);
}

static void test_redis_restart(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	const char *queues[] = { "celery" };
	struct cw_broker_config cfg = { .queues = queues, .nqueues = 1, .interval_s = 0.1 };
	char url[128], err[512], where[64];
	json_object *j;

	push_n(f->admin, "celery", 3);
	url_for(f, url, sizeof(url), 3);
	cfg.url = url;
	if (cw_sampler_start(&f->s, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	j = wait_line(f->s, 2, is_ok, NULL);
	assert_non_null(j);
	assert_int_equal(line_depth(j, "celery"), 3);
	json_object_put(j);

	redisFree(f->admin);
	f->admin = NULL;
	redis_kill(&f->r, SIGKILL);
	j = wait_line(f->s, 3, is_not_ok, NULL);
	assert_non_null(j);
	snprintf(where, sizeof(where), "127.0.0.1:%d", f->r.port);
	const char *e = json_object_get_string(get(j, "error"));
	print_message("redis killed: %s\n", e);
	assert_non_null(strstr(e, where));
	assert_int_equal(json_object_array_length(get(j, "queues")), 0);
	assert_true(json_object_is_type(get(j, "unacked"), json_type_null));
	json_object_put(j);
	/* samples go on while it is down: the next five come, and all say so */
	for (int down = 0; down < 5; down++) {
		j = next_line(f->s, 3);
		assert_non_null(j);
		assert_false(line_ok(j));
		json_object_put(j);
	}

	/* same port again: the sampler reconnects on its own (backoff 0.5 s doubling) */
	redis_start(&f->r, NULL);
	double t_up = now_s();
	j = wait_line(f->s, 12, is_ok, NULL);
	assert_non_null(j);
	print_message("recovered %.0f ms after the restart\n", (now_s() - t_up) * 1e3);
	assert_int_equal(line_depth(j, "celery"), 0);	/* the new server is empty */
	json_object_put(j);
	struct cw_sampler_stats st;
	cw_sampler_get_stats(f->s, &st);
	assert_int_equal(st.reconnects, 1);
	assert_true(st.failures >= 5);
}

/*
 * A broker that accepts connections and reads commands but answers none, unless a client
 * is still waiting answer_after seconds after its request: then it answers "+OK" and
 * counts it. That answer is a hang guard and the thing tests look for: a client that gave
 * up (or was stopped) on its own closed the connection long before, so "answered" stays 0.
 * Each connection's first request is counted and signalled on evfd: "the client is now
 * waiting for a reply" is an event a test can wait for.
 */
#define PEER_MAX_CONN 16

struct hung_peer {
	int lfd, evfd, quitfd;
	double answer_after;
	pthread_t t;
	atomic_int requests, answered;
	int fd[PEER_MAX_CONN];
	double asked[PEER_MAX_CONN];	/* when its first request came; 0 none yet */
	int nfd;
};

static void peer_drop(struct hung_peer *p, int i)
{
	close(p->fd[i]);
	p->fd[i] = p->fd[--p->nfd];
	p->asked[i] = p->asked[p->nfd];
}

/* Read from connection i: its first request is counted; EOF closes it. */
static void peer_read(struct hung_peer *p, int i)
{
	char buf[4096];
	uint64_t one = 1;

	if (read(p->fd[i], buf, sizeof(buf)) <= 0) {
		peer_drop(p, i);
		return;
	}
	if (p->asked[i])
		return;
	p->asked[i] = now_s();
	atomic_fetch_add(&p->requests, 1);
	assert_int_equal(write(p->evfd, &one, sizeof(one)), sizeof(one));
}

/* The hang guard: answer whoever is still waiting after answer_after seconds. */
static void peer_answer_late(struct hung_peer *p)
{
	for (int i = 0; i < p->nfd; i++) {
		if (!p->asked[i] || now_s() - p->asked[i] < p->answer_after)
			continue;
		if (write(p->fd[i], "+OK\r\n", 5) == 5)
			atomic_fetch_add(&p->answered, 1);
		p->asked[i] = 1e300;	/* once */
	}
}

static void *hung_peer_main(void *arg)
{
	struct hung_peer *p = arg;

	for (;;) {
		struct pollfd pf[PEER_MAX_CONN + 2] = {
			{ .fd = p->quitfd, .events = POLLIN },
			{ .fd = p->lfd, .events = p->nfd < PEER_MAX_CONN ? POLLIN : 0 },
		};
		for (int i = 0; i < p->nfd; i++)
			pf[i + 2] = (struct pollfd){ .fd = p->fd[i], .events = POLLIN };
		poll(pf, (nfds_t)p->nfd + 2, 50);
		if (pf[0].revents)
			break;
		for (int i = p->nfd - 1; i >= 0; i--)
			if (pf[i + 2].revents)
				peer_read(p, i);
		if (pf[1].revents & POLLIN) {
			int fd = accept(p->lfd, NULL, NULL);
			if (fd >= 0) {
				p->asked[p->nfd] = 0;
				p->fd[p->nfd++] = fd;
			}
		}
		peer_answer_late(p);
	}
	while (p->nfd)
		peer_drop(p, 0);
	return NULL;
}

static struct hung_peer *hung_peer_start(double answer_after, int *port)
{
	struct hung_peer *p = calloc(1, sizeof(*p));

	assert_non_null(p);
	p->answer_after = answer_after;
	p->lfd = listen_fake(port);
	p->evfd = eventfd(0, EFD_CLOEXEC);
	p->quitfd = eventfd(0, EFD_CLOEXEC);
	assert_true(p->evfd >= 0 && p->quitfd >= 0);
	assert_int_equal(pthread_create(&p->t, NULL, hung_peer_main, p), 0);
	return p;
}

/* Wait (hang guard: 30 s) until n requests in all have come. */
static void hung_peer_wait_requests(struct hung_peer *p, int n)
{
	double end = now_s() + 30;

	while (atomic_load(&p->requests) < n) {
		struct pollfd pf = { .fd = p->evfd, .events = POLLIN };
		uint64_t v;

		if (now_s() > end)
			fail_msg("the fake broker got %d requests, not %d", atomic_load(&p->requests), n);
		if (poll(&pf, 1, 100) > 0)
			assert_int_equal(read(p->evfd, &v, sizeof(v)), sizeof(v));
	}
}

static void hung_peer_stop(struct hung_peer *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	assert_int_equal(write(p->quitfd, &one, sizeof(one)), sizeof(one));
	pthread_join(p->t, NULL);
	close(p->lfd);
	close(p->evfd);
	close(p->quitfd);
	free(p);
}

static void test_fake_broker_hangs(void **state)
{
	struct fx *f = *state;
	const char *queues[] = { "celery" };
	struct cw_broker_config cfg = { .queues = queues, .nqueues = 1, .interval_s = 0.2 };
	char url[64], err[512];
	struct cw_sample s;
	int port;
	double t0;

	/* connect succeeds, the request arrives, no answer comes for 10 s */
	f->peer = hung_peer_start(10, &port);
	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/0", port);
	cfg.url = url;

	/* the one-shot gives up after its own timeout (1 s here), before the peer answers */
	t0 = now_s();
	int rc = cw_broker_sample_once(&cfg, &s, err, sizeof(err));
	double once = now_s() - t0;
	assert_int_equal(rc, -ETIMEDOUT);
	assert_false(s.redis_ok);
	cw_sample_free(&s);
	print_message("one-shot against a silent broker: %s (%.2f s)\n", err, once);
	assert_int_equal(atomic_load(&f->peer->requests), 1);	/* it did ask */
	assert_int_equal(atomic_load(&f->peer->answered), 0);	/* and returned unanswered */
	assert_non_null(strstr(err, "within 1.0 s"));
	assert_true(once >= 0.9);	/* not before its timeout: load only makes this longer */

	/* start does not fail on a slow broker: tracing goes on, samples say what happens.
	 * A 30 s round trip timeout: from now on only stop can end a wait before the peer's
	 * 10 s answer (start's own connect is still cut at 2 s). */
	cfg.timeout_s = 30;
	t0 = now_s();
	rc = cw_sampler_start(&f->s, &cfg, err, sizeof(err));
	if (rc)
		fail_msg("%s", err);
	print_message("start against a silent broker took %.2f s\n", now_s() - t0);
	json_object *j = next_line(f->s, 5);
	assert_non_null(j);
	assert_false(line_ok(j));
	const char *e = json_object_get_string(get(j, "error"));
	print_message("sample: %s\n", e);
	assert_non_null(strstr(e, "no reply"));
	json_object_put(j);

	/* stop while a reconnect hangs: once the thread's reconnect has asked (request 3),
	 * it waits for the reply; stop must end that wait before the peer answers */
	hung_peer_wait_requests(f->peer, 3);
	t0 = now_s();
	cw_sampler_stop(f->s);
	f->s = NULL;
	print_message("cw_sampler_stop while Redis hangs: %.1f ms\n", (now_s() - t0) * 1e3);
	assert_int_equal(atomic_load(&f->peer->answered), 0);
}

static uint64_t line_dropped(json_object *j)
{
	json_object *d = get(j, "dropped_samples");

	return d ? (uint64_t)json_object_get_int64(d) : 0;
}

/* After a take that found nothing the fd is not readable, unless a sample came since:
 * look in a quiet moment (no sample produced around the look). Adds what the lines taken
 * meanwhile report to *reported. */
static void assert_drained(struct cw_sampler *s, uint64_t *reported)
{
	for (int tries = 0; tries < 100; tries++) {
		struct pollfd p = { .fd = cw_sampler_fd(s), .events = POLLIN };
		struct cw_sampler_stats a, b;
		json_object *j;

		cw_sampler_get_stats(s, &a);
		if ((j = next_line(s, 0))) {	/* came after the drain: not empty yet */
			*reported += line_dropped(j);
			json_object_put(j);
			continue;
		}
		int ready = poll(&p, 1, 0);
		cw_sampler_get_stats(s, &b);
		if (a.samples == b.samples) {
			assert_int_equal(ready, 0);	/* drained: not readable */
			return;
		}
	}
	fail_msg("no quiet moment to look at the drained sampler in 100 tries");
}

static void test_dropped_samples(void **state)
{
	NEED_REDIS();
	struct fx *f = with_redis(state, NULL, NULL);
	struct cw_broker_config cfg = { .interval_s = 0.1, .max_pending = 2 };
	struct cw_sampler_stats lag, st;
	char url[128], err[512];
	uint64_t reported = 0;
	int taken = 0, lines = 0;
	json_object *j;

	url_for(f, url, sizeof(url), 3);
	cfg.url = url;
	if (cw_sampler_start(&f->s, &cfg, err, sizeof(err)))
		fail_msg("%s", err);
	do {	/* a consumer that lags */
		usleep(50000);
		cw_sampler_get_stats(f->s, &lag);
	} while (lag.samples < 9);
	while ((j = next_line(f->s, 0))) {
		reported += line_dropped(j);
		taken++;
		json_object_put(j);
	}
	cw_sampler_get_stats(f->s, &st);
	/* the ring was full (2) when lag was read and nothing had been taken; while draining,
	 * at most one more per sample produced meanwhile */
	print_message("drained %d lines; %llu samples produced while draining\n", taken,
		      (unsigned long long)(st.samples - lag.samples));
	assert_true(taken >= 2 && (uint64_t)taken <= 2 + (st.samples - lag.samples));
	assert_drained(f->s, &reported);

	/* the next line carries whatever was dropped and not yet reported; should the consumer
	 * lag again meanwhile (a loaded machine), a later line carries those */
	do {
		j = next_line(f->s, 3);
		assert_non_null(j);
		reported += line_dropped(j);
		json_object_put(j);
		cw_sampler_get_stats(f->s, &st);
	} while (reported != st.dropped && ++lines < 50);
	print_message("%llu samples, %llu dropped, %llu reported as dropped_samples\n",
		      (unsigned long long)st.samples, (unsigned long long)st.dropped,
		      (unsigned long long)reported);
	assert_true(st.dropped >= lag.samples - 2);	/* all but the 2 kept while lagging */
	assert_int_equal(reported, st.dropped);
}

/* ---- reply handling without a connection: what the fuzzer calls ---- */

/* The n replies hiredis's reader makes of wire bytes, into rep. */
static void parse_replies(const char *wire, size_t len, redisReply **rep, size_t n)
{
	redisReader *r = redisReaderCreate();

	assert_non_null(r);
	assert_int_equal(redisReaderFeed(r, wire, len), REDIS_OK);
	for (size_t i = 0; i < n; i++) {
		void *x = NULL;
		assert_int_equal(redisReaderGetReply(r, &x), REDIS_OK);
		assert_non_null(x);
		rep[i] = x;
	}
	redisReaderFree(r);
}

/* One queue's sample from wire bytes (6 replies): its return, the sample in *s. */
static int read_one_queue(const char *wire, struct cw_sample *s)
{
	const char *names[] = { "q" };
	redisReply *rep[CW_NPRIO + 2];

	parse_replies(wire, strlen(wire), rep, CW_NPRIO + 2);
	int rc = cw_broker_read_sample("fake:6379 db 0", names, 1, rep, s);
	for (size_t i = 0; i < CW_NPRIO + 2; i++)
		freeReplyObject(rep[i]);
	return rc;
}

static void test_read_sample_replies(void **state)
{
	struct cw_sample s;
	(void)state;

	assert_int_equal(read_one_queue(":1\r\n:2\r\n:0\r\n:3\r\n:4\r\n:5\r\n", &s), 0);
	assert_true(s.redis_ok);
	assert_depths(&s.queues[0], 1, 2, 0, 3);
	assert_int_equal(s.unacked, 4);
	assert_int_equal(s.unacked_index, 5);
	cw_sample_free(&s);

	/* a key that is not a list is the queue's problem, not the sample's */
	assert_int_equal(read_one_queue(":1\r\n-WRONGTYPE Operation against a key\r\n:0\r\n:0\r\n"
					":0\r\n:0\r\n", &s), 0);
	assert_true(s.redis_ok);
	assert_non_null(strstr(s.queues[0].error, "WRONGTYPE"));
	cw_sample_free(&s);

	assert_int_equal(read_one_queue(":1\r\n:1\r\n-LOADING Redis is loading\r\n:0\r\n:0\r\n"
					":0\r\n", &s), -EPROTO);
	assert_false(s.redis_ok);
	assert_non_null(strstr(s.error, "LOADING"));
	cw_sample_free(&s);

	assert_int_equal(read_one_queue("-NOAUTH Authentication required.\r\n:0\r\n:0\r\n:0\r\n"
					":0\r\n:0\r\n", &s), -EACCES);
	cw_sample_free(&s);

	/* not counts: a nil, a string, a negative length */
	assert_int_equal(read_one_queue("$-1\r\n:0\r\n:0\r\n:0\r\n:0\r\n:0\r\n", &s), -EPROTO);
	cw_sample_free(&s);
	assert_int_equal(read_one_queue(":0\r\n$1\r\n7\r\n:0\r\n:0\r\n:0\r\n:0\r\n", &s), -EPROTO);
	cw_sample_free(&s);
	assert_int_equal(read_one_queue(":0\r\n:-7\r\n:0\r\n:0\r\n:0\r\n:0\r\n", &s), -EPROTO);
	cw_sample_free(&s);
}

/* Four lists of INT64_MAX: the depth (their sum) would overflow int64 (undefined behaviour;
 * in practice a negative depth in the log). No list is that long: not a count. */
static void test_read_sample_overflow(void **state)
{
	struct cw_sample s;
	(void)state;

	assert_int_equal(read_one_queue(":9223372036854775807\r\n:9223372036854775807\r\n"
					":9223372036854775807\r\n:9223372036854775807\r\n"
					":0\r\n:0\r\n", &s), -EPROTO);
	assert_false(s.redis_ok);
	assert_non_null(strstr(s.error, "unexpected reply"));
	cw_sample_free(&s);
	/* one list that long is a count (Redis could not hold it, but it adds up) */
	assert_int_equal(read_one_queue(":9223372036854775807\r\n:0\r\n:0\r\n:0\r\n:0\r\n:0\r\n",
					&s), 0);
	assert_true(s.queues[0].depth == INT64_MAX);
	cw_sample_free(&s);
}

static void test_read_scan_and_bindings(void **state)
{
	static const char scan[] = "*2\r\n$2\r\n17\r\n*3\r\n$25\r\np:_kombu.binding.low_prio\r\n"
				   "$30\r\np:_kombu.binding.celery.pidbox\r\n$9\r\nunrelated\r\n";
	static const char bad_cursor[] = "*2\r\n$3\r\n1\0\x32\r\n*0\r\n";
	static const char members[] = "*3\r\n$15\r\nlow\x06\x16\x06\x16low_prio\r\n"
				      "$5\r\nnosep\r\n$26\r\nr\x06\x16\x06\x16x.reply.celery.pidbox\r\n";
	struct cw_strset keys = CW_STRSET_INIT, found = CW_STRSET_INIT;
	char cursor[32] = "0", err[256];
	redisReply *r;
	(void)state;

	parse_replies(scan, sizeof(scan) - 1, &r, 1);
	assert_int_equal(cw_broker_read_scan("p:", r, cursor, &keys, err, sizeof(err)), 0);
	freeReplyObject(r);
	assert_string_equal(cursor, "17");
	assert_int_equal(keys.n, 1);	/* the pidbox exchange and the stranger are left out */
	assert_true(cw_strset_has(&keys, "p:_kombu.binding.low_prio", 25));

	/* a cursor with a NUL in it would be sent back cut short: not a SCAN reply */
	parse_replies(bad_cursor, sizeof(bad_cursor) - 1, &r, 1);
	assert_int_equal(cw_broker_read_scan("p:", r, cursor, &keys, err, sizeof(err)), -EPROTO);
	freeReplyObject(r);
	assert_string_equal(cursor, "17");

	parse_replies(members, sizeof(members) - 1, &r, 1);
	assert_int_equal(cw_broker_read_bindings(r, &found), 0);
	freeReplyObject(r);
	assert_int_equal(found.n, 1);
	assert_true(cw_strset_has(&found, "low_prio", 8));
	cw_strset_free(&keys);
	cw_strset_free(&found);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_depths_by_priority, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binding_discovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pipeline_50_queues, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echoed_password_cut, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thread_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redis_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fake_broker_hangs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dropped_samples, setup, teardown),
		cmocka_unit_test(test_read_sample_replies),
		cmocka_unit_test(test_read_sample_overflow),
		cmocka_unit_test(test_read_scan_and_bindings),
	};

	if (!find_redis())
		fprintf(stderr, "test_broker: redis-server not found; the tests that need it are skipped\n");
	unsetenv("CELERY_BROKER_URL");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
