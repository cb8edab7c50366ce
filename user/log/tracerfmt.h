/* The recorder's own lines in the event log: tracer_start (what was traced, how) and
 * tracer_stop (why it stopped, what was counted). docs/events.md has the fields. */
#ifndef CW_TRACERFMT_H
#define CW_TRACERFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/jsonw.h"

struct cw_tracer_start {
	uint64_t realtime_ns;
	uint32_t pid;
	const char *version, *kernel;
	const char *boot_id;		/* /proc/sys/kernel/random/boot_id; NULL: unknown */
	int64_t clock_ticks;
	/* the options */
	bool all, stderr_tail, exec_fail;
	double tail_window;		/* --tail-window seconds; 0: always (with stderr_tail) */
	const char *output;		/* "-" for stdout */
	const char *redis;		/* redacted URL; NULL: no broker (interval is then null) */
	double interval;
	const char *const *queues;
	size_t nqueues;
	bool memcg_v1;
	uint64_t max_lines_per_minute;	/* the log cap; 0: none */
	const char *const *disabled;	/* optional hooks that could not load, NULL-terminated */
	uint32_t max_tracked;
	uint32_t budget_rate, budget_burst;	/* --flood-budget; rate 0: off */
	uint64_t rotate_size;		/* --rotate-size; 0: none (then "rotate" is null) */
	int rotate_keep;
	bool rotate_compress;
	const char *const *caps;	/* capabilities kept after attach, NULL-terminated;
					 * NULL: none were dropped (not written) */
};

struct cw_tracer_stop {
	uint64_t realtime_ns;
	uint32_t pid;
	const char *reason;		/* "SIGINT", "SIGTERM" */
	uint64_t events, lost, write_errors, malformed;
	uint64_t dropped_lines;		/* the writer's queue was full */
	uint64_t log_cap_suppressed;	/* over --max-lines-per-minute */
	uint64_t suppressed;		/* records over the kernel's flood budgets */
	bool sampled;			/* a broker was sampled: the samples fields are written */
	uint64_t samples, samples_dropped, samples_failed;
	bool alert_exec;		/* --alert-exec: the alerts_* fields are written */
	uint64_t alerts_sent, alerts_failed, alerts_timed_out, alerts_dropped;
	bool tail_window;		/* --tail-window: the tail_* fields are written */
	uint64_t tail_windows, tail_attach_failures;
	double tail_attached_s, tail_attach_ms_max, tail_detach_ms_max, tail_open_lag_ms_max;
	bool alert_journal;		/* --alert-journal: the journal_* fields are written */
	uint64_t journal_sent, journal_failed, journal_dropped;
};

/* One "\n"-terminated line into w (appended: reset w first). */
void cw_fmt_tracer_start(struct jw *w, const struct cw_tracer_start *s);
void cw_fmt_tracer_stop(struct jw *w, const struct cw_tracer_stop *s);

#endif
