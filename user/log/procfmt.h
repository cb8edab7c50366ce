/* The `proc_sample` line of docs/events.md: what the recorder read from /proc about each
 * tracked process at a broker sample (cli/procfacts.c gathers it; this only formats). */
#ifndef CW_PROCFMT_H
#define CW_PROCFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/jsonw.h"

#define CW_PROC_SAMPLE_MAX 512	/* processes per line; the rest are "procs_omitted" */

struct cw_pf_conn {
	char laddr[64];		/* the process's end of the connection, ip:port */
	int64_t idle_s;		/* CLIENT LIST idle=, -1 unknown */
	char cmd[32];		/* CLIENT LIST cmd= */
};

struct cw_pf_proc {
	uint32_t pid;
	uint64_t pstart;
	char state;
	uint64_t cpu_ticks, ctxsw;
	const char *wchan, *syscall;	/* NULL or "": absent */
	int broker_conns;		/* < 0: null (not known) */
	const struct cw_pf_conn *conns;
	size_t nconns;
};

struct cw_pf_broker {
	const char *addr;		/* NULL: null */
	bool conn_known, client_list;
};

/* The line, "\n"-terminated, into w (reset first); n > CW_PROC_SAMPLE_MAX are cut there
 * and counted in procs_omitted with omitted. pid is the recorder's. */
void cw_proc_sample_json(struct jw *w, uint64_t realtime_ns, uint32_t pid,
			 const struct cw_pf_broker *b, const struct cw_pf_proc *procs, size_t n,
			 size_t omitted);

#endif
