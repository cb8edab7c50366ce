/* The schema of the event log (docs/events.md, v1 and v2) applied to one parsed line: checks
 * and the flattening into struct cw_event. Works on the flat node table (jflat.h), whichever
 * parser filled it. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "log/logfields.h"
#include "common/sanitize.h"	/* the log's strings in our messages */

const char *cw_role_name(enum cw_role r)
{
	switch (r) {
	case CW_RL_MAIN: return "main";
	case CW_RL_POOL: return "pool";
	case CW_RL_BEAT: return "beat";
	case CW_RL_OTHER: return "other";
	default: return NULL;
	}
}

static enum cw_role parse_role(const char *s)
{
	if (!s)
		return CW_RL_NONE;
	if (!strcmp(s, "main"))
		return CW_RL_MAIN;
	if (!strcmp(s, "pool"))
		return CW_RL_POOL;
	if (!strcmp(s, "beat"))
		return CW_RL_BEAT;
	return CW_RL_OTHER;
}

/* ---- field access ---- */

static int32_t get(const struct cw_jflat *f, int32_t o, const char *k)
{
	return cw_jget(f, o, k);
}

static const char *str(const struct cw_jflat *f, int32_t o, const char *k)
{
	return cw_jstr(f, cw_jget(f, o, k));
}

/* Integers we read must lie in JSON's interoperable range (RFC 8259 section 6): everything
 * the recorder writes does, sums of a few of them cannot overflow, and no double is ever cast
 * out of range. json-c clamps integers beyond int64 to INT64_MIN/MAX: those fall outside too. */
#define NUM_LIMIT 9007199254740992.0	/* 2^53 */

struct numctx {
	const char *prefix;	/* "sender." while reading the sender, ... */
	const char *bad;	/* the first key whose number was out of range or a fraction */
	const char *badprefix;
	char badval[48];
};

/* An integer field: CW_NONE when absent, null or not a number. Out of range or a fraction is
 * noted in nc (the line is then refused) and is CW_NONE too: never cast. */
static int64_t num(const struct cw_jflat *f, int32_t o, const char *k, struct numctx *nc)
{
	int32_t v = get(f, o, k);

	if (v < 0)
		return CW_NONE;
	if (cw_jtype(f, v) == CW_J_INT) {
		int64_t i = f->n[v].i;
		if (i >= -(int64_t)NUM_LIMIT && i <= (int64_t)NUM_LIMIT)
			return i;
	} else if (cw_jtype(f, v) == CW_J_DOUBLE) {
		double d = f->n[v].d;
		if (isfinite(d) && d >= -NUM_LIMIT && d <= NUM_LIMIT && d == floor(d))
			return (int64_t)d;
	} else {
		return CW_NONE;
	}
	if (!nc->bad) {
		nc->bad = k;
		nc->badprefix = nc->prefix;
		snprintf(nc->badval, sizeof(nc->badval), "%.40s", cw_jnumtext(f, v));
	}
	return CW_NONE;
}

static bool boolean(const struct cw_jflat *f, int32_t o, const char *k)
{
	int32_t v = get(f, o, k);

	return cw_jtype(f, v) == CW_J_BOOL && f->n[v].b;
}

/* Integer members of struct cw_event read under their own names, in table order (the first
 * bad one is the one reported). Only for int64_t members. */
struct intfield {
	const char *key;
	size_t off;
};

#define INT_FIELD(member) { #member, offsetof(struct cw_event, member) }

static void ints(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
		 const struct intfield *fl, size_t n,
		 struct numctx *nc)
{
	for (size_t i = 0; i < n; i++)
		*(int64_t *)((char *)ev + fl[i].off) = num(f, o, fl[i].key, nc);
}

/* an array of strings into out[]; non-strings are skipped; returns the count */
static int strarray(const struct cw_jflat *f, int32_t a, const char **out, int max)
{
	int n = 0;

	if (cw_jtype(f, a) != CW_J_ARRAY)
		return 0;
	for (int32_t e = cw_jfirst(f, a); e >= 0 && n < max; e = cw_jnext(f, e))
		if (cw_jtype(f, e) == CW_J_STRING)
			out[n++] = cw_jstr(f, e);
	return n;
}

void cw_logfields_clear(struct cw_event *ev)
{
	memset(ev, 0, offsetof(struct cw_event, argv));
	ev->pid = ev->pstart = ev->ppid = ev->parent_pstart = ev->uid = CW_NONE;
	ev->concurrency = ev->exit_code = ev->maxrss_kb = ev->signo = CW_NONE;
	ev->total_vm_kb = ev->anon_rss_kb = ev->file_rss_kb = ev->shmem_rss_kb = CW_NONE;
	ev->oom_score_adj = ev->err = ev->lost_count = ev->procs_omitted = CW_NONE;
	ev->sender.pid = ev->sender.uid = ev->sender.pstart = CW_NONE;
}

static const char *bad_number(const struct numctx *nc, char *why, size_t whylen)
{
	char val[200];

	snprintf(why, whylen, "\"%s%s\" is not an integer within +-2^53: %s",
		 nc->badprefix ? nc->badprefix : "", nc->bad,
		 cw_text_sanitize(val, sizeof(val), nc->badval));
	return why;
}

/* ---- one extractor per event type ---- */

/*
 * The fields of one event type, after those every line has. Returns NULL, or the reason the
 * line is skipped. A number out of range is only noted in nc: the caller reports it, ahead of
 * any later complaint about the same line.
 */
typedef const char *(*extractor)(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc);

static const char *need_pid_pstart(const struct cw_event *ev)
{
	if (ev->pid == CW_NONE || ev->pstart == CW_NONE)
		return "process line without \"pid\" and \"pstart\"";
	return NULL;
}

/* scan, exec, fork, rename: the common fields, and whether the kernel follows it */
static const char *ex_process(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	(void)nc;
	ev->untracked = str(f, o, "untracked");
	ev->exe = str(f, o, "exe");	/* v2, exec and scan */
	return need_pid_pstart(ev);
}

static const char *ex_exit(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	const char *missing = need_pid_pstart(ev);

	if (missing)
		return missing;
	ev->exit_code = num(f, o, "exit_code", nc);
	ev->signame = str(f, o, "signal");
	ev->core_dumped = boolean(f, o, "core_dumped");
	ev->stderr_tail = str(f, o, "stderr_tail");
	int32_t watched = get(f, o, "stderr_watched");	/* absent: always watched, or no tails */
	ev->stderr_unwatched = cw_jtype(f, watched) == CW_J_BOOL && !f->n[watched].b;
	ev->maxrss_kb = num(f, o, "maxrss_kb", nc);
	if (nc->bad)
		return NULL;
	if (ev->exit_code == CW_NONE && !ev->signame)
		return "exit line with neither \"exit_code\" nor \"signal\"";
	return NULL;
}

static void sender(const struct cw_jflat *f, int32_t s, struct cw_ev_sender *sd,
		   struct numctx *nc)
{
	if (cw_jtype(f, s) != CW_J_OBJECT)
		return;
	sd->present = true;
	const char *kind = str(f, s, "kind");
	if (kind && !strcmp(kind, "kernel")) {
		/* no sender: what was running when the kernel generated it, if anything */
		sd->kernel = true;
		sd->reason = str(f, s, "reason");
		s = get(f, s, "running");
		sd->pid = sd->uid = sd->pstart = CW_NONE;
		if (cw_jtype(f, s) != CW_J_OBJECT)
			return;
	}
	nc->prefix = "sender.";
	sd->pid = num(f, s, "pid", nc);
	sd->uid = num(f, s, "uid", nc);
	sd->pstart = num(f, s, "pstart", nc);
	nc->prefix = NULL;
	sd->comm = str(f, s, "comm");
	sd->cmdline = str(f, s, "cmdline");
}

static const char *ex_signal(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	const char *missing = need_pid_pstart(ev);

	if (missing)
		return missing;
	ev->signame = str(f, o, "signal");
	ev->signo = num(f, o, "signo", nc);
	ev->code = str(f, o, "code");
	ev->result = str(f, o, "result");
	if (!ev->signame)
		return "signal line without \"signal\"";
	sender(f, get(f, o, "sender"), &ev->sender, nc);
	return NULL;
}

/* before 6.8 the kernel gives only the victim's pid: pstart is null */
static const char *ex_oom(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	static const struct intfield sizes[] = {
		INT_FIELD(total_vm_kb), INT_FIELD(anon_rss_kb), INT_FIELD(file_rss_kb),
		INT_FIELD(shmem_rss_kb), INT_FIELD(oom_score_adj),
	};

	if (ev->pid == CW_NONE)
		return "oom line without \"pid\"";
	ints(f, o, ev, sizes, sizeof(sizes) / sizeof(sizes[0]), nc);
	ev->tracked = boolean(f, o, "tracked");
	return NULL;
}

static const char *ex_exec_fail(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	if (ev->pid == CW_NONE)
		return "exec_fail line without \"pid\"";
	ev->errname = str(f, o, "errno");
	ev->err = num(f, o, "err", nc);
	return NULL;
}

static const char *ex_lost(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	ev->lost_count = num(f, o, "count", nc);
	return NULL;
}

static const char *ex_tracer_start(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	(void)nc;
	ev->boot_id = str(f, o, "boot_id");	/* absent before schema 1.x: keys fall back to host */
	return NULL;
}

/* queue depths; entries without a name or a depth are left out */
static const char *ex_sample(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	int32_t a = get(f, o, "queues");

	ev->redis_ok = boolean(f, o, "redis_ok");
	if (cw_jtype(f, a) != CW_J_ARRAY)
		return NULL;
	for (int32_t e = cw_jfirst(f, a); e >= 0 && ev->nsamples < CW_LOG_MAX_SAMPLES;
	     e = cw_jnext(f, e)) {
		const char *name = str(f, e, "queue");
		nc->prefix = "queues[].";
		int64_t d = num(f, e, "depth", nc);
		int64_t in = num(f, e, "arrived", nc), out = num(f, e, "drained", nc);
		nc->prefix = NULL;
		if (!name || d == CW_NONE)
			continue;
		struct cw_ev_depth *q = &ev->samples[ev->nsamples++];
		q->queue = name;
		q->depth = d;
		q->arrived = in < 0 ? CW_NONE : in;	/* a count: a negative one means nothing */
		q->drained = out < 0 ? CW_NONE : out;
	}
	return NULL;
}

/* conns[] of one process: the smallest idle time, and the first connection's command */
static void proc_conns(const struct cw_jflat *f, int32_t a, struct cw_ev_proc *p,
		       struct numctx *nc)
{
	if (cw_jtype(f, a) != CW_J_ARRAY)
		return;
	for (int32_t c = cw_jfirst(f, a); c >= 0; c = cw_jnext(f, c)) {
		if (cw_jtype(f, c) != CW_J_OBJECT)
			continue;
		nc->prefix = "procs[].conns[].";
		int64_t idle = num(f, c, "idle_s", nc);
		nc->prefix = NULL;
		if (idle != CW_NONE && idle >= 0 && (p->idle_s == CW_NONE || idle < p->idle_s))
			p->idle_s = idle;
		if (!p->conn_cmd)
			p->conn_cmd = str(f, c, "cmd");
	}
}

/* One procs[] entry; false when it has no pid (then it is left out). */
static bool proc_entry(const struct cw_jflat *f, int32_t e, struct cw_ev_proc *p,
		       struct numctx *nc)
{
	if (cw_jtype(f, e) != CW_J_OBJECT)
		return false;
	nc->prefix = "procs[].";
	p->pid = num(f, e, "pid", nc);
	p->pstart = num(f, e, "pstart", nc);
	p->cpu_ticks = num(f, e, "cpu_ticks", nc);
	p->ctxsw = num(f, e, "ctxsw", nc);
	p->broker_conns = num(f, e, "broker_conns", nc);
	nc->prefix = NULL;
	const char *st = str(f, e, "state");
	p->state = st && st[0] && !st[1] ? st[0] : 0;
	p->wchan = str(f, e, "wchan");
	p->syscall = str(f, e, "syscall");
	p->idle_s = CW_NONE;
	p->conn_cmd = NULL;
	proc_conns(f, get(f, e, "conns"), p, nc);
	return p->pid != CW_NONE && p->pid > 0;
}

/* proc_sample (v2): the broker's facts and one entry per tracked process */
static const char *ex_proc_sample(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			      struct numctx *nc)
{
	int32_t b = get(f, o, "broker"), a = get(f, o, "procs");

	if (cw_jtype(f, b) != CW_J_OBJECT)
		return "proc_sample line without a \"broker\" object";
	if (cw_jtype(f, a) != CW_J_ARRAY)
		return "proc_sample line without a \"procs\" array";
	ev->conn_known = boolean(f, b, "conn_known");
	ev->client_list = boolean(f, b, "client_list");
	ev->procs_omitted = num(f, o, "procs_omitted", nc);
	for (int32_t e = cw_jfirst(f, a); e >= 0 && ev->nprocs < CW_LOG_MAX_PROCS;
	     e = cw_jnext(f, e)) {
		struct cw_ev_proc *p = &ev->procs[ev->nprocs];
		if (proc_entry(f, e, p, nc)) {
			if (!ev->conn_known)
				p->broker_conns = CW_NONE;	/* not known, whatever it says */
			ev->nprocs++;
		}
	}
	return NULL;
}

/* The "type" values of schemas v1 and v2; tracer_stop has only common fields. */
static const struct {
	const char *name;
	extractor fields;
} ev_types[CW_LOG_PROC_SAMPLE + 1] = {
	[CW_LOG_TRACER_START] = { "tracer_start", ex_tracer_start },
	[CW_LOG_SCAN] = { "scan", ex_process },
	[CW_LOG_EXEC] = { "exec", ex_process },
	[CW_LOG_EXEC_FAIL] = { "exec_fail", ex_exec_fail },
	[CW_LOG_FORK] = { "fork", ex_process },
	[CW_LOG_EXIT] = { "exit", ex_exit },
	[CW_LOG_SIGNAL] = { "signal", ex_signal },
	[CW_LOG_OOM] = { "oom", ex_oom },
	[CW_LOG_RENAME] = { "rename", ex_process },
	[CW_LOG_LOST] = { "lost", ex_lost },
	[CW_LOG_SAMPLE] = { "sample", ex_sample },
	[CW_LOG_SUPPRESSED] = { "suppressed", ex_lost },	/* count: records over a flood budget */
	[CW_LOG_TRACER_STOP] = { "tracer_stop", NULL },
	[CW_LOG_PROC_SAMPLE] = { "proc_sample", ex_proc_sample },
};

/* Lines the recorder writes about its own output, read as another type: a `dropped` line
 * (lines that never reached the log: a full queue, a full disk) is a loss mark like `lost`.
 * (`suppressed` lines are their own type: the log cap never suppresses a death, and the
 * kernel's budgets never budget one.) */
static const struct {
	const char *name;
	enum cw_log_type as;
} ev_aliases[] = {
	{ "dropped", CW_LOG_LOST },
};

enum cw_log_type cw_logfields_type(const char *name)
{
	for (size_t i = 0; i < sizeof(ev_types) / sizeof(ev_types[0]); i++)
		if (ev_types[i].name && !strcmp(name, ev_types[i].name))
			return (enum cw_log_type)i;
	for (size_t i = 0; i < sizeof(ev_aliases) / sizeof(ev_aliases[0]); i++)
		if (!strcmp(name, ev_aliases[i].name))
			return ev_aliases[i].as;
	return CW_LOG_NONE;
}

/* ---- every line ---- */

/* Schema version, type and time: what makes a line an event at all. */
static const char *header(const struct cw_jflat *f, int32_t o, struct cw_event *ev, char *why,
			  size_t whylen)
{
	char shown[80];

	if (cw_jtype(f, o) != CW_J_OBJECT)
		return "not a JSON object";
	int32_t v = get(f, o, "v");
	if (cw_jtype(f, v) != CW_J_INT)
		return "no schema version \"v\"";
	if (f->n[v].i != 1 && f->n[v].i != 2) {
		snprintf(why, whylen, "unsupported schema version v=%lld (this reader knows v=1 and v=2)",
			 (long long)f->n[v].i);
		return why;
	}
	const char *type = str(f, o, "type");
	if (!type)
		return "no \"type\"";
	ev->type = cw_logfields_type(type);
	if (ev->type == CW_LOG_NONE) {
		snprintf(why, whylen, "unknown type \"%s\"",
			 cw_text_sanitize(shown, sizeof(shown), type));
		return why;
	}
	const char *ts = str(f, o, "ts");
	if (!ts)
		return "no \"ts\"";
	if (cw_parse_ts(ts, &ev->ts)) {
		snprintf(why, whylen, "bad ts \"%s\"", cw_text_sanitize(shown, sizeof(shown), ts));
		return why;
	}
	return NULL;
}

/* The process and worker fields any line may carry. */
static void common_fields(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
			  struct numctx *nc)
{
	static const struct intfield numbers[] = {
		INT_FIELD(pid), INT_FIELD(pstart), INT_FIELD(ppid), INT_FIELD(parent_pstart),
		INT_FIELD(uid), INT_FIELD(concurrency),
	};

	ev->host = str(f, o, "host");
	if (!ev->host)
		ev->host = "";
	ints(f, o, ev, numbers, sizeof(numbers) / sizeof(numbers[0]), nc);
	ev->comm = str(f, o, "comm");
	ev->cgroup = str(f, o, "cgroup");
	ev->argc = strarray(f, get(f, o, "argv"), ev->argv, CW_LOG_MAX_ARGS);

	ev->worker = str(f, o, "worker");
	int32_t q = get(f, o, "queues");
	ev->has_queues = cw_jtype(f, q) == CW_J_ARRAY;
	ev->nqueues = strarray(f, q, ev->queues, CW_LOG_MAX_QUEUES);
	ev->role = parse_role(str(f, o, "role"));
	ev->pool = str(f, o, "pool");
	ev->command = str(f, o, "command");
}

const char *cw_logfields_extract(const struct cw_jflat *f, int32_t o, struct cw_event *ev,
				 char *why, size_t whylen)
{
	struct numctx nc = {0};
	const char *reason = header(f, o, ev, why, whylen);

	if (reason)
		return reason;
	common_fields(f, o, ev, &nc);
	if (nc.bad)
		return bad_number(&nc, why, whylen);
	if (ev_types[ev->type].fields) {
		reason = ev_types[ev->type].fields(f, o, ev, &nc);
		if (reason)
			return reason;
	}
	if (nc.bad)
		return bad_number(&nc, why, whylen);
	return NULL;
}

