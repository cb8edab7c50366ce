/* Facts about one live process for `proc_sample` lines: state, CPU time and context switches
 * from /proc/PID/stat and status, and where it waits (wchan, syscall) when asked. Cheap: one
 * open+read per file through a directory fd held for the process, so a pid reused between
 * two reads is noticed (the fd keeps pointing at the old process, whose files then fail). */
#ifndef CW_PROCSTAT_H
#define CW_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cw_procstat {
	char state;		/* stat field 3: R S D T t Z X ... */
	uint64_t pstart;	/* field 22, clock ticks since boot */
	uint64_t cpu_ticks;	/* utime + stime (fields 14, 15), clock ticks */
	uint64_t ctxsw;		/* voluntary + nonvoluntary context switches */
	char wchan[64];		/* "" unless read and the process waits in the kernel */
	char syscall[32];	/* "" unless read and the process is in a known system call */
};

/* /proc/PID/stat's contents: state, cpu ticks, start time. comm may hold anything, spaces
 * and parentheses included: fields are read after the last ')'. 0, or -EINVAL. */
int cw_procstat_parse_stat(const char *buf, size_t len, char *state, uint64_t *cpu_ticks,
			   uint64_t *pstart);
/* /proc/PID/status: voluntary + nonvoluntary context switches. 0, or -EINVAL when either
 * line is missing or malformed. */
int cw_procstat_parse_status(const char *buf, size_t len, uint64_t *ctxsw);
/* /proc/PID/syscall ("NR arg... sp pc", "-1 sp pc" or "running"): the system call's name
 * into name ("" when not in one, or "syscall_N" for a number the table lacks). */
void cw_procstat_parse_syscall(const char *buf, size_t len, char *name, size_t namelen);
/* The name of syscall nr on this architecture, or NULL. */
const char *cw_syscall_name(long nr);

/*
 * Open root/PID (root "/proc", or a fake tree in tests) and read its stat and status into
 * out. Returns the directory's fd (>= 0; the caller closes it), for further reads of this
 * same process: cw_procstat_wait, the broker connections. -ESRCH when the process is gone or
 * is not the one started at pstart (pid reused); -EINVAL for contents that do not parse;
 * other -errno.
 */
int cw_procstat_open(const char *root, int pid, uint64_t pstart, struct cw_procstat *out);
/* wchan and syscall of the process behind dirfd, into out. */
void cw_procstat_wait(int dirfd, struct cw_procstat *out);

#endif
