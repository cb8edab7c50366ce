/* libFuzzer target: the bytes a Redis server sends -> hiredis's reader -> our reply handling
 * (user/broker/broker.c): AUTH and SELECT checked, queue discovery (SCAN of the
 * _kombu.binding.* keys, DBSIZE and SMEMBERS of each, kombu's binding members unpacked:
 * broker/discover.c), then two samples (per list LLEN, then LPOS/LINDEX for arrived/drained:
 * broker/flow.c; HLEN, ZCARD) and their `sample` lines (log/samplefmt.c).
 *
 * broker.c keeps this code static, and another change is under way in it, so instead of a
 * seam this file includes broker.c itself: the static functions are the ones run here, and
 * libcw.a's broker.o is never linked (this file defines all of its symbols). The connection
 * is real hiredis with its reader pre-fed the input; its fd is /dev/null, so commands are
 * written and dropped and a read after the input is exhausted sees EOF, as a server hanging
 * up. Byte 0 picks the configuration: bit 0 a password, bit 1 an ACL user, bit 2 a key prefix
 * with glob characters, bits 3-4 how many queues are configured (0-3). Asserts: no crash, no
 * leak, no read out of bounds; a sample is redis_ok or has an error sentence; the sample's
 * queues are sorted; depths of a good sample add up; the password never reaches an error
 * message (queue names are the server's to choose, and are not checked for it). Then, on a
 * connection still up, CLIENT LIST (broker/clients.c): every field comes back terminated and
 * free of control characters. */
#include "broker/broker.c"

#include <fcntl.h>

#include "fuzz.h"

#include "log/jsonw.h"
#include "log/samplefmt.h"

#define PASSWORD "s3cr3t-Pw"

static int devnull = -1;
static bool has_password;	/* the configuration has one: it must not reach an error */

static void no_password(const char *s)
{
	if (has_password && strstr(s, PASSWORD)) {
		fprintf(stderr, "the password leaked: %s\n", s);
		abort();
	}
}

static void check_sample(const struct cw_sample *smp)
{
	no_password(smp->error);
	if (!smp->redis_ok && !smp->error[0])
		abort();
	for (size_t i = 0; i < smp->nqueues; i++) {
		const struct cw_queue_depth *q = &smp->queues[i];
		if (!q->queue || (i && strcmp(smp->queues[i - 1].queue, q->queue) >= 0))
			abort();
		if (q->error)
			no_password(q->error);
		if (q->arrived < -1 || q->drained < -1 || (q->arrived >= 0) != (q->drained >= 0))
			abort();
		if (smp->redis_ok && !q->error) {
			int64_t sum = 0;
			for (int p = 0; p < CW_NPRIO; p++)
				sum += q->by_priority[p];
			if (sum != q->depth)
				abort();
		}
	}
	struct jw w;
	jw_init(&w);
	cw_sample_json(&w, smp);
	if (w.oom || !w.len || w.buf[w.len - 1] != '\n' || memchr(w.buf, '\n', w.len - 1))
		abort();
	jw_free(&w);
}

/* The round's CLIENT LIST, as sample_clients sends it, parsed. */
static void check_clients(struct conn *k)
{
	const char *argv[4] = { "CLIENT", "LIST", "TYPE", "normal" };
	size_t lens[4] = { 6, 4, 4, 6 };
	redisReply *rep = NULL;
	struct cw_broker_client *c;
	size_t nc;
	char err[256];

	if (append(k, 4, argv, lens) || roundtrip(k, 1, &rep, cw_mono_s() + k->timeout, err, sizeof(err)))
		return;
	if (cw_broker_read_clients(rep, &c, &nc) == 0) {
		for (size_t i = 0; i < nc; i++) {
			const char *f[3] = { c[i].addr, c[i].laddr, c[i].cmd };
			size_t sz[3] = { sizeof(c[i].addr), sizeof(c[i].laddr), sizeof(c[i].cmd) };
			for (int j = 0; j < 3; j++) {
				size_t len = strnlen(f[j], sz[j]);
				if (len == sz[j])
					abort();
				for (size_t b = 0; b < len; b++)
					if ((unsigned char)f[j][b] < 0x20 || f[j][b] == 0x7f)
						abort();
			}
			if (!c[i].addr[0] || c[i].idle_s < -1)
				abort();
		}
		free(c);
	} else if (c || nc) {
		abort();
	}
	freeReplyObject(rep);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const char *const cfgq[] = { "celery", "low_priority", "high\x06\x16q" };
	struct cw_broker_config cfg = { 0 };
	struct setup st;
	struct conn k;
	struct cw_disc d;
	struct cw_flow flow = { 0 };
	struct cw_sample smp = { 0 };
	redisReply *rep[2] = { NULL, NULL };
	char err[256] = "";
	size_t n = 0;

	if (size < 1 || size > 1 << 16)
		return -1;
	if (devnull < 0 && (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
		abort();
	unsigned flags = data[0];
	has_password = flags & 1;
	cfg.url = flags & 1 ? (flags & 2 ? "redis://celery:" PASSWORD "@127.0.0.1:6379/3"
					 : "redis://:" PASSWORD "@127.0.0.1:6379/3")
			    : "redis://127.0.0.1:6379/0";
	cfg.key_prefix = flags & 4 ? "pfx*?[" : NULL;
	cfg.queues = cfgq;
	cfg.nqueues = (flags >> 3) & 3;
	if (setup_init(&st, &cfg, true, err, sizeof(err)))
		abort();
	conn_init(&k, &st, -1, st.timeout);
	if (cw_disc_init(&d, st.prefix))
		abort();
	int fd = dup(devnull);
	if (fd < 0 || !(k.c = redisConnectFd(fd)))
		abort();
	cw_reply_budget_attach(k.c->reader, &k.budget);	/* as conn_connect does */
	if (redisReaderFeed(k.c->reader, (const char *)data + 1, size - 1) != REDIS_OK)
		abort();

	/* conn_open after the connect: AUTH and SELECT in one round trip */
	enum rc r = append_auth_select(&k, &n);
	if (!r && !(r = roundtrip(&k, n, rep, cw_mono_s() + k.timeout, err, sizeof(err))))
		r = check_auth_select(&k, n == 2 ? rep[0] : NULL, rep[n - 1], err, sizeof(err));
	for (size_t i = 0; i < n; i++)
		if (rep[i])
			freeReplyObject(rep[i]);
	no_password(err);

	/* what tick() does after that: discover, merge, sample; a dead connection stops it */
	if (!r && k.c) {
		err[0] = '\0';
		cw_disc_full(&d, &k, err, sizeof(err));
		no_password(err);
	}
	for (int i = 0; i < 2 && k.c; i++) {	/* the second one reads LPOS of the first's heads */
		const char **names;
		size_t nn;
		memset(&smp, 0, sizeof(smp));
		smp.unacked = smp.unacked_index = -1;
		if ((names = merge_names(&st.queues, &d.found, &nn, &smp.queues_omitted))) {
			conn_sample(&k, names, nn, &flow, &smp);
			check_sample(&smp);
			free(names);
		}
		cw_sample_free(&smp);
	}
	if (k.c)
		check_clients(&k);
	cw_flow_free(&flow);
	cw_disc_free(&d);
	conn_fini(&k);
	setup_free(&st);
	return 0;
}
