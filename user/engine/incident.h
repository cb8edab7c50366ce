#ifndef CW_INCIDENT_H
#define CW_INCIDENT_H
#include <stdint.h>
enum cw_incident_kind {
	CW_INC_DEATH,		/* a worker process died (an incident-worthy death, as explain says) */
	CW_INC_VERDICT,		/* a queue's verdict changed (ok -> no_consumer, -> stalled, ...) */
	CW_INC_LOST,		/* the kernel lost events */
	CW_INC_BROKER_DOWN,	/* the broker stopped answering */
	CW_INC_BROKER_UP,
};
struct cw_incident {
	enum cw_incident_kind kind;
	int64_t ts;			/* microseconds since the epoch */
	const char *queue;		/* NULL when not about a queue */
	const char *worker;		/* NULL when unknown / not about a worker */
	const char *verdict, *prev_verdict;	/* CW_INC_VERDICT: "no_consumer", "ok", ... */
	const char *summary;		/* one sentence for a person, UTF-8, no newline */
	const char *json;		/* one JSON object (no newline): {"kind","ts","queue","worker",
					 * "verdict","prev_verdict","summary","cause": CAUSE|null} */
	int priority;			/* syslog priority: 3 (err) or 4 (warning) */
};
const char *cw_incident_kind_name(enum cw_incident_kind k);	/* "death", "verdict", "lost", "broker_down", "broker_up" */
#endif
