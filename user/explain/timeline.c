/* Timeline builder: takes events in log order and keeps, per (host, pid, pstart), what the
 * process was (worker, queues, role, parent) and what happened to it (signals, OOM, exit).
 * Strings are interned in an arena; lookups are open-addressing hash tables, O(1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain/timeline.h"

/* ---- arena ---- */

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

struct cw_strtab {
	struct chunk *chunks;
	const char **slots;
	size_t cap, n;
};

static void *arena_alloc(struct cw_strtab *st, size_t len)
{
	len = (len + 7) & ~(size_t)7;
	if (!st->chunks || st->chunks->cap - st->chunks->used < len) {
		size_t cap = len > 60000 ? len : 65536 - sizeof(struct chunk);
		struct chunk *c = malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->used = 0;
		c->cap = cap;
		c->next = st->chunks;
		st->chunks = c;
	}
	void *p = st->chunks->data + st->chunks->used;
	st->chunks->used += len;
	return p;
}

static uint64_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static int strtab_grow(struct cw_strtab *st)
{
	size_t ncap = st->cap ? st->cap * 2 : 1024;
	const char **ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < st->cap; i++) {
		if (!st->slots[i])
			continue;
		size_t j = hash_bytes(st->slots[i], strlen(st->slots[i])) & (ncap - 1);
		while (ns[j])
			j = (j + 1) & (ncap - 1);
		ns[j] = st->slots[i];
	}
	free(st->slots);
	st->slots = ns;
	st->cap = ncap;
	return 0;
}

static const char *intern(struct cw_strtab *st, const char *s)
{
	if (!s)
		return NULL;
	if ((st->n + 1) * 2 > st->cap && strtab_grow(st))
		return NULL;
	size_t len = strlen(s);
	size_t j = hash_bytes(s, len) & (st->cap - 1);
	while (st->slots[j]) {
		if (!strcmp(st->slots[j], s))
			return st->slots[j];
		j = (j + 1) & (st->cap - 1);
	}
	char *p = arena_alloc(st, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len + 1);
	st->slots[j] = p;
	st->n++;
	return p;
}

const char *cw_timeline_intern(struct cw_timeline *tl, const char *s)
{
	return intern(tl->strs, s);
}

/* ---- (pointer, int, int) -> int table ---- */

struct pslot {
	const void *a;
	int64_t b, c;
	int v;			/* -1: empty */
};

struct cw_ptab {
	struct pslot *s;
	size_t cap, n;
};

static uint64_t pkey_hash(const void *a, int64_t b, int64_t c)
{
	return mix64((uint64_t)(uintptr_t)a ^ mix64((uint64_t)b * 31 + (uint64_t)c));
}

static int ptab_grow(struct cw_ptab *t)
{
	size_t ncap = t->cap ? t->cap * 2 : 1024;
	struct pslot *ns = malloc(ncap * sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < ncap; i++)
		ns[i].v = -1;
	for (size_t i = 0; i < t->cap; i++) {
		if (t->s[i].v < 0)
			continue;
		size_t j = pkey_hash(t->s[i].a, t->s[i].b, t->s[i].c) & (ncap - 1);
		while (ns[j].v >= 0)
			j = (j + 1) & (ncap - 1);
		ns[j] = t->s[i];
	}
	free(t->s);
	t->s = ns;
	t->cap = ncap;
	return 0;
}

static int ptab_get(const struct cw_ptab *t, const void *a, int64_t b, int64_t c)
{
	if (!t->cap)
		return -1;
	size_t j = pkey_hash(a, b, c) & (t->cap - 1);
	while (t->s[j].v >= 0) {
		if (t->s[j].a == a && t->s[j].b == b && t->s[j].c == c)
			return t->s[j].v;
		j = (j + 1) & (t->cap - 1);
	}
	return -1;
}

static int ptab_put(struct cw_ptab *t, const void *a, int64_t b, int64_t c, int v)
{
	if ((t->n + 1) * 2 > t->cap && ptab_grow(t))
		return -ENOMEM;
	size_t j = pkey_hash(a, b, c) & (t->cap - 1);
	while (t->s[j].v >= 0) {
		if (t->s[j].a == a && t->s[j].b == b && t->s[j].c == c) {
			t->s[j].v = v;
			return 0;
		}
		j = (j + 1) & (t->cap - 1);
	}
	t->s[j] = (struct pslot){a, b, c, v};
	t->n++;
	return 0;
}

static void ptab_free(struct cw_ptab *t)
{
	if (t)
		free(t->s);
	free(t);
}

/* ---- growable arrays ---- */

static int grow(void **arr, int *cap, int need, size_t elem)
{
	if (need <= *cap)
		return 0;
	int ncap = *cap ? *cap * 2 : 64;
	while (ncap < need)
		ncap *= 2;
	void *p = realloc(*arr, (size_t)ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* ---- signals ---- */

static const char *const signames[] = {
	[1] = "SIGHUP", [2] = "SIGINT", [3] = "SIGQUIT", [4] = "SIGILL", [5] = "SIGTRAP",
	[6] = "SIGABRT", [7] = "SIGBUS", [8] = "SIGFPE", [9] = "SIGKILL", [10] = "SIGUSR1",
	[11] = "SIGSEGV", [12] = "SIGUSR2", [13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM",
	[16] = "SIGSTKFLT", [17] = "SIGCHLD", [18] = "SIGCONT", [19] = "SIGSTOP", [20] = "SIGTSTP",
	[21] = "SIGTTIN", [22] = "SIGTTOU", [23] = "SIGURG", [24] = "SIGXCPU", [25] = "SIGXFSZ",
	[26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH", [29] = "SIGIO", [30] = "SIGPWR",
	[31] = "SIGSYS",
};

int cw_signo(const char *name)
{
	if (!name)
		return 0;
	for (int i = 1; i < (int)(sizeof(signames) / sizeof(signames[0])); i++)
		if (signames[i] && !strcmp(signames[i], name))
			return i;
	return 0;
}

/* Signals whose default action never ends or stops a process: not worth keeping. */
static bool harmless_signal(int signo)
{
	return signo == 17 || signo == 18 || signo == 23 || signo == 28;
}

static bool stop_signal(int signo)
{
	return signo == 19 || signo == 20 || signo == 21 || signo == 22;
}

/* ---- init/free ---- */

int cw_timeline_init(struct cw_timeline *tl)
{
	memset(tl, 0, sizeof(*tl));
	tl->first_ts = tl->last_ts = tl->until = CW_NONE;
	tl->strs = calloc(1, sizeof(*tl->strs));
	tl->bykey = calloc(1, sizeof(*tl->bykey));
	tl->bypid = calloc(1, sizeof(*tl->bypid));
	tl->failbypid = calloc(1, sizeof(*tl->failbypid));
	tl->qsets = calloc(1, sizeof(*tl->qsets));
	tl->qnames = calloc(1, sizeof(*tl->qnames));
	if (!tl->strs || !tl->bykey || !tl->bypid || !tl->failbypid || !tl->qsets || !tl->qnames) {
		cw_timeline_free(tl);
		return -ENOMEM;
	}
	return 0;
}

void cw_timeline_free(struct cw_timeline *tl)
{
	if (tl->strs) {
		struct chunk *c = tl->strs->chunks;
		while (c) {
			struct chunk *n = c->next;
			free(c);
			c = n;
		}
		free(tl->strs->slots);
		free(tl->strs);
	}
	ptab_free(tl->bykey);
	ptab_free(tl->bypid);
	ptab_free(tl->failbypid);
	ptab_free(tl->qsets);
	ptab_free(tl->qnames);
	for (int i = 0; i < tl->nqueues; i++)
		free(tl->queues[i].samples);
	free(tl->queues);
	free(tl->procs);
	free(tl->sigs);
	free(tl->lost);
	free(tl->execfails);
	free(tl->other_ooms);
	free(tl->hosts);
	free(tl->qsetv);
	memset(tl, 0, sizeof(*tl));
}

/* ---- queues ---- */

static int queue_index(struct cw_timeline *tl, const char *name)
{
	const char *in = intern(tl->strs, name);

	if (!in)
		return -1;
	int i = ptab_get(tl->qnames, in, 0, 0);
	if (i >= 0)
		return i;
	if (grow((void **)&tl->queues, &tl->capqueues, tl->nqueues + 1, sizeof(*tl->queues)))
		return -1;
	i = tl->nqueues++;
	memset(&tl->queues[i], 0, sizeof(tl->queues[i]));
	tl->queues[i].name = in;
	if (ptab_put(tl->qnames, in, 0, 0, i))
		return -1;
	return i;
}

bool cw_qset_has(const struct cw_qset *qs, const char *name)
{
	if (!qs)
		return false;
	for (int i = 0; i < qs->n; i++)
		if (qs->names[i] == name)
			return true;
	return false;
}

/* The same list of queues is one shared, interned cw_qset. The key is each name prefixed by
 * its length ("1:a1:b" for ["a","b"], "3:a\x1fb" for ["a\x1fb"]): no name can forge another
 * list's key, whatever bytes it holds. */
static const struct cw_qset *qset_intern(struct cw_timeline *tl, const char *const *q, int n)
{
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(q[i]) + 21;
	char *key = malloc(len), *p = key;
	if (!key)
		return NULL;
	for (int i = 0; i < n; i++) {
		size_t l = strlen(q[i]);
		p += sprintf(p, "%zu:", l);
		memcpy(p, q[i], l);
		p += l;
	}
	*p = 0;
	const char *ikey = intern(tl->strs, key);
	free(key);
	if (!ikey)
		return NULL;
	int idx = ptab_get(tl->qsets, ikey, 0, 0);
	if (idx >= 0)
		return tl->qsetv[idx];
	struct cw_qset *qs = arena_alloc(tl->strs, sizeof(*qs) + (size_t)n * sizeof(char *));
	if (!qs)
		return NULL;
	qs->n = n;
	qs->names = (const char **)(qs + 1);
	for (int i = 0; i < n; i++)
		if (!(qs->names[i] = intern(tl->strs, q[i])))
			return NULL;
	if (grow((void **)&tl->qsetv, &tl->capqsetv, tl->nqsetv + 1, sizeof(*tl->qsetv)) ||
	    ptab_put(tl->qsets, ikey, 0, 0, tl->nqsetv))
		return NULL;
	tl->qsetv[tl->nqsetv++] = qs;
	return qs;
}

/* ---- processes ---- */

static const char *host_intern(struct cw_timeline *tl, const char *h)
{
	const char *in = intern(tl->strs, h);

	if (!in)
		return NULL;
	for (int i = 0; i < tl->nhosts; i++)
		if (tl->hosts[i] == in)
			return in;
	if (grow((void **)&tl->hosts, &tl->caphosts, tl->nhosts + 1, sizeof(*tl->hosts)))
		return NULL;
	tl->hosts[tl->nhosts++] = in;
	return in;
}

/* argv joined by spaces, for people to read */
static const char *join_argv(struct cw_timeline *tl, const struct cw_event *ev)
{
	size_t len = 1;
	for (int i = 0; i < ev->argc; i++)
		len += strlen(ev->argv[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return NULL;
	for (int i = 0; i < ev->argc; i++) {
		size_t l = strlen(ev->argv[i]);
		if (i)
			*p++ = ' ';
		memcpy(p, ev->argv[i], l);
		p += l;
	}
	*p = 0;
	const char *in = intern(tl->strs, s);
	free(s);
	return in;
}

/* `celery worker --detach` (or -D) exits 0 once it has forked the real worker. */
static bool argv_detach(const struct cw_event *ev)
{
	for (int i = 0; i < ev->argc; i++)
		if (!strcmp(ev->argv[i], "--detach") || !strcmp(ev->argv[i], "-D"))
			return true;
	return false;
}

static int64_t or_keep(int64_t v, int64_t old)
{
	return v == CW_NONE ? old : v;
}

/* The worker fields a line carries replace what we knew. */
static int apply_fields(struct cw_timeline *tl, struct cw_tproc *p, const struct cw_event *ev)
{
	if (ev->comm && !(p->comm = intern(tl->strs, ev->comm)))
		return -ENOMEM;
	if (ev->cgroup && !(p->cgroup = intern(tl->strs, ev->cgroup)))
		return -ENOMEM;
	if (ev->worker && !(p->worker = intern(tl->strs, ev->worker)))
		return -ENOMEM;
	if (ev->has_queues && !(p->queues = qset_intern(tl, ev->queues, ev->nqueues)))
		return -ENOMEM;
	if (ev->role != CW_RL_NONE)
		p->role = ev->role;
	p->uid = or_keep(ev->uid, p->uid);
	if (ev->type == CW_LOG_EXEC || ev->type == CW_LOG_SCAN) {
		p->concurrency = ev->concurrency;
		p->pool = intern(tl->strs, ev->pool);
		p->command = intern(tl->strs, ev->command);
		if (ev->argc) {
			if (!(p->cmdline = join_argv(tl, ev)))
				return -ENOMEM;
			p->detach = argv_detach(ev);
		}
	}
	if ((p->role == CW_RL_MAIN || p->role == CW_RL_POOL) && p->queues)
		for (int i = 0; i < p->queues->n; i++) {
			int q = queue_index(tl, p->queues->names[i]);
			if (q < 0)
				return -ENOMEM;
			tl->queues[q].from_worker = true;
		}
	if (ev->ts > p->last_ts)
		p->last_ts = ev->ts;
	return 0;
}

/* A process is dead when its pid shows up with another start time. */
static void end_reused(struct cw_timeline *tl, const char *host, int64_t pid, int64_t pstart,
		       int64_t ts)
{
	int old = ptab_get(tl->bypid, host, pid, 0);

	if (old < 0)
		return;
	struct cw_tproc *o = &tl->procs[old];
	if (o->pstart != pstart && o->end == CW_END_NONE && o->pstart < pstart) {
		o->end = CW_END_REUSED;
		o->end_ts = ts;
	}
}

static int find_proc(struct cw_timeline *tl, const char *host, int64_t pid, int64_t pstart)
{
	return ptab_get(tl->bykey, host, pid, pstart);
}

/* The live process with this pid on host (the latest seen), or -1. */
static int find_pid(struct cw_timeline *tl, const char *host, int64_t pid)
{
	int i = ptab_get(tl->bypid, host, pid, 0);

	return i >= 0 && tl->procs[i].end == CW_END_NONE ? i : -1;
}

/* Find or create (host, pid, pstart). *created says whether it is new. Returns -1 on ENOMEM. */
static int get_proc(struct cw_timeline *tl, const char *host, int64_t pid, int64_t pstart,
		    int64_t ts, bool *created)
{
	int i = find_proc(tl, host, pid, pstart);

	*created = false;
	if (i >= 0)
		return i;
	if (grow((void **)&tl->procs, &tl->capprocs, tl->nprocs + 1, sizeof(*tl->procs)))
		return -1;
	end_reused(tl, host, pid, pstart, ts);
	i = tl->nprocs++;
	struct cw_tproc *p = &tl->procs[i];
	memset(p, 0, sizeof(*p));
	p->host = host;
	p->pid = pid;
	p->pstart = pstart;
	p->ppid = CW_NONE;
	p->parent = p->last_sig = -1;
	p->uid = p->concurrency = p->exit_code = p->maxrss_kb = CW_NONE;
	p->end_ts = p->stopped_at = CW_NONE;
	p->start_ts = p->last_ts = ts;
	if (ptab_put(tl->bykey, host, pid, pstart, i))
		return -1;
	int prev = ptab_get(tl->bypid, host, pid, 0);
	if (prev < 0 || tl->procs[prev].pstart <= pstart)
		if (ptab_put(tl->bypid, host, pid, 0, i))
			return -1;
	*created = true;
	return i;
}

static void link_parent(struct cw_timeline *tl, int child, int64_t ppid, int64_t parent_pstart)
{
	struct cw_tproc *c = &tl->procs[child];
	int par = -1;

	if (ppid == CW_NONE)
		return;
	c->ppid = ppid;
	if (parent_pstart != CW_NONE)
		par = find_proc(tl, c->host, ppid, parent_pstart);
	if (par < 0)
		par = find_pid(tl, c->host, ppid);
	if (par >= 0 && par != child)
		c->parent = par;
}

/* A restarted recorder scans /proc again: a process we had alive that is not in the new scan
 * died while nobody was looking. */
static void finish_scan(struct cw_timeline *tl, int64_t scan_ts)
{
	const char *h = tl->scanning_host;

	tl->scanning_host = NULL;
	for (int i = 0; i < tl->nprocs; i++) {
		struct cw_tproc *p = &tl->procs[i];
		/* /proc order may list a child before its parent */
		if (p->host == h && p->scan_epoch == tl->epoch && p->parent < 0)
			link_parent(tl, i, p->ppid, CW_NONE);
		if (p->host == h && p->end == CW_END_NONE && p->scan_epoch != tl->epoch &&
		    p->last_ts < scan_ts) {
			p->end = CW_END_VANISHED;
			p->end_ts = scan_ts;
		}
	}
}

/* Without a pstart on one side, an exec attempt of the same host and pid this close in time
 * is the same process (a PATH search takes microseconds, a pid comes back far later). */
#define EXECFAIL_SAME_US (5 * 1000000LL)

static bool same_attempter(const struct cw_execfail *f, int64_t pstart, int64_t ts)
{
	if (f->pstart != CW_NONE && pstart != CW_NONE)
		return f->pstart == pstart;
	return ts >= f->ts - EXECFAIL_SAME_US && ts <= f->ts + EXECFAIL_SAME_US;
}

/* An exec attempt (successful or not) of (host, pid, pstart) at ts: the failures of the same
 * process before it were not its last attempt. */
static void supersede_fails(struct cw_timeline *tl, const char *host, int64_t pid,
			    int64_t pstart, int64_t ts)
{
	for (int i = ptab_get(tl->failbypid, host, pid, 0); i >= 0; i = tl->execfails[i].prev) {
		struct cw_execfail *f = &tl->execfails[i];
		if (f->superseded || !same_attempter(f, pstart, ts))
			break;
		f->superseded = true;
	}
}

static int add_sig(struct cw_tproc *p, const struct cw_event *ev, struct cw_timeline *tl)
{
	int signo = ev->signo >= 1 && ev->signo <= 64 ? (int)ev->signo : cw_signo(ev->signame);

	if (harmless_signal(signo)) {
		if (signo == 18)	/* SIGCONT */
			p->stopped_at = CW_NONE;
		return 0;
	}
	/* a signal the target ignores ends nothing */
	if (ev->result && !strcmp(ev->result, "ignored"))
		return 0;
	if (grow((void **)&tl->sigs, &tl->capsigs, tl->nsigs + 1, sizeof(*tl->sigs)))
		return -ENOMEM;
	struct cw_sigrec *r = &tl->sigs[tl->nsigs];
	memset(r, 0, sizeof(*r));
	r->prev = p->last_sig;
	r->ts = ev->ts;
	r->signo = signo;
	r->signame = intern(tl->strs, ev->signame);
	r->code = intern(tl->strs, ev->code);
	r->result = intern(tl->strs, ev->result);
	if (ev->sender.present) {
		r->has_sender = true;
		r->sender.pid = ev->sender.pid;
		r->sender.uid = ev->sender.uid;
		r->sender.pstart = ev->sender.pstart;
		r->sender.comm = intern(tl->strs, ev->sender.comm);
		r->sender.cmdline = intern(tl->strs, ev->sender.cmdline);
	}
	if (stop_signal(signo) && p->stopped_at == CW_NONE) {
		p->stopped_at = ev->ts;
		p->stop_sig = tl->nsigs;
	}
	p->last_sig = tl->nsigs++;
	return 0;
}

int cw_timeline_add(const struct cw_event *ev, void *ctx)
{
	struct cw_timeline *tl = ctx;
	const char *host;
	bool created;
	int i;

	if (tl->until != CW_NONE && ev->ts > tl->until) {
		tl->past_until = true;
		return 0;
	}
	if (!(host = host_intern(tl, ev->host)))
		return -ENOMEM;
	if (tl->first_ts == CW_NONE || ev->ts < tl->first_ts)
		tl->first_ts = ev->ts;
	if (tl->last_ts == CW_NONE || ev->ts > tl->last_ts)
		tl->last_ts = ev->ts;
	tl->events++;
	if (tl->scanning_host && (tl->scanning_host != host || ev->type != CW_LOG_SCAN))
		finish_scan(tl, tl->scan_ts);

	switch (ev->type) {
	case CW_LOG_TRACER_START:
		tl->epoch++;
		tl->scanning_host = host;
		tl->scan_ts = ev->ts;
		return 0;
	case CW_LOG_SCAN:
		if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
			return -ENOMEM;
		tl->procs[i].scanned = true;
		tl->procs[i].scan_epoch = tl->epoch;
		if (tl->procs[i].parent < 0)
			link_parent(tl, i, ev->ppid, CW_NONE);
		return apply_fields(tl, &tl->procs[i], ev);
	case CW_LOG_EXEC: {
		supersede_fails(tl, host, ev->pid, ev->pstart, ev->ts);
		if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
			return -ENOMEM;
		struct cw_tproc *p = &tl->procs[i];
		if (created || p->parent < 0)
			link_parent(tl, i, ev->ppid, CW_NONE);
		/* a new image: old handlers and pending stops are gone with the old one */
		p->handover = false;
		p->last_sig = -1;
		p->stopped_at = CW_NONE;
		return apply_fields(tl, p, ev);
	}
	case CW_LOG_FORK: {
		if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
			return -ENOMEM;
		link_parent(tl, i, ev->ppid, ev->parent_pstart);
		struct cw_tproc *p = &tl->procs[i];
		if (created && p->parent >= 0) {
			const struct cw_tproc *par = &tl->procs[p->parent];
			p->worker = par->worker;
			p->queues = par->queues;
			p->pool = par->pool;
			p->command = par->command;
			p->concurrency = par->concurrency;
			p->cgroup = par->cgroup;
			p->uid = par->uid;
			p->comm = par->comm;
			p->cmdline = par->cmdline;
			p->handover = par->detach || par->handover;
			if (par->role == CW_RL_MAIN)
				p->role = CW_RL_POOL;
			else
				p->role = par->role;
		}
		return apply_fields(tl, p, ev);
	}
	case CW_LOG_EXIT: {
		if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
			return -ENOMEM;
		struct cw_tproc *p = &tl->procs[i];
		if (created) {
			/* it lived before the log began */
			p->start_ts = tl->first_ts;
			link_parent(tl, i, ev->ppid, CW_NONE);
		}
		if (apply_fields(tl, p, ev))
			return -ENOMEM;
		p->end = CW_END_EXIT;
		p->end_ts = ev->ts;
		p->exit_code = ev->exit_code;
		p->exit_signal = intern(tl->strs, ev->signame);
		p->core_dumped = ev->core_dumped;
		p->stderr_tail = intern(tl->strs, ev->stderr_tail);
		p->maxrss_kb = ev->maxrss_kb;
		return 0;
	}
	case CW_LOG_SIGNAL:
	case CW_LOG_RENAME: {
		if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
			return -ENOMEM;
		struct cw_tproc *p = &tl->procs[i];
		if (created)
			p->start_ts = tl->first_ts;
		if (ev->type == CW_LOG_SIGNAL) {
			/* keep last_ts at the last sign of life, not at what was done to it */
			int64_t last = p->last_ts;
			if (apply_fields(tl, p, ev))
				return -ENOMEM;
			p->last_ts = created ? ev->ts : last;
			return add_sig(p, ev, tl);
		}
		return apply_fields(tl, p, ev);
	}
	case CW_LOG_OOM: {
		/* before 6.8 the kernel names the victim by pid only (pstart null): it is the
		 * latest live process with that pid */
		i = ev->pstart != CW_NONE ? find_proc(tl, host, ev->pid, ev->pstart) :
		    find_pid(tl, host, ev->pid);
		/* OOM kills of processes we do not follow are context, not deaths of ours */
		if (i < 0 && !ev->tracked && !ev->worker && ev->role != CW_RL_MAIN &&
		    ev->role != CW_RL_POOL && ev->role != CW_RL_BEAT) {
			if (grow((void **)&tl->other_ooms, &tl->capother_ooms, tl->nother_ooms + 1,
				 sizeof(*tl->other_ooms)))
				return -ENOMEM;
			tl->other_ooms[tl->nother_ooms++] = (struct cw_other_oom){
				.host = host, .comm = intern(tl->strs, ev->comm),
				.cgroup = intern(tl->strs, ev->cgroup), .ts = ev->ts, .pid = ev->pid,
				.anon_rss_kb = ev->anon_rss_kb,
			};
			return 0;
		}
		if (i < 0) {
			if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
				return -ENOMEM;
			tl->procs[i].start_ts = tl->first_ts;
		}
		struct cw_tproc *p = &tl->procs[i];
		int64_t last = p->last_ts;
		if (apply_fields(tl, p, ev))
			return -ENOMEM;
		p->last_ts = last;
		p->has_oom = true;
		p->oom = (struct cw_oomrec){
			.ts = ev->ts, .total_vm_kb = ev->total_vm_kb, .anon_rss_kb = ev->anon_rss_kb,
			.file_rss_kb = ev->file_rss_kb, .shmem_rss_kb = ev->shmem_rss_kb,
			.oom_score_adj = ev->oom_score_adj, .cgroup = intern(tl->strs, ev->cgroup),
		};
		return 0;
	}
	case CW_LOG_EXEC_FAIL: {
		if (grow((void **)&tl->execfails, &tl->capexecfails, tl->nexecfails + 1,
			 sizeof(*tl->execfails)))
			return -ENOMEM;
		supersede_fails(tl, host, ev->pid, ev->pstart, ev->ts);
		int fi = tl->nexecfails++;
		struct cw_execfail *f = &tl->execfails[fi];
		memset(f, 0, sizeof(*f));
		f->prev = ptab_get(tl->failbypid, host, ev->pid, 0);
		if (ptab_put(tl->failbypid, host, ev->pid, 0, fi))
			return -ENOMEM;
		f->ts = ev->ts;
		f->pid = ev->pid;
		f->pstart = ev->pstart;
		f->ppid = ev->ppid;
		f->uid = ev->uid;
		f->host = host;
		f->comm = intern(tl->strs, ev->comm);
		f->cmdline = join_argv(tl, ev);
		f->worker = intern(tl->strs, ev->worker);
		f->errname = intern(tl->strs, ev->errname);
		f->err = ev->err;
		f->role = ev->role;
		if (ev->has_queues) {
			if (!(f->queues = qset_intern(tl, ev->queues, ev->nqueues)))
				return -ENOMEM;
			for (int q = 0; q < ev->nqueues; q++) {
				int qi = queue_index(tl, ev->queues[q]);
				if (qi < 0)
					return -ENOMEM;
				tl->queues[qi].from_worker = true;
			}
		}
		return 0;
	}
	case CW_LOG_LOST:
		if (grow((void **)&tl->lost, &tl->caplost, tl->nlost + 1, sizeof(*tl->lost)))
			return -ENOMEM;
		tl->lost[tl->nlost++] = (struct cw_lost){host, ev->ts,
							 ev->lost_count > 0 ? ev->lost_count : 0};
		if (ev->lost_count > 0)	/* each <= 2^53 (logread); the sum saturates */
			tl->lost_total = tl->lost_total > INT64_MAX - ev->lost_count ? INT64_MAX :
					 tl->lost_total + ev->lost_count;
		return 0;
	case CW_LOG_SAMPLE:
		if (!ev->redis_ok)
			return 0;
		for (int s = 0; s < ev->nsamples; s++) {
			int q = queue_index(tl, ev->samples[s].queue);
			if (q < 0)
				return -ENOMEM;
			struct cw_tqueue *tq = &tl->queues[q];
			if (grow((void **)&tq->samples, &tq->cap, tq->nsamples + 1,
				 sizeof(*tq->samples)))
				return -ENOMEM;
			tq->samples[tq->nsamples++] = (struct cw_depth_sample){ev->ts, ev->samples[s].depth};
		}
		return 0;
	default:
		return 0;
	}
}

/* How long silence after a SIGKILL counts as death when the exit line is missing. */
#define KILL_SILENCE_US (5 * 1000000LL)

void cw_timeline_finish(struct cw_timeline *tl)
{
	if (tl->scanning_host)
		finish_scan(tl, tl->scan_ts);
	for (int i = 0; i < tl->nprocs; i++) {
		struct cw_tproc *p = &tl->procs[i];
		if (p->end != CW_END_NONE)
			continue;
		if (p->has_oom) {
			/* the OOM killer's victim always dies; the exit line was lost */
			p->end = CW_END_OOM;
			p->end_ts = p->oom.ts;
			continue;
		}
		for (int s = p->last_sig; s >= 0; s = tl->sigs[s].prev) {
			const struct cw_sigrec *r = &tl->sigs[s];
			if (r->signo == 9 && r->ts >= p->last_ts &&
			    tl->last_ts - r->ts >= KILL_SILENCE_US) {
				p->end = CW_END_KILLED;
				p->end_ts = r->ts;
				break;
			}
		}
	}
}

int64_t cw_tproc_live_end(const struct cw_tproc *p)
{
	if (p->stopped_at != CW_NONE && (p->end_ts == CW_NONE || p->stopped_at < p->end_ts))
		return p->stopped_at;
	return p->end_ts;
}

/* ---- loading files ---- */

struct ordered {
	char *path;
	int64_t first;
	int pos;
};

static int cmp_ordered(const void *x, const void *y)
{
	const struct ordered *a = x, *b = y;

	/* files without a timestamp (stdin, empty) keep their place relative to each other */
	if (a->first != CW_NONE && b->first != CW_NONE && a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->pos - b->pos;
}

int cw_timeline_load(struct cw_timeline *tl, char *const *files, int nfiles,
		     struct cw_logread_stats *st, FILE *errf)
{
	struct ordered *o = calloc((size_t)nfiles + 1, sizeof(*o));
	bool has_stdin = false;
	int ret = 0;

	if (!o)
		return -1;
	for (int i = 0; i < nfiles; i++) {
		o[i].path = files[i];
		o[i].pos = i;
		has_stdin |= !strcmp(files[i], "-");
		o[i].first = nfiles > 1 ? cw_logread_first_ts(files[i]) : CW_NONE;
	}
	/* with stdin in the list, the order given is the only order there is */
	if (!has_stdin)
		qsort(o, (size_t)nfiles, sizeof(*o), cmp_ordered);
	for (int i = 0; i < nfiles; i++) {
		int r = cw_logread_file(o[i].path, cw_timeline_add, tl, st, errf);
		if (r == -ENOMEM) {
			fprintf(errf, "%s: out of memory\n", o[i].path);
			ret = -1;
			break;
		}
		if (r < 0) {
			fprintf(errf, "%s: %s\n", o[i].path, strerror(-r));
			ret = -1;
		}
	}
	free(o);
	cw_timeline_finish(tl);
	return ret;
}
