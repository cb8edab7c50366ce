/* Kernel capture: open, configure, load and attach the BPF programs, then hand ring-buffer
 * records to a callback. Everything libbpf-specific lives behind this header. */
#ifndef CW_CAPTURE_H
#define CW_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events.h"

struct cw_capture;

/* The stderr tail's write hook: sys_enter as a BTF-typed raw tracepoint (direct register
 * reads), as a plain raw tracepoint, or the sys_enter_write perf tracepoint. A form the
 * kernel refuses falls back to the next. */
enum cw_tail_hook { CW_TAIL_TP, CW_TAIL_BTF, CW_TAIL_RAW };

struct cw_capture_opts {
	bool all;		/* every process, not only Celery ones */
	bool verbose;		/* let libbpf talk */
	bool no_tail;		/* do not attach the write hook (no stderr tails, no per-write cost) */
	enum cw_tail_hook tail_hook;	/* where the write hook sits (below) */
	bool tail_windowed;	/* --tail-window=SECONDS: the write hook is loaded, not attached;
				 * user/capture/tailwin.c attaches it in windows */
	bool no_exec_fail;	/* no execve hooks: failed execs are not recorded */
	uint32_t ringbuf_kb;	/* ring buffer size, a power of two >= the page size; 0: 4096 */
	uint32_t max_tracked;	/* entries of the tracked map; 0: 32768 */
	const char *btf_path;	/* kernel BTF for CO-RE instead of /sys/kernel/btf/vmlinux */
	bool budget_set;	/* budget_rate/burst given (--flood-budget); else the defaults */
	uint32_t budget_rate, budget_burst;	/* rate 0: no flood budgets */
	int (*on_record)(void *ctx, const void *data, size_t size);
	void *ctx;
};

/* Returns 0, or -errno with one sentence in err (not root, BPF refused, attach failed). */
int cw_capture_open(struct cw_capture **out, const struct cw_capture_opts *o, char *err, size_t errlen);
int cw_capture_fd(struct cw_capture *c);		/* poll this; then cw_capture_consume */
int cw_capture_consume(struct cw_capture *c);		/* records handled, or -errno */
/* Write the deaths still held for ordering (at the stop: nothing more will be read). */
void cw_capture_flush(struct cw_capture *c);
/* The map changes below bump the kernel's track generation (the write hook's cache). */
int cw_capture_track(struct cw_capture *c, uint32_t pid, uint32_t flags);
/* The start-up scan's pair: track pid with CW_TRACK_SCAN unless the kernel already does
 * (-EEXIST), and undo that when the pid turned out to be gone or reused, unless the kernel
 * has re-tracked it since (its value is no longer CW_TRACK_SCAN) or its exit hook took the
 * entry. Untrack returns true when it removed the entry. */
int cw_capture_track_scanned(struct cw_capture *c, uint32_t pid);
bool cw_capture_untrack_scanned(struct cw_capture *c, uint32_t pid);
/* Lost records by type since load (sums of the per-CPU counters). */
int cw_capture_lost(struct cw_capture *c, uint64_t by_type[CW_LOST_SLOTS]);

/* Records over the kernel's flood budgets, cumulative since load */
int cw_capture_suppressed(struct cw_capture *c, struct cw_supp_counts *out);
/* Optional parts that could not be loaded or attached ("oom", "rename", "stderr_tail"),
 * NULL-terminated; the recorder runs without them. */
const char *const *cw_capture_disabled(const struct cw_capture *c);
bool cw_capture_memcg_v1(const struct cw_capture *c);
/* The write hook's program in the form in use (NULL: no tail, or it could not load) and
 * whether it is the sys_enter_write perf tracepoint (tailwin.c attaches it through a perf
 * event opened once, so no capability is needed to attach it again later). */
struct bpf_program *cw_capture_tail_prog(struct cw_capture *c, bool *perf_tp);
/* The write hook cannot be attached after all: "stderr_tail" joins cw_capture_disabled(). */
void cw_capture_tail_disabled(struct cw_capture *c);
void cw_capture_close(struct cw_capture *c);

#endif
