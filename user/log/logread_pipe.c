/* The reader in two threads (logread_int.h): the producer reads lines, parses each with
 * simdjson into a flat table of its own (jflat.h: self-contained copies) and checks and
 * flattens it into an event of its own (logfields.h), a batch of lines at a time, into a ring
 * of PIPE_BATCHES; the consumer reads again with json-c what either refused, reports bad
 * lines and calls back, all in line order as the one-thread reader does. Only the events
 * cross between the threads (the flat tables are three times their size in cache lines):
 * reading is most of explain's time, the timeline the rest, and on two cores they overlap. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log/logfields.h"
#include "log/logread_int.h"

#define PIPE_LINES 128
#define PIPE_BATCHES 4
#define PIPE_READBUF (1 << 20)	/* stdio's 4 KiB means a read(2) per 15 lines */

struct pline {
	long lineno;
	size_t off, len;	/* its text in batch.text (kept when not parsed) */
	bool parsed;		/* ev holds it (simdjson, the index and the checks took it) */
	struct cw_jflat flat;
	struct cw_event *ev;	/* its strings are in flat; allocated once, reused */
};

struct batch {
	struct pline l[PIPE_LINES];
	int n;
	long last_lineno;	/* of the last line read into it, blank ones too */
	char *text;
	size_t tlen, tcap;
	bool end;		/* nothing after it: end of input, a read error, out of memory */
	int err;		/* -EIO, -ENOMEM; 0 */
};

struct pipe {
	const char *name;
	FILE *in;
	struct cw_jsimd *simd;
	struct batch *b;	/* PIPE_BATCHES */
	int head, tail, count;	/* filled batches: count from tail; the producer fills head */
	long lineno;
	pthread_mutex_t mu;
	pthread_cond_t filled, freed;
	bool stop;		/* the consumer is done */
};

static int keep_text(struct batch *b, const char *line, size_t n)
{
	if (b->tlen + n > b->tcap) {
		size_t ncap = b->tcap ? b->tcap : 65536;
		while (ncap < b->tlen + n)
			ncap *= 2;
		char *t = realloc(b->text, ncap);
		if (!t)
			return -ENOMEM;
		b->text = t;
		b->tcap = ncap;
	}
	memcpy(b->text + b->tlen, line, n);
	b->tlen += n;
	return 0;
}

/* Read up to PIPE_LINES lines that are not blank into b, each parsed. */
static void fill(struct pipe *p, struct batch *b, char **line, size_t *cap)
{
	char why[256];	/* json-c's reading words the message */
	ssize_t n;

	b->n = 0;
	b->tlen = 0;
	while (b->n < PIPE_LINES && (n = getline(line, cap, p->in)) > 0) {
		p->lineno++;
		if (cw_line_blank(*line, (size_t)n))
			continue;
		struct pline *l = &b->l[b->n];
		l->lineno = p->lineno;
		l->off = b->tlen;
		l->len = (size_t)n;
		if (!l->ev && !(l->ev = malloc(sizeof(*l->ev)))) {
			b->err = -ENOMEM;
			break;
		}
		cw_logfields_clear(l->ev);
		l->ev->file = p->name;
		l->ev->line = l->lineno;
		l->parsed = !cw_jsimd_parse(p->simd, &l->flat, *line, (size_t)n) &&
			    !cw_jflat_index(&l->flat) &&
			    !cw_logfields_extract(&l->flat, 0, l->ev, why, sizeof(why));
		/* only a line json-c must read again needs its text */
		if (!l->parsed && keep_text(b, *line, (size_t)n)) {
			b->err = -ENOMEM;
			break;
		}
		b->n++;
	}
	b->last_lineno = p->lineno;
	if (!b->err && b->n < PIPE_LINES)
		b->err = ferror(p->in) ? -EIO : 0;
	b->end = b->err || b->n < PIPE_LINES;
}

static void *producer(void *arg)
{
	struct pipe *p = arg;
	char *line = NULL;
	size_t cap = 0;
	bool end = false;

	while (!end) {
		pthread_mutex_lock(&p->mu);
		while (p->count == PIPE_BATCHES && !p->stop)
			pthread_cond_wait(&p->freed, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			break;
		}
		struct batch *b = &p->b[p->head];
		pthread_mutex_unlock(&p->mu);
		fill(p, b, &line, &cap);
		end = b->end;
		pthread_mutex_lock(&p->mu);
		p->head = (p->head + 1) % PIPE_BATCHES;
		p->count++;
		pthread_cond_signal(&p->filled);
		pthread_mutex_unlock(&p->mu);
	}
	free(line);
	return NULL;
}

struct consumer {
	const char *name;
	cw_event_cb cb;
	void *ctx;
	struct cw_logread_stats *st;
	FILE *errf;
	struct cw_parsers ps;	/* json-c's, for lines simdjson or the checks refused */
	struct cw_event *ev;
	long lineno;		/* the last line counted */
};

/* One line as read_line and cw_logread_stream take it. Returns the callback's value. */
static int take_line(struct consumer *c, const struct batch *b, struct pline *l)
{
	struct cw_event *ev = l->ev;
	const char *line = b->text + l->off, *reason = NULL;
	char why[256];

	if (c->st)
		c->st->lines += l->lineno - c->lineno;
	c->lineno = l->lineno;
	if (!l->parsed) {
		ev = c->ev;
		cw_logfields_clear(ev);
		ev->file = c->name;
		ev->line = l->lineno;
		reason = cw_read_line_jsonc(&c->ps, line, l->len, ev, why, sizeof(why));
	}
	if (reason) {
		if (c->errf)
			fprintf(c->errf, "%s:%ld: %s; line skipped\n", c->name, l->lineno, reason);
		if (c->st)
			c->st->skipped++;
		return 0;
	}
	if (c->st)
		c->st->events++;
	return c->cb(ev, c->ctx);
}

/* Batches in order until the input ends or the callback says stop. */
static int consume(struct pipe *p, struct consumer *c)
{
	int ret = 0;
	bool end = false;

	while (!ret && !end) {
		pthread_mutex_lock(&p->mu);
		while (!p->count)
			pthread_cond_wait(&p->filled, &p->mu);
		struct batch *b = &p->b[p->tail];
		pthread_mutex_unlock(&p->mu);
		for (int i = 0; i < b->n && !ret; i++)
			ret = take_line(c, b, &b->l[i]);
		if (!ret && c->st)	/* blank lines after the last one */
			c->st->lines += b->last_lineno - c->lineno;
		if (!ret)
			c->lineno = b->last_lineno;
		end = b->end;
		if (!ret && b->err)
			ret = b->err;
		pthread_mutex_lock(&p->mu);
		p->tail = (p->tail + 1) % PIPE_BATCHES;
		p->count--;
		pthread_cond_signal(&p->freed);
		pthread_mutex_unlock(&p->mu);
	}
	return ret;
}

static void pipe_free(struct pipe *p)
{
	for (int i = 0; p->b && i < PIPE_BATCHES; i++) {
		for (int k = 0; k < PIPE_LINES; k++) {
			cw_jflat_free(&p->b[i].l[k].flat);
			free(p->b[i].l[k].ev);
		}
		free(p->b[i].text);
	}
	free(p->b);
	cw_jsimd_free(p->simd);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->filled);
	pthread_cond_destroy(&p->freed);
}

int cw_logread_pipe(FILE *in, const char *name, cw_event_cb cb, void *ctx,
		    struct cw_logread_stats *st, FILE *errf)
{
	struct pipe p = {.name = name, .in = in};
	struct consumer c = {.name = name, .cb = cb, .ctx = ctx, .st = st, .errf = errf};
	pthread_t th;
	int ret = -ENOMEM;

	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.filled, NULL);
	pthread_cond_init(&p.freed, NULL);
	setvbuf(in, NULL, _IOFBF, PIPE_READBUF);
	p.b = calloc(PIPE_BATCHES, sizeof(*p.b));
	p.simd = cw_jsimd_new();
	c.ev = malloc(sizeof(*c.ev));
	if (cw_parsers_init(&c.ps) || !p.b || !p.simd || !c.ev)
		goto out;
	if (pthread_create(&th, NULL, producer, &p)) {
		/* no second thread to be had: one is enough */
		ret = cw_logread_stream(in, name, cb, ctx, st, errf);
		goto out;
	}
	ret = consume(&p, &c);
	pthread_mutex_lock(&p.mu);
	p.stop = true;
	pthread_cond_signal(&p.freed);
	pthread_mutex_unlock(&p.mu);
	pthread_join(th, NULL);
out:
	cw_parsers_fini(&c.ps);
	free(c.ev);
	pipe_free(&p);
	return ret;
}
