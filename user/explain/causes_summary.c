/* One sentence per death, for people: who ended, how, and who did it (the kinds are decided
 * in causes.c; this only words them). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explain/causes_summary.h"


static void fmt_kb(int64_t kb, char *out, size_t len)
{
	if (kb >= 1024 * 1024)
		snprintf(out, len, "%.1f GiB", kb / 1048576.0);
	else if (kb >= 1024)
		snprintf(out, len, "%.0f MiB", kb / 1024.0);
	else
		snprintf(out, len, "%lld KiB", (long long)kb);
}

static void fmt_sender(const struct cw_death *d, char *out, size_t len)
{
	const struct cw_sender *s = &d->sender;
	char uid[32] = "";

	if (!d->has_sender) {
		snprintf(out, len, "an unrecorded sender");
		return;
	}
	if (s->kernel && s->pid == CW_NONE) {
		snprintf(out, len, "no process");
		return;
	}
	if (s->uid != CW_NONE)
		snprintf(uid, sizeof(uid), ", uid %lld", (long long)s->uid);
	if (s->cmdline && *s->cmdline)
		snprintf(out, len, "pid %lld (%s%s: %.200s)", (long long)s->pid,
			 s->comm ? s->comm : "?", uid, s->cmdline);
	else
		snprintf(out, len, "pid %lld (%s%s)", (long long)s->pid, s->comm ? s->comm : "?",
			 uid);
}

void cw_tail_last_line(const char *s, char *out, size_t len)
{
	const char *end = s + strlen(s);

	while (end > s && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start > s && start[-1] != '\n')
		start--;
	size_t n = (size_t)(end - start);
	if (n > 200)
		n = 200;
	snprintf(out, len, "%.*s", (int)n, start);
}

/* a pool child ended by its own MainProcess without the time limit's SIGKILL */
#define FROM_MAIN_WHY "a revoke with terminate=True, a pool shrink (autoscale) or a pool restart"

/* snprintf that may cut a sentence short, on purpose */
__attribute__((format(printf, 3, 4)))
static void say(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(out, len, fmt, ap);
	va_end(ap);
}

/* What every kind's sentence may need, worked out once. */
struct about {
	const struct cw_timeline *tl;
	const struct cw_analysis *a;
	const struct cw_death *d;
	const char *sig;	/* the signal's name, or "a signal" */
	char who[256], snd[400];
};

typedef void (*say_kind_fn)(const struct about *s, char *out, size_t len);

static void say_oom_kill(const struct about *s, char *out, size_t len)
{
	const struct cw_death *d = s->d;
	/* kernels before 6.8 give no figures (the fields are null): say none */
	int64_t rss = 0;
	bool have_rss = false;
	const int64_t kb[] = {d->oom.anon_rss_kb, d->oom.file_rss_kb, d->oom.shmem_rss_kb};
	char buf[256] = "";

	for (size_t i = 0; i < sizeof(kb) / sizeof(kb[0]); i++)
		if (kb[i] != CW_NONE) {
			rss += kb[i];	/* each within +-2^53 (logread): no overflow */
			have_rss = true;
		}
	if (have_rss) {
		char v[64];
		fmt_kb(rss, v, sizeof(v));
		snprintf(buf, sizeof(buf), " at %s RSS", v);
	}
	char trigger[sizeof(s->snd) + 32] = "";
	if (d->has_sender)	/* short: the sentence is about the victim */
		snprintf(trigger, sizeof(trigger), " while pid %lld (%.80s) was allocating",
			 (long long)d->sender.pid,
			 d->sender.cmdline && *d->sender.cmdline ? d->sender.cmdline :
			 d->sender.comm ? d->sender.comm : "?");
	if (d->oom.cgroup && *d->oom.cgroup && strcmp(d->oom.cgroup, "/"))
		say(out, len, "%s was OOM-killed in cgroup %.200s%s%s", s->who,
			 d->oom.cgroup, buf, trigger);
	else
		say(out, len, "%s was OOM-killed%s%s", s->who, buf, trigger);
}

static void say_signal(const struct about *s, char *out, size_t len)
{
	const struct cw_death *d = s->d;
	const char *who = s->who, *sig = s->sig, *snd = s->snd;

	if (d->stopped)
		say(out, len, "%s was stopped by %s from %s: it still exists but "
			 "consumes nothing", who, sig, snd);
	else if (d->from_main && d->exit_code != CW_NONE)
		say(out, len, "%s shut down (exit %lld) after %s from its own MainProcess "
			 "(pid %lld): %s", who, (long long)d->exit_code, sig,
			 (long long)d->sender.pid, FROM_MAIN_WHY);
	else if (d->from_main)
		say(out, len, "%s was terminated with %s by its own MainProcess (pid %lld): "
			 "%s", who, sig, (long long)d->sender.pid, FROM_MAIN_WHY);
	else if (d->exit_code != CW_NONE)
		say(out, len, "%s shut down (exit %lld) after %s from %s", who,
			 (long long)d->exit_code, sig, snd);
	else if (d->has_sender && d->sender.kernel && d->sender.reason && strcmp(d->sender.reason, "kernel"))
		say(out, len, "%s was killed by %s sent by the kernel (%s, while %s ran)",
			 who, sig, d->sender.reason, snd);
	else if ((d->sig_code && !strcmp(d->sig_code, "kernel")) || (d->has_sender && d->sender.kernel))
		say(out, len, "%s was killed by %s sent by the kernel (while %s ran)",
			 who, sig, snd);
	else if (d->has_sender)
		say(out, len, "%s was killed by %s from %s", who, sig, snd);
	else
		say(out, len, "%s was killed by %s; the sender was not recorded", who,
			 sig);
}

static void say_crash(const struct about *s, char *out, size_t len)
{
	say(out, len, "%s crashed with %s%s", s->who, s->sig,
		 s->d->core_dumped ? " (core dumped)" : "");
}

static void say_exit_error(const struct about *s, char *out, size_t len)
{
	const struct cw_death *d = s->d;
	char buf[256];

	if (d->stderr_tail && *d->stderr_tail) {
		cw_tail_last_line(d->stderr_tail, buf, sizeof(buf));
		say(out, len, "%s exited with status %lld: %s", s->who,
			 (long long)d->exit_code, buf);
	} else {
		say(out, len, "%s exited with status %lld", s->who,
			 (long long)d->exit_code);
	}
}

static void say_exit_clean(const struct about *s, char *out, size_t len)
{
	say(out, len, "%s exited with status 0 and nobody sent it a signal", s->who);
}

static void say_recycled(const struct about *s, char *out, size_t len)
{
	say(out, len, "%s was recycled (exit 155: max tasks or memory per child "
		 "reached); not an incident", s->who);
}

static void say_time_limit(const struct about *s, char *out, size_t len)
{
	say(out, len, "%s was killed with %s by its MainProcess (pid %lld): a hard "
		 "time limit", s->who, s->sig, (long long)s->d->parent_pid);
}

static void say_parent_died(const struct about *s, char *out, size_t len)
{
	const struct cw_death *d = s->d;
	const char *pk = d->parent_death >= 0 ?
			 cw_kind_name(s->a->deaths[d->parent_death].kind) : "its exit";

	say(out, len, "%s ended because its MainProcess (pid %lld) died (%s)", s->who,
		 (long long)d->parent_pid, pk);
}

static void say_exec_failed(const struct about *s, char *out, size_t len)
{
	const struct cw_death *d = s->d;

	say(out, len, "%s%scould not start: exec of `%.200s` failed with %s",
		 d->worker ? d->worker : "", d->worker ? " " : "",
		 d->cmdline ? d->cmdline : "?", d->errname ? d->errname : "an error");
}

static void say_never_started(const struct about *s, char *out, size_t len)
{
	say(out, len, "queue %s had tasks (up to %lld) but no worker consuming it was "
		 "ever seen alive", s->d->queue, (long long)s->d->depth);
}

static void say_unknown(const struct about *s, char *out, size_t len)
{
	const struct cw_death *d = s->d;
	const struct cw_tproc *p = d->proc >= 0 ? &s->tl->procs[d->proc] : NULL;

	if (p && p->end == CW_END_REUSED)
		say(out, len, "%s ended without a recorded exit (its pid was reused)",
			 s->who);
	else if (p && p->end == CW_END_VANISHED)
		say(out, len, "%s died while the recorder was not running (missing from "
			 "its restart scan)", s->who);
	else if (d->signame)
		say(out, len, "%s was killed by %s, but events were lost around it: "
			 "the sender is unknown", s->who, s->sig);
	else
		say(out, len, "%s ended; no exit was recorded", s->who);
}

static const say_kind_fn say_kind[CW_K__COUNT] = {
	[CW_K_OOM_KILL] = say_oom_kill,
	[CW_K_SIGNAL] = say_signal,
	[CW_K_CRASH] = say_crash,
	[CW_K_EXIT_ERROR] = say_exit_error,
	[CW_K_EXIT_CLEAN] = say_exit_clean,
	[CW_K_RECYCLED] = say_recycled,
	[CW_K_TIME_LIMIT] = say_time_limit,
	[CW_K_PARENT_DIED] = say_parent_died,
	[CW_K_EXEC_FAILED] = say_exec_failed,
	[CW_K_NEVER_STARTED] = say_never_started,
	[CW_K_UNKNOWN] = say_unknown,
};

int cw_death_summarize(const struct cw_timeline *tl, const struct cw_analysis *a,
		       struct cw_death *d)
{
	struct about s = {.tl = tl, .a = a, .d = d,
			  .sig = d->signame ? d->signame : "a signal"};
	char sentence[640] = "";

	cw_death_who(d, s.who, sizeof(s.who));
	fmt_sender(d, s.snd, sizeof(s.snd));
	if (d->kind < CW_K__COUNT && say_kind[d->kind])
		say_kind[d->kind](&s, sentence, sizeof(sentence));
	if (d->lost_near > 0) {
		size_t l = strlen(sentence);
		say(sentence + l, sizeof(sentence) - l, " (%lld events were lost around then)",
		    (long long)d->lost_near);
	}
	free(d->summary);
	d->summary = strdup(sentence);
	return d->summary ? 0 : -ENOMEM;
}
