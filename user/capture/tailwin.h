/* --tail-window: the stderr tail's write hook attached only while a window is open (a
 * tracked process's exec or a signal to one opened it, less than the window ago), detached
 * otherwise, so the host's writes run no BPF program outside windows. The record loop opens
 * windows from its records and calls the tick; exit lines ask whether the hook was attached
 * at a death. Times are boot-clock ns, the kernel's bpf_ktime_get_boot_ns(). */
#ifndef CW_TAILWIN_H
#define CW_TAILWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cw_capture;
struct cw_tailwin;

struct cw_tailwin_stats {
	uint64_t windows;	/* windows opened while none was (attaches asked for) */
	uint64_t attach_failures;
	double attached_s;	/* time the hook was attached, the current stretch included */
	double attach_ms_max, detach_ms_max;	/* the slowest attach_link / bpf_link__destroy */
	double open_lag_ms_max;	/* the longest from a record's kernel time to the hook on:
				 * what its process wrote in between was not kept */
};

/* Before the capability drop: opens what a later attach needs without privileges (the
 * sys_enter_write perf event, kept disabled) and attaches and detaches once to find out
 * whether it can. Returns 0, or -errno with one sentence in err (then no tails). */
int cw_tailwin_new(struct cw_tailwin **out, struct cw_capture *cap, double window_s, char *err, size_t errlen);
/* A window opens (or is pushed back) at now for an event of kernel time event_ns (0: none);
 * the hook is attached at once if it was not. */
void cw_tailwin_open(struct cw_tailwin *w, uint64_t now_ns, uint64_t event_ns);
/* A kernel record: the exec of a tracked process, or a signal to a process the kernel
 * reports on, opens a window (not SIGCHLD: a child's death is the child's own event, and a
 * prefork worker gets one for every recycled pool child). */
void cw_tailwin_record(struct cw_tailwin *w, const void *data, size_t size, uint64_t now_ns);
/* The loop's tick: detaches the hook once the last window has closed. */
void cw_tailwin_tick(struct cw_tailwin *w, uint64_t now_ns);
/* Was the hook attached at t? Else *off_ns: how long it had been off then. False when t is
 * older than what is remembered. */
bool cw_tailwin_watched_at(const struct cw_tailwin *w, uint64_t t, bool *watched, uint64_t *off_ns);
void cw_tailwin_stats(const struct cw_tailwin *w, uint64_t now_ns, struct cw_tailwin_stats *out);
void cw_tailwin_free(struct cw_tailwin *w);

#endif
