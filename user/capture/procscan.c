/* Start-up scan of /proc for Celery processes already running (record, status).
 * Processes come and go while we read: vanishing is normal and never an error. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/procscan.h"
#include "common/grow.h"

#define MAX_PROC_FILE (16u << 20)	/* cmdline is bounded by ARG_MAX; be generous, not unbounded */

/* Whole file at dirfd/name into a malloc'd NUL-terminated buffer. 0 or -errno. */
static int read_at(int dirfd, const char *name, char **out, size_t *lenp)
{
	size_t len = 0, cap = 4096;
	char *buf = NULL;
	int fd, err = 0;

	*out = NULL;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (cap - len < 2) {
			char *nb = cap < MAX_PROC_FILE ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				err = cap < MAX_PROC_FILE ? -ENOMEM : -EFBIG;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	buf[len] = '\0';
	*out = buf;
	if (lenp)
		*lenp = len;
	return 0;
}

/*
 * stat: "pid (comm) state ppid ... starttime ...". comm may hold spaces and ')', so the
 * fields are counted from the LAST ')': the token after it is field 3 (state).
 */
static int parse_stat(const char *buf, int *ppid, unsigned long long *pstart, char *comm, size_t commsz)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')'), *p;
	unsigned long long v;
	char *end;

	if (!open || !close || close < open)
		return -EINVAL;
	size_t n = (size_t)(close - open - 1);

	if (n >= commsz)
		n = commsz - 1;
	memcpy(comm, open + 1, n);
	comm[n] = '\0';
	p = close + 1;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p)
			return -EINVAL;
		if (field == 4 || field == 22) {
			errno = 0;
			v = strtoull(p, &end, 10);
			if (end == p || errno || (*end != ' ' && *end != '\n' && *end))
				return -EINVAL;
			if (field == 4) {
				if (v > INT_MAX)
					return -EINVAL;
				*ppid = (int)v;
			} else {
				*pstart = v;
			}
		}
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

/* status: "Uid:\treal\teffective\tsaved\tfs" */
static int parse_uid(const char *buf, unsigned *uid)
{
	const char *p = strstr(buf, "\nUid:");
	unsigned long v;
	char *end;

	if (!strncmp(buf, "Uid:", 4))
		p = buf;
	else if (p)
		p++;
	else
		return -EINVAL;
	p += 4;
	errno = 0;
	v = strtoul(p, &end, 10);
	if (end == p || errno || v > UINT_MAX)
		return -EINVAL;
	*uid = (unsigned)v;
	return 0;
}

/*
 * cgroup: "hierarchy:controllers:path" lines. The memory controller's line on a cgroup v1
 * (or hybrid) host is the one OOM kills are about; otherwise the unified "0::" line.
 */
static char *pick_cgroup(char *buf)
{
	const char *memory = NULL, *unified = NULL;
	char *save = NULL;

	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;

		if (!c2)
			continue;
		*c2 = '\0';
		if (!strcmp(line, "0:") && c2 == c1 + 1) {
			unified = c2 + 1;
			continue;
		}
		for (char *tok = c1 + 1; tok && *tok;) {
			char *comma = strchr(tok, ',');
			size_t n = comma ? (size_t)(comma - tok) : strlen(tok);

			if (n == 6 && !strncmp(tok, "memory", 6))
				memory = c2 + 1;
			tok = comma ? comma + 1 : NULL;
		}
	}
	if (memory)
		return strdup(memory);
	return unified ? strdup(unified) : NULL;
}

/* root/PID as a directory fd, or -errno. The fd pins this process: if it exits and the pid
 * is reused while we read, reads through the fd fail with ESRCH instead of mixing two
 * processes' files. */
static int open_pid_dir(const char *root, int pid)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%d", root, pid) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -errno : dfd;
}

/* The executable (readlink of exe under dfd, "... (deleted)" as the kernel says it), or NULL
 * when it cannot be read (a kernel thread, a process gone). */
static char *read_exe(int dfd)
{
	char buf[4096];
	ssize_t n = readlinkat(dfd, "exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	return strdup(buf);
}

int cw_proc_read(const char *root, int pid, const char *hostname, struct cw_proc *p)
{
	char *buf = NULL;
	size_t len = 0;
	int dfd, err;

	memset(p, 0, sizeof(*p));
	cw_identity_init(&p->id);
	p->pid = pid;
	if ((dfd = open_pid_dir(root, pid)) < 0)
		return dfd;

	err = read_at(dfd, "stat", &buf, NULL);
	if (!err)
		err = parse_stat(buf, &p->ppid, &p->pstart, p->comm, sizeof(p->comm));
	free(buf);
	if (err)
		goto fail;

	err = read_at(dfd, "cmdline", &buf, &len);
	if (err)
		goto fail;
	p->argc = cw_split_nul(buf, len, &p->argv);
	free(buf);
	if (!p->argv) {
		err = -ENOMEM;
		goto fail;
	}

	/* the comm file, as asked; stat's copy (already in p->comm) if it cannot be read */
	if (!read_at(dfd, "comm", &buf, &len)) {
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		snprintf(p->comm, sizeof(p->comm), "%s", buf);
		free(buf);
	}

	err = read_at(dfd, "status", &buf, NULL);
	if (!err)
		err = parse_uid(buf, &p->uid);
	free(buf);
	if (err)
		goto fail;

	if (!read_at(dfd, "cgroup", &buf, NULL)) {
		p->cgroup = pick_cgroup(buf);
		free(buf);
	}

	err = cw_identity_from_argv(&p->id, (const char *const *)p->argv, p->argc, hostname);
	if (err)
		goto fail;
	if (p->id.is_celery)
		p->exe = read_exe(dfd);
	/* setproctitle pads the old argv area with NULs: not arguments */
	if (p->id.from_title) {
		while (p->argc > 1 && !p->argv[p->argc - 1][0]) {
			free(p->argv[--p->argc]);
			p->argv[p->argc] = NULL;
		}
	}
	close(dfd);
	return 0;
fail:
	close(dfd);
	cw_proc_free(p);
	p->pid = pid;
	return err;
}

/* ---------------------------------------------------------------- the scan */

struct procs {
	struct cw_proc *v;
	size_t n, cap;
};

static int by_pid(const void *a, const void *b)
{
	const struct cw_proc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct cw_proc *find(struct procs *ps, int pid)
{
	struct cw_proc key = { .pid = pid };

	return bsearch(&key, ps->v, ps->n, sizeof(*ps->v), by_pid);
}

static bool same_argv(const struct cw_proc *a, const struct cw_proc *b)
{
	if (a->argc != b->argc)
		return false;
	for (size_t i = 0; i < a->argc; i++)
		if (strcmp(a->argv[i], b->argv[i]))
			return false;
	return true;
}

static bool is_worker_main(const struct cw_identity *id)
{
	return !strcmp(id->role, CW_ROLE_MAIN) && id->command && !strcmp(id->command, "worker");
}

static bool same_str(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

static int dup_if_unset(char **dst, const char *src)
{
	if (*dst || !src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* a pool child's title names only its node; the worker's options are its MainProcess' */
static int inherit(struct cw_identity *c, const struct cw_identity *m)
{
	if (!c->queues && m->queues) {
		c->queues = calloc(m->nqueues + 1, sizeof(*c->queues));
		if (!c->queues)
			return -ENOMEM;
		for (size_t i = 0; i < m->nqueues; i++) {
			c->queues[i] = strdup(m->queues[i]);
			if (!c->queues[i])
				return -ENOMEM;
			c->nqueues = i + 1;
		}
	}
	if (c->concurrency < 0)
		c->concurrency = m->concurrency;
	if (c->max_tasks_per_child < 0)
		c->max_tasks_per_child = m->max_tasks_per_child;
	if (c->max_memory_per_child_kb < 0)
		c->max_memory_per_child_kb = m->max_memory_per_child_kb;
	if (dup_if_unset(&c->worker, m->worker) || dup_if_unset(&c->app, m->app) ||
	    dup_if_unset(&c->pool, m->pool) || dup_if_unset(&c->loglevel, m->loglevel))
		return -ENOMEM;
	/* not --pidfile/--logfile: the pidfile is the MainProcess' own, and a child's logfile
	 * differs when it has %i/%I */
	return 0;
}

/* Roles a single process cannot tell; see procscan.h. Decisions use the roles as read
 * (was_main), so a refined child never becomes a parent of another refinement. */
static int refine(struct procs *ps)
{
	bool *was_main = calloc(ps->n + 1, sizeof(*was_main));
	int err = 0;

	if (!was_main)
		return -ENOMEM;
	for (size_t i = 0; i < ps->n; i++)
		was_main[i] = is_worker_main(&ps->v[i].id);
	for (size_t i = 0; i < ps->n && !err; i++) {
		struct cw_proc *c = &ps->v[i], *m = find(ps, c->ppid);

		if (!m || m == c || !was_main[m - ps->v])
			continue;
		struct cw_identity *cid = &c->id;
		const struct cw_identity *mid = &m->id;

		if (was_main[i] && !cid->from_title &&
		    (same_argv(c, m) || (mid->from_title && same_str(cid->worker, mid->worker))))
			cid->role = CW_ROLE_POOL;
		if (!strcmp(cid->role, CW_ROLE_POOL) && (!cid->worker || same_str(cid->worker, mid->worker)))
			err = inherit(cid, mid);
		else if (!strcmp(cid->role, CW_ROLE_BEAT) && cid->from_title && cid->beat_embedded)
			err = dup_if_unset(&cid->worker, mid->worker) | dup_if_unset(&cid->app, mid->app);
	}
	free(was_main);
	return err;
}

/* A zombie has exited (its exit hook has run); a task with PF_EXITING (0x4 in stat's
 * field 9, flags) is in do_exit, and its exit hook may have run already: as good as gone.
 * PF_EXITING is set before the sched_process_exit tracepoint fires, so a process read
 * without it after the map had its pid will find its pid there when it dies. */
static bool stat_exiting(const char *buf)
{
	const char *p = strrchr(buf, ')');
	unsigned long flags;
	char state;

	if (!p || sscanf(p + 1, " %c %*d %*d %*d %*d %*d %lu", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || state == 'x' || (flags & 0x4);
}

int cw_proc_pstart(const char *root, int pid, unsigned long long *pstart)
{
	char comm[17], *buf = NULL;
	int dfd, ppid, err;

	if ((dfd = open_pid_dir(root, pid)) < 0)
		return dfd;
	err = read_at(dfd, "stat", &buf, NULL);
	if (!err)
		err = parse_stat(buf, &ppid, pstart, comm, sizeof(comm));
	if (!err && stat_exiting(buf))
		err = -ESRCH;
	free(buf);
	close(dfd);
	return err;
}

/* pids listed by a pass, sorted afterwards: the next pass reads only the others */
struct pidlist {
	int *v;
	size_t n, cap;
};

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool listed(const struct pidlist *l, int pid)
{
	return l->n && bsearch(&pid, l->v, l->n, sizeof(int), cmp_int);
}

/* Read one /proc pid into the next slot of ps if it is a Celery process. 0, or -ENOMEM. */
static int take_pid(const char *root, const char *hostname, const struct cw_scan_cbs *cbs,
		    struct procs *ps, int pid)
{
	if (cw_grow_from((void **)&ps->v, &ps->cap, ps->n + 1, sizeof(*ps->v), 64))
		return -ENOMEM;
	struct cw_proc *p = &ps->v[ps->n];

	/* vanished, unreadable (hidepid, EACCES): skip; ENOMEM ends the scan */
	int err = cw_proc_read(root, pid, hostname, p);

	if (err)
		return err == -ENOMEM ? err : 0;
	if (!p->argc || !p->id.is_celery || (cbs && cbs->found && !cbs->found(p, cbs->ctx))) {
		cw_proc_free(p);	/* kernel threads, zombies, the rest, the gone */
		return 0;
	}
	ps->n++;
	return 0;
}

/* One walk of root: every pid not listed by the previous pass (prev) is read; the pids of
 * this walk are added to now. Returns 0, or -errno. */
static int scan_pass(const char *root, const char *hostname, const struct cw_scan_cbs *cbs,
		     struct procs *ps, const struct pidlist *prev, struct pidlist *now)
{
	struct dirent *de;
	DIR *d = opendir(root);
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d))) {
		char *end;
		long pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (*end || errno || pid <= 0 || pid > INT_MAX || listed(prev, (int)pid))
			continue;
		if (cw_grow_from((void **)&now->v, &now->cap, now->n + 1, sizeof(int), 64))
			ret = -ENOMEM;
		else
			now->v[now->n++] = (int)pid;
		if (!ret)
			ret = take_pid(root, hostname, cbs, ps, (int)pid);
	}
	closedir(d);
	if (now->n)	/* v is NULL when nothing was listed: qsort's pointer must not be */
		qsort(now->v, now->n, sizeof(int), cmp_int);
	return ret;
}

/* With a found callback the recorder tracks each process as it is read. A process forked by
 * one of them after the walk listed /proc and before its parent was tracked is in neither:
 * a second walk, reading only pids the first did not list, picks those up (their own
 * children are then followed by the kernel). */
int cw_procscan(const char *root, const char *hostname, const struct cw_scan_cbs *cbs)
{
	struct procs ps = { 0 };
	struct pidlist none = { 0 }, first = { 0 }, second = { 0 };
	int ret = scan_pass(root, hostname, cbs, &ps, &none, &first);

	if (!ret && cbs && cbs->found && scan_pass(root, hostname, cbs, &ps, &first, &second) == -ENOMEM)
		ret = -ENOMEM;	/* the second walk failing otherwise leaves the first's answer */
	free(first.v);
	free(second.v);
	if (ret) {
		for (size_t i = 0; i < ps.n; i++)
			cw_proc_free(&ps.v[i]);
		free(ps.v);
		return ret;
	}
	qsort(ps.v, ps.n, sizeof(*ps.v), by_pid);
	ret = refine(&ps);
	for (size_t i = 0; !ret && i < ps.n; i++)
		ret = cbs && cbs->each ? cbs->each(&ps.v[i], cbs->ctx) : 0;
	if (!ret)
		ret = ps.n > INT_MAX ? INT_MAX : (int)ps.n;
	for (size_t i = 0; i < ps.n; i++)
		cw_proc_free(&ps.v[i]);
	free(ps.v);
	return ret;
}
