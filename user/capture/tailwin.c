/* --tail-window: the write hook attached in windows only; see tailwin.h.
 *
 * Why a perf event is opened once: attaching to the sys_enter_write tracepoint opens a
 * CPU-wide perf event, which needs CAP_PERFMON, and the recorder drops it after start-up
 * (cli/privs.c). The event is opened here, before the drop, and kept *disabled*: the kernel
 * registers its probe, which for a write with no BPF program and no enabled event returns
 * after a bit test. A window then only creates a BPF link on it (a dup of the fd, which
 * libbpf closes at detach), which needs no capability. The sys_enter forms are raw
 * tracepoints: attaching one needs no capability either. */
#include "capture/tailwin.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "capture/capture.h"
#include "common/timeutil.h"
#include "events.h"

/* attach/detach stretches remembered, for the exit lines of deaths read a little late */
#define HISTORY 64

struct stretch {
	uint64_t on, off;	/* off 0: still attached */
};

struct cw_tailwin {
	struct cw_capture *cap;
	struct bpf_program *prog;
	int perf_fd;		/* the sys_enter_write perf event, or -1 (sys_enter forms) */
	uint64_t window_ns;
	uint64_t deadline;	/* the last open window ends then */
	uint64_t since;		/* boot-clock time the controller started: off since then */
	struct bpf_link *link;	/* attached now */
	struct stretch hist[HISTORY];
	uint64_t nhist;		/* stretches ever; hist[(nhist - 1) % HISTORY] is the last */
	struct cw_tailwin_stats st;
	uint64_t attached_ns;	/* closed stretches */
};

/* The tracepoint's id from tracefs (capture.c mounted it when the host had not). */
static int tracepoint_id(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/syscalls/sys_enter_write/id",
		"/sys/kernel/debug/tracing/events/syscalls/sys_enter_write/id",
	};
	for (size_t i = 0; i < 2; i++) {
		FILE *f = fopen(paths[i], "re");
		int id = -1;
		if (!f)
			continue;
		if (fscanf(f, "%d", &id) != 1)
			id = -1;
		fclose(f);
		if (id >= 0)
			return id;
	}
	return -ENOENT;
}

/* As libbpf opens it for a tracepoint (CPU 0, every process), but disabled. */
static int open_perf_event(void)
{
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
				       .sample_period = 1, .wakeup_events = 1, .disabled = 1};
	int id = tracepoint_id();

	if (id < 0)
		return id;
	attr.config = (uint64_t)id;
	int fd = (int)syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static int attach_link(struct cw_tailwin *w)
{
	if (w->perf_fd < 0) {
		w->link = bpf_program__attach(w->prog);
		return w->link ? 0 : -errno;
	}
	int fd = fcntl(w->perf_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	w->link = bpf_program__attach_perf_event(w->prog, fd);
	if (w->link)
		return 0;
	int e = -errno;
	close(fd);
	return e;
}

static double ms_since(uint64_t t0)
{
	return (double)(cw_clock_ns(CLOCK_BOOTTIME) - t0) / 1e6;
}

/* The hook goes on; the stretch starts when the attach has returned (writes before that
 * may have been missed). */
static void hook_on(struct cw_tailwin *w)
{
	uint64_t t0 = cw_clock_ns(CLOCK_BOOTTIME);
	int e = attach_link(w);
	double ms = ms_since(t0);

	if (e) {
		w->link = NULL;
		if (!w->st.attach_failures++)
			fprintf(stderr, "celerywatch: cannot attach the stderr tail's write hook: %s\n", strerror(-e));
		return;
	}
	if (ms > w->st.attach_ms_max)
		w->st.attach_ms_max = ms;
	struct stretch *s = &w->hist[w->nhist++ % HISTORY];
	s->on = cw_clock_ns(CLOCK_BOOTTIME);
	s->off = 0;
}

/* The hook goes off; the stretch ends before the detach starts (conservative the same way). */
static void hook_off(struct cw_tailwin *w)
{
	struct stretch *s = &w->hist[(w->nhist - 1) % HISTORY];
	uint64_t t0 = cw_clock_ns(CLOCK_BOOTTIME);

	s->off = t0;
	w->attached_ns += s->off - s->on;
	bpf_link__destroy(w->link);
	w->link = NULL;
	double ms = ms_since(t0);
	if (ms > w->st.detach_ms_max)
		w->st.detach_ms_max = ms;
}

int cw_tailwin_new(struct cw_tailwin **out, struct cw_capture *cap, double window_s, char *err, size_t errlen)
{
	struct cw_tailwin *w = calloc(1, sizeof(*w));
	bool perf_tp;

	*out = NULL;
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	w->cap = cap;
	w->perf_fd = -1;
	w->window_ns = (uint64_t)(window_s * 1e9);
	w->since = cw_clock_ns(CLOCK_BOOTTIME);
	w->prog = cw_capture_tail_prog(cap, &perf_tp);
	int e = w->prog ? 0 : -ENOENT;
	if (!e && perf_tp && (w->perf_fd = open_perf_event()) < 0)
		e = w->perf_fd;
	if (!e && !(e = attach_link(w)))
		bpf_link__destroy(w->link);	/* a probe: the windows attach it again */
	w->link = NULL;
	if (e) {
		snprintf(err, errlen, "the stderr tail's write hook cannot be attached: %s", strerror(-e));
		cw_tailwin_free(w);
		return e;
	}
	*out = w;
	return 0;
}

void cw_tailwin_open(struct cw_tailwin *w, uint64_t now_ns, uint64_t event_ns)
{
	if (!w)
		return;
	if (now_ns + w->window_ns > w->deadline)
		w->deadline = now_ns + w->window_ns;
	if (w->link)
		return;
	w->st.windows++;
	hook_on(w);
	uint64_t on = w->link ? w->hist[(w->nhist - 1) % HISTORY].on : 0;
	if (on && event_ns && on > event_ns && (double)(on - event_ns) / 1e6 > w->st.open_lag_ms_max)
		w->st.open_lag_ms_max = (double)(on - event_ns) / 1e6;
}

void cw_tailwin_record(struct cw_tailwin *w, const void *data, size_t size, uint64_t now_ns)
{
	const struct cw_hdr *h = data;

	if (!w || size < sizeof(*h))
		return;
	if (h->type == CW_EV_EXEC && size >= sizeof(struct cw_exec) &&
	    (((const struct cw_exec *)data)->tracked & (CW_TRACK_EXEC | CW_TRACK_FULL)) == CW_TRACK_EXEC)
		cw_tailwin_open(w, now_ns, h->ts_ns);
	else if (h->type == CW_EV_SIGNAL && size >= sizeof(struct cw_signal) &&
		 ((const struct cw_signal *)data)->sig != SIGCHLD)
		cw_tailwin_open(w, now_ns, h->ts_ns);
}

void cw_tailwin_tick(struct cw_tailwin *w, uint64_t now_ns)
{
	if (w && w->link && now_ns >= w->deadline)
		hook_off(w);
}

bool cw_tailwin_watched_at(const struct cw_tailwin *w, uint64_t t, bool *watched, uint64_t *off_ns)
{
	uint64_t n = w->nhist < HISTORY ? w->nhist : HISTORY;
	uint64_t off_since = w->since;

	*watched = false;
	/* newest first: the first stretch that started before t decides */
	for (uint64_t k = 0; k < n; k++) {
		const struct stretch *s = &w->hist[(w->nhist - 1 - k) % HISTORY];
		if (s->on > t)
			continue;
		if (!s->off || t < s->off) {
			*watched = true;
			*off_ns = 0;
			return true;
		}
		off_since = s->off;
		break;
	}
	if (off_since == w->since && w->nhist > HISTORY)
		return false;	/* t is older than the stretches remembered */
	if (t < w->since)
		return false;
	*off_ns = t - off_since;
	return true;
}

void cw_tailwin_stats(const struct cw_tailwin *w, uint64_t now_ns, struct cw_tailwin_stats *out)
{
	*out = w->st;
	uint64_t ns = w->attached_ns;
	if (w->link)
		ns += now_ns - w->hist[(w->nhist - 1) % HISTORY].on;
	out->attached_s = (double)ns / 1e9;
}

void cw_tailwin_free(struct cw_tailwin *w)
{
	if (!w)
		return;
	bpf_link__destroy(w->link);
	if (w->perf_fd >= 0)
		close(w->perf_fd);
	free(w);
}
