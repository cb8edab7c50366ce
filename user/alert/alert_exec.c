/* The --alert-exec runner (alert_exec.h): slots for running children, a ring of waiting
 * jobs, one epoll fd holding each child's pidfd, its stdin pipe while it has bytes to take,
 * and a timerfd set to the next deadline. The loop needs only to call service when that fd
 * is readable (and on its tick); nothing here ever waits. */
#include "alert/alert_exec.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alert/alert_job.h"
#include "alert/alert_spawn.h"
#include "common/timeutil.h"

#define DEFAULT_TIMEOUT_NS 10000000000ull
#define DEFAULT_MAX 4
#define DEFAULT_QUEUE 64
/* After the SIGKILL at stop, how long reaping may take (a child in D state is left). */
#define STOP_REAP_MS 200

struct slot {
	bool used, term_sent, kill_sent, stopped;
	struct cw_alert_job job;
	struct cw_alert_child c;
	size_t off;			/* stdin bytes written */
	bool out_watched;		/* stdin is in the epoll set for EPOLLOUT */
	uint64_t term_at, kill_at;	/* CLOCK_MONOTONIC ns */
};

struct cw_alert_exec {
	struct cw_alert_exec_opts o;
	int ep, tfd;
	struct slot *slots;		/* o.max_running */
	struct cw_alert_job *queue;	/* a ring of o.queue_max */
	unsigned qhead, qn;
	struct cw_alert_exec_stats st;
	bool dropping;			/* said so on stderr; quiet until the queue takes one again */
};

static void say_end(const struct slot *s, int status)
{
	if (status != -1 && (s->stopped || s->term_sent))
		fprintf(stderr, "celerywatch: alert command for a %s incident %s; its process group was killed\n",
			s->job.kind, s->stopped ? "still ran at stop" : "timed out");
	else if (WIFEXITED(status) && WEXITSTATUS(status))
		fprintf(stderr, "celerywatch: alert command for a %s incident exited with status %d\n",
			s->job.kind, WEXITSTATUS(status));
	else if (status == -1)
		fprintf(stderr, "celerywatch: alert command for a %s incident was reaped by someone else: "
			"its status is unknown\n", s->job.kind);
	else if (WIFSIGNALED(status))
		fprintf(stderr, "celerywatch: alert command for a %s incident was killed by signal %d\n",
			s->job.kind, WTERMSIG(status));
}

static void close_stdin(struct slot *s)
{
	if (s->c.stdin_fd >= 0)
		close(s->c.stdin_fd);	/* also leaves the epoll set */
	s->c.stdin_fd = -1;
	s->out_watched = false;
}

/* As much of the JSON as the pipe takes; the rest when it says EPOLLOUT. A child that exits
 * or closes its stdin early just does not get the rest (EPIPE; SIGPIPE is ignored). */
static void pump(struct cw_alert_exec *x, struct slot *s, unsigned idx)
{
	while (s->c.stdin_fd >= 0 && s->off < s->job.len) {
		ssize_t n = write(s->c.stdin_fd, s->job.payload + s->off, s->job.len - s->off);
		if (n > 0) {
			s->off += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = idx};
			if (!s->out_watched && epoll_ctl(x->ep, EPOLL_CTL_ADD, s->c.stdin_fd, &ev) == 0)
				s->out_watched = true;
			return;
		} else {
			break;
		}
	}
	close_stdin(s);
}

/* The child exited: what it left in its group goes too (the group id cannot be anyone
 * else's before the leader is reaped), then it is reaped and counted. */
static bool reap(struct cw_alert_exec *x, struct slot *s)
{
	siginfo_t si = {0};
	int status = 0;

	if (waitid(P_PID, (id_t)s->c.pid, &si, WEXITED | WNOHANG | WNOWAIT)) {
		/* reaped behind our back (SIGCHLD set to SIG_IGN): its group may be anyone's now,
		 * so it is not signalled; the slot is freed and counted as failed */
		if (errno != ECHILD)
			return false;
		status = -1;
	} else if (si.si_pid != s->c.pid) {
		return false;
	} else {
		kill(-s->c.pid, SIGKILL);
		if (waitpid(s->c.pid, &status, 0) != s->c.pid)
			return false;
	}
	if (status == -1)
		x->st.failed++;
	else if (s->stopped || s->term_sent)
		x->st.timed_out++;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		x->st.sent++;
	else
		x->st.failed++;
	say_end(s, status);
	close_stdin(s);
	close(s->c.pidfd);
	cw_alert_job_free(&s->job);
	memset(s, 0, sizeof(*s));
	return true;
}

/* Start job in a free slot s; the job is the slot's now (or freed on failure). */
static void start(struct cw_alert_exec *x, struct slot *s, unsigned idx, struct cw_alert_job *job, uint64_t now)
{
	int e = cw_alert_spawn(x->o.cmd, job->env, x->o.stderr_to_ours, &s->c);

	if (e) {
		fprintf(stderr, "celerywatch: cannot start the alert command: %s\n", strerror(-e));
		x->st.failed++;
		cw_alert_job_free(job);
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = idx};
	epoll_ctl(x->ep, EPOLL_CTL_ADD, s->c.pidfd, &ev);
	s->used = true;
	s->job = *job;
	s->term_at = now + x->o.timeout_ns;
	if (s->job.truncated)
		x->st.truncated++;
	pump(x, s, idx);
}

static struct slot *free_slot(struct cw_alert_exec *x, unsigned *idx)
{
	for (unsigned i = 0; i < x->o.max_running; i++)
		if (!x->slots[i].used) {
			*idx = i;
			return &x->slots[i];
		}
	return NULL;
}

/* SIGTERM to the group at the deadline, SIGKILL after the grace. */
static void enforce(struct slot *s, uint64_t now)
{
	if (!s->term_sent && now >= s->term_at) {
		kill(-s->c.pid, SIGTERM);
		s->term_sent = true;
		s->kill_at = now + CW_ALERT_KILL_GRACE_NS;
	} else if (s->term_sent && !s->kill_sent && now >= s->kill_at) {
		kill(-s->c.pid, SIGKILL);
		s->kill_sent = true;
	}
}

/* The timerfd rings at the earliest deadline still ahead (or is disarmed). */
static void arm(struct cw_alert_exec *x)
{
	uint64_t next = 0;
	struct itimerspec its = {0};

	for (unsigned i = 0; i < x->o.max_running; i++) {
		const struct slot *s = &x->slots[i];
		uint64_t t = !s->used || s->kill_sent ? 0 : s->term_sent ? s->kill_at : s->term_at;
		if (t && (!next || t < next))
			next = t;
	}
	its.it_value.tv_sec = (time_t)(next / 1000000000ull);
	its.it_value.tv_nsec = (long)(next % 1000000000ull);
	timerfd_settime(x->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int cw_alert_exec_new(struct cw_alert_exec **out, const struct cw_alert_exec_opts *o)
{
	struct cw_alert_exec *x = calloc(1, sizeof(*x));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};

	if (!x)
		return -ENOMEM;
	x->o = *o;
	x->o.timeout_ns = o->timeout_ns ? o->timeout_ns : DEFAULT_TIMEOUT_NS;
	x->o.max_running = o->max_running ? o->max_running : DEFAULT_MAX;
	x->o.queue_max = o->queue_max ? o->queue_max : DEFAULT_QUEUE;
	x->ep = epoll_create1(EPOLL_CLOEXEC);
	x->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	x->slots = calloc(x->o.max_running, sizeof(*x->slots));
	x->queue = calloc(x->o.queue_max, sizeof(*x->queue));
	if (x->ep < 0 || x->tfd < 0 || !x->slots || !x->queue || epoll_ctl(x->ep, EPOLL_CTL_ADD, x->tfd, &ev)) {
		int e = errno ? -errno : -ENOMEM;
		cw_alert_exec_free(x);
		return e;
	}
	signal(SIGPIPE, SIG_IGN);
	*out = x;
	return 0;
}

void cw_alert_exec_incident(struct cw_alert_exec *x, const struct cw_incident *inc)
{
	uint64_t now = cw_clock_ns(CLOCK_MONOTONIC);
	struct cw_alert_job job;
	struct slot *s;
	unsigned idx;

	if (x->qn == x->o.queue_max && !free_slot(x, &idx)) {
		if (!x->dropping)
			fprintf(stderr, "celerywatch: %u alert commands run and %u wait: incidents are dropped (counted)\n",
				x->o.max_running, x->qn);
		x->dropping = true;
		x->st.dropped++;
		return;
	}
	if (cw_alert_job_make(&job, inc, CW_ALERT_JSON_MAX)) {
		fprintf(stderr, "celerywatch: out of memory for an alert; counted as failed\n");
		x->st.failed++;
		return;
	}
	if (job.truncated)
		fprintf(stderr, "celerywatch: a %s incident's JSON is over %d bytes: the alert gets it without its cause\n",
			job.kind, CW_ALERT_JSON_MAX);
	s = x->qn ? NULL : free_slot(x, &idx);
	if (s) {
		start(x, s, idx, &job, now);
		arm(x);
		return;
	}
	x->queue[(x->qhead + x->qn++) % x->o.queue_max] = job;
	x->dropping = false;
}

int cw_alert_exec_fd(const struct cw_alert_exec *x)
{
	return x->ep;
}

/* The epoll set is level-triggered and holds only fds whose state the slot walk settles (a
 * reaped child's pidfd is closed, a pipe that takes nothing more is closed or waits for
 * EPOLLOUT): only the timerfd's expiry count needs reading. */
static void timer_ack(struct cw_alert_exec *x)
{
	uint64_t ticks;

	if (read(x->tfd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		return;
}

void cw_alert_exec_service(struct cw_alert_exec *x, uint64_t now_ns)
{
	unsigned idx;
	struct slot *s;

	timer_ack(x);
	for (unsigned i = 0; i < x->o.max_running; i++) {
		s = &x->slots[i];
		if (!s->used)
			continue;
		if (s->c.stdin_fd >= 0)
			pump(x, s, i);
		if (!reap(x, s))
			enforce(s, now_ns);
	}
	while (x->qn && (s = free_slot(x, &idx))) {
		struct cw_alert_job job = x->queue[x->qhead];
		x->qhead = (x->qhead + 1) % x->o.queue_max;
		x->qn--;
		start(x, s, idx, &job, now_ns);
	}
	arm(x);
}

static unsigned running(const struct cw_alert_exec *x)
{
	unsigned n = 0;

	for (unsigned i = 0; i < x->o.max_running; i++)
		n += x->slots[i].used;
	return n;
}

/* After the SIGKILL: reap what dies within STOP_REAP_MS; a child stuck in the kernel is
 * left (counted, its fds closed; the exit of the recorder hands it to init). */
static void kill_all(struct cw_alert_exec *x)
{
	uint64_t end = cw_clock_ns(CLOCK_MONOTONIC) + STOP_REAP_MS * 1000000ull;

	for (unsigned i = 0; i < x->o.max_running; i++)
		if (x->slots[i].used) {
			x->slots[i].stopped = true;
			kill(-x->slots[i].c.pid, SIGKILL);
		}
	for (uint64_t now; running(x) && (now = cw_clock_ns(CLOCK_MONOTONIC)) < end;) {
		struct pollfd p = {.fd = x->ep, .events = POLLIN};
		poll(&p, 1, (int)((end - now) / 1000000ull) + 1);
		for (unsigned i = 0; i < x->o.max_running; i++)
			if (x->slots[i].used)
				reap(x, &x->slots[i]);
	}
	for (unsigned i = 0; i < x->o.max_running; i++) {
		struct slot *s = &x->slots[i];
		if (!s->used)
			continue;
		x->st.timed_out++;
		close_stdin(s);
		close(s->c.pidfd);
		cw_alert_job_free(&s->job);
		memset(s, 0, sizeof(*s));
	}
}

void cw_alert_exec_stop(struct cw_alert_exec *x, uint64_t deadline_ns)
{
	while (x->qn) {
		cw_alert_job_free(&x->queue[x->qhead]);
		x->qhead = (x->qhead + 1) % x->o.queue_max;
		x->qn--;
		x->st.dropped++;
	}
	for (uint64_t now; running(x) && (now = cw_clock_ns(CLOCK_MONOTONIC)) < deadline_ns;) {
		struct pollfd p = {.fd = x->ep, .events = POLLIN};
		poll(&p, 1, (int)((deadline_ns - now) / 1000000ull) + 1);
		cw_alert_exec_service(x, cw_clock_ns(CLOCK_MONOTONIC));
	}
	kill_all(x);
}

void cw_alert_exec_stats(const struct cw_alert_exec *x, struct cw_alert_exec_stats *s)
{
	*s = x->st;
	s->running = running(x);
	s->queued = x->qn;
}

void cw_alert_exec_free(struct cw_alert_exec *x)
{
	if (!x)
		return;
	if (x->slots && x->queue)
		cw_alert_exec_stop(x, 0);
	if (x->ep >= 0)
		close(x->ep);
	if (x->tfd >= 0)
		close(x->tfd);
	free(x->slots);
	free(x->queue);
	free(x);
}
