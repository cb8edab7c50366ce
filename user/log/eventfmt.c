/* Kernel records -> JSON lines; see eventfmt.h. */
#include "log/eventfmt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "log/eventlog.h"
#include "identity/redact.h"

/* names of the kernel's loss counters: record types, then state it could not keep */
static const char *const lost_names[CW_LOST_SLOTS] = {
	[CW_EV_EXEC] = "exec", [CW_EV_EXEC_FAIL] = "exec_fail", [CW_EV_FORK] = "fork",
	[CW_EV_EXIT] = "exit", [CW_EV_SIGNAL] = "signal", [CW_EV_OOM] = "oom",
	[CW_EV_RENAME] = "rename", [CW_DROP_TRACKED_FULL] = "tracked_map_full",
	[CW_DROP_TAILS_FULL] = "tails_map_full",
};

const char *cw_lost_name(int slot)
{
	return slot >= 0 && slot < CW_LOST_SLOTS ? lost_names[slot] : NULL;
}

static const size_t type_sizes[CW_EV_MAX] = {
	[CW_EV_EXEC] = sizeof(struct cw_exec), [CW_EV_EXEC_FAIL] = sizeof(struct cw_exec_fail),
	[CW_EV_FORK] = sizeof(struct cw_fork), [CW_EV_EXIT] = sizeof(struct cw_exit),
	[CW_EV_SIGNAL] = sizeof(struct cw_signal), [CW_EV_OOM] = sizeof(struct cw_oom),
	[CW_EV_RENAME] = sizeof(struct cw_rename),
};

/* Kernel records carry CLOCK_BOOTTIME (it counts suspend, so intervals stay true); the log
 * is wall-clock. This offset is the one place one becomes the other. */
void cw_fmt_sync_clock(struct cw_fmt *f)
{
	int64_t rt = (int64_t)cw_clock_ns(CLOCK_REALTIME);

	f->boot_to_real_ns = rt - (int64_t)cw_clock_ns(CLOCK_BOOTTIME);
}

void cw_fmt_init(struct cw_fmt *f, const char *host, bool all)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->host, sizeof(f->host), "%s", host);
	f->all = all;
	long hz = sysconf(_SC_CLK_TCK);
	f->ns_per_tick = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
	cw_fmt_sync_clock(f);
}

uint64_t cw_fmt_pstart(const struct cw_fmt *f, uint64_t start_ns)
{
	return start_ns / f->ns_per_tick;
}

uint64_t cw_fmt_realtime(const struct cw_fmt *f, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + f->boot_to_real_ns);
}

const char *cw_signame(int sig, char *buf, size_t len)
{
	const char *abbrev = sig > 0 && sig < SIGRTMIN ? sigabbrev_np(sig) : NULL;
	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, len, "SIG%d", sig);
	return buf;
}

void cw_cgroup_path(const struct cw_cgroup *cg, char *out, size_t len)
{
	size_t pos = 0;
	int depth = cg->depth > CW_CGROUP_DEPTH ? CW_CGROUP_DEPTH : cg->depth;

	out[0] = '\0';
	if (cg->truncated)
		pos += (size_t)snprintf(out, len, "/...");
	for (int i = depth - 1; i >= 0 && pos < len; i--)
		pos += (size_t)snprintf(out + pos, len - pos, "/%.*s", CW_CGROUP_NAME_LEN, cg->names[i]);
	if (out[0] == '\0')
		snprintf(out, len, "/");
}

static void begin(struct cw_fmt *f, struct jw *w, const char *type, const struct cw_hdr *h)
{
	cw_line_begin(w, type, cw_fmt_realtime(f, h->ts_ns), h->pid);
	if (h->start_ns)
		jw_uint(w, "pstart", cw_fmt_pstart(f, h->start_ns));
	else
		jw_null(w, "pstart");
}

static void comm_field(struct jw *w, const char *key, const char *comm)
{
	jw_strn(w, key, comm, strnlen(comm, CW_COMM_LEN));
}

/* argv as an array, with URL passwords (`-b redis://:secret@host`) replaced by ***; argv the
 * kernel cut may end inside a password, which the truncated rule hides from "://" on */
static void argv_field(struct jw *w, const char *buf, size_t len, bool truncated)
{
	char clean[2 * CW_ARGV_LEN + 16];
	size_t n = truncated ? cw_redact_argbuf_truncated(buf, len, clean, sizeof(clean)) :
			       cw_redact_argbuf(buf, len, clean, sizeof(clean));
	jw_argv(w, "argv", clean, n);
}

static void worker_fields(struct jw *w, const struct cw_identity *id)
{
	jw_str(w, "worker", id ? id->worker : NULL);
	if (id && id->queues) {
		jw_arr_begin(w, "queues");
		for (size_t i = 0; i < id->nqueues; i++)
			jw_str(w, NULL, id->queues[i]);
		jw_arr_end(w);
	} else {
		jw_null(w, "queues");
	}
	jw_str(w, "role", id && id->role ? id->role : "other");
}

static void int_or_null(struct jw *w, const char *key, long v)
{
	if (v < 0)
		jw_null(w, key);
	else
		jw_int(w, key, v);
}

static void command_fields(struct jw *w, const struct cw_identity *id)
{
	int_or_null(w, "concurrency", id->concurrency);
	jw_str(w, "pool", id->pool);
	int_or_null(w, "max_tasks_per_child", id->max_tasks_per_child);
	jw_str(w, "app", id->app);
	jw_str(w, "command", id->command);
}

/* Queues of a worker identity, offered to the broker sampler */
static void offer_queues(const struct cw_identity *id, const char **newq, size_t *nnew)
{
	for (size_t i = 0; id->queues && i < id->nqueues && *nnew < CW_FMT_MAX_NEWQ; i++)
		newq[(*nnew)++] = id->queues[i];
}

/* What exec and exec_fail lines share after the header: who ran what */
static void exec_fields(struct jw *w, uint32_t ppid, uint32_t uid, const char *comm,
			const char *argv, size_t len, bool truncated)
{
	jw_uint(w, "ppid", ppid);
	jw_uint(w, "uid", uid);
	comm_field(w, "comm", comm);
	argv_field(w, argv, len, truncated);
	jw_bool(w, "argv_truncated", truncated);
}

/* The table's entry for pid, now holding (a copy of) id; NULL when out of memory */
static struct cw_pentry *remember(struct cw_ptable *t, uint32_t pid, uint64_t pstart,
				  const struct cw_identity *id)
{
	struct cw_pentry *pe = cw_ptable_put(t, pid, pstart);

	if (pe) {
		cw_identity_free(&pe->id);
		cw_identity_copy(&pe->id, id);
	}
	return pe;
}

static void parse_identity(struct cw_fmt *f, struct cw_identity *id, const char *buf, size_t len)
{
	char **argv = NULL;
	size_t argc = cw_split_nul(buf, len, &argv);
	cw_identity_init(id);
	cw_identity_from_argv(id, (const char *const *)argv, argc, f->host);
	cw_free_argv(argv);
}

/* A Celery process the kernel could not follow (tracked map full): no exit will come */
static void untracked_field(struct jw *w, uint32_t flags)
{
	if (flags & CW_TRACK_FULL)
		jw_str(w, "untracked", "map_full");
}

static void fmt_exec(struct cw_fmt *f, struct cw_ptable *t, const struct cw_exec *e, struct jw *w,
		     const char **newq, size_t *nnew)
{
	uint64_t pstart = cw_fmt_pstart(f, e->hdr.start_ns);
	size_t len = e->argv_len > CW_ARGV_LEN ? CW_ARGV_LEN : e->argv_len;
	struct cw_identity id;
	char cg[CW_CGROUP_DEPTH * (CW_CGROUP_NAME_LEN + 1) + 8];

	parse_identity(f, &id, e->argv, len);
	struct cw_pentry *pe = cw_ptable_get(t, e->hdr.pid);
	if (!id.is_celery && pe && pe->pstart == pstart) {
		/* a worker's child ran another program: it keeps its worker, as "other" */
		cw_identity_free(&id);
		cw_identity_copy(&id, &pe->id);
		id.role = "other";
	}
	struct cw_pentry *stored = NULL;
	if (e->tracked && !(e->tracked & CW_TRACK_FULL))
		stored = remember(t, e->hdr.pid, pstart, &id);
	else if (pe)
		cw_ptable_del(t, e->hdr.pid);	/* the kernel stopped following it */

	begin(f, w, "exec", &e->hdr);
	exec_fields(w, e->ppid, e->uid, e->comm, e->argv, len, e->argv_truncated);
	cw_cgroup_path(&e->cgroup, cg, sizeof(cg));
	jw_str(w, "cgroup", cg);
	size_t elen = strnlen(e->exe, CW_EXE_LEN);
	if (elen)
		jw_strn(w, "exe", e->exe, elen);
	else
		jw_null(w, "exe");
	if (e->old_pid != e->hdr.pid)
		jw_uint(w, "old_tid", e->old_pid);
	untracked_field(w, e->tracked);
	worker_fields(w, &id);
	command_fields(w, &id);
	jw_end(w);
	if (stored && stored->id.worker)
		offer_queues(&stored->id, newq, nnew);
	cw_identity_free(&id);
}

static void fmt_exec_fail(struct cw_fmt *f, const struct cw_exec_fail *e, struct jw *w)
{
	size_t len = e->argv_len > CW_ARGV_LEN ? CW_ARGV_LEN : e->argv_len;
	struct cw_identity id;
	const char *name = strerrorname_np(-e->err);

	parse_identity(f, &id, e->argv, len);
	begin(f, w, "exec_fail", &e->hdr);
	exec_fields(w, e->ppid, e->uid, e->comm, e->argv, len, e->argv_truncated);
	jw_str(w, "errno", name ? name : "E?");
	jw_int(w, "err", -e->err);
	worker_fields(w, &id);
	command_fields(w, &id);
	jw_end(w);
	cw_identity_free(&id);
}

static void fmt_fork(struct cw_fmt *f, struct cw_ptable *t, const struct cw_fork *e, struct jw *w)
{
	struct cw_pentry *parent = cw_ptable_get(t, e->hdr.pid);
	uint64_t child_pstart = cw_fmt_pstart(f, e->child_start_ns);
	struct cw_identity id;

	cw_identity_init(&id);
	if (parent) {
		cw_identity_copy(&id, &parent->id);
		/* prefork: a worker's MainProcess forks its pool; --detach forks the real worker.
		 * A pool process' child is a task's subprocess: other, keeping its worker. */
		if (parent->id.role && !strcmp(parent->id.role, "main") && !parent->id.detach)
			id.role = "pool";
		else if (parent->id.role && !strcmp(parent->id.role, "pool"))
			id.role = "other";
		if (!(e->tracked & CW_TRACK_FULL))
			remember(t, e->child_pid, child_pstart, &id);
	}
	cw_line_begin(w, "fork", cw_fmt_realtime(f, e->hdr.ts_ns), e->child_pid);
	jw_uint(w, "pstart", child_pstart);
	jw_uint(w, "ppid", e->hdr.pid);
	jw_uint(w, "parent_pstart", cw_fmt_pstart(f, e->hdr.start_ns));
	comm_field(w, "comm", e->comm);
	untracked_field(w, e->tracked);
	worker_fields(w, parent ? &id : NULL);
	jw_end(w);
	cw_identity_free(&id);
}

/* The last writes to fd 1/2, oldest slot first, redacted; null when there were none */
static void tail_field(struct jw *w, const struct cw_exit *e)
{
	char tail[CW_TAIL_SLOTS * CW_TAIL_SLOT_LEN];
	char clean[2 * sizeof(tail) + 16];
	size_t pos = 0;

	for (int i = 0; i < CW_TAIL_SLOTS; i++) {
		size_t n = e->tail_lens[i] > CW_TAIL_SLOT_LEN ? CW_TAIL_SLOT_LEN : e->tail_lens[i];
		memcpy(tail + pos, e->tail[i], n);
		pos += n;
	}
	if (!pos) {
		jw_null(w, "stderr_tail");
		return;
	}
	jw_strn(w, "stderr_tail", clean, cw_redact_words(tail, pos, clean, sizeof(clean)));
}

/* --tail-window: whether the write hook was attached at the death; if not, for how long it
 * had been off (the tail may then lack the last writes) */
static void watched_fields(const struct cw_fmt *f, struct jw *w, uint64_t ts_ns)
{
	bool watched;
	uint64_t off_ns;

	if (!f->tail_watched || !f->tail_watched(f->tail_ctx, ts_ns, &watched, &off_ns))
		return;
	jw_bool(w, "stderr_watched", watched);
	if (!watched)
		jw_double(w, "stderr_unwatched_s", (double)off_ns / 1e9, 3);
}

static void fmt_exit(struct cw_fmt *f, struct cw_ptable *t, const struct cw_exit *e, struct jw *w)
{
	struct cw_pentry *pe = cw_ptable_get(t, e->hdr.pid);
	int sig = e->exit_code & 0x7f;
	char name[32];

	begin(f, w, "exit", &e->hdr);
	jw_uint(w, "ppid", e->ppid);
	comm_field(w, "comm", e->comm);
	if (sig) {
		jw_null(w, "exit_code");
		jw_str(w, "signal", cw_signame(sig, name, sizeof(name)));
	} else {
		jw_int(w, "exit_code", (e->exit_code >> 8) & 0xff);
		jw_null(w, "signal");
	}
	jw_bool(w, "core_dumped", e->exit_code & 0x80);
	if (e->hdr.start_ns && e->hdr.ts_ns >= e->hdr.start_ns)
		jw_double(w, "lifetime_s", (double)(e->hdr.ts_ns - e->hdr.start_ns) / 1e9, 3);
	else
		jw_null(w, "lifetime_s");
	jw_uint(w, "maxrss_kb", e->maxrss_kb);

	tail_field(w, e);
	jw_uint(w, "stderr_dropped", e->tail_dropped);
	watched_fields(f, w, e->hdr.ts_ns);
	worker_fields(w, pe && pe->pstart == cw_fmt_pstart(f, e->hdr.start_ns) ? &pe->id : NULL);
	jw_end(w);
	if (pe)
		cw_ptable_del(t, e->hdr.pid);
}

static const char *code_name(uint32_t code)
{
	static const char *const names[] = {"user", "kernel", "queue", "tkill", "other", "fault"};
	return code < sizeof(names) / sizeof(names[0]) ? names[code] : "other";
}

static const char *result_name(int result)
{
	static const char *const names[] = {"delivered", "ignored", "already_pending", "overflow_fail", "lose_info"};
	return result >= 0 && result < 5 ? names[result] : "unknown";
}

/* The sender's arguments twice: "cmdline" joined by spaces, as ps shows them, and "argv" */
static void sender_args(struct jw *w, const struct cw_signal *e)
{
	size_t raw = e->sender_argv_len > CW_SENDER_ARGV_LEN ? CW_SENDER_ARGV_LEN : e->sender_argv_len;
	char argv[2 * CW_SENDER_ARGV_LEN + 16], cmdline[sizeof(argv) + 4];
	size_t alen = e->sender_argv_truncated ?
		      cw_redact_argbuf_truncated(e->sender_argv, raw, argv, sizeof(argv)) :
		      cw_redact_argbuf(e->sender_argv, raw, argv, sizeof(argv));
	size_t clen = alen;

	memcpy(cmdline, argv, clen);
	while (clen && cmdline[clen - 1] == '\0')
		clen--;
	for (size_t i = 0; i < clen; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	if (e->sender_argv_truncated)
		memcpy(cmdline + clen, "...", 3), clen += 3;
	jw_strn(w, "cmdline", cmdline, clen);
	/* setproctitle pads a title with NULs: they are not empty arguments */
	while (alen > 1 && argv[alen - 1] == '\0' && argv[alen - 2] == '\0')
		alen--;
	jw_argv(w, "argv", argv, alen);
}

static void sender_fields(struct cw_fmt *f, struct jw *w, const struct cw_signal *e)
{
	jw_uint(w, "pid", e->sender_pid);
	jw_uint(w, "tid", e->sender_tid);
	comm_field(w, "comm", e->sender_comm);
	jw_uint(w, "uid", e->sender_uid);
	sender_args(w, e);
	jw_uint(w, "pstart", cw_fmt_pstart(f, e->sender_start_ns));
}

/* Why the kernel generated a signal, from its si_code (include/uapi/asm-generic/siginfo.h) */
const char *cw_kernel_signal_reason(int sig, uint32_t code, int32_t si_code)
{
	if (code == CW_SI_KERNEL)
		return "kernel";	/* SI_KERNEL: the OOM killer, a tty hangup, ... */
	if (code == CW_SI_FAULT)
		return "fault";
	if (si_code == -2)
		return "timer";		/* SI_TIMER: POSIX timers, setitimer, alarm */
	if (sig == SIGCHLD && si_code >= 1 && si_code <= 6)
		return "sigchld";	/* CLD_EXITED ... CLD_CONTINUED: a child's state changed */
	if (si_code == -5 || sig == SIGIO)
		return "sigio";
	if (si_code == -3)
		return "mqueue";
	if (si_code == -4)
		return "asyncio";
	return "other";
}

static void fmt_signal(struct cw_fmt *f, struct cw_ptable *t, const struct cw_signal *e, struct jw *w)
{
	struct cw_pentry *pe = cw_ptable_get(t, e->hdr.pid);
	char name[32];

	begin(f, w, "signal", &e->hdr);
	comm_field(w, "comm", e->comm);
	jw_str(w, "signal", cw_signame(e->sig, name, sizeof(name)));
	jw_int(w, "signo", e->sig);
	jw_str(w, "code", code_name(e->code));
	jw_int(w, "si_code", e->si_code);
	jw_str(w, "result", result_name(e->result));
	jw_bool(w, "group", e->group);
	jw_obj_begin(w, "sender");
	if (e->sender_kind == CW_SENDER_KERNEL) {
		/* not a sender: the process the kernel interrupted (the OOM killer: the allocator) */
		jw_str(w, "kind", "kernel");
		jw_str(w, "reason", cw_kernel_signal_reason(e->sig, e->code, e->si_code));
		if (e->sender_pid) {
			jw_obj_begin(w, "running");
			sender_fields(f, w, e);
			jw_obj_end(w);
		}
	} else {
		jw_str(w, "kind", "process");
		sender_fields(f, w, e);
	}
	jw_obj_end(w);
	worker_fields(w, pe ? &pe->id : NULL);
	jw_end(w);
}

static void fmt_oom(struct cw_fmt *f, struct cw_ptable *t, const struct cw_oom *e, struct jw *w)
{
	struct cw_pentry *pe = cw_ptable_get(t, e->hdr.pid);
	char cg[CW_CGROUP_DEPTH * (CW_CGROUP_NAME_LEN + 1) + 8];

	struct cw_hdr h = e->hdr;
	if (!h.start_ns && pe)	/* before 6.8 the kernel gives only the pid: we know the rest */
		h.start_ns = pe->pstart * f->ns_per_tick;
	begin(f, w, "oom", &h);
	if (e->have_mm) {
		comm_field(w, "comm", e->comm);
		jw_uint(w, "uid", e->uid);
		jw_uint(w, "total_vm_kb", e->total_vm_kb);
		jw_uint(w, "anon_rss_kb", e->anon_rss_kb);
		jw_uint(w, "file_rss_kb", e->file_rss_kb);
		jw_uint(w, "shmem_rss_kb", e->shmem_rss_kb);
		jw_uint(w, "pgtables_kb", e->pgtables_kb);
		jw_int(w, "oom_score_adj", e->oom_score_adj);
		cw_cgroup_path(&e->cgroup, cg, sizeof(cg));
		jw_str(w, "cgroup", cg);
	} else {
		static const char *const absent[] = {"comm", "uid", "total_vm_kb", "anon_rss_kb", "file_rss_kb",
						     "shmem_rss_kb", "pgtables_kb", "oom_score_adj", "cgroup"};
		for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++)
			jw_null(w, absent[i]);
	}
	jw_bool(w, "tracked", pe != NULL);
	worker_fields(w, pe ? &pe->id : NULL);
	jw_end(w);
}

/* A rename is setproctitle at work. The beat child of `worker -B` is forked like a pool
 * process and only its new name, "[celery beat]", says what it is. The name is enough:
 * reading /proc here would take the process's mmap lock and could stall the ring buffer's
 * consumer behind a process under memory pressure. */
static void refine_from_comm(struct cw_pentry *pe, const char *comm)
{
	if (!strncmp(comm, "[celery beat]", 13) && pe->id.is_celery)
		pe->id.role = CW_ROLE_BEAT;
}

static void fmt_rename(struct cw_fmt *f, struct cw_ptable *t, const struct cw_rename *e, struct jw *w)
{
	struct cw_pentry *pe = cw_ptable_get(t, e->hdr.pid);
	if (pe && pe->pstart == cw_fmt_pstart(f, e->hdr.start_ns))
		refine_from_comm(pe, e->newcomm);
	begin(f, w, "rename", &e->hdr);
	comm_field(w, "oldcomm", e->oldcomm);
	comm_field(w, "comm", e->newcomm);
	worker_fields(w, pe ? &pe->id : NULL);
	jw_end(w);
}

int cw_fmt_record(struct cw_fmt *f, struct cw_ptable *t, const void *data, size_t size, struct jw *w,
		  const char **newq, size_t *nnew)
{
	const struct cw_hdr *h = data;

	*nnew = 0;
	if (size < sizeof(*h) || h->type == 0 || h->type >= CW_EV_MAX || size < type_sizes[h->type] ||
	    h->size != type_sizes[h->type]) {
		f->malformed++;
		return -EINVAL;
	}
	switch (h->type) {
	case CW_EV_EXEC: fmt_exec(f, t, data, w, newq, nnew); break;
	case CW_EV_EXEC_FAIL: fmt_exec_fail(f, data, w); break;
	case CW_EV_FORK: fmt_fork(f, t, data, w); break;
	case CW_EV_EXIT: fmt_exit(f, t, data, w); break;
	case CW_EV_SIGNAL: fmt_signal(f, t, data, w); break;
	case CW_EV_OOM: fmt_oom(f, t, data, w); break;
	case CW_EV_RENAME: fmt_rename(f, t, data, w); break;
	}
	return 0;
}

void cw_fmt_scan(struct cw_fmt *f, struct cw_ptable *t, const struct cw_proc *p, bool untracked, struct jw *w,
		 const char **newq, size_t *nnew)
{
	struct cw_pentry *pe = untracked ? NULL : remember(t, (uint32_t)p->pid, p->pstart, &p->id);

	(void)f;	/* /proc times are already wall-clock and ticks */
	*nnew = 0;
	cw_line_begin(w, "scan", cw_clock_ns(CLOCK_REALTIME), (uint32_t)p->pid);
	jw_uint(w, "pstart", p->pstart);
	jw_int(w, "ppid", p->ppid);
	jw_uint(w, "uid", p->uid);
	jw_str(w, "comm", p->comm);
	jw_arr_begin(w, "argv");
	for (size_t i = 0; i < p->argc; i++) {
		size_t n = strlen(p->argv[i]);
		char *clean = malloc(2 * n + 16);
		/* a setproctitle title is the command line joined by spaces: one word at a time */
		if (clean)
			jw_strn(w, NULL, clean, p->id.from_title ?
				cw_redact_words(p->argv[i], n, clean, 2 * n + 16) :
				cw_redact_arg(p->argv[i], n, clean, 2 * n + 16));
		else
			jw_str(w, NULL, "");
		free(clean);
	}
	jw_arr_end(w);
	jw_bool(w, "title", p->id.from_title);
	jw_str(w, "cgroup", p->cgroup);
	jw_str(w, "exe", p->exe);
	untracked_field(w, untracked ? CW_TRACK_FULL : 0);
	worker_fields(w, &p->id);
	command_fields(w, &p->id);
	jw_end(w);
	if (pe && pe->id.worker)
		offer_queues(&pe->id, newq, nnew);
}

void cw_fmt_lost(struct cw_fmt *f, struct jw *w, const uint64_t *by_type, const uint64_t *prev, uint64_t total)
{
	uint64_t count = 0;

	(void)f;
	for (int i = 0; i < CW_LOST_SLOTS; i++)
		count += by_type[i] - prev[i];
	cw_line_begin(w, "lost", cw_clock_ns(CLOCK_REALTIME), (uint32_t)getpid());
	jw_uint(w, "count", count);
	jw_obj_begin(w, "by_type");
	for (int i = 1; i < CW_LOST_SLOTS; i++)
		if (by_type[i] != prev[i])
			jw_uint(w, lost_names[i], by_type[i] - prev[i]);
	jw_obj_end(w);
	jw_uint(w, "total", total);
	jw_end(w);
}
