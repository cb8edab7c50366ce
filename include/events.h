/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Records the BPF programs write to the ring buffer; the only header the kernel side and
 * userspace share. Fixed-width fields, explicit padding, layout pinned by _Static_assert. */
#ifndef CELERYWATCH_EVENTS_H
#define CELERYWATCH_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define CW_COMM_LEN 16
#define CW_ARGV_LEN 1024	/* exec argv bytes kept; longer is marked truncated */
#define CW_SENDER_ARGV_LEN 256	/* argv of a signal's sender */
#define CW_CGROUP_DEPTH 8	/* cgroup path components kept, deepest first */
#define CW_CGROUP_NAME_LEN 64
#define CW_TAIL_SLOTS 8		/* last writes to fd 1/2 kept per process */
#define CW_TAIL_SLOT_LEN 256	/* last bytes kept of each such write */

enum cw_event_type {
	CW_EV_EXEC = 1,
	CW_EV_EXEC_FAIL = 2,
	CW_EV_FORK = 3,
	CW_EV_EXIT = 4,
	CW_EV_SIGNAL = 5,
	CW_EV_OOM = 6,
	CW_EV_RENAME = 7,
	CW_EV_MAX,
};

/* Slots of the kernel's `lost` counters: a record type whose ring-buffer reserve failed, or
 * one of these, state the kernel could not keep. */
enum cw_drop {
	CW_DROP_TRACKED_FULL = CW_EV_MAX,	/* a process could not be tracked: map full */
	CW_DROP_TAILS_FULL,			/* a process's stderr tail could not be kept */
	CW_LOST_SLOTS,
};

/* tracked map values */
enum cw_track_flags {
	CW_TRACK_EXEC = 1,	/* Celery command line at exec */
	CW_TRACK_FORK = 2,	/* forked by a tracked process */
	CW_TRACK_SCAN = 4,	/* found by the start-up /proc scan */
};

/* si_code classes of a signal, decoded in the kernel */
enum cw_sigcode {
	CW_SI_USER = 0,		/* SI_USER: kill(2), and the parent-death signal */
	CW_SI_KERNEL = 1,	/* SI_KERNEL: the OOM killer, ... */
	CW_SI_QUEUE = 2,	/* sigqueue(3) */
	CW_SI_TKILL = 3,	/* tkill/tgkill, raise(3), abort(3) */
	CW_SI_OTHER = 4,	/* timers, SIGCHLD codes, ... */
	CW_SI_FAULT = 5,	/* a synchronous fault (SEGV/BUS/ILL/FPE/TRAP with si_code > 0) */
};

/* Common header: every record starts with it. ts_ns and start_ns are CLOCK_BOOTTIME. */
struct cw_hdr {
	__u16 type;
	__u16 size;		/* whole record, header included */
	__u32 pid;		/* tgid of the process the record is about */
	__u64 ts_ns;
	__u64 start_ns;		/* that process's start (task->start_boottime): pid + start = identity */
};

struct cw_cgroup {
	__u16 depth;		/* components filled, deepest first; path is /names[depth-1]/.../names[0] */
	__u16 truncated;	/* more ancestors than CW_CGROUP_DEPTH */
	__u32 _pad;
	char names[CW_CGROUP_DEPTH][CW_CGROUP_NAME_LEN];
};

struct cw_exec {
	struct cw_hdr hdr;
	__u32 ppid;
	__u32 uid;
	__u32 old_pid;		/* differs from pid when a non-leader thread exec'd */
	__u16 argv_len;		/* bytes in argv: NUL-separated arguments */
	__u8 argv_truncated;
	__u8 tracked;		/* enum cw_track_flags of the process after this exec (0 with --all) */
	char comm[CW_COMM_LEN];
	struct cw_cgroup cgroup;
	char argv[CW_ARGV_LEN];
};

struct cw_exec_fail {
	struct cw_hdr hdr;
	__u32 ppid;
	__u32 uid;
	__s32 err;		/* negative errno returned by execve */
	__u16 argv_len;
	__u8 argv_truncated;
	__u8 _pad;
	char comm[CW_COMM_LEN];
	char argv[CW_ARGV_LEN];
};

struct cw_fork {
	struct cw_hdr hdr;
	__u32 child_pid;
	__u32 _pad;
	__u64 child_start_ns;
	char comm[CW_COMM_LEN];
};

struct cw_exit {
	struct cw_hdr hdr;
	__u32 ppid;
	__u32 exit_code;	/* task->exit_code: status << 8 | core 0x80 | signal */
	__u64 maxrss_kb;	/* peak RSS of the process (signal->maxrss) */
	__u32 tail_dropped;	/* bytes written to fd 1/2 not kept (older than the tail) */
	__u32 _pad;
	__u16 tail_lens[CW_TAIL_SLOTS];	/* bytes used in each slot of tail, oldest first */
	char comm[CW_COMM_LEN];
	char tail[CW_TAIL_SLOTS][CW_TAIL_SLOT_LEN];
};

struct cw_signal {
	struct cw_hdr hdr;	/* pid, start_ns: the target */
	__s32 sig;
	__s32 result;		/* TRACE_SIGNAL_DELIVERED (0), IGNORED (1), ALREADY_PENDING, ... */
	__u32 code;		/* enum cw_sigcode */
	__s32 si_code;		/* raw si_code */
	__u32 group;		/* sent to the whole thread group */
	__u32 sender_pid;
	__u32 sender_tid;
	__u32 sender_uid;
	__u64 sender_start_ns;
	char comm[CW_COMM_LEN];	/* target's comm */
	char sender_comm[CW_COMM_LEN];
	__u16 sender_argv_len;
	__u8 sender_argv_truncated;
	__u8 _pad[5];
	char sender_argv[CW_SENDER_ARGV_LEN];
};

struct cw_oom {
	struct cw_hdr hdr;	/* pid, start_ns: the victim */
	__u32 uid;
	__s32 oom_score_adj;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__u32 have_mm;		/* 0: only the pid was available (old kernel or mm gone) */
	__u32 _pad;
	char comm[CW_COMM_LEN];
	struct cw_cgroup cgroup;
};

struct cw_rename {
	struct cw_hdr hdr;
	char oldcomm[CW_COMM_LEN];
	char newcomm[CW_COMM_LEN];
};

_Static_assert(sizeof(struct cw_hdr) == 24, "cw_hdr layout");
_Static_assert(sizeof(struct cw_cgroup) == 8 + CW_CGROUP_DEPTH * CW_CGROUP_NAME_LEN, "cw_cgroup layout");
_Static_assert(sizeof(struct cw_exec) % 8 == 0, "cw_exec padding");
_Static_assert(sizeof(struct cw_exec_fail) % 8 == 0, "cw_exec_fail padding");
_Static_assert(sizeof(struct cw_fork) == 24 + 16 + 16, "cw_fork layout");
_Static_assert(sizeof(struct cw_exit) % 8 == 0, "cw_exit padding");
_Static_assert(sizeof(struct cw_signal) % 8 == 0, "cw_signal padding");
_Static_assert(sizeof(struct cw_oom) % 8 == 0, "cw_oom padding");
_Static_assert(sizeof(struct cw_rename) == 24 + 32, "cw_rename layout");

#endif /* CELERYWATCH_EVENTS_H */
