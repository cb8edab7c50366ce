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

#include "capture/merge.h"
#include "celerywatch.skel.h"

/* Programs whose failure costs a detail, not the recorder: disabled, said once, noted in
 * tracer_start. Everything else (exec, fork, exit, signal, failed execs) is the recorder. */
static const struct { const char *prog, *what; } optional[] = {
	{"handle_oom", "oom"}, {"handle_rename", "rename"}, {"handle_write", "stderr_tail"},
	{"handle_sys_enter", "stderr_tail"}, {"handle_sys_enter_btf", "stderr_tail"},
};
#define N_OPTIONAL (sizeof(optional) / sizeof(optional[0]))

struct cw_capture {
	struct celerywatch_bpf *skel;
	struct ring_buffer *rb;
	struct cw_capture_opts opts;	/* ring_cb's context: lives as long as rb */
	bool memcg_v1;
	enum cw_tail_hook hook;		/* the form in use: opts' or a fallback the kernel took */
	int ncpus;
	unsigned disabled_mask;		/* bits of optional[] */
	const char *disabled[N_OPTIONAL + 1];
	struct cw_merge merge;		/* deaths ring ordered against the shared one */
};

static bool verbose_libbpf;
static char failed_prog[64];	/* the last program libbpf complained about */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	char msg[512];
	const char *p;

	vsnprintf(msg, sizeof(msg), fmt, args);
	if (level == LIBBPF_WARN && (p = strstr(msg, "prog '"))) {
		size_t n = strcspn(p + 6, "'");
		if (n < sizeof(failed_prog)) {
			memcpy(failed_prog, p + 6, n);
			failed_prog[n] = '\0';
		}
	}
	if (!verbose_libbpf)
		return 0;
	return fputs(msg, stderr);
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

static int emit_cb(void *ctx, const void *data, size_t size)
{
	const struct cw_capture_opts *o = ctx;
	return o->on_record(o->ctx, data, size);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	return cw_merge_event(ctx, data, size);
}

static int deaths_cb(void *ctx, void *data, size_t size)
{
	return cw_merge_death(ctx, data, size);
}

#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"

static const char *refused(int e)
{
	return (e == EPERM || e == EACCES) ?
		" (the kernel refused BPF: run as root with CAP_BPF and CAP_PERFMON, and check kernel lockdown)" : "";
}

static void autoload(struct bpf_program *p, bool on)
{
	bpf_program__set_autoload(p, on);
}

/* The syscall hooks (docs/benchmarks.md has the numbers behind the default). Tracepoint
 * form (default): sys_enter_write and sys_enter_execve(at), each for its syscall only.
 * sys_enter forms: one program keeps the tails and stores execve argv, and runs for every
 * syscall (measured no cheaper per write). Any of them puts every task on the syscall-tracepoint slow path:
 * --no-stderr-tail with --no-exec-fail removes them all. The sys_enter forms are x86-64
 * only (its syscall numbers). */
static void choose_syscall_hooks(struct cw_capture *c, const struct cw_capture_opts *o)
{
	struct celerywatch_bpf *sk = c->skel;
	bool tail = !o->no_tail, execf = !o->no_exec_fail;
#ifdef __x86_64__
	enum cw_tail_hook h = tail ? c->hook : CW_TAIL_TP;
#else
	enum cw_tail_hook h = CW_TAIL_TP;
#endif
	bool sysenter = h != CW_TAIL_TP;

	/* windows detach the sys_enter program: the execve argv then needs its own hooks */
	bool exec_in_sysenter = sysenter && !o->tail_windowed;

	sk->rodata->raw_write = sysenter;
	sk->rodata->raw_exec = exec_in_sysenter && execf;
	autoload(sk->progs.handle_sys_enter_btf, h == CW_TAIL_BTF);
	autoload(sk->progs.handle_sys_enter, h == CW_TAIL_RAW);
	autoload(sk->progs.handle_write, tail && !sysenter);
	autoload(sk->progs.handle_execve_enter, execf && !exec_in_sysenter);
	autoload(sk->progs.handle_execveat_enter, execf && !exec_in_sysenter);
	autoload(sk->progs.handle_execve_exit, execf);
	autoload(sk->progs.handle_execveat_exit, execf);
}

/* A sys_enter form the kernel refused: the next form, not a recorder without tails */
static bool fall_back(struct cw_capture *c, const char *prog)
{
	static const char *const names[] = {"BTF-typed sys_enter", "raw sys_enter"};

	if (!((c->hook == CW_TAIL_BTF && !strcmp(prog, "handle_sys_enter_btf")) ||
	      (c->hook == CW_TAIL_RAW && !strcmp(prog, "handle_sys_enter"))))
		return false;
	fprintf(stderr, "celerywatch: the %s hook cannot be loaded on this kernel; keeping stderr tails with the %s one\n",
		names[c->hook == CW_TAIL_RAW], c->hook == CW_TAIL_BTF ? "raw sys_enter" : "sys_enter_write tracepoint");
	c->hook = c->hook == CW_TAIL_BTF ? CW_TAIL_RAW : CW_TAIL_TP;
	return true;
}

/* Open the object and set what must be set before load. Returns 0 or -errno. */
static int configure(struct cw_capture *c, const struct cw_capture_opts *o, char *err, size_t errlen)
{
	/* The kernel's own BTF given as the "custom" one keeps libbpf from searching module
	 * BTFs for a type vmlinux lacks (our CO-RE fallbacks, mm_rss_stat___old): that search
	 * needs CAP_SYS_ADMIN, which a service holding only CAP_BPF and CAP_PERFMON lacks. */
	const char *btf = o->btf_path ? o->btf_path :
			  access(VMLINUX_BTF, R_OK) == 0 ? VMLINUX_BTF : NULL;
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf);

	c->skel = celerywatch_bpf__open_opts(&oo);
	if (!c->skel) {
		snprintf(err, errlen, "cannot open the BPF object%s%s: %s", o->btf_path ? " with BTF " : "",
			 o->btf_path ? o->btf_path : "", strerror(errno));
		return -errno;
	}
	c->skel->rodata->trace_all = o->all;
	c->skel->rodata->keep_tails = !o->no_tail;
	c->skel->rodata->memcg_v1 = c->memcg_v1;
	c->skel->rodata->page_kb = (uint32_t)(sysconf(_SC_PAGESIZE) / 1024);
	if (o->budget_set) {
		c->skel->rodata->budget_rate = o->budget_rate;
		c->skel->rodata->budget_burst = o->budget_burst;
	}
	choose_syscall_hooks(c, o);
	for (size_t i = 0; i < N_OPTIONAL; i++)
		if (c->disabled_mask & (1u << i))
			bpf_program__set_autoload(bpf_object__find_program_by_name(c->skel->obj, optional[i].prog),
						  false);
	if (o->ringbuf_kb && bpf_map__set_max_entries(c->skel->maps.events, o->ringbuf_kb * 1024)) {
		snprintf(err, errlen, "ring buffer size %u KiB: must be a power of two of at least the page size",
			 o->ringbuf_kb);
		return -EINVAL;
	}
	if (o->max_tracked && bpf_map__set_max_entries(c->skel->maps.tracked, o->max_tracked)) {
		snprintf(err, errlen, "--max-tracked %u: cannot size the tracked map", o->max_tracked);
		return -EINVAL;
	}
	return 0;
}

static int optional_index(const char *prog)
{
	for (size_t i = 0; i < N_OPTIONAL; i++)
		if (!strcmp(prog, optional[i].prog))
			return (int)i;
	return -1;
}

/* Turn one optional part off for good; false if prog is not optional or already off */
static bool disable(struct cw_capture *c, const char *prog, const char *stage)
{
	int k = optional_index(prog);
	if (k < 0 || (c->disabled_mask & (1u << k)))
		return false;
	c->disabled_mask |= 1u << k;
	size_t n = 0;
	while (c->disabled[n])
		n++;
	c->disabled[n] = optional[k].what;
	fprintf(stderr, "celerywatch: %s: the %s hook cannot be %s on this kernel; recording without it\n",
		optional[k].what, prog, stage);
	return true;
}

/* Load what can load: an optional program the kernel rejects (a CO-RE relocation this
 * kernel cannot satisfy, say) is switched off and the object opened and loaded again. */
static int load(struct cw_capture *c, const struct cw_capture_opts *o, char *err, size_t errlen)
{
	for (;;) {
		int r = configure(c, o, err, errlen);
		if (r)
			return r;
		failed_prog[0] = '\0';
		r = celerywatch_bpf__load(c->skel);
		if (!r)
			return 0;
		if (!fall_back(c, failed_prog) && !disable(c, failed_prog, "loaded")) {
			snprintf(err, errlen, "cannot load the BPF programs%s%s: %s%s%s", failed_prog[0] ? " at " : "",
				 failed_prog, strerror(-r), refused(-r),
				 o->verbose ? "" : "; -v shows the verifier's log");
			return r;
		}
		celerywatch_bpf__destroy(c->skel);
		c->skel = NULL;
	}
}

struct bpf_program *cw_capture_tail_prog(struct cw_capture *c, bool *perf_tp)
{
	struct bpf_program *forms[] = {c->skel->progs.handle_write, c->skel->progs.handle_sys_enter_btf,
				       c->skel->progs.handle_sys_enter};

	*perf_tp = false;
	if (c->opts.no_tail)
		return NULL;
	for (int i = 0; i < 3; i++)
		if (bpf_program__autoload(forms[i])) {	/* loaded: at most one of them is */
			*perf_tp = i == 0;
			return forms[i];
		}
	return NULL;
}

void cw_capture_tail_disabled(struct cw_capture *c)
{
	bool tp;
	struct bpf_program *p = cw_capture_tail_prog(c, &tp);

	if (p)
		disable(c, bpf_program__name(p), "attached");
}

/* Each program on its own, so that an optional one that cannot attach stays out alone.
 * With --tail-window the write hook is left to tailwin.c. */
static int attach(struct cw_capture *c, char *err, size_t errlen)
{
	const struct bpf_object_skeleton *sk = c->skel->skeleton;
	bool tp;
	struct bpf_program *tail = c->opts.tail_windowed ? cw_capture_tail_prog(c, &tp) : NULL;

	for (int i = 0; i < sk->prog_cnt; i++) {
		struct bpf_program *p = *sk->progs[i].prog;
		if (!bpf_program__autoload(p) || p == tail)
			continue;
		struct bpf_link *l = bpf_program__attach(p);
		if (l) {
			*sk->progs[i].link = l;
			continue;
		}
		int r = -errno;
		if (!disable(c, bpf_program__name(p), "attached")) {
			snprintf(err, errlen, "cannot attach %s to its kernel tracepoint: %s%s", bpf_program__name(p),
				 strerror(-r), refused(-r));
			return r;
		}
	}
	return 0;
}

static int open_rings(struct cw_capture *c, char *err, size_t errlen)
{
	cw_merge_init(&c->merge, emit_cb, &c->opts);
	/* One manager, one epoll fd. libbpf consumes its rings in the order added and gives up
	 * on the rest when a callback returns < 0 (the loop's per-wake-up budget): `deaths`
	 * comes first, so a flood on `events` can never keep deaths unread. */
	c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.deaths), deaths_cb, &c->merge, NULL);
	if (!c->rb || ring_buffer__add(c->rb, bpf_map__fd(c->skel->maps.events), ring_cb, &c->merge)) {
		int r = -errno;
		snprintf(err, errlen, "cannot open the ring buffers: %s", strerror(-r));
		return r;
	}
	return 0;
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
	c->hook = o->tail_hook;
	c->ncpus = libbpf_num_possible_cpus();
	c->memcg_v1 = memory_controller_v1();

	r = load(c, o, err, errlen);
	if (!r)
		r = attach(c, err, errlen);
	if (!r)
		r = open_rings(c, err, errlen);
	if (r) {
		cw_capture_close(c);
		return r < 0 ? r : -EINVAL;
	}
	*out = c;
	return 0;
}

int cw_capture_fd(struct cw_capture *c)
{
	return ring_buffer__epoll_fd(c->rb);
}

/* Deaths are read first and held by the merge; the `events` records read after them are
 * written in time order with them. Only when `events` was drained (not cut short by the
 * caller's budget) is everything before the held deaths known to be written: then they go. */
int cw_capture_consume(struct cw_capture *c)
{
	int n = ring_buffer__consume(c->rb);

	if (n >= 0)
		cw_merge_flush(&c->merge);
	return n;
}

void cw_capture_flush(struct cw_capture *c)
{
	cw_merge_flush(&c->merge);
}

/* After a change to `tracked` from here: tasks' cached marks are stale (the map first,
 * then the generation, so a mark recomputed under the new generation sees the new map). */
static void bump_track_gen(struct cw_capture *c)
{
	__atomic_add_fetch(&c->skel->bss->track_gen, 1, __ATOMIC_SEQ_CST);
}

/* A tracked process's empty stderr tail, as the kernel's track() makes one: the write hook
 * looks a writer up in `tails` alone. A full map costs this process its tail. */
static void tail_create(struct cw_capture *c, uint32_t pid)
{
	size_t size = bpf_map__value_size(c->skel->maps.tails);
	void *zero = c->opts.no_tail ? NULL : calloc(1, size);

	if (zero)
		bpf_map__update_elem(c->skel->maps.tails, &pid, sizeof(pid), zero, size, BPF_NOEXIST);
	free(zero);
}

int cw_capture_track(struct cw_capture *c, uint32_t pid, uint32_t flags)
{
	int r = bpf_map__update_elem(c->skel->maps.tracked, &pid, sizeof(pid), &flags, sizeof(flags), BPF_ANY);
	if (r < 0)
		return -errno;
	tail_create(c, pid);
	bump_track_gen(c);
	return 0;
}

int cw_capture_track_scanned(struct cw_capture *c, uint32_t pid)
{
	uint32_t flags = CW_TRACK_SCAN;
	int r = bpf_map__update_elem(c->skel->maps.tracked, &pid, sizeof(pid), &flags, sizeof(flags),
				     BPF_NOEXIST);
	if (r < 0)
		return -errno;
	tail_create(c, pid);
	bump_track_gen(c);
	return 0;
}

bool cw_capture_untrack_scanned(struct cw_capture *c, uint32_t pid)
{
	uint32_t flags = 0;

	/* not atomic: a fork by a tracked parent reusing pid right here is the remaining window */
	if (bpf_map__lookup_elem(c->skel->maps.tracked, &pid, sizeof(pid), &flags, sizeof(flags), 0) ||
	    flags != CW_TRACK_SCAN || bpf_map__delete_elem(c->skel->maps.tracked, &pid, sizeof(pid), 0))
		return false;
	bpf_map__delete_elem(c->skel->maps.tails, &pid, sizeof(pid), 0);
	bump_track_gen(c);
	return true;
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

static uint64_t percpu_sum(struct bpf_map *map, uint32_t key, int ncpus)
{
	uint64_t vals[ncpus], sum = 0;

	if (bpf_map__lookup_elem(map, &key, sizeof(key), vals, sizeof(vals), 0))
		return 0;
	for (int i = 0; i < ncpus; i++)
		sum += vals[i];
	return sum;
}

int cw_capture_suppressed(struct cw_capture *c, struct cw_supp_counts *out)
{
	struct bpf_map *m = c->skel->maps.suppressed_uid;
	uint32_t key = 0, next;
	bool first = true;

	for (uint32_t t = 0; t < CW_EV_MAX; t++)
		out->by_type[t] = percpu_sum(c->skel->maps.suppressed, t, c->ncpus);
	out->nuid = 0;
	while (out->nuid < CW_SUPP_UIDS &&
	       !bpf_map__get_next_key(m, first ? NULL : &key, &next, sizeof(next))) {
		uint64_t n;
		first = false;
		key = next;
		if (bpf_map__lookup_elem(m, &key, sizeof(key), &n, sizeof(n), 0))
			continue;
		out->uid[out->nuid].uid = key;
		out->uid[out->nuid].n = n;
		out->nuid++;
	}
	return 0;
}

const char *const *cw_capture_disabled(const struct cw_capture *c)
{
	return c->disabled;
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
