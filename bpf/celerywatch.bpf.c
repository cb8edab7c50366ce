// SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause
/* celerywatch kernel side: record Celery processes' births, renames, signals, OOM kills and
 * deaths, filtered in the kernel.
 *
 * Hook choice: this kernel family has no kprobes and no fentry/tp_btf, so everything is a
 * tracepoint. Scheduler, signal, OOM and task events are *raw* tracepoints: they need no
 * tracefs to attach and hand us the kernel's own pointers (task_struct, siginfo), read with
 * CO-RE. The write hook (stderr tails) has forms chosen by the loader (--tail-hook): the
 * sys_enter_write perf tracepoint (default), which runs for write(2) only, or one program on
 * sys_enter (BTF-typed or plain raw), which runs for every syscall of the host; the sys_enter
 * forms were measured no cheaper per write on 6.18. Failed execs need
 * sys_exit_execve(at), a perf tracepoint; any syscall hook puts every task of the host on the
 * kernel's syscall-tracepoint slow path. docs/benchmarks.md has the measurements. */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "events.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* knobs set by the loader before load */
const volatile bool trace_all = false;	/* --all: every process, not only Celery */
const volatile bool memcg_v1 = false;	/* memory controller on a v1 hierarchy */
const volatile __u32 page_kb = 4;
const volatile bool raw_write = false;	/* handle_sys_enter(_btf) keeps the tails */
const volatile bool raw_exec = false;	/* handle_sys_enter(_btf) stores execve argv (failed execs) */
const volatile bool keep_tails = false;	/* a tracked process gets its tail when it is tracked */

/* Bumped by userspace after it changes `tracked` (start-up scan): invalidates the per-task
 * marks below. Kernel-side changes need no bump: see current_tracked(). */
volatile __u32 track_gen;

#define MAX_TRACKED 32768
#define MAX_TAILS 4096
#define EXEC_ARGS_MAX 48	/* argv pointers read for a failed exec */

/* Not preallocated: memory follows the processes tracked, not --max-tracked (a preallocated
 * map of 4M entries took 335 MiB at load, docs/benchmarks.md). The bound still holds: an
 * insert past max_entries fails, and that process is recorded as map_full. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_TRACKED);
	__type(key, __u32);	/* tgid */
	__type(value, __u32);	/* enum cw_track_flags */
} tracked SEC(".maps");

/* Measured alternative, off by default (make BPF_DEFS=-DCW_MARK_TASK): a per-task cache of
 * "is my process tracked?" in task-local storage instead of hashing the tgid on every write
 * to fd 1/2. On 6.18 it measured slower than the hash lookup (docs/benchmarks.md). Valid
 * while gen matches track_gen; an exec drops it (the process may change). */
#ifdef CW_MARK_TASK
struct mark {
	__u32 gen;
	__u32 tracked;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct mark);
} marks SEC(".maps");
#endif

/* Last writes of a tracked process to fd 1 and 2: a round robin of slots, emitted only
 * with its exit. Costs a copy per write, never an event per write. An entry exists exactly
 * while its process is tracked (created by track() and the start-up scan, deleted with the
 * `tracked` entry), so the write hook asks this map alone: one lookup, tracked or not. */
struct tail {
	__u32 next;		/* slot the next write goes to (monotonic, & (SLOTS-1)) */
	__u32 dropped;
	__u16 lens[CW_TAIL_SLOTS];
	char data[CW_TAIL_SLOTS][CW_TAIL_SLOT_LEN];
};

/* Not preallocated either: 2 KiB per tracked process instead of 8.5 MiB held from the start */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_TAILS);
	__type(key, __u32);
	__type(value, struct tail);
} tails SEC(".maps");

/* execve argv pointer from sys_enter, kept until sys_exit tells whether the exec failed.
 * LRU: a task killed inside execve never reaches sys_exit, and its entry must not pin a slot. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);	/* tid */
	__type(value, __u64);
} exec_args SEC(".maps");

/* With --all, deaths of processes outside `tracked` are claimed here: threads that exit
 * together can all see signal->live == 0, and only the first may report the death. LRU: an
 * entry need only outlive the process's last threads, and nothing has to delete it. */
struct exit_key {
	__u32 tgid;
	__u32 _pad;
	__u64 start_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct exit_key);
	__type(value, __u8);
} exit_claims SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Room kept for the deaths of tracked processes (exit, oom): a flood of other records can
 * fill `events`, never this. 512 KiB holds about 230 exit records. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 << 10);
} deaths SEC(".maps");

/* ring buffer reserve failures by event type; read and reported by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_LOST_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

/* scratch: an exec record is built here, filtered, then copied out; too big for the stack */
union scratch {
	struct cw_exec exec;
	struct cw_exec_fail fail;
	struct tail tail;
	char argbuf[2 * CW_ARGV_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union scratch);
} heap SEC(".maps");

static __always_inline void count_lost(__u32 type)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &type);
	if (n)
		(*n)++;
}

#include "budget.h"

static __always_inline void *reserve(__u32 type, __u64 size)
{
	void *p = bpf_ringbuf_reserve(&events, size, 0);
	if (!p)
		count_lost(type);
	return p;
}

/* A death of a tracked process: its reserved ring first, the shared one if that is full */
static __always_inline void *reserve_death(__u32 type, __u64 size, bool was_tracked)
{
	void *p = was_tracked ? bpf_ringbuf_reserve(&deaths, size, 0) : NULL;
	if (!p)
		p = bpf_ringbuf_reserve(&events, size, 0);
	if (!p)
		count_lost(type);
	return p;
}

/* An empty tail for a process just tracked (kept if it has one: an exec of a tracked
 * process keeps what it wrote before). A full map costs this process its tail, counted. */
static __always_inline void tail_create(__u32 tgid)
{
	__u32 zero = 0;
	union scratch *s = bpf_map_lookup_elem(&heap, &zero);

	if (!keep_tails || !s)
		return;
	__builtin_memset(&s->tail, 0, sizeof(s->tail.next) + sizeof(s->tail.dropped) + sizeof(s->tail.lens));
	if (bpf_map_update_elem(&tails, &tgid, &s->tail, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&tails, &tgid))
		count_lost(CW_DROP_TAILS_FULL);
}

/* False when the map is full: the caller's record must say the process is not followed,
 * or explain would wait forever for an exit that will never be recorded. */
static __always_inline bool track(__u32 tgid, __u32 flags)
{
	if (!bpf_map_update_elem(&tracked, &tgid, &flags, BPF_ANY)) {
		tail_create(tgid);
		return true;
	}
	count_lost(CW_DROP_TRACKED_FULL);
	return false;
}

static __always_inline bool is_tracked(__u32 tgid)
{
	return bpf_map_lookup_elem(&tracked, &tgid) != NULL;
}

static __always_inline void fill_hdr(struct cw_hdr *h, __u16 type, __u16 size, struct task_struct *t)
{
	h->type = type;
	h->size = size;
	h->pid = BPF_CORE_READ(t, tgid);
	h->ts_ns = bpf_ktime_get_boot_ns();
	/* the leader's start time: the process identity, as in /proc/PID/stat */
	h->start_ns = BPF_CORE_READ(t, group_leader, start_boottime);
}

static __always_inline __u32 task_uid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_cred, uid.val);
}

static __always_inline __u32 task_ppid(struct task_struct *t)
{
	return BPF_CORE_READ(t, real_parent, tgid);
}

/* The parent link was renamed in 6.15; a kernel with neither name keeps us from walking up
 * (the path is then the cgroup's own name under "/..."), never from loading. */
static __always_inline bool kn_parent_known(void)
{
	return bpf_core_field_exists(((struct kernfs_node *)0)->__parent) ||
	       bpf_core_field_exists(((struct kernfs_node___old *)0)->parent);
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	struct kernfs_node___old *old = (void *)kn;
	if (bpf_core_field_exists(old->parent))
		return (struct kernfs_node *)BPF_CORE_READ(old, parent);
	return NULL;
}

/* The cgroup that matters for memory: the memory controller's on a v1 host, else the
 * unified one. Names are collected deepest first; userspace joins them. */
static __always_inline void fill_cgroup(struct cw_cgroup *cg, struct task_struct *t)
{
	struct cgroup *cgrp;
	struct kernfs_node *kn;

	if (memcg_v1) {
		int id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
		struct cgroup_subsys_state *css = NULL;
		if (id >= 0 && id < 12)
			css = BPF_CORE_READ(t, cgroups, subsys[id]);
		cgrp = css ? BPF_CORE_READ(css, cgroup) : NULL;
	} else {
		cgrp = BPF_CORE_READ(t, cgroups, dfl_cgrp);
	}
	cg->depth = 0;
	cg->truncated = 0;
	kn = cgrp ? BPF_CORE_READ(cgrp, kn) : NULL;
	if (!kn_parent_known()) {
		if (kn) {
			bpf_probe_read_kernel_str(cg->names[0], CW_CGROUP_NAME_LEN, BPF_CORE_READ(kn, name));
			cg->depth = 1;
			cg->truncated = 1;
		}
		return;
	}
#pragma unroll
	for (int i = 0; i < CW_CGROUP_DEPTH; i++) {
		if (!kn)
			return;
		struct kernfs_node *parent = kn_parent(kn);
		if (!parent)
			return;	/* the root's own name is not part of the path */
		bpf_probe_read_kernel_str(cg->names[i], CW_CGROUP_NAME_LEN, BPF_CORE_READ(kn, name));
		cg->depth = i + 1;
		kn = parent;
	}
	if (kn && kn_parent(kn))
		cg->truncated = 1;
}

/* Userspace twin: cw_argv_mentions_celery(). True if an argument's basename is "celery":
 * `celery`, `/usr/bin/celery`, `.venv/bin/celery`, `python3 -m celery`. A sliding window of
 * the last 7 bytes keeps this one pass with no string compare. */
#define CELERY_WIN 0x63656c657279ULL	/* "celery": first byte read is the highest */
static __always_inline bool window_is_celery(__u64 win)
{
	__u8 before = (win >> 48) & 0xff;
	return (win & 0xffffffffffffULL) == CELERY_WIN && (before == 0 || before == '/');
}

struct celery_scan {
	__u32 len;
	__u32 in_argbuf;	/* scan scratch.argbuf, else scratch.exec.argv */
	__u64 win;
	bool found;
};

/* bpf_loop callback: the verifier checks it once, not once per byte of argv */
static long celery_scan_step(__u32 i, struct celery_scan *cs)
{
	__u32 zero = 0;
	union scratch *s = bpf_map_lookup_elem(&heap, &zero);
	if (!s || i >= cs->len || i >= CW_ARGV_LEN)
		return 1;
	__u32 at = i;
	barrier_var(at);	/* keep clang from dropping the mask the verifier needs */
	at &= CW_ARGV_LEN - 1;
	char c = cs->in_argbuf ? s->argbuf[at] : s->exec.argv[at];
	if (c == 0) {
		if (window_is_celery(cs->win)) {
			cs->found = true;
			return 1;
		}
		cs->win = 0;
		return 0;
	}
	cs->win = (cs->win << 8) | (__u8)c;
	return 0;
}

/* argv bytes are in the per-CPU scratch (exec record or the failed exec's argbuf) */
static __always_inline bool argv_mentions_celery(bool in_argbuf, __u32 len)
{
	struct celery_scan cs = {.len = len, .in_argbuf = in_argbuf};

	bpf_loop(CW_ARGV_LEN, celery_scan_step, &cs, 0);
	return cs.found || window_is_celery(cs.win);
}

/* Copies the current process's argv (from its mm) into buf; returns bytes, sets *trunc. */
static __always_inline __u32 read_cur_argv(char *buf, __u32 max, __u8 *trunc)
{
	struct task_struct *t = (void *)bpf_get_current_task();
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	if (!mm)
		return 0;	/* kernel thread */
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	__u64 len = end > start ? end - start : 0;
	*trunc = 0;
	if (len == 0)
		return 0;
	if (len > max) {
		len = max;
		*trunc = 1;
	}
	/* The bound the verifier checks must be buf's own size (max, a power of two), not
	 * the largest buffer anyone passes: 1..max by construction, whatever clang keeps. */
	__u32 n = (((__u32)len - 1) & (max - 1)) + 1;
	barrier_var(n);
	if (bpf_probe_read_user(buf, n, (void *)start))
		return 0;
	return n;
}

SEC("raw_tp/sched_process_exec")
int handle_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[0];
	__u32 old_pid = (__u32)ctx->args[1];
	__u32 zero = 0, tgid = BPF_CORE_READ(t, tgid);
	union scratch *s = bpf_map_lookup_elem(&heap, &zero);
	if (!s)
		return 0;
	struct cw_exec *e = &s->exec;

#ifdef CW_MARK_TASK
	/* tracking may change with this exec: the write hook asks the map again */
	bpf_task_storage_delete(&marks, bpf_get_current_task_btf());
#endif
	__u32 len = read_cur_argv(e->argv, CW_ARGV_LEN, &e->argv_truncated);
	bool celery = argv_mentions_celery(false, len);
	__u32 *flags = bpf_map_lookup_elem(&tracked, &tgid);
	bool was_tracked = flags != NULL;

	if (celery) {
		__u32 f = CW_TRACK_EXEC | (flags ? *flags : 0);
		e->tracked = track(tgid, f) ? f : f | CW_TRACK_FULL;
	} else {
		/* a tracked process turned into something else (a task's subprocess): report this
		 * exec for context, then stop following it */
		if (was_tracked) {
			bpf_map_delete_elem(&tracked, &tgid);
			bpf_map_delete_elem(&tails, &tgid);
		}
		e->tracked = 0;
		if (!was_tracked && !trace_all)
			return 0;
	}

	fill_hdr(&e->hdr, CW_EV_EXEC, sizeof(*e), t);
	e->ppid = task_ppid(t);
	e->uid = task_uid(t);
	e->old_pid = old_pid;
	e->argv_len = len;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), t->comm);
	fill_cgroup(&e->cgroup, t);
	/* the executable: bprm->filename (zeroed by the helper if unreadable) */
	struct linux_binprm *bprm = (void *)ctx->args[2];
	bpf_probe_read_kernel_str(e->exe, sizeof(e->exe), BPF_CORE_READ(bprm, filename));
	if (bpf_ringbuf_output(&events, e, sizeof(*e), 0))
		count_lost(CW_EV_EXEC);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (void *)ctx->args[0];
	struct task_struct *child = (void *)ctx->args[1];
	__u32 child_pid = BPF_CORE_READ(child, pid);
	__u32 child_tgid = BPF_CORE_READ(child, tgid);
	__u32 ptgid = BPF_CORE_READ(parent, tgid);

	__u32 tracked_flags = 0;

	if (child_pid != child_tgid)
		return 0;	/* a new thread, not a process */
	if (!is_tracked(ptgid)) {
		if (!trace_all)
			return 0;
	} else {
		tracked_flags = CW_TRACK_FORK;
		if (!track(child_tgid, CW_TRACK_FORK))
			tracked_flags |= CW_TRACK_FULL;
	}

	struct cw_fork *e = reserve(CW_EV_FORK, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, CW_EV_FORK, sizeof(*e), parent);
	e->child_pid = child_tgid;
	e->tracked = tracked_flags;
	e->child_start_ns = BPF_CORE_READ(child, start_boottime);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), parent->comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* True for exactly one of the threads that see the process dead: the map operation is the
 * claim, it succeeds once. Without --all that is the delete from `tracked` (untracked
 * processes are not reported); with --all an insert keyed by (tgid, start time), since a
 * delete cannot tell "claimed by another thread" from "never tracked". */
static __always_inline bool claim_death(struct task_struct *t, __u32 tgid)
{
	if (!trace_all)
		return bpf_map_delete_elem(&tracked, &tgid) == 0;

	struct exit_key k = {.tgid = tgid, ._pad = 0,
			     .start_ns = BPF_CORE_READ(t, group_leader, start_boottime)};
	__u8 one = 1;
	if (bpf_map_update_elem(&exit_claims, &k, &one, BPF_NOEXIST))
		return false;
	bpf_map_delete_elem(&tracked, &tgid);
	return true;
}

SEC("raw_tp/sched_process_exit")
int handle_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[0];
	__u32 tgid = BPF_CORE_READ(t, tgid);

	/* A process dies with its last thread: do_exit has already counted this one out of
	 * signal->live. Not "the leader exits": the leader may leave first (pthread_exit), and
	 * an exec from another thread makes the old leader exit while the process lives on. */
	if (BPF_CORE_READ(t, signal, live.counter) != 0)
		return 0;
	bool was_tracked = is_tracked(tgid);
	if (!claim_death(t, tgid))
		return 0;

	struct cw_exit *e = reserve_death(CW_EV_EXIT, sizeof(*e), was_tracked);
	if (e) {
		fill_hdr(&e->hdr, CW_EV_EXIT, sizeof(*e), t);
		e->ppid = task_ppid(t);
		e->exit_code = BPF_CORE_READ(t, exit_code);
		e->maxrss_kb = BPF_CORE_READ(t, signal, maxrss) * page_kb;
		e->_pad = 0;
		e->tail_dropped = 0;
		/* the process's name, not the name of whichever thread happened to exit last */
		bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), BPF_CORE_READ(t, group_leader, comm));
		struct tail *tl = bpf_map_lookup_elem(&tails, &tgid);
#pragma unroll
		for (int i = 0; i < CW_TAIL_SLOTS; i++) {
			e->tail_lens[i] = 0;
			if (!tl)
				continue;
			/* oldest slot first: the one the next write would overwrite */
			__u32 slot = (tl->next + i) & (CW_TAIL_SLOTS - 1);
			__u16 n = tl->lens[slot];
			if (n > CW_TAIL_SLOT_LEN)
				n = CW_TAIL_SLOT_LEN;
			e->tail_lens[i] = n;
			bpf_probe_read_kernel(e->tail[i], CW_TAIL_SLOT_LEN, tl->data[slot]);
		}
		if (tl)
			e->tail_dropped = tl->dropped;
		bpf_ringbuf_submit(e, 0);
	}
	bpf_map_delete_elem(&tails, &tgid);
	return 0;
}

static __always_inline __u32 sigcode_class(int sig, long info, __s32 *si_code)
{
	/* SEND_SIG_NOINFO (0) and SEND_SIG_PRIV (1) are special pointer values */
	if (info == 0) {
		*si_code = 0;	/* SI_USER */
		return CW_SI_USER;
	}
	if (info == 1) {
		*si_code = 0x80;	/* SI_KERNEL */
		return CW_SI_KERNEL;
	}
	/* si_code sits at offset 8 of siginfo on every architecture: a userspace ABI */
	__s32 code = 0;
	bpf_probe_read_kernel(&code, sizeof(code), (void *)info + 8);
	*si_code = code;
	if (code == 0)
		return CW_SI_USER;
	if (code == 0x80)
		return CW_SI_KERNEL;
	if (code == -1)
		return CW_SI_QUEUE;
	if (code == -6)
		return CW_SI_TKILL;
	/* SIGILL 4, SIGTRAP 5, SIGBUS 7, SIGFPE 8, SIGSEGV 11: the faulting instruction's own */
	if (code > 0 && (sig == 4 || sig == 5 || sig == 7 || sig == 8 || sig == 11))
		return CW_SI_FAULT;
	return CW_SI_OTHER;
}

/* Only kill(2), sigqueue(3) and tkill/tgkill are sent by `current`. Every other si_code is
 * the kernel's (a timer, a child's death, a fault, the OOM killer): `current` is whoever it
 * interrupted, and naming it as the sender would accuse an innocent process. It is still
 * recorded, as the process that was running (for the OOM killer: the one allocating). */
static __always_inline bool sent_by_current(__u32 code)
{
	return code == CW_SI_USER || code == CW_SI_QUEUE || code == CW_SI_TKILL;
}

static __always_inline void fill_sender(struct cw_signal *e)
{
	struct task_struct *cur = (void *)bpf_get_current_task();
	__u64 id = bpf_get_current_pid_tgid();

	e->sender_pid = id >> 32;
	e->sender_tid = (__u32)id;
	e->sender_uid = task_uid(cur);
	e->sender_start_ns = BPF_CORE_READ(cur, group_leader, start_boottime);
	bpf_get_current_comm(e->sender_comm, sizeof(e->sender_comm));
	/* the sender's argv now: a `kill` is gone before userspace could read its /proc */
	__u8 trunc = 0;
	e->sender_argv_len = read_cur_argv(e->sender_argv, CW_SENDER_ARGV_LEN, &trunc);
	e->sender_argv_truncated = trunc;
}

SEC("raw_tp/signal_generate")
int handle_signal(struct bpf_raw_tracepoint_args *ctx)
{
	int sig = (int)ctx->args[0];
	long info = (long)ctx->args[1];
	struct task_struct *target = (void *)ctx->args[2];
	__u32 tgid = BPF_CORE_READ(target, tgid);
	__s32 si_code;

	if (!trace_all && !is_tracked(tgid))
		return 0;
	__u32 code = sigcode_class(sig, info, &si_code);
	bool by_current = sent_by_current(code);
	/* a flood is the sender's; a kernel signal has no sender, it counts against the target */
	__u32 budget_key = by_current ? bpf_get_current_pid_tgid() >> 32 : tgid;
	if (!record_budget(budget_key, BUDGET_SIGNAL, CW_EV_SIGNAL))
		return 0;

	struct cw_signal *e = reserve(CW_EV_SIGNAL, sizeof(*e));
	if (!e)
		return 0;
	__builtin_memset(&e->sig, 0, sizeof(*e) - sizeof(e->hdr) - CW_SENDER_ARGV_LEN);
	fill_hdr(&e->hdr, CW_EV_SIGNAL, sizeof(*e), target);
	e->sig = sig;
	e->group = (__u32)ctx->args[3];
	e->result = (int)ctx->args[4];
	e->code = code;
	e->si_code = si_code;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), target->comm);
	fill_sender(e);
	e->sender_kind = by_current ? CW_SENDER_PROCESS : CW_SENDER_KERNEL;
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* MM_FILEPAGES 0, MM_ANONPAGES 1, MM_SWAPENTS 2, MM_SHMEMPAGES 3. The index must be a
 * literal: CO-RE relocates rss_stat[N] with the kernel's element size, a variable index
 * would be scaled by our header's. Negative per-CPU drift reads as 0, as the kernel does. */
#define MM_COUNTER(mm, member) ({							\
	s64 __v;									\
	if (bpf_core_type_exists(struct mm_rss_stat___old)) {				\
		struct mm_struct___old *__old = (void *)(mm);				\
		__v = BPF_CORE_READ(__old, rss_stat.count[member].counter);		\
	} else {									\
		__v = BPF_CORE_READ(mm, rss_stat[member].count);			\
	}										\
	__v > 0 ? (__u64)__v : 0;							\
})

/* OOM kills of any process are recorded: they are context for what happens next */
SEC("raw_tp/mark_victim")
int handle_oom(struct bpf_raw_tracepoint_args *ctx)
{
	/* args[0] is the victim's task on 6.8+, its pid before (and only then a number) */
	bool has_task = bpf_core_field_exists(((struct trace_event_raw_mark_victim *)0)->total_vm);
	__u32 victim = has_task ? BPF_CORE_READ((struct task_struct *)ctx->args[0], tgid) : (__u32)ctx->args[0];
	struct cw_oom *e = reserve_death(CW_EV_OOM, sizeof(*e), is_tracked(victim));
	if (!e)
		return 0;
	__builtin_memset(&e->uid, 0, sizeof(*e) - sizeof(e->hdr));

	if (!has_task) {
		/* before 6.8 the tracepoint only has the pid */
		e->hdr.type = CW_EV_OOM;
		e->hdr.size = sizeof(*e);
		e->hdr.pid = (__u32)ctx->args[0];
		e->hdr.ts_ns = bpf_ktime_get_boot_ns();
		e->hdr.start_ns = 0;
		bpf_ringbuf_submit(e, 0);
		return 0;
	}
	struct task_struct *t = (void *)ctx->args[0];
	fill_hdr(&e->hdr, CW_EV_OOM, sizeof(*e), t);
	e->uid = (__u32)ctx->args[1];
	e->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), t->comm);
	fill_cgroup(&e->cgroup, t);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	if (mm) {
		e->have_mm = 1;
		e->total_vm_kb = BPF_CORE_READ(mm, total_vm) * page_kb;
		e->file_rss_kb = MM_COUNTER(mm, 0) * page_kb;
		e->anon_rss_kb = MM_COUNTER(mm, 1) * page_kb;
		e->shmem_rss_kb = MM_COUNTER(mm, 3) * page_kb;
		/* only with CONFIG_MMU */
		long pgt = bpf_core_field_exists(mm->pgtables_bytes) ? BPF_CORE_READ(mm, pgtables_bytes.counter) : 0;
		e->pgtables_kb = pgt > 0 ? (__u64)pgt >> 10 : 0;
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("raw_tp/task_rename")
int handle_rename(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (void *)ctx->args[0];
	const char *comm = (const char *)ctx->args[1];
	__u32 tgid = BPF_CORE_READ(t, tgid);

	if (!is_tracked(tgid))
		return 0;	/* even with --all: renames of untracked processes are noise */
	if ((__u32)BPF_CORE_READ(t, pid) != tgid)
		return 0;	/* thread names (Python sets them) are not the process title */
	if (!record_budget(tgid, BUDGET_RENAME, CW_EV_RENAME))
		return 0;
	struct cw_rename *e = reserve(CW_EV_RENAME, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, CW_EV_RENAME, sizeof(*e), t);
	bpf_probe_read_kernel_str(e->oldcomm, sizeof(e->oldcomm), t->comm);
	bpf_probe_read_kernel_str(e->newcomm, sizeof(e->newcomm), comm);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

#ifdef CW_MARK_TASK
/* Is the current task's process tracked? Tracking changes under a cached mark only (a) at
 * exec, which drops the mark, (b) for a new child, which has no mark yet, (c) by userspace,
 * which bumps track_gen, and (d) at death, when nothing writes any more. */
static __always_inline bool current_tracked(__u32 tgid)
{
	struct mark *m = bpf_task_storage_get(&marks, bpf_get_current_task_btf(), 0,
					      BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!m)
		return is_tracked(tgid);
	__u32 gen = (track_gen << 1) | 1;	/* never 0, the value of a new mark */
	if (m->gen != gen) {
		m->tracked = is_tracked(tgid);
		m->gen = gen;
	}
	return m->tracked;
}
#endif

/* A write to fd 1 or 2: keep its last bytes in the process's tail if it is tracked. One
 * hash lookup either way: a tracked process has its tail entry from the moment it is
 * tracked (track(), the scan), an untracked one has none (measured against `tracked` then
 * `tails`: docs/benchmarks.md). */
static __always_inline void tail_write(const char *buf, __u64 count)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
#ifdef CW_MARK_TASK
	if (!current_tracked(tgid))
		return;
#endif
	struct tail *tl = bpf_map_lookup_elem(&tails, &tgid);
	if (!tl)
		return;
	__u32 slot = tl->next & (CW_TAIL_SLOTS - 1);
	__u32 n = count > CW_TAIL_SLOT_LEN ? CW_TAIL_SLOT_LEN : count;
	__u64 dropped = tl->dropped;
	if (count > CW_TAIL_SLOT_LEN) {
		/* keep the end of a long write: a traceback's last line is the useful one */
		dropped += count - CW_TAIL_SLOT_LEN;
		buf += count - CW_TAIL_SLOT_LEN;
	}
	dropped += tl->lens[slot];
	tl->dropped = dropped > 0xffffffffULL ? 0xffffffffU : dropped;	/* saturates, never wraps */
	if (n == 0 || bpf_probe_read_user(tl->data[slot], n, buf))
		n = 0;
	tl->lens[slot] = n;
	tl->next++;
}

SEC("tp/syscalls/sys_enter_write")
int handle_write(struct trace_event_raw_sys_enter *ctx)
{
	int fd = (int)ctx->args[0];
	if (fd != 1 && fd != 2)
		return 0;
	tail_write((const char *)ctx->args[1], ctx->args[2]);
	return 0;
}

static __always_inline void exec_enter(__u64 argv)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&exec_args, &tid, &argv, BPF_ANY);
}

/* x86-64 numbers; elsewhere the loader keeps the tracepoint form (capture.c) */
#define NR_WRITE 1
#define NR_EXECVE 59
#define NR_EXECVEAT 322

/* Every syscall of the host comes here: the id compare is all most of them pay. 32-bit
 * (ia32) syscalls have other numbers; their writes are not kept. The BTF-typed form reads
 * the registers directly; the plain raw form needs a helper call per register. */
SEC("tp_btf/sys_enter")
int BPF_PROG(handle_sys_enter_btf, struct pt_regs *regs, long id)
{
#ifdef __TARGET_ARCH_x86
	if (id == NR_WRITE && raw_write) {
		unsigned long fd = regs->di;
		if (fd != 1 && fd != 2)
			return 0;
		tail_write((const char *)regs->si, regs->dx);
	} else if (id == NR_EXECVE && raw_exec) {
		exec_enter(regs->si);
	} else if (id == NR_EXECVEAT && raw_exec) {
		exec_enter(regs->dx);
	}
#endif
	return 0;
}

SEC("raw_tp/sys_enter")
int handle_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
#ifdef __TARGET_ARCH_x86
	long id = (long)ctx->args[1];
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];

	if (id == NR_WRITE && raw_write) {
		unsigned long fd = BPF_CORE_READ(regs, di);
		if (fd != 1 && fd != 2)
			return 0;
		tail_write((const char *)BPF_CORE_READ(regs, si), BPF_CORE_READ(regs, dx));
	} else if (id == NR_EXECVE && raw_exec) {
		exec_enter(BPF_CORE_READ(regs, si));
	} else if (id == NR_EXECVEAT && raw_exec) {
		exec_enter(BPF_CORE_READ(regs, dx));
	}
#endif
	return 0;
}

SEC("tp/syscalls/sys_enter_execve")
int handle_execve_enter(struct trace_event_raw_sys_enter *ctx)
{
	exec_enter(ctx->args[1]);
	return 0;
}

SEC("tp/syscalls/sys_enter_execveat")
int handle_execveat_enter(struct trace_event_raw_sys_enter *ctx)
{
	exec_enter(ctx->args[2]);
	return 0;
}

static __always_inline int exec_exit(long ret)
{
	__u32 zero = 0, tid = (__u32)bpf_get_current_pid_tgid();
	__u64 *argvp = bpf_map_lookup_elem(&exec_args, &tid);
	if (!argvp)
		return 0;
	const char *const *argv = (const char *const *)*argvp;
	bpf_map_delete_elem(&exec_args, &tid);
	if (ret >= 0)
		return 0;	/* success is reported by sched_process_exec */

	union scratch *s = bpf_map_lookup_elem(&heap, &zero);
	if (!s)
		return 0;
	__u32 off = 0;
	__u8 trunc = 0;
	for (int i = 0; i < EXEC_ARGS_MAX + 1; i++) {
		const char *arg = NULL;
		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i]) || !arg)
			break;
		if (i == EXEC_ARGS_MAX) {
			trunc = 1;	/* more arguments than we read */
			break;
		}
		if (off >= CW_ARGV_LEN) {
			trunc = 1;
			break;
		}
		/* argbuf is twice CW_ARGV_LEN, so a read at any off < CW_ARGV_LEN fits */
		long n = bpf_probe_read_user_str(&s->argbuf[off & (CW_ARGV_LEN - 1)], CW_ARGV_LEN, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (off > CW_ARGV_LEN) {
		off = CW_ARGV_LEN;
		trunc = 1;
	}
	if (!trace_all && !argv_mentions_celery(true, off))
		return 0;
	struct task_struct *t = (void *)bpf_get_current_task();
	__u32 uid = task_uid(t);
	if (!exec_fail_budget(bpf_get_current_pid_tgid() >> 32, uid))
		return 0;

	struct cw_exec_fail *e = reserve(CW_EV_EXEC_FAIL, sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, CW_EV_EXEC_FAIL, sizeof(*e), t);
	e->ppid = task_ppid(t);
	e->uid = uid;
	e->err = ret;
	e->argv_len = off;
	e->argv_truncated = trunc;
	e->_pad = 0;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_kernel(e->argv, CW_ARGV_LEN, s->argbuf);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tp/syscalls/sys_exit_execve")
int handle_execve_exit(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx->ret);
}

SEC("tp/syscalls/sys_exit_execveat")
int handle_execveat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return exec_exit(ctx->ret);
}
