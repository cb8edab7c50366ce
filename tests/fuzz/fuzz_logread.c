/* libFuzzer target: event log bytes -> the reader (user/log/logread.c) -> explain's whole
 * pipeline (timeline, causes, the text, JSON and SVG reports). Asserts the reader's contract
 * on every event it hands out: the type is known, the line numbers count up, strings are
 * NUL-terminated, arrays stay in bounds, absent numbers are CW_NONE and present ones lie
 * within +-2^53; and that nothing in the pipeline crashes, leaks or reads out of bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/causes.h"
#include "explain/report.h"
#include "explain/report_chart.h"
#include "explain/timeline.h"
#include "log/logread.h"

#include "fuzz.h"

#define LIMIT 9007199254740992LL	/* 2^53 */

static FILE *devnull;

struct ctx {
	struct cw_timeline *tl;
	long last_line;
	size_t touched;
};

static void touch(struct ctx *c, const char *s)
{
	if (s)
		c->touched += strlen(s);	/* ASan: every string is readable up to a NUL */
}

static void check_num(int64_t v)
{
	if (v != CW_NONE && (v < -LIMIT || v > LIMIT))
		abort();
}

static int on_event(const struct cw_event *ev, void *ctx)
{
	struct ctx *c = ctx;

	if (ev->type <= CW_LOG_NONE || ev->type > CW_LOG_PROC_SAMPLE)
		abort();
	if (ev->line <= c->last_line || !ev->host)
		abort();
	c->last_line = ev->line;
	if (ev->argc < 0 || ev->argc > CW_LOG_MAX_ARGS || ev->nqueues < 0 ||
	    ev->nqueues > CW_LOG_MAX_QUEUES || ev->nsamples < 0 || ev->nsamples > CW_LOG_MAX_SAMPLES)
		abort();
	if (ev->nqueues && !ev->has_queues)
		abort();
	const int64_t nums[] = { ev->pid, ev->pstart, ev->ppid, ev->parent_pstart, ev->uid,
				 ev->concurrency, ev->exit_code, ev->maxrss_kb, ev->signo,
				 ev->total_vm_kb, ev->anon_rss_kb, ev->file_rss_kb,
				 ev->shmem_rss_kb, ev->oom_score_adj, ev->err, ev->lost_count,
				 ev->sender.pid, ev->sender.uid, ev->sender.pstart };
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		check_num(nums[i]);
	/* the process lines the timeline keys by (host, pid, pstart) always have both */
	if ((ev->type == CW_LOG_EXEC || ev->type == CW_LOG_FORK || ev->type == CW_LOG_EXIT ||
	     ev->type == CW_LOG_SIGNAL || ev->type == CW_LOG_SCAN || ev->type == CW_LOG_RENAME) &&
	    (ev->pid == CW_NONE || ev->pstart == CW_NONE))
		abort();
	const char *strs[] = { ev->host, ev->comm, ev->cgroup, ev->worker, ev->pool, ev->command,
			       ev->signame, ev->stderr_tail, ev->code, ev->result, ev->errname,
			       ev->sender.comm, ev->sender.cmdline };
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		touch(c, strs[i]);
	for (int i = 0; i < ev->argc; i++)
		touch(c, ev->argv[i]);
	for (int i = 0; i < ev->nqueues; i++)
		touch(c, ev->queues[i]);
	for (int i = 0; i < ev->nsamples; i++) {
		touch(c, ev->samples[i].queue);
		check_num(ev->samples[i].depth);
		check_num(ev->samples[i].arrived);
		check_num(ev->samples[i].drained);
	}
	/* v2: proc_sample entries and exe */
	if (ev->nprocs < 0 || ev->nprocs > CW_LOG_MAX_PROCS)
		abort();
	touch(c, ev->exe);
	for (int i = 0; i < ev->nprocs; i++) {
		const struct cw_ev_proc *p = &ev->procs[i];
		if (p->pid == CW_NONE || (!ev->conn_known && p->broker_conns != CW_NONE))
			abort();
		const int64_t pn[] = { p->pid, p->pstart, p->cpu_ticks, p->ctxsw, p->broker_conns,
				       p->idle_s };
		for (size_t k = 0; k < sizeof(pn) / sizeof(pn[0]); k++)
			check_num(pn[k]);
		touch(c, p->wchan);
		touch(c, p->syscall);
		touch(c, p->conn_cmd);
	}
	return cw_timeline_add(ev, c->tl);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct cw_timeline tl;
	struct cw_logread_stats st = { 0 };
	struct cw_analysis an;
	struct ctx c = { .tl = &tl };

	if (!devnull && !(devnull = fopen("/dev/null", "w")))
		abort();
	if (size == 0 || size > 1 << 16)
		return -1;
	FILE *in = fmemopen((void *)data, size, "r");
	if (!in)
		return 0;
	if (cw_timeline_init(&tl))
		abort();
	tl.fold = size & 1;	/* explain's folding of recycled pool children, on half the inputs */
	int r = cw_logread_stream(in, "fuzz", on_event, &c, &st, devnull);
	fclose(in);
	if (r || st.events + st.skipped > st.lines)
		abort();
	cw_timeline_finish(&tl);
	if (cw_analyze(&tl, CW_NONE, CW_NONE, NULL, &an) == 0) {
		struct cw_report_in rin = { .tl = &tl, .a = &an, .skipped = st.skipped };
		cw_report_text(devnull, &rin);
		cw_report_json(devnull, &rin);
		cw_html_charts(devnull, &rin);
		cw_analysis_free(&an);
	}
	cw_timeline_free(&tl);
	return 0;
}
