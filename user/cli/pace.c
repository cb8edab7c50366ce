/* See pace.h. */
#include "cli/pace.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

static int ring_events(struct cw_pace *p, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.u32 = p->ring_tag};

	return epoll_ctl(p->ep, EPOLL_CTL_MOD, p->ring_fd, &ev) ? -errno : 0;
}

int cw_pace_init(struct cw_pace *p, int ep, int ring_fd, uint32_t ring_tag, uint32_t timer_tag)
{
	struct epoll_event ring = {.events = EPOLLIN, .data.u32 = ring_tag};
	struct epoll_event timer = {.events = EPOLLIN, .data.u32 = timer_tag};

	memset(p, 0, sizeof(*p));
	p->ep = ep;
	p->ring_fd = ring_fd;
	p->ring_tag = ring_tag;
	p->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->timer_fd < 0)
		return -errno;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, ring_fd, &ring) || epoll_ctl(ep, EPOLL_CTL_ADD, p->timer_fd, &timer))
		return -errno;
	return 0;
}

bool cw_pace_ring_ready(const struct cw_pace *p)
{
	return !p->resting;
}

void cw_pace_consumed(struct cw_pace *p, uint64_t now_ns, int n, bool behind)
{
	uint64_t at = now_ns + CW_PACE_MS * 1000000ULL;
	struct itimerspec its = {.it_value = {.tv_sec = (time_t)(at / 1000000000ULL),
					       .tv_nsec = (long)(at % 1000000000ULL)}};

	bool busy = p->last_ns && now_ns - p->last_ns < 2 * CW_PACE_MS * 1000000ULL;

	if (n > 0)
		p->last_ns = now_ns;
	if (n <= 0 || behind || !busy || p->resting)
		return;
	/* if either call fails the ring stays in epoll: read as before, never late */
	if (timerfd_settime(p->timer_fd, TFD_TIMER_ABSTIME, &its, NULL) || ring_events(p, 0))
		return;
	p->resting = true;
}

void cw_pace_timer(struct cw_pace *p)
{
	uint64_t ticks;

	if (read(p->timer_fd, &ticks, sizeof(ticks)) < 0)
		return;	/* nothing fired: a stale readiness */
	if (p->resting && ring_events(p, EPOLLIN) == 0)
		p->resting = false;
}

void cw_pace_close(struct cw_pace *p)
{
	if (p->timer_fd >= 0)
		close(p->timer_fd);
	p->timer_fd = -1;
}
