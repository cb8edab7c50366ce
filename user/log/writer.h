/* The event log's writer thread: the record loop hands it whole lines through a bounded
 * queue and never waits on the output (a pipe nobody reads, a full or hung disk).
 *
 * Why a thread and not a non-blocking fd with a buffer: O_NONBLOCK means nothing to a regular
 * file, so a write to a slow or hung disk (NFS, a stalled device) would still stop the loop
 * for as long as the disk wants; only another thread can wait on it. The thread also gives
 * SIGHUP reopens their place in the line order, and keeps ftruncate after a full disk off
 * the loop.
 *
 * Ownership: the loop thread calls put/reopen/stats/flush/stop; the writer thread owns the
 * cw_output (fd, path, counters) and the buffer it is writing; everything in between (the
 * pending buffer, the reopen mark, the counters the loop reads) is under one mutex. */
#ifndef CW_WRITER_H
#define CW_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "log/eventlog.h"
#include "log/rotate.h"

#define CW_WRITER_DEFAULT_CAP (4u << 20)	/* bytes waiting, at most: ~8000 lines */
/* Between two batches, at least this long: under a flood the log gets one write(2) per
 * period, not one per line; after a quiet spell a line goes at once. */
#define CW_WRITER_GATHER_MS 5

struct cw_writer;

struct cw_writer_stats {
	uint64_t lines;		/* lines written whole */
	uint64_t write_errors;	/* lines the output refused (disk full, closed pipe) */
	uint64_t dropped;	/* lines dropped because the queue was full */
	size_t queued;		/* bytes waiting now (not counting a batch being written) */
	int last_errno;
};

/* Takes over *out (opened by cw_output_open) and starts the thread. cap: bytes that may wait
 * (0: CW_WRITER_DEFAULT_CAP). pid: written on the `dropped` lines. rot: built-in rotation
 * (NULL: none; log/rotate.h). Returns 0 or -errno. */
int cw_writer_start(struct cw_writer **w, struct cw_output *out, size_t cap, uint32_t pid,
		    const struct cw_rotation *rot);
/* Queue one whole line. Never blocks on the output. Returns 0, or -ENOBUFS: the queue is
 * full and the line is dropped and counted; a `dropped` line says so when writing resumes. */
int cw_writer_put(struct cw_writer *w, const char *line, size_t len);
/* Reopen the path (SIGHUP) after the lines queued so far: they go to the old file. */
void cw_writer_reopen(struct cw_writer *w);
void cw_writer_stats(struct cw_writer *w, struct cw_writer_stats *st);
/* Wait at most timeout_ms for everything queued to be written. Returns 0 or -ETIMEDOUT. */
int cw_writer_flush(struct cw_writer *w, int timeout_ms);
/* Write what is queued within timeout_ms, then end the thread, close the output, free w:
 * returns 0. If the output does not take it in time, returns -ETIMEDOUT and leaves the thread
 * and w alone (the process is about to exit; a thread stuck in write(2) cannot be joined). */
int cw_writer_stop(struct cw_writer *w, int timeout_ms);

#endif
