/* The recorder's proc_sample round: after each broker sample, read /proc facts of the
 * tracked processes (capture/procstat, capture/brokerconn), join them with the sample's
 * CLIENT LIST, and format the line (log/procfmt). A bounded number of small reads. */
#ifndef CW_CLI_PROCFACTS_H
#define CW_CLI_PROCFACTS_H

#include "broker/broker.h"
#include "identity/proctable.h"
#include "log/jsonw.h"

/* The proc_sample line for this sample into w (reset first). root: "/proc". ep: the
 * sampler's endpoint, NULL when unknown. */
void cw_procfacts_round(struct jw *w, const char *root, struct cw_ptable *t,
			const struct cw_sample *smp, const struct cw_broker_endpoint *ep);

#endif
