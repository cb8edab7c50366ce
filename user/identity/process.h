/* A process as read from /proc: pid, ppid, uid, start time, comm, argv, cgroup and the Celery
 * identity its argv gives. Filled by capture's /proc scan, written to the log as "scan" lines. */
#ifndef CW_PROCESS_H
#define CW_PROCESS_H

#include <stddef.h>

#include "identity/celery.h"

struct cw_proc {
	int pid, ppid;
	unsigned uid;			/* real uid (first number of status' Uid: line) */
	unsigned long long pstart;	/* stat field 22: start time in clock ticks since boot */
	char comm[16 + 1];
	char **argv;			/* NULL-terminated; a title's NUL padding is dropped */
	size_t argc;			/* 0 for kernel threads (empty cmdline) */
	char *cgroup;			/* memory controller's path on cgroup v1, else the 0:: path;
					 * NULL if unreadable */
	char *exe;			/* readlink of /proc/PID/exe; NULL if unreadable */
	struct cw_identity id;
};

/* Free what p holds and leave it empty (identity "other"); safe to call twice. */
void cw_proc_free(struct cw_proc *p);

#endif
