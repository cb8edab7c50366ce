/* Start-up scan of /proc for Celery processes that were running before the recorder:
 * cmdline (maybe a setproctitle title), stat, status, comm and cgroup of each. */
#ifndef CW_PROCSCAN_H
#define CW_PROCSCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "identity/process.h"

/*
 * Read /proc/PID (root is "/proc", or a fake tree in tests) into p. Returns 0, or a negative
 * errno: -ENOENT/-ESRCH when the process vanished (or its pid was reused while reading),
 * others (-EACCES, -ENOMEM, -EINVAL for a malformed stat) when it could not be read.
 * On success p must be released with cw_proc_free; on failure p holds nothing.
 */
int cw_proc_read(const char *root, int pid, const char *hostname, struct cw_proc *p);

/*
 * Call cbs->each for each Celery process under root (id.is_celery), in pid order. Processes that
 * vanish or cannot be read are skipped silently; kernel threads are skipped.
 * The scan sees whole families, so it refines roles a single read cannot know:
 *  - a process with the argv of its parent, a worker's MainProcess, is that worker's pool
 *    child (prefork children keep the parent's cmdline when setproctitle is missing);
 *    so is a non-title "main" whose parent is the titled MainProcess of the same worker
 *    (a child caught before it retitled itself);
 *  - a pool child, whose title carries no argv, inherits its MainProcess' queues, app,
 *    pool and limits, as a fork of that process does in the recorder;
 *  - "[celery beat]" under a worker MainProcess (worker -B) gets that worker's name and app.
 * Returns the number of processes passed to each, -errno if root cannot be listed, or the
 * first non-zero value each returned (the scan then stops; return < 0 to tell apart).
 */
struct cw_scan_cbs {
	/* Called as soon as a Celery process is read, before the next entry: the recorder
	 * tracks it here, so what it forks from now on is followed by the kernel. Return false
	 * to leave the process out (it was gone by then). May be NULL. */
	bool (*found)(const struct cw_proc *p, void *ctx);
	/* Called for each process at the end, roles refined, in pid order. May be NULL. */
	int (*each)(const struct cw_proc *p, void *ctx);
	void *ctx;
};

int cw_procscan(const char *root, const char *hostname, const struct cw_scan_cbs *cbs);

/* The start time (clock ticks since boot, stat field 22) of root/PID. Returns 0, or -errno
 * (-ENOENT: no such process; -ESRCH: a zombie or exiting (PF_EXITING), with *pstart set). */
int cw_proc_pstart(const char *root, int pid, unsigned long long *pstart);

#endif
