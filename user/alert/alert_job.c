/* An incident copied into what its alert child receives (alert_job.h). */
#include "alert/alert_job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/timeutil.h"
#include "log/jsonw.h"

/* Over the cap, or no JSON at all: the plain fields, through the one escaper. The cause is
 * what makes an incident JSON big (stderr tails, argv), so it is the part left out. */
static int reduced_json(struct cw_alert_job *j, const struct cw_incident *inc, bool truncated)
{
	char ts[40];
	struct jw w;

	jw_init(&w);
	cw_format_ts(inc->ts, ts, sizeof(ts));
	jw_begin(&w);
	jw_str(&w, "kind", j->kind);
	jw_str(&w, "ts", ts);
	jw_str(&w, "queue", inc->queue);
	jw_str(&w, "worker", inc->worker);
	jw_str(&w, "verdict", inc->verdict);
	jw_str(&w, "prev_verdict", inc->prev_verdict);
	jw_strn(&w, "summary", inc->summary ? inc->summary : "", inc->summary ? strnlen(inc->summary, 4096) : 0);
	jw_null(&w, "cause");
	if (truncated)
		jw_bool(&w, "json_truncated", true);
	jw_end(&w);		/* ends with "\n" */
	if (w.oom) {
		jw_free(&w);
		return -ENOMEM;
	}
	j->payload = w.buf;	/* the buffer is ours now */
	j->len = w.len;
	j->truncated = truncated;
	return 0;
}

static int copy_json(struct cw_alert_job *j, const struct cw_incident *inc, size_t json_max)
{
	size_t n = inc->json ? strnlen(inc->json, json_max + 1) : json_max + 1;

	if (n > json_max)
		return reduced_json(j, inc, inc->json != NULL);
	j->payload = malloc(n + 1);
	if (!j->payload)
		return -ENOMEM;
	memcpy(j->payload, inc->json, n);
	j->payload[n] = '\n';
	j->len = n + 1;
	return 0;
}

/* NAME=value, or nothing when value is absent or too long; -1 on out of memory. */
static int add_env(struct cw_alert_job *j, size_t *n, const char *name, const char *value)
{
	if (!value || strnlen(value, CW_ALERT_ENV_MAX + 1) > CW_ALERT_ENV_MAX)
		return 0;
	if (asprintf(&j->env[*n], "%s=%s", name, value) < 0) {
		j->env[*n] = NULL;
		return -1;
	}
	(*n)++;
	return 0;
}

int cw_alert_job_make(struct cw_alert_job *j, const struct cw_incident *inc, size_t json_max)
{
	size_t n = 0;

	memset(j, 0, sizeof(*j));
	j->kind = cw_incident_kind_name(inc->kind);
	if (copy_json(j, inc, json_max) || add_env(j, &n, "PATH", &CW_ALERT_PATH[5]) ||
	    add_env(j, &n, "CELERYWATCH_INCIDENT_KIND", j->kind) ||
	    add_env(j, &n, "CELERYWATCH_QUEUE", inc->queue) || add_env(j, &n, "CELERYWATCH_WORKER", inc->worker)) {
		cw_alert_job_free(j);
		return -ENOMEM;
	}
	return 0;
}

void cw_alert_job_free(struct cw_alert_job *j)
{
	free(j->payload);
	for (size_t i = 0; i < sizeof(j->env) / sizeof(j->env[0]); i++)
		free(j->env[i]);
	memset(j, 0, sizeof(*j));
}
