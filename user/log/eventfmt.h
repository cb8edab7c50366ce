/* Kernel records and /proc scan results -> event log lines (docs/events.md), with each
 * process's Celery identity kept in a cw_ptable. Boot-clock to wall-clock happens here only. */
#ifndef CW_EVENTFMT_H
#define CW_EVENTFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "log/jsonw.h"
#include "identity/process.h"
#include "identity/proctable.h"

struct cw_fmt {
	char host[256];
	bool all;
	int64_t boot_to_real_ns;	/* CLOCK_REALTIME - CLOCK_BOOTTIME */
	uint64_t ns_per_tick;		/* for pstart: 1e9 / CLK_TCK */
	uint64_t malformed;		/* kernel records that failed validation */
	/* --tail-window: was the write hook attached at a death (boot-clock ns)? Else off_ns,
	 * how long it had been off. NULL (always attached, or no tails): no such fields. */
	bool (*tail_watched)(void *ctx, uint64_t boot_ns, bool *watched, uint64_t *off_ns);
	void *tail_ctx;
};

#define CW_FMT_MAX_NEWQ 64

void cw_fmt_init(struct cw_fmt *f, const char *host, bool all);
/* Re-measure the boot/wall clock offset (NTP steps the wall clock, not the boot clock). */
void cw_fmt_sync_clock(struct cw_fmt *f);
uint64_t cw_fmt_pstart(const struct cw_fmt *f, uint64_t start_ns);
uint64_t cw_fmt_realtime(const struct cw_fmt *f, uint64_t boot_ns);

/* Format one ring-buffer record into w (left empty when there is nothing to write).
 * Queues of a worker seen for the first time go to newq (pointers valid until the next call).
 * Returns 0, or -EINVAL for a record that fails validation (counted in f->malformed). */
int cw_fmt_record(struct cw_fmt *f, struct cw_ptable *t, const void *data, size_t size, struct jw *w,
		  const char **newq, size_t *nnew);
/* untracked: the kernel could not follow it (tracked map full): said on the line */
void cw_fmt_scan(struct cw_fmt *f, struct cw_ptable *t, const struct cw_proc *p, bool untracked, struct jw *w,
		 const char **newq, size_t *nnew);
void cw_fmt_lost(struct cw_fmt *f, struct jw *w, const uint64_t *by_type, const uint64_t *prev, uint64_t total);
/* The name of a kernel loss slot as `lost` lines give it ("exec", "tracked_map_full"), or NULL. */
const char *cw_lost_name(int slot);

/* Helpers exposed for tests */
const char *cw_signame(int sig, char *buf, size_t len);	/* "SIGKILL", "SIGRTMIN+3" */
/* "kernel", "fault", "timer", "sigchld", "sigio", "mqueue", "asyncio" or "other" */
const char *cw_kernel_signal_reason(int sig, uint32_t code, int32_t si_code);
void cw_cgroup_path(const struct cw_cgroup *cg, char *out, size_t len);

#endif
