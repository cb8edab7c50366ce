/* Built-in rotation for hosts without logrotate (`record --rotate-size SIZE --rotate-keep N
 * [--compress]`): when the log passes SIZE, at a line boundary, the writer thread renames
 * LOG.1..LOG.N-1 one up (LOG.N goes), LOG to LOG.1, and opens a fresh LOG; with --compress a
 * helper thread gzips LOG.1 into LOG.1.gz while the writer goes on. explain reads .gz files
 * directly (log/logopen.h). */
#ifndef CW_ROTATE_H
#define CW_ROTATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/eventlog.h"

struct cw_rotation {
	uint64_t size;		/* rotate once the file holds this many bytes; 0: never */
	int keep;		/* rotated files kept: LOG.1 .. LOG.keep (each maybe .gz) */
	bool compress;
};

struct cw_rotator {
	struct cw_rotation cfg;
	uint64_t rotations, failures;
	pthread_t gz;		/* the compression of LOG.1, while gz_running */
	bool gz_running;
	char *gz_src;
};

/* Shift LOG.i(.gz) to LOG.i+1(.gz) for i = keep-1 .. 1 (LOG.keep and LOG.keep.gz removed),
 * then LOG to LOG.1. rename(2) moves links, never what they point to. 0 or -errno (err). */
int cw_rotate_shift(const char *path, int keep, char *err, size_t errlen);
/* gzip src into src.gz (0640, through a temporary O_EXCL|O_NOFOLLOW file), then unlink src.
 * 0 or -errno (err). */
int cw_gzip_file(const char *src, char *err, size_t errlen);

/* Rotate o when it has grown past the size: shift, reopen, start compressing LOG.1. Waits
 * for the previous compression first. Returns 0 (nothing to do, or done), or -errno with a
 * sentence in err: o then stays open on whatever file it had. */
int cw_rotator_check(struct cw_rotator *r, struct cw_output *o, char *err, size_t errlen);
/* Wait for a compression still running: until the CLOCK_REALTIME deadline, or for good
 * (NULL). A compression not done by then is left to the process's exit. */
struct timespec;
void cw_rotator_finish(struct cw_rotator *r, const struct timespec *until);

/* "100M", "64K", "1G", "4096": bytes, or -1 (bad, or under 4 KiB). */
int64_t cw_parse_size(const char *s);

#endif
