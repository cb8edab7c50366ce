/* The alerts front (alerts.h): both senders behind one object. */
#include "alert/alerts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct cw_alerts {
	struct cw_alert_exec *exec;
	struct cw_alert_journal *journal;
	bool stopped;
};

int cw_alerts_new(struct cw_alerts **out, const struct cw_alerts_opts *o)
{
	struct cw_alerts *a;
	int e = 0;

	*out = NULL;
	if (!o->exec_cmd && !o->journal)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	if (o->exec_cmd) {
		struct cw_alert_exec_opts xo = {
			.cmd = o->exec_cmd, .timeout_ns = (uint64_t)(o->timeout_s * 1e9),
			.max_running = o->max_running, .queue_max = o->queue_max,
			.stderr_to_ours = o->exec_stderr,
		};
		e = cw_alert_exec_new(&a->exec, &xo);
	}
	if (!e && o->journal)
		e = cw_alert_journal_new(&a->journal);
	if (e) {
		a->stopped = true;
		cw_alerts_free(a);
		return e;
	}
	*out = a;
	return 0;
}

void cw_alerts_incident(struct cw_alerts *a, const struct cw_incident *inc)
{
	if (!a || a->stopped)
		return;
	if (a->exec)
		cw_alert_exec_incident(a->exec, inc);
	if (a->journal)
		cw_alert_journal_incident(a->journal, inc);
}

int cw_alerts_fd(const struct cw_alerts *a)
{
	return a && a->exec ? cw_alert_exec_fd(a->exec) : -1;
}

void cw_alerts_service(struct cw_alerts *a, uint64_t now_ns)
{
	if (a && a->exec && !a->stopped)
		cw_alert_exec_service(a->exec, now_ns);
}

/* Both wait on the same deadline: the journal thread drains while commands finish. */
void cw_alerts_stop(struct cw_alerts *a, uint64_t deadline_ns)
{
	if (!a || a->stopped)
		return;
	a->stopped = true;
	if (a->exec)
		cw_alert_exec_stop(a->exec, deadline_ns);
	if (a->journal)
		cw_alert_journal_stop(a->journal, deadline_ns);
}

void cw_alerts_stats(struct cw_alerts *a, struct cw_alerts_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (!a)
		return;
	s->exec = a->exec != NULL;
	s->journal = a->journal != NULL;
	if (a->exec)
		cw_alert_exec_stats(a->exec, &s->x);
	if (a->journal)
		cw_alert_journal_stats(a->journal, &s->j);
}

void cw_alerts_free(struct cw_alerts *a)
{
	if (!a)
		return;
	cw_alerts_stop(a, 0);
	cw_alert_exec_free(a->exec);
	cw_alert_journal_free(a->journal);	/* keeps it if its thread is stuck in a send */
	free(a);
}

bool cw_alerts_stderr_ok(const char *output)
{
	struct stat err, out;
	bool to_stdout = !output || !strcmp(output, "-");

	if (fstat(2, &err))
		return false;	/* no stderr: /dev/null for the commands too */
	if (to_stdout ? fstat(1, &out) : stat(output, &out))
		return true;
	return !(err.st_dev == out.st_dev && err.st_ino == out.st_ino);
}
