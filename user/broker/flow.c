/* Arrived/drained counts from list heads; see flow.h. */
#include "broker/flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

enum list_state { L_QUIET, L_EXACT, L_UNKNOWN };

void cw_flow_free(struct cw_flow *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].queue);
		for (int p = 0; p < CW_NPRIO; p++)
			free(f->v[i].head[p]);
	}
	free(f->v);
	f->v = NULL;
	f->n = f->bytes = 0;
}

static int cmp_queue(const void *key, const void *elt)
{
	return strcmp(key, ((const struct cw_flow_queue *)elt)->queue);
}

int cw_flow_list_cmds(const struct cw_flow *f, const struct cw_flow_queue *prev, int p)
{
	if (f->no_lpos)
		return 0;
	return (prev && prev->head[p] ? 1 : 0) + 1;
}

size_t cw_flow_plan(const struct cw_flow *f, const char *const *names, size_t n,
		    const struct cw_flow_queue **prev)
{
	size_t cmds = 0;

	for (size_t i = 0; i < n; i++) {
		prev[i] = f->n ? bsearch(names[i], f->v, f->n, sizeof(*f->v), cmp_queue) : NULL;
		for (int p = 0; p < CW_NPRIO; p++)
			cmds += 1 + (size_t)cw_flow_list_cmds(f, prev[i], p);
	}
	return cmds;
}

static bool refused(const redisReply *x)
{
	/* anything but WRONGTYPE: an unknown command (old Redis), NOPERM (an ACL) */
	return x->type == REDIS_REPLY_ERROR && !(x->str && !strncmp(x->str, "WRONGTYPE", 9));
}

/* One list: what its LPOS reply (NULL: none sent) says, given the previous state. */
static enum list_state list_flow(const struct cw_flow_queue *prev, int p, int64_t now,
				 const redisReply *lpos, int64_t *arrived, int64_t *drained)
{
	int64_t before = prev->depth[p];

	if (!lpos)	/* no head kept: only a list empty then and now says something */
		return before == 0 && now == 0 && !prev->head[p] ? L_QUIET : L_UNKNOWN;
	if (lpos->type != REDIS_REPLY_INTEGER || lpos->integer < 0 || before < 0 || now < 0)
		return L_UNKNOWN;	/* nil: drained past the old head */
	if (lpos->integer > INT64_MAX / 4 || before > INT64_MAX / 4)
		return L_UNKNOWN;
	int64_t d = before + lpos->integer - now;
	if (d < 0)	/* a message put back at the tail (kombu's restore): not a push we see */
		return L_UNKNOWN;
	*arrived = lpos->integer;
	*drained = d;
	return L_EXACT;
}

/* Keep this list's new head in q when it is small and the budget allows. */
static int keep_head(struct cw_flow *nf, struct cw_flow_queue *q, int p, const redisReply *x)
{
	if (!x || x->type != REDIS_REPLY_STRING || x->len > CW_FLOW_HEAD_MAX ||
	    nf->bytes + x->len > CW_FLOW_BYTES_MAX)
		return 0;
	if (!(q->head[p] = malloc(x->len ? x->len : 1)))
		return -ENOMEM;
	memcpy(q->head[p], x->str, x->len);
	q->hlen[p] = x->len;
	nf->bytes += x->len;
	return 0;
}

/* Queue i's lists from rep[*at...]: its counts into out, its new state into q. */
static int read_queue(const struct cw_flow *f, struct cw_flow *nf, const struct cw_flow_queue *prev,
		      struct cw_queue_depth *qd, redisReply **rep, size_t *at,
		      struct cw_flow_queue *q)
{
	int64_t arrived = 0, drained = 0;
	bool unknown = !prev || qd->error, exact = false;

	for (int p = 0; p < CW_NPRIO; p++) {
		int extra = cw_flow_list_cmds(f, prev, p);
		const redisReply *lpos = extra == 2 ? rep[*at + 1] : NULL;
		const redisReply *head = extra ? rep[*at + extra] : NULL;
		int64_t a = 0, d = 0;

		*at += 1 + (size_t)extra;
		if ((lpos && refused(lpos)) || (head && refused(head)))
			nf->no_lpos = true;
		q->depth[p] = qd->by_priority[p];
		if (keep_head(nf, q, p, head))
			return -ENOMEM;
		if (unknown || f->no_lpos)
			continue;
		switch (list_flow(prev, p, qd->by_priority[p], lpos, &a, &d)) {
		case L_EXACT:
			exact = true;
			arrived += a;
			drained += d;
			break;
		case L_UNKNOWN:
			unknown = true;
			break;
		case L_QUIET:
			break;
		}
	}
	/* lists empty at both samples alone prove nothing: tasks may have come and gone */
	qd->arrived = unknown || !exact || nf->no_lpos ? -1 : arrived;
	qd->drained = unknown || !exact || nf->no_lpos ? -1 : drained;
	return 0;
}

int cw_flow_read(struct cw_flow *f, const char *const *names, size_t n, redisReply **rep,
		 struct cw_sample *out)
{
	const struct cw_flow_queue **prev = calloc(n ? n : 1, sizeof(*prev));
	struct cw_flow nf = { .v = calloc(n ? n : 1, sizeof(*nf.v)), .no_lpos = f->no_lpos };
	size_t at = 0;
	int rc = 0;

	if (!prev || !nf.v)
		goto nomem;
	cw_flow_plan(f, names, n, prev);
	for (size_t i = 0; i < n && i < out->nqueues; i++) {
		struct cw_flow_queue *q = &nf.v[nf.n++];
		if (!(q->queue = strdup(names[i])) ||
		    read_queue(f, &nf, prev[i], &out->queues[i], rep, &at, q))
			goto nomem;
	}
	goto out;
nomem:
	rc = -ENOMEM;
	for (size_t i = 0; i < out->nqueues; i++)
		out->queues[i].arrived = out->queues[i].drained = -1;
	cw_flow_free(&nf);
out:
	cw_flow_free(f);
	*f = nf;
	free(prev);
	return rc;
}
