/* Capabilities after attach: the BPF programs are loaded and attached, the ring buffers
 * mapped, the log open; what the loop still does is read other users' /proc (socket fds,
 * system calls, wait channels of tracked workers: CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH).
 * Everything else is dropped from the effective, permitted, inheritable and bounding sets. */
#ifndef CW_PRIVS_H
#define CW_PRIVS_H

#include <stddef.h>

/* Drop all but the kept capabilities. Writes their names ("cap_sys_ptrace", ...) into kept,
 * a NULL-terminated array of at least CW_PRIVS_KEPT_MAX + 1 entries (only those we held).
 * Returns 0, or -errno (nothing to drop is not an error: a non-root run holds none). */
#define CW_PRIVS_KEPT_MAX 4
int cw_privs_drop(const char **kept);

#endif
