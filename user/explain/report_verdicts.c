/* The words for issue 9's verdicts in the text report: stalled and saturated queues, and the
 * lines under a queue about who consumes as they really are (not connected, starting,
 * duplicate worker names, each consumer's uid and executable). */
#include <math.h>
#include <string.h>

#include "explain/connect.h"
#include "explain/report.h"

/* 1,200 or 2.5 */
static void rate(double r, char *out, size_t len)
{
	if (fabs(r) >= 9.95)
		cw_fmt_count(llround(r), out, len);
	else
		snprintf(out, len, "%.1f", r);
}

/* "recvfrom (wchan sk_wait_data)", "recvfrom", "wchan sk_wait_data", or "" */
void cw_blocked_in(const struct cw_stall *s, char *out, size_t len)
{
	char sc[96], wc[96];

	cw_text_sanitize(sc, sizeof(sc), s->syscall ? s->syscall : "");
	cw_text_sanitize(wc, sizeof(wc), s->wchan ? s->wchan : "");
	if (*sc && *wc)
		snprintf(out, len, "%s (wchan %s)", sc, wc);
	else if (*sc)
		snprintf(out, len, "%s", sc);
	else if (*wc)
		snprintf(out, len, "wchan %s", wc);
	else
		out[0] = 0;
}

/* "both pool processes blocked in recvfrom (wchan sk_wait_data) for 41 s with 192 tasks
 * waiting" */
void cw_stall_sentence(const struct cw_stall *s, char *out, size_t len)
{
	char who[64], where[200], span[48], n[32];
	const char *kind = s->pool ? "pool process" : "MainProcess";
	const char *plural = s->pool ? "pool processes" : "MainProcesses";

	if (s->npids == 1)
		snprintf(who, sizeof(who), "the %s", kind);
	else if (s->npids == 2)
		snprintf(who, sizeof(who), "both %s", plural);
	else
		snprintf(who, sizeof(who), "all %d %s", s->npids, plural);
	cw_blocked_in(s, where, sizeof(where));
	cw_fmt_span(s->for_us, span, sizeof(span));
	cw_fmt_count(s->depth, n, sizeof(n));
	if (*where)
		snprintf(out, len, "%s blocked in %s for %s with %s task%s waiting", who, where,
			 span, n, s->depth == 1 ? "" : "s");
	else
		snprintf(out, len, "%s made no progress (no CPU time, no context switch) for %s "
			 "with %s task%s waiting", who, span, n, s->depth == 1 ? "" : "s");
}

/* "120/min arriving, 60/min drained; concurrency 2 → 4 would keep up" */
void cw_saturation_sentence(const struct cw_qverdict *v, char *out, size_t len)
{
	char in[32], dr[32], need[96] = "";

	rate(v->arrival_per_min, in, sizeof(in));
	if (v->concurrency_needed != CW_NONE && v->concurrency_now != CW_NONE)
		snprintf(need, sizeof(need), "; concurrency %lld → %lld would keep up",
			 (long long)v->concurrency_now, (long long)v->concurrency_needed);
	if (!v->has_drain) {
		snprintf(out, len, "tasks arrive faster than they drain: growing %s%s/min "
			 "(drain rate unknown)", v->arrival_at_least ? "at least " : "", in);
		return;
	}
	rate(v->drain_per_min, dr, sizeof(dr));
	snprintf(out, len, "tasks arrive faster than they drain: %s%s/min arriving, %s/min "
		 "drained%s", v->arrival_at_least ? "at least " : "", in, dr, need);
}

static void who(FILE *out, const struct cw_tproc *p)
{
	fprintf(out, "pid %lld", (long long)p->pid);
	if (p->uid != CW_NONE)
		fprintf(out, " uid %lld", (long long)p->uid);
	if (p->exe) {
		fputc(' ', out);
		cw_text_safe(out, p->exe);
	}
}

static bool any_facts(const struct cw_qverdict *v, const struct cw_timeline *tl)
{
	for (int k = 0; k < v->ncons; k++)
		if (v->cons[k].conn != CW_CONN_UNKNOWN || tl->procs[v->cons[k].proc].exe)
			return true;
	return false;
}

static void consumer_line(FILE *out, const struct cw_report_in *in, const struct cw_consumer *c)
{
	const struct cw_tproc *p = &in->tl->procs[c->proc];
	char span[48];

	switch (c->conn) {
	case CW_CONN_NO:
		fputs("  not connected: ", out);
		who(out, p);
		if (p->cmdline) {
			fputc(' ', out);
			cw_text_safe(out, p->cmdline);
		}
		fputs(" (not a consumer)\n", out);
		return;
	case CW_CONN_STARTING:
		cw_fmt_span(in->a->to - p->start_ts, span, sizeof(span));
		fputs("  starting: ", out);
		cw_text_safe(out, p->worker ? p->worker : "worker");
		fputc(' ', out);
		who(out, p);
		fprintf(out, " (not connected yet, %s after exec)\n", span);
		return;
	default:
		fputs("  consumer: ", out);
		cw_text_safe(out, p->worker ? p->worker : "worker");
		fputc(' ', out);
		who(out, p);
		fprintf(out, "%s\n", c->conn == CW_CONN_YES ? ", connected" : "");
	}
}

void cw_consumer_lines(FILE *out, const struct cw_report_in *in, const struct cw_qverdict *v)
{
	if (v->stalled && v->verdict != CW_STALLED) {	/* a worse verdict won: still say it */
		char words[512];
		cw_stall_sentence(&v->stall, words, sizeof(words));
		fprintf(out, "  stalled too: %s\n", words);
	}
	if (any_facts(v, in->tl))
		for (int k = 0; k < v->ncons; k++)
			consumer_line(out, in, &v->cons[k]);
	for (int k = 0; k < v->ndups; k++) {
		fputs("  duplicate worker name ", out);
		cw_text_safe(out, v->dups[k].worker);
		fputs(": pids", out);
		for (int j = 0; j < v->dups[k].npids; j++)
			fprintf(out, "%s %lld", j ? "," : "", (long long)v->dups[k].pids[j]);
		fputs(" alive at once (Celery's DuplicateNodenameWarning)\n", out);
	}
}
