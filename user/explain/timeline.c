/* Timeline builder: takes events in log order and keeps, per (host, pid, pstart), what the
 * process was (worker, queues, role, parent) and what happened to it (signals, OOM, exit).
 * Strings are interned in a common/strset; lookups are open-addressing hash tables, O(1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "explain/timeline.h"
#include "explain/ptab.h"
#include "explain/timeline_fold.h"
#include "identity/celery.h"
#include "common/grow.h"

/* ---- strings ---- */

static const char *intern(struct cw_timeline *tl, const char *s)
{
	return s ? cw_strset_intern(&tl->strs, s, strlen(s)) : NULL;
}

const char *cw_timeline_intern(struct cw_timeline *tl, const char *s)
{
	return intern(tl, s);
}

/* s interned into *slot, unless *slot holds it already (most lines repeat what the process'
 * record says: a compare is cheaper than a lookup). NULL s leaves *slot. -ENOMEM or 0. */
static int intern_into(struct cw_timeline *tl, const char **slot, const char *s)
{
	if (!s || (*slot && !strcmp(*slot, s)))
		return 0;
	return (*slot = intern(tl, s)) ? 0 : -ENOMEM;
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
	tl->bykey = calloc(1, sizeof(*tl->bykey));
	tl->bypid = calloc(1, sizeof(*tl->bypid));
	tl->failbypid = calloc(1, sizeof(*tl->failbypid));
	tl->qsets = calloc(1, sizeof(*tl->qsets));
	tl->qnames = calloc(1, sizeof(*tl->qnames));
	tl->fprof_index = calloc(1, sizeof(*tl->fprof_index));
	tl->fold_from = CW_NONE;
	if (!tl->bykey || !tl->bypid || !tl->failbypid || !tl->qsets || !tl->qnames ||
	    !tl->fprof_index) {
		cw_timeline_free(tl);
		return -ENOMEM;
	}
	return 0;
}

void cw_timeline_free(struct cw_timeline *tl)
{
	cw_strset_free(&tl->strs);
	cw_ptab_free(tl->bykey);
	cw_ptab_free(tl->bypid);
	cw_ptab_free(tl->failbypid);
	cw_ptab_free(tl->qsets);
	cw_ptab_free(tl->qnames);
	cw_fold_free(tl);
	for (int i = 0; i < tl->nqueues; i++)
		free(tl->queues[i].samples);
	for (int i = 0; i < tl->nqsetv; i++)
		free((void *)tl->qsetv[i]);
	free(tl->queues);
	free(tl->procs);
	free(tl->sigs);
	free(tl->lost);
	free(tl->execfails);
	free(tl->stills);
	free(tl->other_ooms);
	free(tl->hosts);
	free(tl->boot_keys);
	free(tl->qsetv);
	memset(tl, 0, sizeof(*tl));
}

/* ---- queues ---- */

static int queue_index(struct cw_timeline *tl, const char *name)
{
	const char *in = intern(tl, name);

	if (!in)
		return -1;
	int i = cw_ptab_get(tl->qnames, in, 0, 0);
	if (i >= 0)
		return i;
	if (cw_grow((void **)&tl->queues, &tl->capqueues, tl->nqueues + 1, sizeof(*tl->queues)))
		return -1;
	i = tl->nqueues++;
	memset(&tl->queues[i], 0, sizeof(tl->queues[i]));
	tl->queues[i].name = in;
	if (cw_ptab_put(tl->qnames, in, 0, 0, i))
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
static const char *qset_key(struct cw_timeline *tl, const char *const *q, int n)
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
	const char *ikey = intern(tl, key);
	free(key);
	return ikey;
}

static const struct cw_qset *qset_intern(struct cw_timeline *tl, const char *const *q, int n)
{
	const char *ikey = qset_key(tl, q, n);

	if (!ikey)
		return NULL;
	int idx = cw_ptab_get(tl->qsets, ikey, 0, 0);
	if (idx >= 0)
		return tl->qsetv[idx];
	/* one block, freed through qsetv */
	struct cw_qset *qs = malloc(sizeof(*qs) + (size_t)n * sizeof(char *));
	if (!qs)
		return NULL;
	qs->n = n;
	qs->marked = false;
	qs->names = (const char **)(qs + 1);
	for (int i = 0; i < n; i++)
		if (!(qs->names[i] = intern(tl, q[i])))
			goto fail;
	if (cw_grow((void **)&tl->qsetv, &tl->capqsetv, tl->nqsetv + 1, sizeof(*tl->qsetv)) ||
	    cw_ptab_put(tl->qsets, ikey, 0, 0, tl->nqsetv))
		goto fail;
	tl->qsetv[tl->nqsetv++] = qs;
	return qs;
fail:
	free(qs);
	return NULL;
}

/* ---- processes ---- */

static const char *host_intern(struct cw_timeline *tl, const char *h)
{
	/* the host of the previous line, most of the time */
	if (tl->nhosts && h && !strcmp(tl->hosts[tl->last_host], h))
		return tl->hosts[tl->last_host];
	const char *in = intern(tl, h);

	if (!in)
		return NULL;
	for (int i = 0; i < tl->nhosts; i++)
		if (tl->hosts[i] == in) {
			tl->last_host = i;
			return in;
		}
	if (cw_grow((void **)&tl->hosts, &tl->caphosts, tl->nhosts + 1, sizeof(*tl->hosts)) ||
	    cw_grow((void **)&tl->boot_keys, &tl->capboot_keys, tl->nhosts + 1, sizeof(*tl->boot_keys)))
		return NULL;
	tl->boot_keys[tl->nhosts] = in;
	tl->hosts[tl->nhosts++] = in;
	return in;
}

static int host_index(const struct cw_timeline *tl, const char *host)
{
	for (int i = 0; i < tl->nhosts; i++)
		if (tl->hosts[i] == host)
			return i;
	return -1;
}

/* What processes are keyed by: pids and start times begin again at every boot, so a
 * process is (host, boot, pid, pstart). The boot is the one of the host's last tracer_start. */
static const void *boot_key(const struct cw_timeline *tl, const char *host)
{
	int i = host_index(tl, host);

	return i >= 0 ? tl->boot_keys[i] : host;
}

/* A tracer_start with a boot_id: the host's later lines belong to that boot. */
static int set_boot(struct cw_timeline *tl, const char *host, const char *boot_id)
{
	int i = host_index(tl, host);
	char *k;

	if (i < 0)
		return 0;
	if (!boot_id) {
		tl->boot_keys[i] = host;
		return 0;
	}
	if (asprintf(&k, "%s\x1f%s", host, boot_id) < 0)
		return -ENOMEM;
	tl->boot_keys[i] = intern(tl, k);
	free(k);
	return tl->boot_keys[i] ? 0 : -ENOMEM;
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
	const char *in = intern(tl, s);
	free(s);
	return in;
}

/* `celery worker --detach` (or -D) exits 0 once it has forked the real worker. Whether argv
 * says so is the identity module's call: it parses argv as Celery does. */
static int argv_detach(const struct cw_event *ev, const char *host, bool *detach)
{
	struct cw_identity id;
	int err = cw_identity_from_argv(&id, ev->argv, (size_t)ev->argc, host);

	*detach = !err && id.detach;
	cw_identity_free(&id);
	return err;
}

static int64_t or_keep(int64_t v, int64_t old)
{
	return v == CW_NONE ? old : v;
}

/* Queues named in a worker's argv were meant to be consumed. */
static int mark_from_worker(struct cw_timeline *tl, const char *const *names, int n)
{
	if (!n)
		return 0;
	for (int i = 0; i < n; i++) {
		int q = queue_index(tl, names[i]);
		if (q < 0)
			return -ENOMEM;
		tl->queues[q].from_worker = true;
	}
	return 0;
}

/* exec and scan lines describe the image: its command line, pool and concurrency */
static int apply_image(struct cw_timeline *tl, struct cw_tproc *p, const struct cw_event *ev)
{
	p->concurrency = ev->concurrency;
	p->pool = intern(tl, ev->pool);
	if (ev->exe)
		p->exe = intern(tl, ev->exe);
	p->command = intern(tl, ev->command);
	if (!ev->argc)
		return 0;
	if (!(p->cmdline = join_argv(tl, ev)))
		return -ENOMEM;
	return argv_detach(ev, p->host, &p->detach);
}

/* Whether the line may say who p is (worker, queues, role). exec and scan lines read argv or
 * the title: they do. A fork line is a birth: it does when the parent was not there to
 * inherit from. A rename refines the role to beat, the recorder's one refinement from a name.
 * Any other line only fills an identity we never had: the recorder may write it after it
 * forgot the process (a kernel race's second exit says worker null, role other). */
static bool may_set_identity(const struct cw_tproc *p, const struct cw_event *ev)
{
	if (ev->type == CW_LOG_EXEC || ev->type == CW_LOG_SCAN)
		return true;
	if (ev->type == CW_LOG_RENAME && ev->role == CW_RL_BEAT)
		return true;
	return p->role == CW_RL_NONE && !p->worker;
}

/* Only a MainProcess' children are its pool: a pool process' child is a task's subprocess
 * (old logs call it pool too). */
static void pool_only_under_main(struct cw_timeline *tl, struct cw_tproc *p)
{
	if (p->role == CW_RL_POOL && p->parent >= 0 && tl->procs[p->parent].role == CW_RL_POOL)
		p->role = CW_RL_OTHER;
}

static int set_identity(struct cw_timeline *tl, struct cw_tproc *p, const struct cw_event *ev)
{
	if (intern_into(tl, &p->worker, ev->worker))
		return -ENOMEM;
	if (ev->has_queues && !(p->queues = qset_intern(tl, ev->queues, ev->nqueues)))
		return -ENOMEM;
	if (ev->role != CW_RL_NONE)
		p->role = ev->role;
	pool_only_under_main(tl, p);
	return 0;
}

/* The fields a line carries replace what we knew; identity only as may_set_identity says. */
static int apply_fields(struct cw_timeline *tl, struct cw_tproc *p, const struct cw_event *ev)
{
	if (intern_into(tl, &p->comm, ev->comm) || intern_into(tl, &p->cgroup, ev->cgroup))
		return -ENOMEM;
	if (may_set_identity(p, ev) && set_identity(tl, p, ev))
		return -ENOMEM;
	p->uid = or_keep(ev->uid, p->uid);
	if ((ev->type == CW_LOG_EXEC || ev->type == CW_LOG_SCAN) && apply_image(tl, p, ev))
		return -ENOMEM;
	if ((p->role == CW_RL_MAIN || p->role == CW_RL_POOL) && p->queues && !p->queues->marked) {
		if (mark_from_worker(tl, p->queues->names, p->queues->n))
			return -ENOMEM;
		((struct cw_qset *)p->queues)->marked = true;	/* ours: see qset_intern */
	}
	if (ev->ts > p->last_ts)
		p->last_ts = ev->ts;
	return 0;
}

/* The fields of a line about what was done to p (a signal, an OOM kill): last_ts stays at
 * its last sign of life. */
static int apply_fields_quiet(struct cw_timeline *tl, struct cw_tproc *p,
			      const struct cw_event *ev)
{
	int64_t last = p->last_ts;
	int err = apply_fields(tl, p, ev);

	p->last_ts = last;
	return err;
}

/* A process is dead when its pid shows up with another start time. */
static void end_reused(struct cw_timeline *tl, const char *host, int64_t pid, int64_t pstart,
		       int64_t ts)
{
	int old = cw_ptab_get(tl->bypid, boot_key(tl, host), pid, 0);

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
	return cw_ptab_get(tl->bykey, boot_key(tl, host), pid, pstart);
}

/* The live process with this pid on host (the latest seen), or -1. */
static int find_pid(struct cw_timeline *tl, const char *host, int64_t pid)
{
	int i = cw_ptab_get(tl->bypid, boot_key(tl, host), pid, 0);

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
	if ((i = cw_fold_take_slot(tl)) < 0) {
		if (cw_grow((void **)&tl->procs, &tl->capprocs, tl->nprocs + 1, sizeof(*tl->procs)))
			return -1;
		i = tl->nprocs++;
	}
	end_reused(tl, host, pid, pstart, ts);
	struct cw_tproc *p = &tl->procs[i];
	memset(p, 0, sizeof(*p));
	p->born = tl->nborn++;
	p->host = host;
	p->pid = pid;
	p->pstart = pstart;
	p->ppid = CW_NONE;
	p->parent = p->last_sig = -1;
	p->uid = p->concurrency = p->exit_code = p->maxrss_kb = CW_NONE;
	p->end_ts = p->stopped_at = CW_NONE;
	p->start_ts = p->last_ts = ts;
	p->pf = (struct cw_pfacts){
		.first_ts = CW_NONE, .last_ts = CW_NONE, .cpu_ticks = CW_NONE, .ctxsw = CW_NONE,
		.progress_ts = CW_NONE, .conn_first = CW_NONE, .conn_last = CW_NONE,
		.unconn_since = CW_NONE, .conn_known_last = CW_NONE, .idle_s = CW_NONE,
	};
	if (cw_ptab_put(tl->bykey, boot_key(tl, host), pid, pstart, i))
		return -1;
	int prev = cw_ptab_get(tl->bypid, boot_key(tl, host), pid, 0);
	if (prev < 0 || tl->procs[prev].pstart <= pstart)
		if (cw_ptab_put(tl->bypid, boot_key(tl, host), pid, 0, i))
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
	if (par >= 0 && par != child) {
		c->parent = par;
		tl->procs[par].has_children = true;
	}
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
	for (int i = cw_ptab_get(tl->failbypid, boot_key(tl, host), pid, 0); i >= 0;
	     i = tl->execfails[i].prev) {
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
	if (cw_grow((void **)&tl->sigs, &tl->capsigs, tl->nsigs + 1, sizeof(*tl->sigs)))
		return -ENOMEM;
	struct cw_sigrec *r = &tl->sigs[tl->nsigs];
	memset(r, 0, sizeof(*r));
	r->prev = p->last_sig;
	r->ts = ev->ts;
	r->signo = signo;
	r->signame = intern(tl, ev->signame);
	r->code = intern(tl, ev->code);
	r->result = intern(tl, ev->result);
	if (ev->sender.present) {
		r->has_sender = true;
		r->sender.pid = ev->sender.pid;
		r->sender.uid = ev->sender.uid;
		r->sender.pstart = ev->sender.pstart;
		r->sender.comm = intern(tl, ev->sender.comm);
		r->sender.cmdline = intern(tl, ev->sender.cmdline);
		r->sender.kernel = ev->sender.kernel;
		r->sender.reason = intern(tl, ev->sender.reason);
	}
	if (stop_signal(signo) && p->stopped_at == CW_NONE) {
		p->stopped_at = ev->ts;
		p->stop_sig = tl->nsigs;
	}
	p->last_sig = tl->nsigs++;
	return 0;
}

/* ---- one handler per event type ---- */

typedef int (*take_fn)(struct cw_timeline *tl, const struct cw_event *ev, const char *host);

/* A (re)started recorder: its start-up scan follows, finish_scan closes it. */
static int take_tracer_start(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	tl->epoch++;
	tl->scanning_host = host;
	tl->scan_ts = ev->ts;
	return set_boot(tl, host, ev->boot_id);
}

static int take_scan(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	int i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created);

	if (i < 0)
		return -ENOMEM;
	tl->procs[i].scanned = true;
	tl->procs[i].scan_epoch = tl->epoch;
	if (tl->procs[i].parent < 0)
		link_parent(tl, i, ev->ppid, CW_NONE);
	return apply_fields(tl, &tl->procs[i], ev);
}

static int take_exec(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	int i;

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
	p->untracked = ev->untracked != NULL;
	return apply_fields(tl, p, ev);
}

/* A new child is its parent's copy, as the recorder makes it: a MainProcess' child is one of
 * its pool (a --detach launcher's child is the real worker), a pool process' child is a task's
 * subprocess. */
static enum cw_role child_role(const struct cw_tproc *par)
{
	if (par->role == CW_RL_MAIN && !par->detach && !par->handover)
		return CW_RL_POOL;
	return par->role == CW_RL_POOL ? CW_RL_OTHER : par->role;
}

static void inherit(struct cw_tproc *p, const struct cw_tproc *par)
{
	p->worker = par->worker;
	p->queues = par->queues;
	p->pool = par->pool;
	p->command = par->command;
	p->concurrency = par->concurrency;
	p->cgroup = par->cgroup;
	p->uid = par->uid;
	p->comm = par->comm;
	p->cmdline = par->cmdline;
	p->exe = par->exe;
	p->handover = par->detach || par->handover;
	p->role = child_role(par);
}

static int take_fork(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	int i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created);

	if (i < 0)
		return -ENOMEM;
	link_parent(tl, i, ev->ppid, ev->parent_pstart);
	struct cw_tproc *p = &tl->procs[i];
	if (created && p->parent >= 0)
		inherit(p, &tl->procs[p->parent]);
	p->untracked = ev->untracked != NULL;
	return apply_fields(tl, p, ev);
}

/* get_proc for a line about a process' life so far: if it is new to us, it lived before
 * the log began. */
static int get_old_proc(struct cw_timeline *tl, const char *host, const struct cw_event *ev,
			bool *created)
{
	int i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, created);

	if (i >= 0 && *created)
		tl->procs[i].start_ts = tl->first_ts;
	return i;
}

static int take_exit(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	int i = get_old_proc(tl, host, ev, &created);

	if (i < 0)
		return -ENOMEM;
	if (created)
		link_parent(tl, i, ev->ppid, CW_NONE);
	struct cw_tproc *p = &tl->procs[i];
	/* a process ends once: a second exit line (a kernel race) adds nothing */
	if (p->end == CW_END_EXIT)
		return 0;
	if (apply_fields(tl, p, ev))
		return -ENOMEM;
	p->end = CW_END_EXIT;
	p->end_ts = ev->ts;
	p->exit_code = ev->exit_code;
	p->exit_signal = intern(tl, ev->signame);
	p->core_dumped = ev->core_dumped;
	p->stderr_tail = intern(tl, ev->stderr_tail);
	p->stderr_unwatched = ev->stderr_unwatched;
	p->maxrss_kb = ev->maxrss_kb;
	return cw_fold_on_exit(tl, i, boot_key(tl, host));
}

static int take_signal(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	int i = get_old_proc(tl, host, ev, &created);

	/* a new process' last_ts is this line's ts already (get_proc) */
	if (i < 0 || apply_fields_quiet(tl, &tl->procs[i], ev))
		return -ENOMEM;
	return add_sig(&tl->procs[i], ev, tl);
}

static int take_rename(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	int i = get_old_proc(tl, host, ev, &created);

	if (i < 0)
		return -ENOMEM;
	return apply_fields(tl, &tl->procs[i], ev);
}

/* OOM kills of processes we do not follow are context, not deaths of ours */
static int add_other_oom(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	if (cw_grow((void **)&tl->other_ooms, &tl->capother_ooms, tl->nother_ooms + 1,
		 sizeof(*tl->other_ooms)))
		return -ENOMEM;
	tl->other_ooms[tl->nother_ooms++] = (struct cw_other_oom){
		.host = host, .comm = intern(tl, ev->comm),
		.cgroup = intern(tl, ev->cgroup), .ts = ev->ts, .pid = ev->pid,
		.anon_rss_kb = ev->anon_rss_kb,
	};
	return 0;
}

static int take_oom(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	bool created;
	/* before 6.8 the kernel names the victim by pid only (pstart null): it is the
	 * latest live process with that pid */
	int i = ev->pstart != CW_NONE ? find_proc(tl, host, ev->pid, ev->pstart) :
		find_pid(tl, host, ev->pid);

	if (i < 0 && !ev->tracked && !ev->worker && ev->role != CW_RL_MAIN &&
	    ev->role != CW_RL_POOL && ev->role != CW_RL_BEAT)
		return add_other_oom(tl, ev, host);
	if (i < 0) {
		if ((i = get_proc(tl, host, ev->pid, ev->pstart, ev->ts, &created)) < 0)
			return -ENOMEM;
		tl->procs[i].start_ts = tl->first_ts;
	}
	struct cw_tproc *p = &tl->procs[i];
	if (apply_fields_quiet(tl, p, ev))
		return -ENOMEM;
	p->has_oom = true;
	p->oom = (struct cw_oomrec){
		.ts = ev->ts, .total_vm_kb = ev->total_vm_kb, .anon_rss_kb = ev->anon_rss_kb,
		.file_rss_kb = ev->file_rss_kb, .shmem_rss_kb = ev->shmem_rss_kb,
		.oom_score_adj = ev->oom_score_adj, .cgroup = intern(tl, ev->cgroup),
	};
	return 0;
}

static int take_exec_fail(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	if (cw_grow((void **)&tl->execfails, &tl->capexecfails, tl->nexecfails + 1,
		 sizeof(*tl->execfails)))
		return -ENOMEM;
	supersede_fails(tl, host, ev->pid, ev->pstart, ev->ts);
	int fi = tl->nexecfails++;
	struct cw_execfail *f = &tl->execfails[fi];
	memset(f, 0, sizeof(*f));
	f->prev = cw_ptab_get(tl->failbypid, boot_key(tl, host), ev->pid, 0);
	if (cw_ptab_put(tl->failbypid, boot_key(tl, host), ev->pid, 0, fi))
		return -ENOMEM;
	f->ts = ev->ts;
	f->pid = ev->pid;
	f->pstart = ev->pstart;
	f->ppid = ev->ppid;
	f->uid = ev->uid;
	f->host = host;
	f->comm = intern(tl, ev->comm);
	f->cmdline = join_argv(tl, ev);
	f->worker = intern(tl, ev->worker);
	f->errname = intern(tl, ev->errname);
	f->err = ev->err;
	f->role = ev->role;
	if (!ev->has_queues)
		return 0;
	if (!(f->queues = qset_intern(tl, ev->queues, ev->nqueues)))
		return -ENOMEM;
	return mark_from_worker(tl, ev->queues, ev->nqueues);
}

static int take_lost(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	if (cw_grow((void **)&tl->lost, &tl->caplost, tl->nlost + 1, sizeof(*tl->lost)))
		return -ENOMEM;
	tl->lost[tl->nlost++] = (struct cw_lost){host, ev->ts,
						 ev->lost_count > 0 ? ev->lost_count : 0};
	if (ev->lost_count > 0)	/* each <= 2^53 (logread); the sum saturates */
		tl->lost_total = tl->lost_total > INT64_MAX - ev->lost_count ? INT64_MAX :
				 tl->lost_total + ev->lost_count;
	return 0;
}

static int take_sample(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	(void)host;
	if (!ev->redis_ok)
		return 0;
	for (int s = 0; s < ev->nsamples; s++) {
		int q = queue_index(tl, ev->samples[s].queue);
		if (q < 0)
			return -ENOMEM;
		struct cw_tqueue *tq = &tl->queues[q];
		if (cw_grow((void **)&tq->samples, &tq->cap, tq->nsamples + 1, sizeof(*tq->samples)))
			return -ENOMEM;
		const struct cw_ev_depth *d = &ev->samples[s];
		tq->samples[tq->nsamples++] = (struct cw_depth_sample){ev->ts, d->depth,
								       d->arrived, d->drained};
	}
	return 0;
}

/* Whether a process used CPU or was switched since its previous sample (unknown counts as
 * progress: a stall is never claimed from missing numbers). */
static bool progressed(const struct cw_pfacts *f, const struct cw_ev_proc *e)
{
	return f->last_ts == CW_NONE || e->cpu_ticks == CW_NONE || e->ctxsw == CW_NONE ||
	       e->cpu_ticks != f->cpu_ticks || e->ctxsw != f->ctxsw;
}

static void take_conns(struct cw_pfacts *f, const struct cw_ev_proc *e, int64_t ts)
{
	if (e->broker_conns == CW_NONE)
		return;
	f->conn_known_last = ts;
	if (e->broker_conns > 0) {
		if (f->conn_first == CW_NONE)
			f->conn_first = ts;
		f->conn_last = ts;
		f->unconn_since = CW_NONE;
	} else if (f->conn_last != CW_NONE && f->unconn_since == CW_NONE) {
		f->unconn_since = ts;
	}
}

static int take_proc_fact(struct cw_timeline *tl, struct cw_tproc *p, const struct cw_ev_proc *e,
			  int64_t ts)
{
	struct cw_pfacts *f = &p->pf;

	if (f->last_ts != CW_NONE && ts < f->last_ts)
		return 0;	/* out of order (merged logs): the latest facts stay */
	if (progressed(f, e)) {
		if (f->last_ts != CW_NONE && f->last_ts - f->progress_ts >= CW_STILL_MIN_US) {
			if (cw_grow((void **)&tl->stills, &tl->capstills, tl->nstills + 1,
				 sizeof(*tl->stills)))
				return -ENOMEM;
			tl->stills[tl->nstills++] = (struct cw_still){(int)(p - tl->procs),
								      f->progress_ts, ts};
			p->has_still = true;
		}
		f->progress_ts = ts;
	}
	if (f->first_ts == CW_NONE)
		f->first_ts = ts;
	f->last_ts = ts;
	f->cpu_ticks = e->cpu_ticks;
	f->ctxsw = e->ctxsw;
	f->state = e->state;
	f->wchan = f->progress_ts == ts ? NULL : intern(tl, e->wchan);
	f->syscall = f->progress_ts == ts ? NULL : intern(tl, e->syscall);
	f->idle_s = e->idle_s;
	f->conn_cmd = intern(tl, e->conn_cmd);
	take_conns(f, e, ts);
	if ((e->wchan && f->progress_ts != ts && !f->wchan) || (e->conn_cmd && !f->conn_cmd))
		return -ENOMEM;
	if (ts > p->last_ts && p->end == CW_END_NONE)
		p->last_ts = ts;	/* a sign of life */
	return 0;
}

/* proc_sample (v2): facts about processes we already know; others are not created here */
static int take_proc_sample(struct cw_timeline *tl, const struct cw_event *ev, const char *host)
{
	tl->proc_samples++;
	for (int k = 0; k < ev->nprocs; k++) {
		const struct cw_ev_proc *e = &ev->procs[k];
		int i = e->pstart != CW_NONE ? find_proc(tl, host, e->pid, e->pstart) :
			find_pid(tl, host, e->pid);
		if (i >= 0 && take_proc_fact(tl, &tl->procs[i], e, ev->ts))
			return -ENOMEM;
	}
	return 0;
}

static const take_fn take[CW_LOG_PROC_SAMPLE + 1] = {
	[CW_LOG_TRACER_START] = take_tracer_start,
	[CW_LOG_SCAN] = take_scan,
	[CW_LOG_EXEC] = take_exec,
	[CW_LOG_EXEC_FAIL] = take_exec_fail,
	[CW_LOG_FORK] = take_fork,
	[CW_LOG_EXIT] = take_exit,
	[CW_LOG_SIGNAL] = take_signal,
	[CW_LOG_OOM] = take_oom,
	[CW_LOG_RENAME] = take_rename,
	[CW_LOG_LOST] = take_lost,
	[CW_LOG_SAMPLE] = take_sample,
	[CW_LOG_TRACER_STOP] = NULL,	/* nothing to keep: the next tracer_start rescans */
	[CW_LOG_PROC_SAMPLE] = take_proc_sample,
};

/* A line about a process folded since (timeline_fold.h) that would not create one. */
static bool late_for_folded(struct cw_timeline *tl, const struct cw_event *ev,
			    const char *host)
{
	if (!tl->nfolded || ev->pstart == CW_NONE ||
	    (ev->type != CW_LOG_EXIT && ev->type != CW_LOG_SIGNAL && ev->type != CW_LOG_RENAME &&
	     ev->type != CW_LOG_OOM))
		return false;
	return cw_fold_was_folded(tl, boot_key(tl, host), ev->pid, ev->pstart) &&
	       find_proc(tl, host, ev->pid, ev->pstart) < 0;
}

int cw_timeline_add(const struct cw_event *ev, void *ctx)
{
	struct cw_timeline *tl = ctx;
	const char *host;

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
	if (late_for_folded(tl, ev, host))
		return 0;
	if ((size_t)ev->type >= sizeof(take) / sizeof(take[0]) || !take[ev->type])
		return 0;
	return take[ev->type](tl, ev, host);
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

	/* a total order, or qsort's result is undefined: files with a timestamp first, by it;
	 * files without one (empty, no valid line) after them; ties in the order given */
	if ((a->first == CW_NONE) != (b->first == CW_NONE))
		return a->first == CW_NONE ? 1 : -1;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return a->pos - b->pos;
}

/* The pre-filter (logread.h): a line past --until is one cw_timeline_add would ignore, so
 * it need not be parsed. */
static bool wanted(enum cw_log_type type, int64_t ts, void *ctx)
{
	struct cw_timeline *tl = ctx;

	(void)type;
	if (tl->until != CW_NONE && ts > tl->until) {
		tl->past_until = true;
		return false;
	}
	return true;
}

int cw_timeline_load(struct cw_timeline *tl, char *const *files, int nfiles,
		     struct cw_logread_stats *st, FILE *errf)
{
	struct ordered *o = calloc((size_t)nfiles + 1, sizeof(*o));
	bool has_stdin = false;
	int ret = 0;
	/* without --until every line is wanted: no cheap read at all */
	cw_line_want want = tl->until != CW_NONE && !tl->read_all ? wanted : NULL;

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
		int r = cw_logread_file_want(o[i].path, want, cw_timeline_add, tl, st, errf);
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

int cw_timeline_forget_folded(struct cw_timeline *tl, int64_t before)
{
	if (!tl->nfolded || tl->folded[0].end_ts >= before)
		return 0;
	int *latest = malloc((size_t)tl->nfprofs * sizeof(*latest)), n = 0;

	if (!latest)
		return -ENOMEM;
	for (int k = 0; k < tl->nfolded; k++)
		latest[tl->folded[k].profile] = k;
	for (int k = 0; k < tl->nfolded; k++)
		if (tl->folded[k].end_ts >= before || latest[tl->folded[k].profile] == k)
			tl->folded[n++] = tl->folded[k];
	free(latest);
	tl->nfolded_forgotten += tl->nfolded - n;
	tl->nfolded = n;
	return 0;
}

/* Per process, its pool child that ended last (by end, then creation), or -1: a degraded
 * pool's cause, kept however old. */
static int *latest_ended_children(const struct cw_timeline *tl)
{
	int *latest = malloc(((size_t)tl->nprocs + 1) * sizeof(*latest));

	if (!latest)
		return NULL;
	for (int i = 0; i < tl->nprocs; i++)
		latest[i] = -1;
	for (int i = 0; i < tl->nprocs; i++) {
		const struct cw_tproc *p = &tl->procs[i];
		if (p->born < 0 || p->role != CW_RL_POOL || p->parent < 0 || p->end_ts == CW_NONE)
			continue;
		int *l = &latest[p->parent];
		const struct cw_tproc *q = *l >= 0 ? &tl->procs[*l] : NULL;
		if (!q || p->end_ts > q->end_ts || (p->end_ts == q->end_ts && p->born > q->born))
			*l = i;
	}
	return latest;
}

/* Dead before `before` and read by no verdict: a process of role other (a cron job, a task's
 * subprocess), or a pool child of a worker still alive that is not its latest to end (a
 * child of a dead worker is counted with its death). None that a slot points at (a
 * parent's children, a stall record), none stopped. */
static bool forgettable(const struct cw_timeline *tl, int i, const int *latest, int64_t before)
{
	const struct cw_tproc *p = &tl->procs[i];

	if (p->born < 0 || p->end == CW_END_NONE || p->end_ts == CW_NONE || p->end_ts >= before ||
	    p->has_children || p->has_still || p->stopped_at != CW_NONE)
		return false;
	if (p->role == CW_RL_OTHER || (p->role == CW_RL_NONE && !p->worker))
		return true;
	return p->role == CW_RL_POOL && p->parent >= 0 &&
	       tl->procs[p->parent].end == CW_END_NONE && latest[p->parent] != i;
}

int cw_timeline_forget_dead(struct cw_timeline *tl, int64_t before)
{
	int *latest = latest_ended_children(tl);

	if (!latest)
		return -ENOMEM;
	for (int i = 0; i < tl->nprocs; i++) {
		const struct cw_tproc *p = &tl->procs[i];
		const void *boot = boot_key(tl, p->host);
		/* one under an earlier boot's key is kept: its key is not ours to remove */
		if (!forgettable(tl, i, latest, before) ||
		    cw_ptab_get(tl->bykey, boot, p->pid, p->pstart) != i)
			continue;
		if (cw_fold_release(tl, i, boot)) {
			free(latest);
			return -ENOMEM;
		}
		tl->ndead_forgotten++;
	}
	free(latest);
	return 0;
}

void cw_timeline_forget_samples(struct cw_timeline *tl, int64_t before)
{
	for (int q = 0; q < tl->nqueues; q++) {
		struct cw_tqueue *tq = &tl->queues[q];
		int keep_from = 0;
		while (keep_from + 1 < tq->nsamples && tq->samples[keep_from + 1].ts < before)
			keep_from++;
		if (!keep_from)
			continue;
		tq->nsamples -= keep_from;
		memmove(tq->samples, tq->samples + keep_from, (size_t)tq->nsamples * sizeof(*tq->samples));
	}
}
