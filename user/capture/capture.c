/* Kernel capture; see capture.h. Loader lifecycle: open, set rodata knobs, load, attach. */
#include "capture/capture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "celerywatch.skel.h"

struct cw_capture {
	struct celerywatch_bpf *skel;
	struct ring_buffer *rb;
	struct cw_capture_opts opts;	/* ring_cb's context: lives as long as rb */
	bool memcg_v1;
	int ncpus;
};

static bool verbose_libbpf;

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	if (!verbose_libbpf)
		return 0;
	return vfprintf(stderr, fmt, args);
}

/* The memory controller is on a v1 hierarchy when /proc/cgroups gives it a non-zero id. */
static bool memory_controller_v1(void)
{
	FILE *f = fopen("/proc/cgroups", "re");
	char name[64];
	int hier, num, enabled;
	bool v1 = false;

	if (!f)
		return false;
	fscanf(f, "%*[^\n]\n");	/* header */
	while (fscanf(f, "%63s %d %d %d\n", name, &hier, &num, &enabled) == 4)
		if (!strcmp(name, "memory") && hier != 0 && enabled)
			v1 = true;
	fclose(f);
	return v1;
}

/* Syscall tracepoints are found through tracefs; mount it where the kernel expects it when
 * this host has not (raw tracepoints need no tracefs). */
static int ensure_tracefs(char *err, size_t errlen)
{
	if (!access("/sys/kernel/tracing/events/syscalls", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events/syscalls", F_OK))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) && errno != EBUSY) {
		int e = errno;
		snprintf(err, errlen, "tracefs is not mounted and mounting it on /sys/kernel/tracing failed: %s",
			 strerror(e));
		return -e;
	}
	if (access("/sys/kernel/tracing/events/syscalls", F_OK)) {
		snprintf(err, errlen, "this kernel has no syscall tracepoints (CONFIG_FTRACE_SYSCALLS)");
		return -ENOENT;
	}
	return 0;
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	const struct cw_capture_opts *o = ctx;
	return o->on_record(o->ctx, data, size);
}

static const char *refused(int e)
{
	return (e == EPERM || e == EACCES) ?
		" (the kernel refused BPF: run as root with CAP_BPF and CAP_PERFMON, and check kernel lockdown)" : "";
}

int cw_capture_open(struct cw_capture **out, const struct cw_capture_opts *o, char *err, size_t errlen)
{
	struct cw_capture *c;
	int r;

	*out = NULL;
	if (geteuid() != 0) {
		snprintf(err, errlen, "record needs root to load BPF programs; run it with sudo");
		return -EPERM;
	}
	verbose_libbpf = o->verbose;
	libbpf_set_print(libbpf_print);

	r = ensure_tracefs(err, errlen);
	if (r)
		return r;

	c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	c->opts = *o;
	c->ncpus = libbpf_num_possible_cpus();
	c->memcg_v1 = memory_controller_v1();

	c->skel = celerywatch_bpf__open();
	if (!c->skel) {
		r = -errno;
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(-r));
		goto fail;
	}
	c->skel->rodata->trace_all = o->all;
	c->skel->rodata->memcg_v1 = c->memcg_v1;
	c->skel->rodata->page_kb = (uint32_t)(sysconf(_SC_PAGESIZE) / 1024);
	/* An enabled syscall tracepoint puts every syscall of the host on the slow path;
	 * without the write hook there is no per-write cost at all. */
	if (o->no_tail)
		bpf_program__set_autoload(c->skel->progs.handle_write, false);
	if (o->ringbuf_kb && bpf_map__set_max_entries(c->skel->maps.events, o->ringbuf_kb * 1024)) {
		r = -EINVAL;
		snprintf(err, errlen, "ring buffer size %u KiB: must be a power of two of at least the page size",
			 o->ringbuf_kb);
		goto fail;
	}

	r = celerywatch_bpf__load(c->skel);
	if (r) {
		snprintf(err, errlen, "cannot load the BPF programs: %s%s%s", strerror(-r), refused(-r),
			 o->verbose ? "" : "; -v shows the verifier's log");
		goto fail;
	}
	r = celerywatch_bpf__attach(c->skel);
	if (r) {
		snprintf(err, errlen, "cannot attach to the kernel tracepoints: %s%s", strerror(-r), refused(-r));
		goto fail;
	}
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), ring_cb, &c->opts, NULL);
	if (!c->rb) {
		r = -errno;
		snprintf(err, errlen, "cannot open the ring buffer: %s", strerror(-r));
		goto fail;
	}
	*out = c;
	return 0;
fail:
	cw_capture_close(c);
	return r < 0 ? r : -EINVAL;
}

int cw_capture_fd(struct cw_capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

int cw_capture_consume(struct cw_capture *c)
{
	return ring_buffer__consume(c->rb);
}

int cw_capture_track(struct cw_capture *c, uint32_t pid, uint32_t flags)
{
	int r = bpf_map__update_elem(c->skel->maps.tracked, &pid, sizeof(pid), &flags, sizeof(flags), BPF_ANY);
	return r < 0 ? -errno : 0;
}

int cw_capture_track_scanned(struct cw_capture *c, uint32_t pid)
{
	uint32_t flags = CW_TRACK_SCAN;
	int r = bpf_map__update_elem(c->skel->maps.tracked, &pid, sizeof(pid), &flags, sizeof(flags),
				     BPF_NOEXIST);
	return r < 0 ? -errno : 0;
}

void cw_capture_untrack_scanned(struct cw_capture *c, uint32_t pid)
{
	uint32_t flags = 0;

	/* not atomic: a fork by a tracked parent reusing pid right here is the remaining window */
	if (bpf_map__lookup_elem(c->skel->maps.tracked, &pid, sizeof(pid), &flags, sizeof(flags), 0) == 0 &&
	    flags == CW_TRACK_SCAN)
		bpf_map__delete_elem(c->skel->maps.tracked, &pid, sizeof(pid), 0);
}

int cw_capture_lost(struct cw_capture *c, uint64_t by_type[CW_LOST_SLOTS])
{
	uint64_t vals[c->ncpus];

	for (uint32_t t = 0; t < CW_LOST_SLOTS; t++) {
		by_type[t] = 0;
		if (bpf_map__lookup_elem(c->skel->maps.lost, &t, sizeof(t), vals, sizeof(vals), 0))
			return -errno;
		for (int i = 0; i < c->ncpus; i++)
			by_type[t] += vals[i];
	}
	return 0;
}

bool cw_capture_memcg_v1(const struct cw_capture *c)
{
	return c->memcg_v1;
}

void cw_capture_close(struct cw_capture *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	celerywatch_bpf__destroy(c->skel);
	free(c);
}
