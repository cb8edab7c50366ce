/* Capabilities are per thread: a thread started before `record` drops its capabilities
 * (cli/privs.c) keeps the full set. The writer, the broker sampler and the DNS helper need
 * none, so each drops all of its own as its first act. */
#ifndef CW_THREADCAPS_H
#define CW_THREADCAPS_H

/* Empty the calling thread's effective, permitted and inheritable sets (best effort: a
 * thread of an unprivileged run holds nothing to drop). */
void cw_thread_drop_caps(void);

#endif
