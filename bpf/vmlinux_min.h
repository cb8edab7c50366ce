/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* The few kernel types celerywatch reads, declared for CO-RE: libbpf relocates every field
 * access against the running kernel's BTF, so the build never needs /sys/kernel/btf and
 * only the names below must exist in the target kernel. Kept minimal on purpose. */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s64 s64;
typedef _Bool bool;
typedef int pid_t;
typedef unsigned int uid_t;
enum { false = 0, true = 1 };

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
	BPF_MAP_TYPE_TASK_STORAGE = 29,
};

enum { BPF_ANY = 0, BPF_NOEXIST = 1, BPF_EXIST = 2 };
enum { BPF_F_NO_PREALLOC = 1 };
enum { BPF_LOCAL_STORAGE_GET_F_CREATE = 1 };

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)

typedef struct { int counter; } atomic_t;
typedef struct { long counter; } atomic_long_t;
typedef struct { unsigned int val; } kuid_t;

/* x86-64 user registers at syscall entry (raw sys_enter/sys_exit hand us a pointer) */
struct pt_regs {
	unsigned long r10;
	unsigned long dx;
	unsigned long si;
	unsigned long di;
	unsigned long orig_ax;
};

struct percpu_counter {
	s64 count;
};

/* 6.2+: rss_stat is an array of percpu_counter */
struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
	unsigned long total_vm;
	atomic_long_t pgtables_bytes;
	struct percpu_counter rss_stat[4];
};

/* before 6.2: struct mm_rss_stat { atomic_long_t count[NR_MM_COUNTERS]; } */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};
struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};

struct cred {
	kuid_t uid;
};

struct signal_struct {
	atomic_t live;		/* threads not yet in do_exit */
	unsigned long maxrss;
	short oom_score_adj;
};

struct kernfs_node {
	struct kernfs_node *__parent;	/* 6.15+ */
	const char *name;
};
struct kernfs_node___old {
	struct kernfs_node___old *parent;	/* before 6.15 */
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

struct css_set {
	struct cgroup_subsys_state *subsys[12];
	struct cgroup *dfl_cgrp;
};

enum cgroup_subsys_id {
	memory_cgrp_id = 4,
};

struct task_struct {
	unsigned int flags;
	int exit_code;
	pid_t pid;
	pid_t tgid;
	u64 start_boottime;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	const struct cred *real_cred;
	char comm[16];
	struct signal_struct *signal;
	struct mm_struct *mm;
	struct css_set *cgroups;
};

/* sched_process_exec's third argument: the exec'd file's name as given to execve (or the
 * script's interpreter path once binfmt_script has run) */
struct linux_binprm {
	const char *filename;
};

struct kernel_siginfo;

/* Only used to probe which mark_victim the kernel has (6.8+ passes the task). */
struct trace_event_raw_mark_victim {
	unsigned long total_vm;
};

#pragma clang attribute pop

/* Tracepoint record layouts from tracefs format files: a stable ABI, no relocation needed. */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long id;
	unsigned long args[6];
};

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long id;
	long ret;
};

struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

#endif /* __VMLINUX_H__ */
