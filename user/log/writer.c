/* The event log's writer thread and its bounded queue; see writer.h for why and who owns what. */
#include "log/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/threadcaps.h"
#include "common/timeutil.h"

struct cw_writer {
	pthread_mutex_t mu;
	pthread_cond_t wake;		/* to the writer: lines, a reopen or stop */
	pthread_cond_t idle;		/* to the loop: a batch was written, or the thread ended */
	/* ---- under mu ---- */
	char *pend;			/* lines waiting, whole, in order */
	size_t pend_len, cap;
	size_t reopen_at;		/* reopen after this many bytes of pend, when `reopen` */
	bool reopen, stopping, busy, ended;
	bool waiting;			/* the writer sleeps until a line comes: a put wakes it */
	bool hurry;			/* a flush waits: no rest between batches */
	struct cw_writer_stats st;	/* the loop's copy of the counters */
	/* ---- the writer thread's alone (and the starting/stopping thread's when it is not running) ---- */
	char *cur;			/* the batch being written: pend, swapped out */
	struct cw_output out;
	struct jw notice;
	uint64_t told_dropped, told_errors;	/* what `dropped` lines have said so far */
	uint64_t errors_shown;
	uint32_t pid;
	struct cw_rotator rot;		/* --rotate-size: checked after each batch */
	uint64_t retry_at;		/* a failed rotation is tried again past this size */
	pthread_t th;
};

/* A `dropped` line, before the next batch, when lines went missing since the last one:
 * the queue was full, or the output refused them. Mirrors `lost`: count, by_reason, total. */
static void tell_dropped(struct cw_writer *w, uint64_t dropped)
{
	uint64_t full = dropped - w->told_dropped, err = w->out.write_errors - w->told_errors;

	if (!full && !err)
		return;
	jw_reset(&w->notice);
	cw_line_begin(&w->notice, "dropped", cw_clock_ns(CLOCK_REALTIME), w->pid);
	jw_uint(&w->notice, "count", full + err);
	jw_obj_begin(&w->notice, "by_reason");
	if (full)
		jw_uint(&w->notice, "queue_full", full);
	if (err)
		jw_uint(&w->notice, "write_error", err);
	jw_obj_end(&w->notice);
	jw_uint(&w->notice, "total", dropped + w->out.write_errors);
	jw_end(&w->notice);
	if (w->notice.oom)
		return;
	if (cw_output_write(&w->out, w->notice.buf, w->notice.len)) {
		w->out.write_errors--;	/* not an event's line: said with the next batch instead */
		return;
	}
	w->told_dropped = dropped;
	w->told_errors = w->out.write_errors;
}

/* Report write errors on stderr: the 1st, 2nd, 4th, 8th...; never a flood. */
static void show_errors(struct cw_writer *w)
{
	uint64_t n = w->out.write_errors;

	if (n == w->errors_shown)
		return;
	for (uint64_t k = w->errors_shown + 1; k <= n; k++) {
		if ((k & (k - 1)) == 0) {
			fprintf(stderr, "celerywatch: cannot write the event log: %s (%llu lines lost so far; tracing goes on)\n",
				strerror(w->out.last_errno), (unsigned long long)n);
			break;
		}
	}
	w->errors_shown = n;
}

static void write_batch(struct cw_writer *w, const char *p, size_t len, uint64_t dropped)
{
	if (!len)
		return;
	tell_dropped(w, dropped);
	cw_output_write(&w->out, p, len);
	show_errors(w);
}

static void do_reopen(struct cw_writer *w)
{
	char err[256];

	if (cw_output_reopen(&w->out, err, sizeof(err)))
		fprintf(stderr, "celerywatch: SIGHUP: %s; still writing to the old file\n", err);
}

/* Past --rotate-size: rotate between two batches, so every file holds whole lines only. A
 * failure is said once per SIZE more bytes, and writing goes on to the file we have. */
static void maybe_rotate(struct cw_writer *w)
{
	char err[512];

	if (!w->rot.cfg.size || w->out.size < w->retry_at)
		return;
	if (cw_rotator_check(&w->rot, &w->out, err, sizeof(err))) {
		fprintf(stderr, "celerywatch: %s; still writing to %s\n", err, w->out.path);
		w->retry_at = w->out.size + w->rot.cfg.size;
		return;
	}
	w->retry_at = 0;
}

/* One batch: take pend (swapping buffers), write it unlocked, publish the counters. */
static void one_batch(struct cw_writer *w)
{
	char *batch = w->pend;
	size_t n = w->pend_len, at = w->reopen ? w->reopen_at : n;
	bool reopen = w->reopen;
	uint64_t dropped = w->st.dropped;

	w->pend = w->cur;
	w->cur = batch;
	w->pend_len = 0;
	w->reopen = false;
	w->busy = true;
	pthread_mutex_unlock(&w->mu);

	write_batch(w, batch, at, dropped);
	if (reopen)
		do_reopen(w);
	write_batch(w, batch + at, n - at, dropped);
	maybe_rotate(w);

	pthread_mutex_lock(&w->mu);
	w->busy = false;
	w->st.lines = w->out.lines;
	w->st.write_errors = w->out.write_errors;
	w->st.last_errno = w->out.last_errno;
	pthread_cond_broadcast(&w->idle);
}

static bool urgent(const struct cw_writer *w)
{
	return w->stopping || w->reopen || w->hurry || w->pend_len >= w->cap / 2;
}

/* After a batch that came within 2 × CW_WRITER_GATHER_MS of the previous one (lines keep
 * coming), CW_WRITER_GATHER_MS from its start before the next, and lines queued meanwhile
 * do not wake us: a busy log is one write(2) and one wake-up per period, not one per line.
 * Lines after a quiet spell are written at once, and so is the next batch. Under mu. */
static void rest(struct cw_writer *w, uint64_t batch_ns, uint64_t prev_ns)
{
	uint64_t until = batch_ns + CW_WRITER_GATHER_MS * 1000000ULL;
	struct timespec ts = {.tv_sec = (time_t)(until / 1000000000ULL), .tv_nsec = (long)(until % 1000000000ULL)};

	if (!prev_ns || batch_ns - prev_ns >= 2 * CW_WRITER_GATHER_MS * 1000000ULL)
		return;
	while (!urgent(w) && cw_clock_ns(CLOCK_MONOTONIC) < until)
		if (pthread_cond_timedwait(&w->wake, &w->mu, &ts) == ETIMEDOUT)
			break;
}

static void *writer_main(void *arg)
{
	struct cw_writer *w = arg;

	cw_thread_drop_caps();

	uint64_t prev_ns = 0;

	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->pend_len && !w->reopen && !w->stopping) {
			w->waiting = true;
			pthread_cond_wait(&w->wake, &w->mu);
		}
		w->waiting = false;
		if (!w->pend_len && !w->reopen)
			break;	/* stopping, and nothing left */
		uint64_t batch_ns = cw_clock_ns(CLOCK_MONOTONIC);
		w->hurry = false;
		one_batch(w);
		rest(w, batch_ns, prev_ns);
		prev_ns = batch_ns;
	}
	w->ended = true;
	pthread_cond_broadcast(&w->idle);
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static int init_sync(struct cw_writer *w)
{
	pthread_condattr_t ca;

	if (pthread_condattr_init(&ca))
		return -ENOMEM;
	/* timed waits on the monotonic clock: a wall-clock step cannot stretch a stop */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int r = pthread_mutex_init(&w->mu, NULL) || pthread_cond_init(&w->wake, &ca) ||
		pthread_cond_init(&w->idle, &ca);
	pthread_condattr_destroy(&ca);
	return r ? -ENOMEM : 0;
}

int cw_writer_start(struct cw_writer **out, struct cw_output *o, size_t cap, uint32_t pid,
		    const struct cw_rotation *rot)
{
	struct cw_writer *w = calloc(1, sizeof(*w));

	*out = NULL;
	if (!w)
		return -ENOMEM;
	w->cap = cap ? cap : CW_WRITER_DEFAULT_CAP;
	w->pend = malloc(w->cap);
	w->cur = malloc(w->cap);
	w->pid = pid;
	if (rot)
		w->rot.cfg = *rot;
	jw_init(&w->notice);
	if (!w->pend || !w->cur || init_sync(w)) {
		free(w->pend);
		free(w->cur);
		free(w);
		return -ENOMEM;
	}
	w->out = *o;
	int r = pthread_create(&w->th, NULL, writer_main, w);
	if (r) {
		free(w->pend);
		free(w->cur);
		free(w);
		return -r;
	}
	memset(o, 0, sizeof(*o));
	o->fd = -1;
	*out = w;
	return 0;
}

int cw_writer_put(struct cw_writer *w, const char *line, size_t len)
{
	int r = 0;

	pthread_mutex_lock(&w->mu);
	if (len > w->cap - w->pend_len) {
		w->st.dropped++;
		r = -ENOBUFS;
	} else {
		memcpy(w->pend + w->pend_len, line, len);
		w->pend_len += len;
		if (w->waiting || w->pend_len >= w->cap / 2) {	/* else it comes after its rest */
			w->waiting = false;
			pthread_cond_signal(&w->wake);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return r;
}

void cw_writer_reopen(struct cw_writer *w)
{
	pthread_mutex_lock(&w->mu);
	/* several SIGHUPs before the writer gets to them: one reopen, after all of those lines */
	w->reopen = true;
	w->reopen_at = w->pend_len;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->mu);
}

void cw_writer_stats(struct cw_writer *w, struct cw_writer_stats *st)
{
	pthread_mutex_lock(&w->mu);
	*st = w->st;
	st->queued = w->pend_len;
	pthread_mutex_unlock(&w->mu);
}

static struct timespec deadline(int timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* The CLOCK_REALTIME time of a CLOCK_MONOTONIC deadline (pthread_timedjoin_np's clock). */
static struct timespec realtime_of(const struct timespec *mono)
{
	struct timespec now_m, rt;

	clock_gettime(CLOCK_MONOTONIC, &now_m);
	clock_gettime(CLOCK_REALTIME, &rt);
	int64_t left_ns = (mono->tv_sec - now_m.tv_sec) * 1000000000LL + (mono->tv_nsec - now_m.tv_nsec);
	if (left_ns < 0)
		left_ns = 0;
	rt.tv_sec += left_ns / 1000000000LL;
	rt.tv_nsec += left_ns % 1000000000LL;
	if (rt.tv_nsec >= 1000000000L) {
		rt.tv_sec++;
		rt.tv_nsec -= 1000000000L;
	}
	return rt;
}

/* Wait under mu until nothing is queued or being written (or the thread ended). */
static int wait_idle(struct cw_writer *w, int timeout_ms)
{
	struct timespec until = deadline(timeout_ms);

	while ((w->pend_len || w->busy || w->reopen) && !w->ended)
		if (pthread_cond_timedwait(&w->idle, &w->mu, &until) == ETIMEDOUT)
			return -ETIMEDOUT;
	return 0;
}

int cw_writer_flush(struct cw_writer *w, int timeout_ms)
{
	pthread_mutex_lock(&w->mu);
	w->hurry = true;
	pthread_cond_signal(&w->wake);
	int r = wait_idle(w, timeout_ms);
	pthread_mutex_unlock(&w->mu);
	return r;
}

int cw_writer_stop(struct cw_writer *w, int timeout_ms)
{
	struct timespec until = deadline(timeout_ms);

	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	w->stopping = true;
	pthread_cond_signal(&w->wake);
	while (!w->ended)
		if (pthread_cond_timedwait(&w->idle, &w->mu, &until) == ETIMEDOUT) {
			pthread_mutex_unlock(&w->mu);
			return -ETIMEDOUT;	/* left to the process's exit */
		}
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	/* a compression still running is waited for until the deadline; after it, LOG.1
	 * stays uncompressed (and complete) */
	struct timespec until_rt = realtime_of(&until);
	cw_rotator_finish(&w->rot, &until_rt);
	cw_output_close(&w->out);
	jw_free(&w->notice);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->wake);
	pthread_cond_destroy(&w->idle);
	free(w->pend);
	free(w->cur);
	free(w);
	return 0;
}
