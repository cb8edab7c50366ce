/* The --json report, written with json-c: {"window", "queues", "deaths"} as documented in
 * `celerywatch explain --help`; fields beyond that shape are additions, never changes. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "explain/report.h"
#include "explain/stderr_note.h"

json_object *cw_ts_json(int64_t us)
{
	char buf[40];

	if (us == CW_NONE)
		return NULL;	/* json-c writes NULL as null */
	cw_format_ts(us, buf, sizeof(buf));
	return json_object_new_string(buf);
}

static json_object *int_or_null(int64_t v)
{
	return v == CW_NONE ? NULL : json_object_new_int64(v);
}

static json_object *str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *qset_json(const struct cw_qset *qs)
{
	json_object *a = json_object_new_array();

	for (int i = 0; qs && i < qs->n; i++)
		json_object_array_add(a, json_object_new_string(qs->names[i]));
	return a;
}

/* a rate with two decimals, not json-c's seventeen digits */
static json_object *rate_json(double r)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%.2f", r);
	if (!strcmp(buf, "-0.00"))
		strcpy(buf, "0.00");
	return json_object_new_double_s(strtod(buf, NULL), buf);
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

/* An object from key, value pairs in order, ended by a NULL key; a NULL value is null. */
__attribute__((sentinel))
static json_object *object_of(const char *k, ...)
{
	json_object *o = json_object_new_object();
	va_list ap;

	va_start(ap, k);
	for (; k; k = va_arg(ap, const char *))
		add(o, k, va_arg(ap, json_object *));
	va_end(ap);
	return o;
}

json_object *cw_death_json(const struct cw_analysis *a, const struct cw_death *d)
{
	json_object *o = json_object_new_object();

	add(o, "kind", json_object_new_string(cw_kind_name(d->kind)));
	add(o, "ts", cw_ts_json(d->ts));
	add(o, "pid", int_or_null(d->pid));
	add(o, "worker", str_or_null(d->worker));
	add(o, "role", str_or_null(cw_role_name(d->role)));
	if (d->kind == CW_K_NEVER_STARTED && d->queue) {
		json_object *q = json_object_new_array();
		json_object_array_add(q, json_object_new_string(d->queue));
		add(o, "queues", q);
	} else {
		add(o, "queues", qset_json(d->queues));
	}
	add(o, "signal", str_or_null(d->signame));
	add(o, "exit_code", int_or_null(d->exit_code));
	/* a kernel signal's pid... is the process that was running, not a sender */
	add(o, "sender", !d->has_sender ? NULL :
	    object_of("pid", int_or_null(d->sender.pid),
		      "comm", str_or_null(d->sender.comm),
		      "uid", int_or_null(d->sender.uid),
		      "cmdline", str_or_null(d->sender.cmdline),
		      "kind", json_object_new_string(d->sender.kernel ? "kernel" : "process"),
		      "reason", d->sender.kernel ? str_or_null(d->sender.reason) : NULL, NULL));
	add(o, "oom", !d->has_oom ? NULL :
	    object_of("anon_rss_kb", int_or_null(d->oom.anon_rss_kb),
		      "file_rss_kb", int_or_null(d->oom.file_rss_kb),
		      "shmem_rss_kb", int_or_null(d->oom.shmem_rss_kb),
		      "total_vm_kb", int_or_null(d->oom.total_vm_kb),
		      "oom_score_adj", int_or_null(d->oom.oom_score_adj),
		      "cgroup", str_or_null(d->oom.cgroup), NULL));
	add(o, "stderr_tail", str_or_null(d->stderr_tail));
	add(o, "summary", json_object_new_string(d->summary));
	/* additions */
	add(o, "host", str_or_null(d->host));
	add(o, "comm", str_or_null(d->comm));
	add(o, "cmdline", str_or_null(d->cmdline));
	add(o, "signal_code", str_or_null(d->sig_code));
	add(o, "core_dumped", json_object_new_boolean(d->core_dumped));
	add(o, "stopped", json_object_new_boolean(d->stopped));
	add(o, "parent_pid", int_or_null(d->parent_pid));
	add(o, "parent_kind", d->parent_death >= 0 ?
	    json_object_new_string(cw_kind_name(a->deaths[d->parent_death].kind)) : NULL);
	add(o, "errno", str_or_null(d->errname));
	add(o, "lost_near", json_object_new_int64(d->lost_near));
	add(o, "incident", json_object_new_boolean(d->incident));
	add(o, "followers", json_object_new_int(d->followers));
	char logfile[256];
	add(o, "stderr_note", str_or_null(cw_stderr_note(d)));
	add(o, "logfile", cw_stderr_note(d) && cw_death_logfile(d, logfile, sizeof(logfile)) ?
	    json_object_new_string(logfile) : NULL);
	return o;
}

static json_object *window_json(const struct cw_analysis *a)
{
	return object_of("from", cw_ts_json(a->from), "to", cw_ts_json(a->to), NULL);
}

static json_object *rate_or_null(bool has, double r)
{
	return has ? rate_json(r) : NULL;
}

/* the periods with no live consumer: {"from", "to", "cause", "backlog_peak"} + additions;
 * past stalls alike (cause null) */
static json_object *gaps_json(const struct cw_analysis *a, const struct cw_gap *gaps, int n)
{
	json_object *gs = json_object_new_array();

	for (int i = 0; i < n; i++) {
		const struct cw_gap *g = &gaps[i];
		json_object_array_add(gs, object_of(
			"from", cw_ts_json(g->from), "to", cw_ts_json(g->to),
			"cause", g->cause >= 0 ? cw_death_json(a, &a->deaths[g->cause]) : NULL,
			"backlog_peak", int_or_null(g->peak),
			"arrival_per_min", rate_or_null(g->has_arrival, g->arrival_per_min),
			"drain_per_min", rate_or_null(g->has_drain, g->drain_per_min),
			"emptied_at", cw_ts_json(g->emptied_at), NULL));
	}
	return gs;
}

/* the crash loop found in the window, whether or not it is the verdict now */
static json_object *flap_json(const struct cw_qverdict *v)
{
	const struct cw_flap *f = &v->flap;

	if (!v->flapping)
		return NULL;
	return object_of("worker", str_or_null(f->worker), "deaths", json_object_new_int(f->deaths),
			 "from", cw_ts_json(f->first_start), "to", cw_ts_json(f->last_death),
			 "summary", str_or_null(f->summary), NULL);
}

/* the issue-9 fields: restarts, gaps, and the rates about the last gap */
static void history_json(json_object *q, const struct cw_analysis *a,
			 const struct cw_qverdict *v)
{
	add(q, "restarts", json_object_new_int(v->restarts));
	add(q, "gaps", gaps_json(a, v->gaps, v->ngaps));
	add(q, "drain_per_min", rate_or_null(v->has_drain, v->drain_per_min));
	add(q, "eta_empty_s", v->has_eta ? json_object_new_int64(llround(v->eta_empty_s)) : NULL);
	add(q, "arrival_per_min", rate_or_null(v->has_arrival, v->arrival_per_min));
	add(q, "flapping", flap_json(v));
}

static json_object *pids_json(const int64_t *pids, int n)
{
	json_object *arr = json_object_new_array();

	for (int k = 0; k < n; k++)
		json_object_array_add(arr, json_object_new_int64(pids[k]));
	return arr;
}

static json_object *gaps_json(const struct cw_analysis *a, const struct cw_gap *gaps, int n);

static json_object *stall_json(const struct cw_qverdict *v)
{
	char where[256], sentence[512];

	if (!v->stalled)
		return NULL;
	cw_blocked_in(&v->stall, where, sizeof(where));
	cw_stall_sentence(&v->stall, sentence, sizeof(sentence));
	return object_of("since", cw_ts_json(v->stall.since),
			 "pids", pids_json(v->stall.pids, v->stall.npids),
			 "blocked_in", *where ? json_object_new_string(where) : NULL,
			 /* additions */
			 "for_s", json_object_new_int64(llround((double)v->stall.for_us / 1e6)),
			 "syscall", str_or_null(v->stall.syscall), "wchan", str_or_null(v->stall.wchan),
			 "depth", json_object_new_int64(v->stall.depth),
			 "summary", json_object_new_string(sentence), NULL);
}

/* Every live consumer with its uid and executable; connected: null when the log has no
 * connection facts (v1, broker address unknown), false while starting. */
static json_object *consumers_json(const struct cw_timeline *tl, const struct cw_qverdict *v)
{
	json_object *arr = json_object_new_array();

	for (int k = 0; k < v->ncons; k++) {
		const struct cw_consumer *c = &v->cons[k];
		const struct cw_tproc *p = &tl->procs[c->proc];
		if (c->conn == CW_CONN_NO)
			continue;
		json_object_array_add(arr, object_of(
			"worker", str_or_null(p->worker), "pid", json_object_new_int64(p->pid),
			"uid", int_or_null(p->uid), "exe", str_or_null(p->exe),
			"connected", c->conn == CW_CONN_UNKNOWN ? NULL :
				     json_object_new_boolean(c->conn == CW_CONN_YES),
			"starting", json_object_new_boolean(c->conn == CW_CONN_STARTING), NULL));
	}
	return arr;
}

static json_object *not_connected_json(const struct cw_timeline *tl, const struct cw_qverdict *v)
{
	json_object *arr = json_object_new_array();

	for (int k = 0; k < v->ncons; k++) {
		const struct cw_tproc *p = &tl->procs[v->cons[k].proc];
		if (v->cons[k].conn != CW_CONN_NO)
			continue;
		json_object_array_add(arr, object_of(
			"pid", json_object_new_int64(p->pid), "uid", int_or_null(p->uid),
			"exe", str_or_null(p->exe), "cmdline", str_or_null(p->cmdline),
			"since", cw_ts_json(p->start_ts), "worker", str_or_null(p->worker), NULL));
	}
	return arr;
}

static json_object *dups_json(const struct cw_qverdict *v)
{
	json_object *arr = json_object_new_array();

	for (int k = 0; k < v->ndups; k++)
		json_object_array_add(arr, object_of(
			"worker", str_or_null(v->dups[k].worker),
			"pids", pids_json(v->dups[k].pids, v->dups[k].npids), NULL));
	return arr;
}

/* issue 9: who consumes as they really are, stalls and saturation */
static void consumers_fields(json_object *q, const struct cw_timeline *tl,
			     const struct cw_qverdict *v)
{
	json_object *names = json_object_new_array();

	for (int k = 0; k < v->nconsumer_names; k++)
		json_object_array_add(names, json_object_new_string(v->consumer_names[k]));
	add(q, "consumers", consumers_json(tl, v));
	add(q, "consumer_names", names);
	add(q, "not_connected", not_connected_json(tl, v));
	add(q, "starting", json_object_new_int(v->starting));
	add(q, "stalled", stall_json(v));
	add(q, "stalls", gaps_json(NULL, v->stalls, v->nstalls));
	add(q, "arrival_at_least", json_object_new_boolean(v->has_arrival && v->arrival_at_least));
	add(q, "concurrency_now", int_or_null(v->concurrency_now));
	add(q, "concurrency_needed", int_or_null(v->concurrency_needed));
	add(q, "duplicates", dups_json(v));
}

static json_object *queues_json(const struct cw_timeline *tl, const struct cw_analysis *a)
{
	json_object *qs = json_object_new_array();

	for (int i = 0; i < a->nqueues; i++) {
		const struct cw_qverdict *v = &a->queues[i];
		json_object *q = json_object_new_object();
		add(q, "queue", json_object_new_string(v->queue));
		add(q, "verdict", json_object_new_string(cw_verdict_name(v->verdict)));
		add(q, "depth_first", int_or_null(v->depth_first));
		add(q, "depth_last", int_or_null(v->depth_last));
		add(q, "growth_per_min", v->has_growth ? rate_json(v->growth_per_min) : NULL);
		add(q, "consumers_now", json_object_new_int(v->consumers_now));
		add(q, "uncovered_since", cw_ts_json(v->uncovered_since));
		add(q, "cause", v->cause >= 0 ? cw_death_json(a, &a->deaths[v->cause]) : NULL);
		history_json(q, a, v);
		/* additions */
		add(q, "depth_max", v->depth_first == CW_NONE ? NULL :
		    json_object_new_int64(v->depth_max));
		add(q, "pool_now", json_object_new_int(v->pool_now));
		/* the kernel could not follow some of its processes: the verdict may be wrong */
		add(q, "uncertain", json_object_new_boolean(v->untracked > 0));
		add(q, "untracked", json_object_new_int(v->untracked));
		consumers_fields(q, tl, v);
		add(q, "growth", !v->has_growth ? NULL :
		    object_of("from", cw_ts_json(v->growth_from_ts),
			      "depth_from", json_object_new_int64(v->growth_from_depth),
			      "to", cw_ts_json(v->growth_to_ts),
			      "depth_to", json_object_new_int64(v->growth_to_depth), NULL));
		json_object_array_add(qs, q);
	}
	return qs;
}

static json_object *hosts_json(const struct cw_timeline *tl)
{
	json_object *hosts = json_object_new_array();

	for (int i = 0; i < tl->nhosts; i++)
		json_object_array_add(hosts, json_object_new_string(tl->hosts[i]));
	return hosts;
}

/* OOM kills of processes we do not follow, in the window: context for the deaths */
static json_object *other_ooms_json(const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	json_object *oo = json_object_new_array();

	for (int i = 0; i < in->tl->nother_ooms; i++) {
		const struct cw_other_oom *o = &in->tl->other_ooms[i];
		if (o->ts < a->from || o->ts > a->to)
			continue;
		json_object_array_add(oo, object_of("ts", cw_ts_json(o->ts),
						    "host", str_or_null(o->host),
						    "pid", json_object_new_int64(o->pid),
						    "comm", str_or_null(o->comm),
						    "anon_rss_kb", int_or_null(o->anon_rss_kb),
						    "cgroup", str_or_null(o->cgroup), NULL));
	}
	return oo;
}

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* print o and free it */
static void emit(FILE *out, json_object *o)
{
	fputs(o ? json_object_to_json_string_ext(o, FLAGS) : "null", out);
	json_object_put(o);
}

/* The document, written death by death: one json-c tree of thousands is slow and big.
 * Recycled children past the first few thousand are only counted (recycled_unlisted). */
int cw_report_json(FILE *out, const struct cw_report_in *in)
{
	const struct cw_analysis *a = in->a;
	bool first = true;

	fputs("{\"window\":", out);
	emit(out, window_json(a));
	fputs(",\"queues\":", out);
	emit(out, queues_json(in->tl, a));
	fputs(",\"deaths\":[", out);
	for (int i = 0; i < a->ndeaths; i++) {
		if (!a->deaths[i].shown || a->deaths[i].folded)
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		emit(out, cw_death_json(a, &a->deaths[i]));
	}
	fputc(']', out);
	/* recycled children folded into a count (timeline_fold.h): a long log's many */
	if (a->recycled_unlisted)
		fprintf(out, ",\"recycled_unlisted\":%d", a->recycled_unlisted);
	fputs(",\"hosts\":", out);
	emit(out, hosts_json(in->tl));
	fprintf(out, ",\"events\":%ld,\"lines_skipped\":%ld,\"lost_events\":%lld,\"other_oom_kills\":",
		in->tl->events, in->skipped, (long long)a->lost_in_window);
	emit(out, other_ooms_json(in));
	fputs("}\n", out);
	return ferror(out) ? -EIO : 0;
}
