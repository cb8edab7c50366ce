/* One alert child: /bin/sh -c CMD in a process group of its own, with an explicit
 * environment, its stdin a pipe, and a pidfd to reap it by. posix_spawn (glibc: clone with
 * CLONE_VM|CLONE_VFORK, no page-table copy), so a recorder of any size starts one cheaply. */
#ifndef CW_ALERT_SPAWN_H
#define CW_ALERT_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

struct cw_alert_child {
	pid_t pid;		/* also its process group id */
	int pidfd;		/* readable once it exited */
	int stdin_fd;		/* the pipe's write end, O_NONBLOCK, O_CLOEXEC */
};

/* envp is the child's whole environment. stdout goes to /dev/null, stderr to ours when
 * stderr_to_ours (else /dev/null); every other fd is closed in the child; signals start
 * unblocked and at their default action. Returns 0, or -errno (then nothing is left). */
int cw_alert_spawn(const char *cmd, char *const envp[], bool stderr_to_ours, struct cw_alert_child *c);

#endif
