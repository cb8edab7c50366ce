/* Names of kinds and verdicts, who a death was, spans of time, and freeing an analysis. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/analysis.h"

static const char *const kind_names[CW_K__COUNT] = {
	[CW_K_OOM_KILL] = "oom_kill", [CW_K_SIGNAL] = "signal", [CW_K_CRASH] = "crash",
	[CW_K_EXIT_ERROR] = "exit_error", [CW_K_EXIT_CLEAN] = "exit_clean",
	[CW_K_RECYCLED] = "recycled", [CW_K_TIME_LIMIT] = "time_limit",
	[CW_K_PARENT_DIED] = "parent_died", [CW_K_EXEC_FAILED] = "exec_failed",
	[CW_K_NEVER_STARTED] = "never_started", [CW_K_UNKNOWN] = "unknown",
};

const char *cw_kind_name(enum cw_kind k)
{
	return k < CW_K__COUNT ? kind_names[k] : "unknown";
}

const char *cw_verdict_name(enum cw_verdict v)
{
	switch (v) {
	case CW_OK: return "ok";
	case CW_DEGRADED: return "degraded";
	case CW_SATURATED: return "saturated";
	case CW_STALLED: return "stalled";
	case CW_FLAPPING: return "flapping";
	default: return "no_consumer";
	}
}

void cw_fmt_span(int64_t us, char *out, size_t len)
{
	int64_t s = us < 0 ? 0 : (us + 500000) / 1000000;	/* 4.999 s is 5 s */

	if (s == 0)
		snprintf(out, len, "<1 s");
	else if (s >= 86400)
		snprintf(out, len, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
	else if (s >= 3600)
		snprintf(out, len, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else if (s >= 60)
		snprintf(out, len, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, len, "%lld s", (long long)s);
}

const struct cw_gap *cw_last_closed_gap(const struct cw_qverdict *v)
{
	for (int i = v->ngaps - 1; i >= 0; i--)
		if (v->gaps[i].to != CW_NONE)
			return &v->gaps[i];
	return NULL;
}

void cw_death_who(const struct cw_death *d, char *out, size_t len)
{
	const char *w = d->worker;

	if (d->pid == CW_NONE) {
		snprintf(out, len, "%s", w ? w : d->queue ? d->queue : "?");
		return;
	}
	switch (d->role) {
	case CW_RL_POOL:
		if (w)
			snprintf(out, len, "pool child pid %lld of %s", (long long)d->pid, w);
		else
			snprintf(out, len, "pool child pid %lld", (long long)d->pid);
		return;
	case CW_RL_BEAT:
		snprintf(out, len, "celery beat (pid %lld)", (long long)d->pid);
		return;
	default:
		if (w)
			snprintf(out, len, "%s (pid %lld)", w, (long long)d->pid);
		else
			snprintf(out, len, "%s (pid %lld)", d->comm ? d->comm : "process",
				 (long long)d->pid);
	}
}

void cw_analysis_free(struct cw_analysis *a)
{
	for (int i = 0; i < a->ndeaths; i++)
		free(a->deaths[i].summary);
	free(a->deaths);
	for (int i = 0; i < a->nqueues; i++) {
		free(a->queues[i].gaps);
		free(a->queues[i].cons);
		free(a->queues[i].stalls);
		free(a->queues[i].flap.summary);
	}
	free(a->queues);
	memset(a, 0, sizeof(*a));
}
