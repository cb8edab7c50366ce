/* tracer_start and tracer_stop lines (see tracerfmt.h). */
#include "log/eventlog.h"
#include "log/tracerfmt.h"

void cw_fmt_tracer_start(struct jw *w, const struct cw_tracer_start *s)
{
	cw_line_begin(w, "tracer_start", s->realtime_ns, s->pid);
	jw_str(w, "version", s->version);
	jw_str(w, "kernel", s->kernel);
	/* pids and start times restart at every boot: explain keys processes by it */
	if (s->boot_id)
		jw_str(w, "boot_id", s->boot_id);
	else
		jw_null(w, "boot_id");
	jw_int(w, "schema", CW_SCHEMA_VERSION);
	jw_int(w, "clock_ticks", s->clock_ticks);
	jw_obj_begin(w, "options");
	jw_bool(w, "all", s->all);
	jw_bool(w, "stderr_tail", s->stderr_tail);
	if (!s->stderr_tail)
		jw_null(w, "tail_window");
	else if (s->tail_window > 0)
		jw_double(w, "tail_window", s->tail_window, 3);
	else
		jw_str(w, "tail_window", "always");
	jw_bool(w, "exec_fail", s->exec_fail);
	jw_str(w, "output", s->output);
	if (s->redis) {
		jw_str(w, "redis", s->redis);
		jw_double(w, "interval", s->interval, 3);
	} else {
		jw_null(w, "redis");
		jw_null(w, "interval");
	}
	jw_arr_begin(w, "queues");
	for (size_t i = 0; i < s->nqueues; i++)
		jw_str(w, NULL, s->queues[i]);
	jw_arr_end(w);
	jw_bool(w, "memcg_v1", s->memcg_v1);
	jw_uint(w, "max_lines_per_minute", s->max_lines_per_minute);
	if (s->max_tracked)
		jw_uint(w, "max_tracked", s->max_tracked);
	jw_obj_begin(w, "flood_budget");
	jw_uint(w, "rate", s->budget_rate);
	jw_uint(w, "burst", s->budget_burst);
	jw_obj_end(w);
	if (s->rotate_size) {
		jw_obj_begin(w, "rotate");
		jw_uint(w, "size", s->rotate_size);
		jw_int(w, "keep", s->rotate_keep);
		jw_bool(w, "compress", s->rotate_compress);
		jw_obj_end(w);
	} else {
		jw_null(w, "rotate");
	}
	jw_obj_end(w);
	jw_arr_begin(w, "disabled");
	for (size_t i = 0; s->disabled && s->disabled[i]; i++)
		jw_str(w, NULL, s->disabled[i]);
	jw_arr_end(w);
	if (s->caps) {
		jw_arr_begin(w, "caps");
		for (size_t i = 0; s->caps[i]; i++)
			jw_str(w, NULL, s->caps[i]);
		jw_arr_end(w);
	}
	jw_end(w);
}

void cw_fmt_tracer_stop(struct jw *w, const struct cw_tracer_stop *s)
{
	cw_line_begin(w, "tracer_stop", s->realtime_ns, s->pid);
	jw_str(w, "reason", s->reason);
	jw_uint(w, "events", s->events);
	jw_uint(w, "lost", s->lost);
	jw_uint(w, "write_errors", s->write_errors);
	jw_uint(w, "malformed", s->malformed);
	jw_uint(w, "dropped_lines", s->dropped_lines);
	jw_uint(w, "log_cap_suppressed", s->log_cap_suppressed);
	jw_uint(w, "suppressed", s->suppressed);
	if (s->sampled) {
		jw_uint(w, "samples", s->samples);
		jw_uint(w, "samples_dropped", s->samples_dropped);
		jw_uint(w, "samples_failed", s->samples_failed);
	}
	if (s->alert_exec) {
		jw_uint(w, "alerts_sent", s->alerts_sent);
		jw_uint(w, "alerts_failed", s->alerts_failed);
		jw_uint(w, "alerts_timed_out", s->alerts_timed_out);
		jw_uint(w, "alerts_dropped", s->alerts_dropped);
	}
	if (s->tail_window) {
		jw_uint(w, "tail_windows", s->tail_windows);
		jw_double(w, "tail_attached_s", s->tail_attached_s, 3);
		jw_double(w, "tail_attach_ms_max", s->tail_attach_ms_max, 3);
		jw_double(w, "tail_detach_ms_max", s->tail_detach_ms_max, 3);
		jw_double(w, "tail_open_lag_ms_max", s->tail_open_lag_ms_max, 3);
		jw_uint(w, "tail_attach_failures", s->tail_attach_failures);
	}
	if (s->alert_journal) {
		jw_uint(w, "journal_sent", s->journal_sent);
		jw_uint(w, "journal_failed", s->journal_failed);
		jw_uint(w, "journal_dropped", s->journal_dropped);
	}
	jw_end(w);
}
