/* celerywatch record: the loop. epoll over the ring buffer, a signalfd, a 1 s timer and the
 * broker sampler's fd; kernel records get their Celery identity here and become JSON lines.
 * The loop never waits on the output (lines go to the writer thread, log/writer.h) nor on a
 * flood (a budget of records per wake-up). Nothing here classifies causes: that is explain's. */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "alert/alerts.h"
#include "broker/broker.h"
#include "capture/capture.h"
#include "capture/procscan.h"
#include "capture/tailwin.h"
#include "cli/commands.h"
#include "cli/live.h"
#include "cli/live_metrics.h"
#include "cli/procfacts.h"
#include "cli/record_opts.h"
#include "cli/notify.h"
#include "cli/pace.h"
#include "cli/options.h"
#include "cli/privs.h"
#include "common/grow.h"
#include "common/timeutil.h"
#include "identity/celery.h"
#include "identity/proctable.h"
#include "log/eventfmt.h"
#include "log/eventlog.h"
#include "log/logcap.h"
#include "log/samplefmt.h"
#include "log/suppfmt.h"
#include "log/tracerfmt.h"
#include "log/writer.h"
#include "metrics/feed.h"
#include "metrics/server.h"
#include "version.h"

/* Records formatted per wake-up of the ring buffer, at most: then the loop goes back to
 * epoll (the ring fd stays readable), so signals, the timer and samples are served under a
 * flood that never lets the reader catch up. ~1-5 ms of work. */
#define RING_BUDGET 512
/* On SIGINT/SIGTERM: what the kernel already wrote is drained up to this many records, then
 * the writer gets STOP_FLUSH_MS to write the queue and STOP_WRITE_MS for tracer_stop; a
 * stop takes well under a second whatever the output does. */
#define STOP_BUDGET 8192
#define STOP_FLUSH_MS 250
#define STOP_WRITE_MS 200
/* With --redis, first one last discovery and sample (true depths at the end of a short
 * recording), for at most this long: a broker that hangs does not hold the stop. */
#define STOP_SAMPLE_MS 500
/* Alert commands still running at a stop get this long before their groups are killed
 * (the journal thread, this long to send what waits). */
#define STOP_ALERT_MS 250


struct recorder {
	struct record_opts opts;
	struct cw_capture *cap;
	struct cw_tailwin *tailwin;	/* --tail-window: NULL when the hook is always on, or off */
	struct cw_sampler *sampler;
	struct cw_writer *writer;	/* owns the output file; the loop only queues lines */
	struct cw_logcap logcap;
	uint64_t unformatted;		/* lines lost to out-of-memory while formatting */
	int budget;			/* records left in this wake-up (on_record) */
	struct cw_ptable procs;
	struct cw_fmt fmt;
	struct jw line;
	uint64_t lost_reported[CW_LOST_SLOTS];
	uint64_t lost_total;
	struct cw_supp_counts supp_now, supp_prev;	/* kernel flood budgets, cumulative */
	uint64_t supp_total;
	struct {			/* scanned pids the full tracked map refused */
		int *v;
		size_t n, cap;
	} scan_full;
	struct cw_notify notify;	/* systemd: READY=1, WATCHDOG=1 */
	struct cw_live live;		/* the engine, when a sink wants incidents (alerts, metrics) */
	const char *caps[CW_PRIVS_KEPT_MAX + 1];	/* kept after attach (tracer_start) */
	bool caps_dropped;
	struct cw_metrics_server *metrics;	/* --metrics: the HTTP thread */
	struct cw_metrics_feed feed;
	struct cw_live_metrics live_metrics;	/* the engine's verdicts into the feed */
	struct cw_alerts *alerts;	/* NULL without alert options; incidents go to cw_alerts_incident */
};

static void emit(struct recorder *r)
{
	char type[16];

	if (r->line.oom) {
		fprintf(stderr, "celerywatch: out of memory formatting an event; it is counted as a write error\n");
		r->unformatted++;
		jw_reset(&r->line);
		return;
	}
	cw_line_type(r->line.buf, r->line.len, type, sizeof(type));	/* once: the cap and the feed */
	if (cw_logcap_admit(&r->logcap, type, cw_clock_ns(CLOCK_MONOTONIC))) {
		cw_writer_put(r->writer, r->line.buf, r->line.len);
		cw_live_line(&r->live, r->line.buf, r->line.len);
		cw_feed_count(&r->feed, type);
	}
	jw_reset(&r->line);
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct recorder *r = ctx;
	const char *newq[64];
	size_t nnew = 0;

	cw_tailwin_record(r->tailwin, data, size, cw_clock_ns(CLOCK_BOOTTIME));
	if (cw_fmt_record(&r->fmt, &r->procs, data, size, &r->line, newq, &nnew) == 0 && r->line.len)
		emit(r);
	jw_reset(&r->line);
	if (r->sampler && nnew)
		cw_sampler_add_queues(r->sampler, newq, nnew);
	/* negative: libbpf stops consuming after this record (it is consumed) */
	return --r->budget > 0 ? 0 : -EAGAIN;
}

/* At most `budget` records, then back to the caller. Returns how many were read. */
static int consume(struct recorder *r, int budget)
{
	r->budget = budget;
	cw_capture_consume(r->cap);
	cw_live_after_consume(&r->live);	/* a death is judged now, not at the next tick */
	return budget - r->budget;
}

/* The ring buffers, read at the loop's pace (cli/pace.h). */
static void on_ring(struct recorder *r, struct cw_pace *pace)
{
	int n = consume(r, RING_BUDGET);

	cw_pace_consumed(pace, cw_clock_ns(CLOCK_MONOTONIC), n, n >= RING_BUDGET);
	if (r->feed.pending)	/* a death: on /metrics now, not at the tick */
		cw_feed_publish(&r->feed);
}

static void report_lost(struct recorder *r, bool force)
{
	uint64_t by[CW_LOST_SLOTS], delta = 0;

	if (cw_capture_lost(r->cap, by))
		return;
	for (int t = 0; t < CW_LOST_SLOTS; t++)
		delta += by[t] - r->lost_reported[t];
	if (!delta && !force)
		return;
	if (delta) {
		r->lost_total += delta;
		cw_fmt_lost(&r->fmt, &r->line, by, r->lost_reported, r->lost_total);
		emit(r);
		fprintf(stderr, "celerywatch: %llu kernel records lost (ring buffer full)\n", (unsigned long long)delta);
	}
	memcpy(r->lost_reported, by, sizeof(by));
	cw_feed_lost(&r->feed, by);
}

/* The scan line of a process the map refused says "untracked": "map_full". */
static void note_scan_full(struct recorder *r, int pid)
{
	if (cw_grow_from((void **)&r->scan_full.v, &r->scan_full.cap, r->scan_full.n + 1,
			 sizeof(*r->scan_full.v), 16))
		return;
	r->scan_full.v[r->scan_full.n++] = pid;
}

static bool scan_untracked(const struct recorder *r, int pid)
{
	for (size_t i = 0; i < r->scan_full.n; i++)
		if (r->scan_full.v[i] == pid)
			return true;
	return false;
}

/* A Celery process just read from /proc: tracked at once, so what it forks from now on is
 * followed by the kernel; then its stat is read again, since a process that exited before
 * the map had it sends no exit, and its pid, left in the map, would be inherited by the next
 * process to get it. Such a process is left out of the scan. One found exiting (PF_EXITING)
 * may have passed its exit hook before or after the map had it: if the hook took the entry,
 * its exit line is on the way and it stays in the scan; otherwise the entry is removed. */
static bool scan_found(const struct cw_proc *p, void *ctx)
{
	struct recorder *r = ctx;
	unsigned long long now = 0;

	if ((pid_t)p->pid == getpid())
		return false;
	int err = cw_capture_track_scanned(r->cap, (uint32_t)p->pid);
	if (err && err != -EEXIST) {
		fprintf(stderr, "celerywatch: cannot follow pid %d (tracked map full?): %s\n", p->pid,
			strerror(-err));
		note_scan_full(r, p->pid);
		return true;
	}
	int state = cw_proc_pstart("/proc", p->pid, &now);

	if (state == 0 && now == p->pstart)
		return true;
	if (err)	/* the kernel tracked it itself (a tracked parent's fork): its lines say so */
		return false;
	bool removed = cw_capture_untrack_scanned(r->cap, (uint32_t)p->pid);

	return state == -ESRCH && now == p->pstart && !removed;
}

/* Records the kernel's flood budgets kept out: a `suppressed` line, never silence */
static void report_suppressed(struct recorder *r)
{
	if (cw_capture_suppressed(r->cap, &r->supp_now))
		return;
	uint64_t delta = cw_supp_delta(&r->supp_now, &r->supp_prev);
	if (!delta)
		return;
	r->supp_total += delta;
	cw_fmt_suppressed(&r->line, cw_clock_ns(CLOCK_REALTIME), (uint32_t)getpid(), &r->supp_now, &r->supp_prev,
			  r->supp_total);
	emit(r);
	r->supp_prev = r->supp_now;
}

static int scan_cb(const struct cw_proc *p, void *ctx)
{
	struct recorder *r = ctx;
	const char *newq[64];
	size_t nnew = 0;

	cw_fmt_scan(&r->fmt, &r->procs, p, scan_untracked(r, p->pid), &r->line, newq, &nnew);
	emit(r);
	if (r->sampler && nnew)
		cw_sampler_add_queues(r->sampler, newq, nnew);
	return 0;
}

/* The kernel's id of this boot (a UUID), or NULL. */
static const char *read_boot_id(char *buf, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");
	bool ok = f && fgets(buf, (int)len, f);

	if (f)
		fclose(f);
	if (!ok)
		return NULL;
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? buf : NULL;
}

static void write_start(struct recorder *r)
{
	struct utsname u;
	char boot[64];

	uname(&u);
	struct cw_tracer_start ts = {
		.realtime_ns = cw_clock_ns(CLOCK_REALTIME), .pid = (uint32_t)getpid(),
		.version = CW_VERSION, .kernel = u.release, .boot_id = read_boot_id(boot, sizeof(boot)),
		.clock_ticks = sysconf(_SC_CLK_TCK),
		.all = r->opts.all, .stderr_tail = !r->opts.no_tail,
		.tail_window = r->opts.tail_window,	/* 0: always; an unattachable hook is in disabled */
		.exec_fail = !r->opts.no_exec_fail,
		.output = r->opts.output ? r->opts.output : "-",
		.redis = r->sampler ? cw_sampler_url(r->sampler) : NULL,
		.interval = r->opts.interval,
		.queues = (const char *const *)r->opts.queues, .nqueues = r->opts.nqueues,
		.memcg_v1 = cw_capture_memcg_v1(r->cap),
		.max_lines_per_minute = r->opts.max_lines,
		.disabled = cw_capture_disabled(r->cap), .max_tracked = r->opts.max_tracked ? r->opts.max_tracked : 32768,
		.budget_rate = r->opts.budget_rate, .budget_burst = r->opts.budget_burst,
		.caps = r->caps_dropped ? r->caps : NULL,
		.rotate_size = r->opts.rotation.size, .rotate_keep = r->opts.rotation.keep,
		.rotate_compress = r->opts.rotation.compress,
	};
	cw_fmt_tracer_start(&r->line, &ts);
	emit(r);
}

/* The alert senders' counts (final once cw_alerts_stop returned). */
static void add_alert_counts(struct recorder *r, struct cw_tracer_stop *ts)
{
	struct cw_alerts_stats as;

	cw_alerts_stats(r->alerts, &as);
	ts->alert_exec = as.exec;
	ts->alerts_sent = as.x.sent;
	ts->alerts_failed = as.x.failed;
	ts->alerts_timed_out = as.x.timed_out;
	ts->alerts_dropped = as.x.dropped;
	ts->alert_journal = as.journal;
	ts->journal_sent = as.j.sent;
	ts->journal_failed = as.j.failed;
	ts->journal_dropped = as.j.dropped;
}

/* Counts as the writer has them: events are the lines written so far. */
static void write_stop(struct recorder *r, const char *reason)
{
	struct cw_writer_stats ws;

	cw_writer_stats(r->writer, &ws);
	struct cw_tracer_stop ts = {
		.realtime_ns = cw_clock_ns(CLOCK_REALTIME), .pid = (uint32_t)getpid(),
		.reason = reason, .events = ws.lines, .lost = r->lost_total,
		.write_errors = ws.write_errors + r->unformatted, .malformed = r->fmt.malformed,
		.dropped_lines = ws.dropped, .log_cap_suppressed = r->logcap.total,
		.suppressed = r->supp_total,
	};
	if (r->sampler) {
		struct cw_sampler_stats st;
		cw_sampler_get_stats(r->sampler, &st);
		ts.sampled = true;
		ts.samples = st.samples;
		ts.samples_dropped = st.dropped;
		ts.samples_failed = st.failures;
	}
	add_alert_counts(r, &ts);
	if (r->tailwin) {
		struct cw_tailwin_stats tw;
		cw_tailwin_stats(r->tailwin, cw_clock_ns(CLOCK_BOOTTIME), &tw);
		ts.tail_window = true;
		ts.tail_windows = tw.windows;
		ts.tail_attach_failures = tw.attach_failures;
		ts.tail_attached_s = tw.attached_s;
		ts.tail_attach_ms_max = tw.attach_ms_max;
		ts.tail_detach_ms_max = tw.detach_ms_max;
		ts.tail_open_lag_ms_max = tw.open_lag_ms_max;
	}
	cw_fmt_tracer_stop(&r->line, &ts);
	emit(r);
}

static int epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

enum { TAG_RING, TAG_SIGNAL, TAG_TIMER, TAG_SAMPLER, TAG_ALERTS, TAG_PACE };

/* Samples finished by the broker thread become `sample` lines here, in the loop's thread,
 * each followed by its `proc_sample` line: the tracked processes' /proc facts now (a
 * bounded number of small reads, cli/procfacts.c). */
static void drain_sampler(struct recorder *r)
{
	struct cw_broker_endpoint ep;
	struct cw_sample *smp;

	while ((smp = cw_sampler_take(r->sampler))) {
		cw_sample_json(&r->line, smp);
		emit(r);
		bool known = cw_sampler_endpoint(r->sampler, &ep);
		cw_procfacts_round(&r->line, "/proc", &r->procs, smp, known ? &ep : NULL);
		if (r->line.len)
			emit(r);
		cw_feed_sample(&r->feed, smp);	/* kept (and freed) by the metrics feed */
		cw_feed_publish(&r->feed);
	}
	/* CLIENT LIST only while there is someone to match it with */
	cw_sampler_want_clients(r->sampler, r->procs.n > 0);
}

/* The `suppressed` line of a minute that ended (or, force, of the one cut short by a stop). */
static void report_suppressed_cap(struct recorder *r, bool force)
{
	if (cw_logcap_roll(&r->logcap, cw_clock_ns(CLOCK_MONOTONIC), force, &r->line,
			   cw_clock_ns(CLOCK_REALTIME), (uint32_t)getpid()))
		emit(r);
}

/* Every second: follow the wall clock, report lost records, end the log cap's minute. */
static void on_timer(struct recorder *r, int tfd)
{
	uint64_t ticks;

	if (read(tfd, &ticks, sizeof(ticks)) < 0)
		return;
	cw_fmt_sync_clock(&r->fmt);
	cw_notify_watchdog(&r->notify, cw_clock_ns(CLOCK_MONOTONIC));
	cw_live_tick(&r->live);
	cw_tailwin_tick(r->tailwin, cw_clock_ns(CLOCK_BOOTTIME));
	report_lost(r, false);
	report_suppressed(r);
	report_suppressed_cap(r, false);
	cw_feed_publish(&r->feed);
	cw_alerts_service(r->alerts, cw_clock_ns(CLOCK_MONOTONIC));
}

/* The last lines, each step bounded in time: what the kernel already wrote (a budget, so a
 * flood cannot hold us), losses, the cap's count, the queue, tracer_stop. The writer may be
 * stuck on an output that takes nothing (a pipe never read, a hung disk): then say so on
 * stderr and go; exit is not held up by it. */
static void stop_recording(struct recorder *r, const char *reason)
{
	struct cw_writer_stats ws;

	cw_notify_stopping();
	if (r->sampler) {
		cw_sampler_finish(r->sampler, STOP_SAMPLE_MS / 1e3);
		drain_sampler(r);
	}
	consume(r, STOP_BUDGET);
	cw_capture_flush(r->cap);
	report_lost(r, false);
	report_suppressed(r);
	report_suppressed_cap(r, true);
	cw_alerts_stop(r->alerts, cw_clock_ns(CLOCK_MONOTONIC) + STOP_ALERT_MS * 1000000ull);
	cw_writer_flush(r->writer, STOP_FLUSH_MS);
	write_stop(r, reason);
	if (cw_writer_stop(r->writer, STOP_WRITE_MS) == 0) {
		r->writer = NULL;
		return;
	}
	cw_writer_stats(r->writer, &ws);
	fprintf(stderr, "celerywatch: the event log takes no lines (%zu bytes not written, tracer_stop among them); stopping anyway\n",
		ws.queued);
	r->writer = NULL;	/* left to the exit: its thread may sit in write(2) for good */
}

/* SIGHUP reopens the log; SIGINT/SIGTERM end it with tracer_stop and return true. */
static bool on_signal(struct recorder *r, int sfd)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	if (si.ssi_signo == SIGHUP) {
		/* in the writer's order: lines queued so far go to the old file, later ones to the new */
		cw_writer_reopen(r->writer);
		return false;
	}
	stop_recording(r, si.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM");
	return true;
}

static int loop(struct recorder *r, int sfd, int tfd)
{
	struct cw_pace pace = {.timer_fd = -1};
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || cw_pace_init(&pace, ep, cw_capture_fd(r->cap), TAG_RING, TAG_PACE) ||
	    epoll_add(ep, sfd, TAG_SIGNAL) || epoll_add(ep, tfd, TAG_TIMER) || (r->sampler && epoll_add(ep, cw_sampler_fd(r->sampler), TAG_SAMPLER)) ||
	    (cw_alerts_fd(r->alerts) >= 0 && epoll_add(ep, cw_alerts_fd(r->alerts), TAG_ALERTS))) {
		fprintf(stderr, "celerywatch: epoll: %s\n", strerror(errno));
		cw_pace_close(&pace);
		return 1;
	}
	for (;;) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "celerywatch: epoll_wait: %s\n", strerror(errno));
			cw_pace_close(&pace);
			close(ep);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case TAG_RING:
				if (cw_pace_ring_ready(&pace))
					on_ring(r, &pace);
				break;
			case TAG_PACE:
				cw_pace_timer(&pace);
				on_ring(r, &pace);
				break;
			case TAG_TIMER:
				on_timer(r, tfd);
				break;
			case TAG_SAMPLER:
				drain_sampler(r);
				break;
			case TAG_ALERTS:
				cw_alerts_service(r->alerts, cw_clock_ns(CLOCK_MONOTONIC));
				break;
			case TAG_SIGNAL:
				if (on_signal(r, sfd)) {
					cw_pace_close(&pace);
					close(ep);
					return 0;
				}
				break;
			}
		}
	}
}

/* The host name every line carries, empty tables, and the signals parked in mask. */
static void recorder_init(struct recorder *r, sigset_t *mask)
{
	char host[256];

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		cw_eventlog_set_host(host);
	}
	cw_ptable_init(&r->procs);
	jw_init(&r->line);
	cw_notify_init(&r->notify);

	/* Signals wait in a signalfd from the start: a SIGTERM while the programs load or the
	 * broker answers is handled by the loop (tracer_stop), not by the default action. */
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigprocmask(SIG_BLOCK, mask, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a closed stdout is a write error, counted */
}

static bool tail_watched(void *ctx, uint64_t boot_ns, bool *watched, uint64_t *off_ns)
{
	return cw_tailwin_watched_at(ctx, boot_ns, watched, off_ns);
}

/* --tail-window: the write hook's controller, set up while the privileges last. A hook
 * that cannot be attached costs the tails, not the recorder. Returns 0. */
static int start_tailwin(struct recorder *r)
{
	char err[512];

	if (r->opts.no_tail || r->opts.tail_window <= 0 || !cw_capture_tail_prog(r->cap, &(bool){0}))
		return 0;
	if (cw_tailwin_new(&r->tailwin, r->cap, r->opts.tail_window, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: stderr_tail: %s\n", err);
		cw_capture_tail_disabled(r->cap);
		return 0;
	}
	r->fmt.tail_watched = tail_watched;
	r->fmt.tail_ctx = r->tailwin;
	return 0;
}

/* Load and attach the BPF programs. Returns 0, or 1. */
static int start_capture(struct recorder *r)
{
	char err[512];
	struct cw_capture_opts co = {.all = r->opts.all, .verbose = r->opts.verbose, .no_tail = r->opts.no_tail,
				     .tail_hook = r->opts.tail_hook, .no_exec_fail = r->opts.no_exec_fail,
				     .tail_windowed = !r->opts.no_tail && r->opts.tail_window > 0,
				     .ringbuf_kb = r->opts.ringbuf_kb, .max_tracked = r->opts.max_tracked,
				     .budget_set = true, .budget_rate = r->opts.budget_rate,
				     .budget_burst = r->opts.budget_burst,
				     .btf_path = r->opts.btf_path,
				     .on_record = on_record, .ctx = r};

	if (cw_capture_open(&r->cap, &co, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: %s\n", err);
		return 1;
	}
	cw_fmt_init(&r->fmt, cw_eventlog_host(), r->opts.all);
	return start_tailwin(r);
}

/* After attach the loop needs no BPF or perf privilege: only other users' /proc. */
static void drop_privileges(struct recorder *r)
{
	int e = cw_privs_drop(r->caps);

	r->caps_dropped = e == 0;
	if (e)
		fprintf(stderr, "celerywatch: could not drop capabilities: %s\n", strerror(-e));
}

/* The broker sampler's thread, with --redis. Returns 0, or 2 (an unusable broker URL). */
static int start_sampler(struct recorder *r)
{
	char err[512];
	struct cw_broker_config bc = {
		.url = r->opts.redis_url,
		.password_file = r->opts.password_file,
		.key_prefix = r->opts.key_prefix,
		.queues = (const char *const *)r->opts.queues,
		.nqueues = r->opts.nqueues,
		.interval_s = r->opts.interval,
		.discover = true,
		.rescan_s = r->opts.rescan,
	};

	if (!r->opts.redis)
		return 0;
	if (cw_sampler_start(&r->sampler, &bc, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: %s\n", err);
		return 2;
	}
	return 0;
}

static void alert_incident(const struct cw_incident *inc, void *ctx)
{
	cw_alerts_incident(ctx, inc);
}

/* The live engine, fed from tracer_start on, when a sink wants its judgements: the metrics
 * (verdicts, consumers, workers, deaths) and the alerts (incidents). */
static int start_live(struct recorder *r)
{
	struct cw_live_sink sink;

	if (!r->metrics && !r->alerts)
		return 0;
	if (cw_live_init(&r->live)) {
		fprintf(stderr, "celerywatch: out of memory\n");
		return 1;
	}
	if (r->metrics) {
		sink = cw_live_metrics_sink(&r->live_metrics, &r->feed);
		cw_live_add_sink(&r->live, &sink);
	}
	if (r->alerts) {
		sink = (struct cw_live_sink){.on_incident = alert_incident, .ctx = r->alerts};
		cw_live_add_sink(&r->live, &sink);
	}
	return 0;
}

/* --metrics, first step: the listening socket, before anything is loaded (a port in use
 * fails at once) and while privileges last. Returns 0, or 1. */
static int open_metrics(struct recorder *r)
{
	char err[512];

	cw_feed_init(&r->feed, NULL, r->opts.redis, CW_VERSION);
	if (r->opts.metrics && cw_metrics_server_open(&r->metrics, r->opts.metrics, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: %s\n", err);
		return 1;
	}
	return 0;
}

/* --metrics, second step: the HTTP thread, started after the capability drop (and its
 * thread drops all of its own: metrics/server.c). Returns 0, or 1. */
static int start_metrics(struct recorder *r)
{
	char err[512];

	if (!r->metrics)
		return 0;
	if (cw_metrics_server_run(r->metrics, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: %s\n", err);
		return 1;
	}
	r->feed.server = r->metrics;
	return 0;
}

/* The alert senders, with --alert-exec or --alert-journal. A command's stderr is ours
 * unless ours is the event log itself. Returns 0, or 1. */
static int start_alerts(struct recorder *r)
{
	int e;

	r->opts.alerts.exec_stderr = cw_alerts_stderr_ok(r->opts.output);
	e = cw_alerts_new(&r->alerts, &r->opts.alerts);
	if (e)
		fprintf(stderr, "celerywatch: cannot start the alert senders: %s\n", strerror(-e));
	return e ? 1 : 0;
}

/* The signalfd and the 1 s timer. Returns 0, or 1. */
static int open_fds(const sigset_t *mask, int *sfd, int *tfd)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};

	*sfd = signalfd(-1, mask, SFD_CLOEXEC);
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (*sfd < 0 || *tfd < 0 || timerfd_settime(*tfd, 0, &its, NULL)) {
		fprintf(stderr, "celerywatch: signalfd/timerfd: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* The output file, handed to its writer thread; the log cap's first minute starts. */
static int open_output(struct recorder *r, char *err, size_t errlen)
{
	struct cw_output out;
	int e = cw_output_open(&out, r->opts.output, err, errlen);

	if (e)
		return e;
	e = cw_writer_start(&r->writer, &out, 0, (uint32_t)getpid(), &r->opts.rotation);
	if (e) {
		snprintf(err, errlen, "cannot start the log writer: %s", strerror(-e));
		cw_output_close(&out);
		return e;
	}
	cw_logcap_init(&r->logcap, r->opts.max_lines, cw_clock_ns(CLOCK_MONOTONIC));
	return 0;
}

static void recorder_free(struct recorder *r, int sfd, int tfd)
{
	cw_metrics_server_stop(r->metrics);
	cw_feed_free(&r->feed);
	if (r->sampler)
		cw_sampler_stop(r->sampler);
	cw_alerts_free(r->alerts);
	if (sfd >= 0)
		close(sfd);
	if (tfd >= 0)
		close(tfd);
	cw_tailwin_free(r->tailwin);
	cw_capture_close(r->cap);
	if (r->writer && cw_writer_stop(r->writer, STOP_FLUSH_MS + STOP_WRITE_MS))
		fprintf(stderr, "celerywatch: the event log takes no lines; stopping anyway\n");
	cw_ptable_free(&r->procs);
	cw_live_free(&r->live);	/* after cw_feed_free: the feed points into its strings */
	cw_live_metrics_free(&r->live_metrics);
	jw_free(&r->line);
	for (size_t i = 0; i < r->opts.nqueues; i++)
		free(r->opts.queues[i]);
	free(r->opts.queues);
	free(r->scan_full.v);
}

int cmd_record(int argc, char **argv)
{
	static struct recorder rec;
	struct recorder *r = &rec;
	char err[512];
	sigset_t mask;
	int ret, sfd = -1, tfd = -1;

	if (cw_record_opts_parse(&r->opts, argc, argv))
		return 2;
	recorder_init(r, &mask);
	if (open_metrics(r))
		return 1;
	if (open_output(r, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: %s\n", err);
		cw_metrics_server_stop(r->metrics);
		return 1;
	}
	ret = start_capture(r);
	if (!ret)
		ret = start_sampler(r);
	if (!ret)
		ret = start_alerts(r);
	if (!ret)
		ret = open_fds(&mask, &sfd, &tfd);
	if (!ret) {
		/* Programs are attached: keep only what reading /proc needs, say so, then seed
		 * the tracked map with what already runs. Anything forked or exec'd from here
		 * on is seen by the kernel side. */
		drop_privileges(r);
		ret = start_metrics(r);
	}
	if (!ret)
		ret = start_live(r);
	if (!ret) {
		write_start(r);
		cw_feed_publish(&r->feed);	/* the scan may take a while on a busy host */
		struct cw_scan_cbs cbs = {.found = scan_found, .each = scan_cb, .ctx = r};
		if (cw_procscan("/proc", cw_eventlog_host(), &cbs) < 0)
			fprintf(stderr, "celerywatch: /proc scan failed: %s\n", strerror(errno));
		/* The engine's first judgement takes what it has as known history: that must
		 * be the scan, or a death before the first tick would never be told. */
		cw_live_tick(&r->live);
		cw_feed_publish(&r->feed);
		cw_notify_ready("recording");
		ret = loop(r, sfd, tfd);
	}
	recorder_free(r, sfd, tfd);
	return ret;
}
