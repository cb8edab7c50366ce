/* What an alert child gets from an incident, copied (the incident lives only during the
 * call that hands it over): the JSON line for its stdin and its whole environment. */
#ifndef CW_ALERT_JOB_H
#define CW_ALERT_JOB_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/incident.h"

/* An environment value longer than this (a hostile queue name) is left out. */
#define CW_ALERT_ENV_MAX 4096
#define CW_ALERT_PATH "PATH=/usr/sbin:/usr/bin:/sbin:/bin"

struct cw_alert_job {
	char *payload;		/* one JSON object and "\n" */
	size_t len;
	bool truncated;		/* the reduced object: inc->json was over the cap */
	const char *kind;	/* static: cw_incident_kind_name */
	char *env[5];		/* PATH, CELERYWATCH_INCIDENT_KIND, _QUEUE, _WORKER; NULL-ended */
};

/* json_max: the largest inc->json sent as is. Returns 0, or -ENOMEM (j is then empty). */
int cw_alert_job_make(struct cw_alert_job *j, const struct cw_incident *inc, size_t json_max);
void cw_alert_job_free(struct cw_alert_job *j);

#endif
