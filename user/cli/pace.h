/* The record loop's pace on the ring buffers: when records keep coming (a consume that
 * found some within 2 × CW_PACE_MS of the previous one), the rings rest for CW_PACE_MS after
 * it (their fd out of epoll; a timerfd brings it back and they are read again at once), so
 * a flood is read in batches, one wake-up per period, not one wake-up per record.
 *
 * Why: the kernel wakes the loop for each record submitted while the loop is caught up, and
 * on a busy host each wake-up is a context switch for one or two records: most of the
 * recorder's CPU in an exec flood (docs/benchmarks.md). Records after a quiet spell are read
 * at once, and so is the next burst (a death's signal and exit records, microseconds apart:
 * the rest comes after the second); during a flood a record waits at most CW_PACE_MS. A
 * consume cut short by the per-wake-up budget is followed at once, and signals, the timer
 * and samples are served during a rest. */
#ifndef CW_PACE_H
#define CW_PACE_H

#include <stdbool.h>
#include <stdint.h>

#define CW_PACE_MS 5

struct cw_pace {
	int ep, ring_fd, timer_fd;
	uint32_t ring_tag;
	uint64_t last_ns;	/* CLOCK_MONOTONIC of the last consume that found records */
	bool resting;		/* the ring's fd is out of epoll until the timer fires */
};

/* Adds ring_fd (as ring_tag) and the pace's own timerfd (as timer_tag) to ep. 0 or -errno. */
int cw_pace_init(struct cw_pace *p, int ep, int ring_fd, uint32_t ring_tag, uint32_t timer_tag);
/* The ring's fd was readable: false when it is resting (a stale event of the same batch). */
bool cw_pace_ring_ready(const struct cw_pace *p);
/* A consume read n records at now_ns; behind: it stopped at its budget (more wait). */
void cw_pace_consumed(struct cw_pace *p, uint64_t now_ns, int n, bool behind);
/* The timer fired: the ring's fd is back in epoll; consume now. */
void cw_pace_timer(struct cw_pace *p);
void cw_pace_close(struct cw_pace *p);

#endif
