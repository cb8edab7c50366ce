/* `celerywatch status`: a snapshot now, without root or BPF: the Celery processes in /proc
 * (worker, role, pool size against concurrency, uptime), each queue's depth from the broker
 * and its consumers, a verdict per queue, and with --log the last death of each worker as
 * `explain` reads it. What a person runs first. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <json-c/json.h>

#include "broker/broker.h"
#include "explain/causes.h"
#include "cli/commands.h"
#include "capture/procscan.h"
#include "broker/redisurl.h"
#include "explain/report.h"
#include "explain/timeline.h"

static void usage(FILE *f)
{
	fprintf(f,
"Usage: celerywatch status [OPTION...]\n"
"Snapshot now: Celery processes, queue depths and consumers, a verdict per queue.\n"
"\n"
"Reads /proc (no root needed to see most processes; uids other than yours may hide some\n"
"cgroups) and, when a broker URL is known, samples the Redis queue depths once.\n"
"\n"
"Options:\n"
"  -r, --redis=URL       Redis broker (redis://[:password@]host:port/db, unix:///path);\n"
"                        default $CELERY_BROKER_URL, else no broker: /proc only\n"
"  -l, --log=PATH        a recorder's event log: add each worker's last death from it\n"
"  -j, --json            print the snapshot as one JSON document\n"
"      --proc=DIR        read processes from DIR instead of /proc (for tests)\n"
"  -h, --help            show this help\n"
"\n"
"Verdicts: ok (a live worker consumes the queue), degraded (its workers are alive but\n"
"have no pool process, prefork only), no_consumer.\n"
"\n"
"Examples:\n"
"  celerywatch status\n"
"  celerywatch status --redis redis://127.0.0.1:6379/3\n"
"  celerywatch status --log /var/log/celerywatch.jsonl --json | jq '.queues'\n"
"\n"
"Exit status: 0 when every queue is ok, 1 when one is not (or the broker failed),\n"
"2 on bad usage or when /proc cannot be read.\n");
}

struct sproc {
	int pid, ppid;
	unsigned uid;
	unsigned long long pstart;
	char comm[17];
	char *cmdline, *cgroup;
	struct cw_identity id;
	int npool;		/* live pool children (mains) */
	double uptime_s;
};

struct snapshot {
	struct sproc *p;
	size_t n, cap;
	double boot_uptime_s;	/* /proc/uptime */
	long ticks;
};

static int scan_cb(const struct cw_proc *cp, void *ctx)
{
	struct snapshot *s = ctx;

	if (s->n == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 32;
		void *np = realloc(s->p, ncap * sizeof(*s->p));
		if (!np)
			return -ENOMEM;
		s->p = np;
		s->cap = ncap;
	}
	struct sproc *p = &s->p[s->n];
	memset(p, 0, sizeof(*p));
	p->pid = cp->pid;
	p->ppid = cp->ppid;
	p->uid = cp->uid;
	p->pstart = cp->pstart;
	snprintf(p->comm, sizeof(p->comm), "%s", cp->comm);
	size_t len = 1;
	for (size_t i = 0; i < cp->argc; i++)
		len += strlen(cp->argv[i]) + 1;
	if (!(p->cmdline = malloc(len)))
		return -ENOMEM;
	p->cmdline[0] = 0;
	for (size_t i = 0; i < cp->argc; i++) {
		if (i)
			strcat(p->cmdline, " ");
		strcat(p->cmdline, cp->argv[i]);
	}
	p->cgroup = cp->cgroup ? strdup(cp->cgroup) : NULL;
	if (cw_identity_copy(&p->id, &cp->id)) {
		free(p->cmdline);
		free(p->cgroup);
		return -ENOMEM;
	}
	if (s->ticks > 0 && s->boot_uptime_s > 0)
		p->uptime_s = s->boot_uptime_s - (double)cp->pstart / (double)s->ticks;
	s->n++;
	return 0;
}

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->p[i].cmdline);
		free(s->p[i].cgroup);
		cw_identity_free(&s->p[i].id);
	}
	free(s->p);
}

static bool is_main(const struct sproc *p)
{
	return !strcmp(p->id.role, CW_ROLE_MAIN) && !p->id.detach;
}

static bool consumes(const struct sproc *p, const char *q)
{
	for (size_t i = 0; p->id.queues && i < p->id.nqueues; i++)
		if (!strcmp(p->id.queues[i], q))
			return true;
	return false;
}

static bool prefork(const struct sproc *p)
{
	return cw_pool_is_prefork(p->id.pool);
}

/* ---- queues ---- */

struct squeue {
	const char *name;
	int64_t depth;		/* CW_NONE: not sampled */
	int consumers, pool;
	bool any_other_pool;
	enum cw_verdict verdict;
	const struct cw_death *log_cause;	/* from --log, when the log agrees */
};

static int add_queue(struct squeue **qs, size_t *n, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*qs)[i].name, name))
			return (int)i;
	void *np = realloc(*qs, (*n + 1) * sizeof(**qs));
	if (!np)
		return -1;
	*qs = np;
	memset(&(*qs)[*n], 0, sizeof(**qs));
	(*qs)[*n].name = name;
	(*qs)[*n].depth = CW_NONE;
	return (int)(*n)++;
}

static void fmt_uptime(double s, char *out, size_t len)
{
	long v = s > 0 ? (long)s : 0;

	if (s <= 0)
		snprintf(out, len, "?");
	else if (v >= 86400)
		snprintf(out, len, "%ldd%02ldh", v / 86400, v % 86400 / 3600);
	else if (v >= 3600)
		snprintf(out, len, "%ldh%02ldm", v / 3600, v % 3600 / 60);
	else
		snprintf(out, len, "%ldm%02lds", v / 60, v % 60);
}

/* the latest death worth a person's attention of this worker in the log */
static const struct cw_death *last_death(const struct cw_analysis *a, const char *worker)
{
	if (!a || !worker)
		return NULL;
	for (int i = a->ndeaths - 1; i >= 0; i--)
		if (a->deaths[i].incident && a->deaths[i].worker &&
		    !strcmp(a->deaths[i].worker, worker))
			return &a->deaths[i];
	return NULL;
}

static double read_uptime(const char *root)
{
	char path[4096];
	double up = 0;

	snprintf(path, sizeof(path), "%s/uptime", root);
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	return up;
}

static int64_t now_us(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

struct status {
	const char *host;
	int64_t now;
	struct snapshot snap;
	struct squeue *queues;
	size_t nqueues;
	const char *redis_shown;	/* redacted URL, or NULL */
	bool redis_ok;
	char redis_err[300];
	struct cw_sample sample;
	bool have_sample;
	struct cw_timeline tl;
	struct cw_analysis an;
	bool have_log;
	const char *log;
};

/* Everything text_out prints that came from /proc, the broker or the log is attacker-chosen:
 * it goes through cw_text_safe (or cw_text_sanitize when it is padded). */
static void text_out(FILE *o, struct status *st, bool color)
{
	const char *bold = color ? "\033[1m" : "", *off = color ? "\033[0m" : "";
	const char *red = color ? "\033[1;31m" : "", *yellow = color ? "\033[1;33m" : "";
	const char *green = color ? "\033[32m" : "";
	char t[40], up[32], num[32], w[512], pl[64];

	cw_fmt_clock(st->now, true, t, sizeof(t));
	fputs("celerywatch status on ", o);
	cw_text_safe(o, st->host);
	fprintf(o, " at %s UTC\n\n", t);

	int shown = 0;
	for (size_t i = 0; i < st->snap.n; i++) {
		const struct sproc *p = &st->snap.p[i];
		if (strcmp(p->id.role, CW_ROLE_MAIN) && strcmp(p->id.role, CW_ROLE_BEAT))
			continue;
		if (!shown++)
			fprintf(o, "%sWorkers%s\n", bold, off);
		fmt_uptime(p->uptime_s, up, sizeof(up));
		if (!strcmp(p->id.role, CW_ROLE_BEAT)) {
			fprintf(o, "  %-28s pid %-7d beat     up %s\n",
				cw_text_sanitize(w, sizeof(w), p->id.worker ? p->id.worker :
						 "celery beat"), p->pid, up);
			continue;
		}
		char conc[16] = "?";
		if (p->id.concurrency > 0)
			snprintf(conc, sizeof(conc), "%d", p->id.concurrency);
		fprintf(o, "  %-28s pid %-7d %-8s pool %d/%s  up %s  queues ",
			cw_text_sanitize(w, sizeof(w), p->id.worker ? p->id.worker : "?"), p->pid,
			cw_text_sanitize(pl, sizeof(pl), p->id.pool ? p->id.pool : "?"),
			p->npool, conc, up);
		for (size_t k = 0; p->id.queues && k < p->id.nqueues; k++) {
			if (k)
				fputc(',', o);
			cw_text_safe(o, p->id.queues[k]);
		}
		if (p->id.detach)
			fprintf(o, " (--detach launcher)");
		bool short_pool = prefork(p) && p->id.concurrency > 0 && p->npool < p->id.concurrency;
		if (short_pool)
			fprintf(o, "  %s<- pool short%s", yellow, off);
		fprintf(o, "\n");
	}
	if (!shown)
		fprintf(o, "%sNo Celery worker or beat process found in /proc.%s\n", red, off);

	fprintf(o, "\n%sQueues%s", bold, off);
	if (st->redis_shown) {
		fputs(" (", o);
		cw_text_safe(o, st->redis_shown);
		fprintf(o, "%s)", st->redis_ok ? "" : ": unreachable");
	} else
		fprintf(o, " (no broker: give --redis or set CELERY_BROKER_URL for depths)");
	fprintf(o, "\n");
	if (st->redis_shown && !st->redis_ok) {
		fprintf(o, "  %sbroker: ", red);
		cw_text_safe(o, st->redis_err);
		fprintf(o, "%s\n", off);
	}
	for (size_t i = 0; i < st->nqueues; i++) {
		const struct squeue *q = &st->queues[i];
		fputs("  ", o);
		fputs(bold, o);
		cw_text_safe(o, q->name);
		fprintf(o, "%s: ", off);
		if (q->verdict == CW_OK) {
			fprintf(o, "%sok%s — %d consumer%s", green, off, q->consumers,
				q->consumers == 1 ? "" : "s");
			int k2 = 0;
			for (size_t k = 0; k < st->snap.n; k++)
				if (is_main(&st->snap.p[k]) && consumes(&st->snap.p[k], q->name)) {
					fputs(k2++ ? ", " : " (", o);
					cw_text_safe(o, st->snap.p[k].id.worker ?
						     st->snap.p[k].id.worker : "?");
				}
			if (k2)
				fprintf(o, ")");
			if (q->pool)
				fprintf(o, ", %d pool process%s", q->pool, q->pool == 1 ? "" : "es");
		}
		else if (q->verdict == CW_DEGRADED)
			fprintf(o, "%sDEGRADED%s — %d consumer%s, no pool process", yellow, off,
				q->consumers, q->consumers == 1 ? "" : "s");
		else
			fprintf(o, "%sNO CONSUMER%s", red, off);
		if (q->depth != CW_NONE) {
			cw_fmt_count(q->depth, num, sizeof(num));
			fprintf(o, "; depth %s", num);
		}
		if (q->log_cause) {
			fputs("; log: ", o);
			cw_text_safe(o, q->log_cause->summary);
		}
		fprintf(o, "\n");
	}
	if (!st->nqueues)
		fprintf(o, "  none known\n");

	if (st->have_log) {
		fprintf(o, "\n%sLast deaths in ", bold);
		cw_text_safe(o, st->log);
		fprintf(o, "%s\n", off);
		int n = 0;
		for (size_t i = 0; i < st->snap.n; i++) {
			const struct sproc *p = &st->snap.p[i];
			const struct cw_death *d;
			if (!is_main(p) || !(d = last_death(&st->an, p->id.worker)))
				continue;
			cw_fmt_clock(d->ts, true, t, sizeof(t));
			fprintf(o, "  %s  %-13s ", t, cw_kind_name(d->kind));
			cw_text_safe(o, d->summary);
			fputc('\n', o);
			n++;
		}
		/* workers of the log that are not running now are the interesting ones */
		for (int i = 0; i < st->an.nqueues; i++) {
			const struct cw_qverdict *v = &st->an.queues[i];
			if (v->verdict != CW_NO_CONSUMER || v->cause < 0)
				continue;
			const struct cw_death *d = &st->an.deaths[v->cause];
			bool running = false;
			for (size_t k = 0; k < st->snap.n; k++)
				running |= is_main(&st->snap.p[k]) && d->worker && st->snap.p[k].id.worker &&
					   !strcmp(st->snap.p[k].id.worker, d->worker);
			if (running)
				continue;
			cw_fmt_clock(d->ts, true, t, sizeof(t));
			fprintf(o, "  %s  %-13s ", t, cw_kind_name(d->kind));
			cw_text_safe(o, d->summary);
			fputc('\n', o);
			n++;
		}
		if (!n)
			fprintf(o, "  none recorded\n");
	}
}

static json_object *jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void json_out(FILE *o, struct status *st)
{
	json_object *root = json_object_new_object(), *procs = json_object_new_array();
	json_object *qs = json_object_new_array();

	json_object_object_add(root, "host", jstr(st->host));
	json_object_object_add(root, "ts", cw_ts_json(st->now));
	for (size_t i = 0; i < st->snap.n; i++) {
		const struct sproc *p = &st->snap.p[i];
		json_object *j = json_object_new_object(), *q = NULL;
		json_object_object_add(j, "pid", json_object_new_int(p->pid));
		json_object_object_add(j, "ppid", json_object_new_int(p->ppid));
		json_object_object_add(j, "uid", json_object_new_int64(p->uid));
		json_object_object_add(j, "pstart", json_object_new_int64((int64_t)p->pstart));
		json_object_object_add(j, "comm", jstr(p->comm));
		json_object_object_add(j, "cmdline", jstr(p->cmdline));
		json_object_object_add(j, "cgroup", jstr(p->cgroup));
		json_object_object_add(j, "worker", jstr(p->id.worker));
		json_object_object_add(j, "role", jstr(p->id.role));
		json_object_object_add(j, "command", jstr(p->id.command));
		if (p->id.queues) {
			q = json_object_new_array();
			for (size_t k = 0; k < p->id.nqueues; k++)
				json_object_array_add(q, json_object_new_string(p->id.queues[k]));
		}
		json_object_object_add(j, "queues", q);
		json_object_object_add(j, "pool", jstr(p->id.pool));
		json_object_object_add(j, "concurrency", p->id.concurrency > 0 ?
				       json_object_new_int(p->id.concurrency) : NULL);
		json_object_object_add(j, "pool_size", is_main(p) ? json_object_new_int(p->npool) : NULL);
		json_object_object_add(j, "detach", json_object_new_boolean(p->id.detach));
		json_object_object_add(j, "uptime_s", p->uptime_s > 0 ?
				       json_object_new_int64((int64_t)p->uptime_s) : NULL);
		const struct cw_death *d = st->have_log && is_main(p) ?
					   last_death(&st->an, p->id.worker) : NULL;
		json_object_object_add(j, "last_death", d ? cw_death_json(&st->an, d) : NULL);
		json_object_array_add(procs, j);
	}
	json_object_object_add(root, "processes", procs);
	for (size_t i = 0; i < st->nqueues; i++) {
		const struct squeue *q = &st->queues[i];
		json_object *j = json_object_new_object(), *names = json_object_new_array();
		json_object_object_add(j, "queue", jstr(q->name));
		json_object_object_add(j, "verdict", jstr(cw_verdict_name(q->verdict)));
		json_object_object_add(j, "depth", q->depth == CW_NONE ? NULL :
				       json_object_new_int64(q->depth));
		json_object_object_add(j, "consumers_now", json_object_new_int(q->consumers));
		for (size_t k = 0; k < st->snap.n; k++)
			if (is_main(&st->snap.p[k]) && consumes(&st->snap.p[k], q->name) &&
			    st->snap.p[k].id.worker)
				json_object_array_add(names,
						      json_object_new_string(st->snap.p[k].id.worker));
		json_object_object_add(j, "consumers", names);
		json_object_object_add(j, "pool_now", json_object_new_int(q->pool));
		json_object_object_add(j, "cause", q->log_cause ? cw_death_json(&st->an, q->log_cause) :
				       NULL);
		json_object_array_add(qs, j);
	}
	json_object_object_add(root, "queues", qs);
	json_object *r = NULL;
	if (st->redis_shown) {
		r = json_object_new_object();
		json_object_object_add(r, "url", jstr(st->redis_shown));
		json_object_object_add(r, "ok", json_object_new_boolean(st->redis_ok));
		json_object_object_add(r, "error", st->redis_ok ? NULL : jstr(st->redis_err));
		json_object_object_add(r, "latency_ms", st->have_sample ?
				       json_object_new_double(st->sample.latency_ms) : NULL);
	}
	json_object_object_add(root, "redis", r);
	json_object_object_add(root, "log", jstr(st->have_log ? st->log : NULL));
	fprintf(o, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{"redis", required_argument, NULL, 'r'},
		{"log", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},
		{"proc", required_argument, NULL, 'P'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *redis = NULL, *proc = "/proc";
	char *redis_env = NULL, shown[512];
	bool json = false;
	int c, ret = 0;
	struct status st;
	struct utsname un;

	memset(&st, 0, sizeof(st));
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:l:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			redis = optarg;
			break;
		case 'l':
			st.log = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'P':
			proc = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try 'celerywatch status --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "celerywatch status: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	st.host = uname(&un) ? "localhost" : un.nodename;
	st.now = now_us();

	/* 1. processes */
	st.snap.ticks = sysconf(_SC_CLK_TCK);
	st.snap.boot_uptime_s = read_uptime(proc);
	int n = cw_procscan(proc, st.host, scan_cb, &st.snap);
	if (n < 0) {
		fprintf(stderr, "celerywatch status: cannot read %s: %s\n", proc, strerror(-n));
		snapshot_free(&st.snap);
		return 2;
	}
	for (size_t i = 0; i < st.snap.n; i++) {
		const struct sproc *ch = &st.snap.p[i];
		if (strcmp(ch->id.role, CW_ROLE_POOL))
			continue;
		for (size_t k = 0; k < st.snap.n; k++)
			if (st.snap.p[k].pid == ch->ppid && is_main(&st.snap.p[k]))
				st.snap.p[k].npool++;
	}

	/* 2. the broker, once */
	const char *env = getenv("CELERY_BROKER_URL");
	if (!redis && env && *env) {
		bool from_env;
		redis = redis_env = cw_redis_url_default(&from_env);
	}
	if (redis) {
		const char **qn = NULL;
		size_t nq = 0;
		for (size_t i = 0; i < st.snap.n; i++)
			for (size_t k = 0; st.snap.p[i].id.queues && k < st.snap.p[i].id.nqueues; k++) {
				const char **nn = realloc(qn, (nq + 1) * sizeof(*qn));
				if (!nn)
					break;
				qn = nn;
				qn[nq++] = st.snap.p[i].id.queues[k];
			}
		struct cw_broker_config cfg = {.url = redis, .queues = qn, .nqueues = nq,
					       .discover = true, .timeout_s = 2};
		cw_redis_url_redacted(redis, shown, sizeof(shown));
		st.redis_shown = shown;
		st.have_sample = true;
		int r = cw_broker_sample_once(&cfg, &st.sample, st.redis_err, sizeof(st.redis_err));
		st.redis_ok = r == 0 && st.sample.redis_ok;
		if (r == 0 && !st.sample.redis_ok)
			snprintf(st.redis_err, sizeof(st.redis_err), "%s", st.sample.error);
		if (!st.redis_ok)
			ret = 1;
		free(qn);
	}

	/* 3. the log, through explain's reader */
	if (st.log) {
		char *files[] = {(char *)st.log};
		if (cw_timeline_init(&st.tl) == 0) {
			if (cw_timeline_load(&st.tl, files, 1, NULL, stderr) == 0 &&
			    cw_analyze(&st.tl, CW_NONE, CW_NONE, NULL, &st.an) == 0)
				st.have_log = true;
			else
				ret = 1;
		}
	}

	/* 4. queues: those workers consume, those the broker has */
	for (size_t i = 0; i < st.snap.n; i++)
		for (size_t k = 0; st.snap.p[i].id.queues && k < st.snap.p[i].id.nqueues; k++)
			if (is_main(&st.snap.p[i]) &&
			    add_queue(&st.queues, &st.nqueues, st.snap.p[i].id.queues[k]) < 0)
				goto oom;
	/* a queue whose every worker is gone is known only to the log (or the broker) */
	for (int i = 0; st.have_log && i < st.an.nqueues; i++)
		if (add_queue(&st.queues, &st.nqueues, st.an.queues[i].queue) < 0)
			goto oom;
	if (st.redis_ok)
		for (size_t i = 0; i < st.sample.nqueues; i++) {
			int q = add_queue(&st.queues, &st.nqueues, st.sample.queues[i].queue);
			if (q < 0)
				goto oom;
			st.queues[q].depth = st.sample.queues[i].depth;
		}
	for (size_t i = 0; i < st.nqueues; i++) {
		struct squeue *q = &st.queues[i];
		for (size_t k = 0; k < st.snap.n; k++) {
			const struct sproc *p = &st.snap.p[k];
			if (!is_main(p) || !consumes(p, q->name))
				continue;
			q->consumers++;
			q->pool += p->npool;
			q->any_other_pool |= !prefork(p);
		}
		q->verdict = !q->consumers ? CW_NO_CONSUMER :
			     q->pool || q->any_other_pool ? CW_OK : CW_DEGRADED;
		if (q->verdict != CW_OK)
			ret = 1;
		for (int k = 0; st.have_log && k < st.an.nqueues; k++)
			if (!strcmp(st.an.queues[k].queue, q->name) && st.an.queues[k].cause >= 0 &&
			    st.an.queues[k].verdict == q->verdict && q->verdict != CW_OK)
				q->log_cause = &st.an.deaths[st.an.queues[k].cause];
	}

	if (json)
		json_out(stdout, &st);
	else
		text_out(stdout, &st, cw_want_color(stdout));
	if (0) {
oom:
		fprintf(stderr, "celerywatch status: out of memory\n");
		ret = 2;
	}
	if (st.have_sample)
		cw_sample_free(&st.sample);
	if (st.log) {
		cw_analysis_free(&st.an);
		cw_timeline_free(&st.tl);
	}
	free(st.queues);
	free(redis_env);
	snapshot_free(&st.snap);
	return ret;
}
