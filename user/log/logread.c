/* Event log reader: one line at a time (getline + json_tokener), checked against schema v1/v2
 * and flattened into struct cw_event. A bad line costs one message on errf, never the run. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "log/logread.h"
#include "common/sanitize.h"	/* the log's strings in our messages */
#include "log/logopen.h"

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

static json_object *get(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v))
		return NULL;
	return v;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
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
static int64_t num(json_object *o, const char *k, struct numctx *nc)
{
	json_object *v = get(o, k);

	if (!v)
		return CW_NONE;
	if (json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);
		if (i >= -(int64_t)NUM_LIMIT && i <= (int64_t)NUM_LIMIT)
			return i;
	} else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (isfinite(d) && d >= -NUM_LIMIT && d <= NUM_LIMIT && d == floor(d))
			return (int64_t)d;
	} else {
		return CW_NONE;
	}
	if (!nc->bad) {
		nc->bad = k;
		nc->badprefix = nc->prefix;
		snprintf(nc->badval, sizeof(nc->badval), "%.40s", json_object_to_json_string(v));
	}
	return CW_NONE;
}

static bool boolean(json_object *o, const char *k)
{
	json_object *v = get(o, k);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* Integer members of struct cw_event read under their own names, in table order (the first
 * bad one is the one reported). Only for int64_t members. */
struct intfield {
	const char *key;
	size_t off;
};

#define INT_FIELD(member) { #member, offsetof(struct cw_event, member) }

static void ints(json_object *o, struct cw_event *ev, const struct intfield *f, size_t n,
		 struct numctx *nc)
{
	for (size_t i = 0; i < n; i++)
		*(int64_t *)((char *)ev + f[i].off) = num(o, f[i].key, nc);
}

/* an array of strings into out[]; non-strings are skipped; returns the count */
static int strarray(json_object *a, const char **out, int max)
{
	int n = 0;

	if (!a || !json_object_is_type(a, json_type_array))
		return 0;
	size_t len = json_object_array_length(a);
	for (size_t i = 0; i < len && n < max; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		if (json_object_is_type(e, json_type_string))
			out[n++] = json_object_get_string(e);
	}
	return n;
}

static void clear_event(struct cw_event *ev)
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
typedef const char *(*extractor)(json_object *o, struct cw_event *ev, struct numctx *nc);

static const char *need_pid_pstart(const struct cw_event *ev)
{
	if (ev->pid == CW_NONE || ev->pstart == CW_NONE)
		return "process line without \"pid\" and \"pstart\"";
	return NULL;
}

/* scan, exec, fork, rename: the common fields, and whether the kernel follows it */
static const char *ex_process(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	(void)nc;
	ev->untracked = str(o, "untracked");
	ev->exe = str(o, "exe");	/* v2, exec and scan */
	return need_pid_pstart(ev);
}

static const char *ex_exit(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	const char *missing = need_pid_pstart(ev);

	if (missing)
		return missing;
	ev->exit_code = num(o, "exit_code", nc);
	ev->signame = str(o, "signal");
	ev->core_dumped = boolean(o, "core_dumped");
	ev->stderr_tail = str(o, "stderr_tail");
	ev->maxrss_kb = num(o, "maxrss_kb", nc);
	if (nc->bad)
		return NULL;
	if (ev->exit_code == CW_NONE && !ev->signame)
		return "exit line with neither \"exit_code\" nor \"signal\"";
	return NULL;
}

static void sender(json_object *s, struct cw_ev_sender *sd, struct numctx *nc)
{
	if (!s || !json_object_is_type(s, json_type_object))
		return;
	sd->present = true;
	const char *kind = str(s, "kind");
	if (kind && !strcmp(kind, "kernel")) {
		/* no sender: what was running when the kernel generated it, if anything */
		sd->kernel = true;
		sd->reason = str(s, "reason");
		s = get(s, "running");
		sd->pid = sd->uid = sd->pstart = CW_NONE;
		if (!s || !json_object_is_type(s, json_type_object))
			return;
	}
	nc->prefix = "sender.";
	sd->pid = num(s, "pid", nc);
	sd->uid = num(s, "uid", nc);
	sd->pstart = num(s, "pstart", nc);
	nc->prefix = NULL;
	sd->comm = str(s, "comm");
	sd->cmdline = str(s, "cmdline");
}

static const char *ex_signal(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	const char *missing = need_pid_pstart(ev);

	if (missing)
		return missing;
	ev->signame = str(o, "signal");
	ev->signo = num(o, "signo", nc);
	ev->code = str(o, "code");
	ev->result = str(o, "result");
	if (!ev->signame)
		return "signal line without \"signal\"";
	sender(get(o, "sender"), &ev->sender, nc);
	return NULL;
}

/* before 6.8 the kernel gives only the victim's pid: pstart is null */
static const char *ex_oom(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	static const struct intfield sizes[] = {
		INT_FIELD(total_vm_kb), INT_FIELD(anon_rss_kb), INT_FIELD(file_rss_kb),
		INT_FIELD(shmem_rss_kb), INT_FIELD(oom_score_adj),
	};

	if (ev->pid == CW_NONE)
		return "oom line without \"pid\"";
	ints(o, ev, sizes, sizeof(sizes) / sizeof(sizes[0]), nc);
	ev->tracked = boolean(o, "tracked");
	return NULL;
}

static const char *ex_exec_fail(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	if (ev->pid == CW_NONE)
		return "exec_fail line without \"pid\"";
	ev->errname = str(o, "errno");
	ev->err = num(o, "err", nc);
	return NULL;
}

static const char *ex_lost(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	ev->lost_count = num(o, "count", nc);
	return NULL;
}

static const char *ex_tracer_start(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	(void)nc;
	ev->boot_id = str(o, "boot_id");	/* absent before schema 1.x: keys fall back to host */
	return NULL;
}

/* queue depths; entries without a name or a depth are left out */
static const char *ex_sample(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	json_object *a = get(o, "queues");

	ev->redis_ok = boolean(o, "redis_ok");
	if (!a || !json_object_is_type(a, json_type_array))
		return NULL;
	size_t len = json_object_array_length(a);
	for (size_t i = 0; i < len && ev->nsamples < CW_LOG_MAX_SAMPLES; i++) {
		json_object *e = json_object_array_get_idx(a, i);
		const char *name = str(e, "queue");
		nc->prefix = "queues[].";
		int64_t d = num(e, "depth", nc);
		int64_t in = num(e, "arrived", nc), out = num(e, "drained", nc);
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
static void proc_conns(json_object *a, struct cw_ev_proc *p, struct numctx *nc)
{
	if (!a || !json_object_is_type(a, json_type_array))
		return;
	size_t len = json_object_array_length(a);
	for (size_t i = 0; i < len; i++) {
		json_object *c = json_object_array_get_idx(a, i);
		if (!c || !json_object_is_type(c, json_type_object))
			continue;
		nc->prefix = "procs[].conns[].";
		int64_t idle = num(c, "idle_s", nc);
		nc->prefix = NULL;
		if (idle != CW_NONE && idle >= 0 && (p->idle_s == CW_NONE || idle < p->idle_s))
			p->idle_s = idle;
		if (!p->conn_cmd)
			p->conn_cmd = str(c, "cmd");
	}
}

/* One procs[] entry; false when it has no pid (then it is left out). */
static bool proc_entry(json_object *e, struct cw_ev_proc *p, struct numctx *nc)
{
	if (!e || !json_object_is_type(e, json_type_object))
		return false;
	nc->prefix = "procs[].";
	p->pid = num(e, "pid", nc);
	p->pstart = num(e, "pstart", nc);
	p->cpu_ticks = num(e, "cpu_ticks", nc);
	p->ctxsw = num(e, "ctxsw", nc);
	p->broker_conns = num(e, "broker_conns", nc);
	nc->prefix = NULL;
	const char *st = str(e, "state");
	p->state = st && st[0] && !st[1] ? st[0] : 0;
	p->wchan = str(e, "wchan");
	p->syscall = str(e, "syscall");
	p->idle_s = CW_NONE;
	p->conn_cmd = NULL;
	proc_conns(get(e, "conns"), p, nc);
	return p->pid != CW_NONE && p->pid > 0;
}

/* proc_sample (v2): the broker's facts and one entry per tracked process */
static const char *ex_proc_sample(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	json_object *b = get(o, "broker"), *a = get(o, "procs");

	if (!b || !json_object_is_type(b, json_type_object))
		return "proc_sample line without a \"broker\" object";
	if (!a || !json_object_is_type(a, json_type_array))
		return "proc_sample line without a \"procs\" array";
	ev->conn_known = boolean(b, "conn_known");
	ev->client_list = boolean(b, "client_list");
	ev->procs_omitted = num(o, "procs_omitted", nc);
	size_t len = json_object_array_length(a);
	for (size_t i = 0; i < len && ev->nprocs < CW_LOG_MAX_PROCS; i++) {
		struct cw_ev_proc *p = &ev->procs[ev->nprocs];
		if (proc_entry(json_object_array_get_idx(a, i), p, nc)) {
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

/* ---- every line ---- */

/* Schema version, type and time: what makes a line an event at all. */
static const char *header(json_object *o, struct cw_event *ev, char *why, size_t whylen)
{
	char shown[80];

	if (!json_object_is_type(o, json_type_object))
		return "not a JSON object";
	json_object *v = get(o, "v");
	if (!v || !json_object_is_type(v, json_type_int))
		return "no schema version \"v\"";
	if (json_object_get_int64(v) != 1 && json_object_get_int64(v) != 2) {
		snprintf(why, whylen, "unsupported schema version v=%lld (this reader knows v=1 and v=2)",
			 (long long)json_object_get_int64(v));
		return why;
	}
	const char *type = str(o, "type");
	if (!type)
		return "no \"type\"";
	for (size_t i = 0; i < sizeof(ev_types) / sizeof(ev_types[0]); i++)
		if (ev_types[i].name && !strcmp(type, ev_types[i].name))
			ev->type = (enum cw_log_type)i;
	for (size_t i = 0; ev->type == CW_LOG_NONE && i < sizeof(ev_aliases) / sizeof(ev_aliases[0]); i++)
		if (!strcmp(type, ev_aliases[i].name))
			ev->type = ev_aliases[i].as;
	if (ev->type == CW_LOG_NONE) {
		snprintf(why, whylen, "unknown type \"%s\"",
			 cw_text_sanitize(shown, sizeof(shown), type));
		return why;
	}
	const char *ts = str(o, "ts");
	if (!ts)
		return "no \"ts\"";
	if (cw_parse_ts(ts, &ev->ts)) {
		snprintf(why, whylen, "bad ts \"%s\"", cw_text_sanitize(shown, sizeof(shown), ts));
		return why;
	}
	return NULL;
}

/* The process and worker fields any line may carry. */
static void common_fields(json_object *o, struct cw_event *ev, struct numctx *nc)
{
	static const struct intfield numbers[] = {
		INT_FIELD(pid), INT_FIELD(pstart), INT_FIELD(ppid), INT_FIELD(parent_pstart),
		INT_FIELD(uid), INT_FIELD(concurrency),
	};

	ev->host = str(o, "host");
	if (!ev->host)
		ev->host = "";
	ints(o, ev, numbers, sizeof(numbers) / sizeof(numbers[0]), nc);
	ev->comm = str(o, "comm");
	ev->cgroup = str(o, "cgroup");
	ev->argc = strarray(get(o, "argv"), ev->argv, CW_LOG_MAX_ARGS);

	ev->worker = str(o, "worker");
	json_object *q = get(o, "queues");
	ev->has_queues = q && json_object_is_type(q, json_type_array);
	ev->nqueues = strarray(q, ev->queues, CW_LOG_MAX_QUEUES);
	ev->role = parse_role(str(o, "role"));
	ev->pool = str(o, "pool");
	ev->command = str(o, "command");
}

/* Fill ev from a parsed line. Returns NULL, or the reason the line is skipped. */
static const char *extract(json_object *o, struct cw_event *ev, char *why, size_t whylen)
{
	struct numctx nc = {0};
	const char *reason = header(o, ev, why, whylen);

	if (reason)
		return reason;
	common_fields(o, ev, &nc);
	if (nc.bad)
		return bad_number(&nc, why, whylen);
	if (ev_types[ev->type].fields) {
		reason = ev_types[ev->type].fields(o, ev, &nc);
		if (reason)
			return reason;
	}
	if (nc.bad)
		return bad_number(&nc, why, whylen);
	return NULL;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return false;
	return true;
}

/* Parse and check one line into ev; *o is what json-c made of it (to be put), maybe NULL.
 * Returns NULL, or the reason the line is skipped. */
static const char *read_line(json_tokener *tok, const char *line, size_t n, struct cw_event *ev,
			     json_object **o, char *why, size_t whylen)
{
	bool complete = line[n - 1] == '\n';

	json_tokener_reset(tok);
	*o = json_tokener_parse_ex(tok, line, (int)n);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	if (!*o || jerr != json_tokener_success) {
		if (!complete)
			return "truncated last line (the recorder stopped mid-write?)";
		if (jerr == json_tokener_continue)
			return "not JSON: the object is cut short";
		snprintf(why, whylen, "not JSON: %s", json_tokener_error_desc(jerr));
		return why;
	}
	size_t end = json_tokener_get_parse_end(tok);
	if (!blank(line + end, n - end))
		return "not JSON: text after the object";
	return extract(*o, ev, why, whylen);
}

int cw_logread_stream(FILE *in, const char *name, cw_event_cb cb, void *ctx,
		      struct cw_logread_stats *st, FILE *errf)
{
	struct cw_event *ev = malloc(sizeof(*ev));
	json_tokener *tok = json_tokener_new();
	char *line = NULL, why[256];
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int ret = 0;

	if (!ev || !tok) {
		free(ev);
		if (tok)
			json_tokener_free(tok);
		return -ENOMEM;
	}
	while ((n = getline(&line, &cap, in)) > 0) {
		json_object *o = NULL;

		lineno++;
		if (st)
			st->lines++;
		if (blank(line, (size_t)n))
			continue;
		clear_event(ev);
		ev->file = name;
		ev->line = lineno;
		const char *reason = read_line(tok, line, (size_t)n, ev, &o, why, sizeof(why));
		if (reason) {
			if (errf)
				fprintf(errf, "%s:%ld: %s; line skipped\n", name, lineno, reason);
			if (st)
				st->skipped++;
		} else {
			if (st)
				st->events++;
			ret = cb(ev, ctx);
		}
		if (o)
			json_object_put(o);
		if (ret)
			break;
	}
	if (!ret && ferror(in))
		ret = -EIO;
	free(line);
	free(ev);
	json_tokener_free(tok);
	return ret;
}

int cw_logread_file(const char *path, cw_event_cb cb, void *ctx,
		    struct cw_logread_stats *st, FILE *errf)
{
	if (!strcmp(path, "-"))
		return cw_logread_stream(stdin, "<stdin>", cb, ctx, st, errf);
	FILE *f = cw_log_fopen(path);
	if (!f)
		return -errno;
	int ret = cw_logread_stream(f, path, cb, ctx, st, errf);
	fclose(f);
	return ret;
}

static int first_ts_cb(const struct cw_event *ev, void *ctx)
{
	*(int64_t *)ctx = ev->ts;
	return 1;
}

int64_t cw_logread_first_ts(const char *path)
{
	int64_t ts = CW_NONE;

	if (!strcmp(path, "-"))
		return CW_NONE;
	cw_logread_file(path, first_ts_cb, &ts, NULL, NULL);
	return ts;
}

struct cw_lineparser {
	json_tokener *tok;
	struct cw_event ev;
};

struct cw_lineparser *cw_lineparser_new(void)
{
	struct cw_lineparser *p = calloc(1, sizeof(*p));

	if (p && !(p->tok = json_tokener_new())) {
		free(p);
		p = NULL;
	}
	return p;
}

void cw_lineparser_free(struct cw_lineparser *p)
{
	if (!p)
		return;
	json_tokener_free(p->tok);
	free(p);
}

int cw_lineparser_feed(struct cw_lineparser *p, const char *line, size_t n, const char *name,
		       long lineno, cw_event_cb cb, void *ctx, char *why, size_t whylen)
{
	json_object *o = NULL;
	char buf[256];

	if (!n || blank(line, n))
		return 0;
	clear_event(&p->ev);
	p->ev.file = name;
	p->ev.line = lineno;
	const char *reason = read_line(p->tok, line, n, &p->ev, &o, buf, sizeof(buf));
	int ret = reason ? -EINVAL : cb(&p->ev, ctx);
	if (reason)
		snprintf(why, whylen, "%s", reason);
	if (o)
		json_object_put(o);
	return ret;
}
