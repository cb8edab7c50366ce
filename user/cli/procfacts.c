/* One proc_sample round; see procfacts.h. */
#include "cli/procfacts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/brokerconn.h"
#include "capture/procstat.h"
#include "common/timeutil.h"
#include "log/procfmt.h"

/* The round's buffers, kept from one round to the next (the loop's thread only). */
struct round {
	struct cw_pentry *pe[CW_PROC_SAMPLE_MAX];
	struct cw_pf_proc out[CW_PROC_SAMPLE_MAX];
	struct cw_procstat st[CW_PROC_SAMPLE_MAX];
	struct cw_pf_conn conns[CW_PROC_SAMPLE_MAX][CW_BCONN_MAX_LOCAL];
	struct cw_bconn bc;
};

struct client_ix {
	struct cw_sockaddr a;
	const struct cw_broker_client *c;
};

static int ix_cmp(const void *x, const void *y)
{
	const struct cw_sockaddr *a = x, *b = y;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->ip, b->ip, 16);
	return c ? c : a->port == b->port ? 0 : a->port < b->port ? -1 : 1;
}

/* The CLIENT LIST entries by address, for the join with each process's sockets. */
static struct client_ix *index_clients(const struct cw_sample *smp, size_t *n)
{
	struct client_ix *ix = smp->clients_ok && smp->nclients ?
			       calloc(smp->nclients, sizeof(*ix)) : NULL;

	*n = 0;
	for (size_t i = 0; ix && i < smp->nclients; i++)
		if (cw_sockaddr_parse(smp->clients[i].addr, &ix[*n].a))
			ix[(*n)++].c = &smp->clients[i];
	if (ix)
		qsort(ix, *n, sizeof(*ix), ix_cmp);
	return ix;
}

/* Consumers' facts first when the bound cuts: MainProcesses, pool processes, beat, others */
static int role_rank(const struct cw_pentry *e)
{
	static const char *const order[] = { "main", "pool", "beat" };

	for (int i = 0; i < 3; i++)
		if (e->id.role && !strcmp(e->id.role, order[i]))
			return i;
	return 3;
}

static int pe_cmp(const void *a, const void *b)
{
	const struct cw_pentry *x = *(struct cw_pentry *const *)a, *y = *(struct cw_pentry *const *)b;
	int rx = role_rank(x), ry = role_rank(y);

	if (rx != ry)
		return rx - ry;
	return x->pid == y->pid ? 0 : x->pid < y->pid ? -1 : 1;
}

/* At most CW_PROC_SAMPLE_MAX tracked processes, by role then pid; the others are counted. */
static size_t pick(struct cw_ptable *t, struct cw_pentry **pe, size_t *omitted)
{
	struct cw_pentry **all = t->n ? malloc(t->n * sizeof(*all)) : NULL;
	size_t n = 0;

	*omitted = 0;
	if (!all)
		return 0;
	for (size_t b = 0; b < CW_PTABLE_BUCKETS; b++)
		for (struct cw_pentry *e = t->buckets[b]; e && n < t->n; e = e->next)
			all[n++] = e;
	qsort(all, n, sizeof(*all), pe_cmp);
	*omitted = n > CW_PROC_SAMPLE_MAX ? n - CW_PROC_SAMPLE_MAX : 0;
	n -= *omitted;
	memcpy(pe, all, n * sizeof(*pe));
	free(all);
	return n;
}

/* Its sockets to the broker, and the CLIENT LIST entry of each. */
static void read_conns(struct round *r, size_t k, int dfd, const struct client_ix *ix, size_t nix)
{
	struct cw_sockaddr local[CW_BCONN_MAX_LOCAL];
	size_t nlocal = 0;
	struct cw_pf_proc *o = &r->out[k];
	int c = cw_bconn_count(&r->bc, dfd, local, &nlocal);

	o->broker_conns = c;
	o->conns = r->conns[k];
	for (size_t i = 0; c > 0 && i < nlocal; i++) {
		const struct client_ix *hit = nix ? bsearch(&local[i], ix, nix, sizeof(*ix), ix_cmp) : NULL;
		if (!hit)
			continue;
		struct cw_pf_conn *pc = &r->conns[k][o->nconns++];
		cw_sockaddr_format(&local[i], pc->laddr, sizeof(pc->laddr));
		pc->idle_s = hit->c->idle_s;
		snprintf(pc->cmd, sizeof(pc->cmd), "%s", hit->c->cmd);
	}
}

/* One process: false when it is gone (or its pid reused): it is left out of the line. */
static bool read_one(struct round *r, size_t k, const char *root, bool conns,
		     const struct client_ix *ix, size_t nix)
{
	struct cw_pentry *e = r->pe[k];
	struct cw_procstat *st = &r->st[k];
	struct cw_pf_proc *o = &r->out[k];
	int dfd = cw_procstat_open(root, (int)e->pid, e->pstart, st);

	if (dfd < 0)
		return false;
	/* blocked since the last look: same CPU time and context switches, asleep */
	if (e->pf_seen && e->pf_cpu_ticks == st->cpu_ticks && e->pf_ctxsw == st->ctxsw &&
	    (st->state == 'S' || st->state == 'D'))
		cw_procstat_wait(dfd, st);
	e->pf_seen = true;
	e->pf_cpu_ticks = st->cpu_ticks;
	e->pf_ctxsw = st->ctxsw;
	*o = (struct cw_pf_proc){ .pid = e->pid, .pstart = e->pstart, .state = st->state,
				  .cpu_ticks = st->cpu_ticks, .ctxsw = st->ctxsw,
				  .wchan = st->wchan, .syscall = st->syscall, .broker_conns = -1 };
	if (conns)
		read_conns(r, k, dfd, ix, nix);
	close(dfd);
	return true;
}

void cw_procfacts_round(struct jw *w, const char *root, struct cw_ptable *t,
			const struct cw_sample *smp, const struct cw_broker_endpoint *ep)
{
	static struct round *r;
	struct cw_pf_broker b = { .addr = ep && ep->known ? ep->text : NULL };
	size_t omitted, n, nout = 0, nix = 0;
	struct cw_sockaddr bro;

	if (!r && !(r = calloc(1, sizeof(*r)))) {
		jw_reset(w);
		return;
	}
	b.client_list = smp->clients_ok;
	struct client_ix *ix = index_clients(smp, &nix);
	const char **caddr = nix ? calloc(nix, sizeof(*caddr)) : NULL;
	for (size_t i = 0; caddr && i < nix; i++)
		caddr[i] = ix[i].c->addr;
	if (ep && ep->known && ep->is_unix) {
		b.conn_known = cw_bconn_begin_unix(&r->bc, ep->path) == 0;
		if (!b.conn_known)
			cw_bconn_end(&r->bc);
	} else if (ep && ep->known && cw_sockaddr_from((const struct sockaddr *)&ep->addr, &bro)) {
		b.conn_known = true;
		cw_bconn_begin(&r->bc, &bro, 1, caddr, caddr ? nix : 0);
	}

	n = pick(t, r->pe, &omitted);
	for (size_t k = 0; k < n; k++) {
		r->pe[nout] = r->pe[k];
		if (read_one(r, nout, root, b.conn_known, ix, nix))
			nout++;
	}
	cw_proc_sample_json(w, cw_clock_ns(CLOCK_REALTIME), (uint32_t)getpid(), &b, r->out, nout,
			    omitted);
	if (b.conn_known)
		cw_bconn_end(&r->bc);
	free(caddr);
	free(ix);
}
