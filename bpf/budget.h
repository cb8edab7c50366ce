/* SPDX-License-Identifier: GPL-2.0 OR BSD-3-Clause */
/* Flood budgets: one process (or, for failed execs, one uid) may not fill the ring buffer
 * with exec_fail, signal or rename records and crowd out everyone else's. A record over
 * budget is not written; it is counted by type (and exec_fail by uid) and userspace reports
 * the counts as `suppressed` lines. Included once, by celerywatch.bpf.c. */
#ifndef CW_BUDGET_H
#define CW_BUDGET_H

#define NS_PER_SEC 1000000000ULL

/* --flood-budget RATE:BURST, set by the loader; rate 0 turns the budgets off */
const volatile __u64 budget_rate = CW_BUDGET_RATE;
const volatile __u64 budget_burst = CW_BUDGET_BURST;

/* GCRA, the token bucket as one number: tat is the time at which the bucket would be full
 * again. A record at `now` passes if tat - now stays within (burst - 1) intervals. */
struct budget {
	__u64 tat[3];	/* enum budget_kind */
};

enum budget_kind { BUDGET_EXEC_FAIL, BUDGET_SIGNAL, BUDGET_RENAME };

/* LRU: a process gone, or quiet for long, needs no bucket; an evicted one starts full */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);	/* tgid */
	__type(value, struct budget);
} budget_proc SEC(".maps");

/* failed Celery execs per uid: a loop of fork+execve gives each try a fresh process */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);	/* uid */
	__type(value, __u64);	/* tat */
} budget_uid SEC(".maps");

/* records over budget, by record type */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CW_EV_MAX);
	__type(key, __u32);
	__type(value, __u64);
} suppressed SEC(".maps");

/* exec_fail records over budget by uid; not LRU: a count must never silently restart.
 * Beyond CW_SUPP_UIDS uids the count is only in `suppressed`. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CW_SUPP_UIDS);
	__type(key, __u32);
	__type(value, __u64);
} suppressed_uid SEC(".maps");

/* One step of the bucket at *tat. Concurrent CPUs may race on it: at worst a few extra
 * records pass, never fewer. */
static __always_inline bool gcra_pass(__u64 *tat, __u64 now, __u64 rate, __u64 burst)
{
	if (!rate || !burst)
		return true;
	__u64 interval = NS_PER_SEC / rate;
	__u64 t = *tat > now ? *tat : now;

	if (t - now > (burst - 1) * interval)
		return false;
	*tat = t + interval;
	return true;
}

static __always_inline bool proc_budget_pass(__u32 tgid, enum budget_kind kind, __u64 now)
{
	struct budget *b = bpf_map_lookup_elem(&budget_proc, &tgid);
	if (!b) {
		struct budget fresh = {};
		bpf_map_update_elem(&budget_proc, &tgid, &fresh, BPF_NOEXIST);
		b = bpf_map_lookup_elem(&budget_proc, &tgid);
		if (!b)
			return true;	/* no bucket: never lose a record for want of one */
	}
	if (kind > BUDGET_RENAME)
		return true;
	return gcra_pass(&b->tat[kind], now, budget_rate, budget_burst);
}

static __always_inline bool uid_budget_pass(__u32 uid, __u64 now)
{
	__u64 *tat = bpf_map_lookup_elem(&budget_uid, &uid);
	if (!tat) {
		__u64 zero = 0;
		bpf_map_update_elem(&budget_uid, &uid, &zero, BPF_NOEXIST);
		tat = bpf_map_lookup_elem(&budget_uid, &uid);
		if (!tat)
			return true;
	}
	return gcra_pass(tat, now, budget_rate, budget_burst);
}

static __always_inline void count_suppressed(__u32 type, __u32 uid, bool by_uid)
{
	__u64 *n = bpf_map_lookup_elem(&suppressed, &type);
	if (n)
		(*n)++;
	if (!by_uid)
		return;
	__u64 *u = bpf_map_lookup_elem(&suppressed_uid, &uid);
	if (!u) {
		__u64 zero = 0;
		bpf_map_update_elem(&suppressed_uid, &uid, &zero, BPF_NOEXIST);
		u = bpf_map_lookup_elem(&suppressed_uid, &uid);
	}
	if (u)
		__sync_fetch_and_add(u, 1);
}

/* exec_fail: the process's budget, then its uid's; over either, counted and dropped */
static __always_inline bool exec_fail_budget(__u32 tgid, __u32 uid)
{
	__u64 now = bpf_ktime_get_boot_ns();
	if (proc_budget_pass(tgid, BUDGET_EXEC_FAIL, now) && uid_budget_pass(uid, now))
		return true;
	count_suppressed(CW_EV_EXEC_FAIL, uid, true);
	return false;
}

/* signal and rename: the budget of the process the flood comes from */
static __always_inline bool record_budget(__u32 tgid, enum budget_kind kind, __u32 type)
{
	if (proc_budget_pass(tgid, kind, bpf_ktime_get_boot_ns()))
		return true;
	count_suppressed(type, 0, false);
	return false;
}

#endif /* CW_BUDGET_H */
