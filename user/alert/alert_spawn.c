/* Starting one alert child (alert_spawn.h). */
#include "alert/alert_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The recorder blocks INT/TERM/HUP (its signalfd) and ignores SIGPIPE; both would be
 * inherited through exec. Its other fds (a broker socket without CLOEXEC, the log) are
 * closed in the child. */
static void set_attrs(posix_spawnattr_t *at)
{
	sigset_t none, all;

	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(at, &none);
	posix_spawnattr_setsigdefault(at, &all);
	posix_spawnattr_setpgroup(at, 0);
	posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
}

static void set_files(posix_spawn_file_actions_t *fa, int in, bool stderr_to_ours)
{
	posix_spawn_file_actions_adddup2(fa, in, 0);
	posix_spawn_file_actions_addopen(fa, 1, "/dev/null", O_WRONLY, 0);
	if (!stderr_to_ours)
		posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(fa, 3);
}

/* The child is not reaped before its pidfd exists, so its pid cannot have been reused. */
static int open_pidfd(pid_t pid)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0) {
		int e = errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -e;
	}
	return fd;
}

int cw_alert_spawn(const char *cmd, char *const envp[], bool stderr_to_ours, struct cw_alert_child *c)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int p[2], e;

	/* both ends CLOEXEC; the read end becomes the child's 0 (dup2 clears it there) */
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	set_attrs(&at);
	set_files(&fa, p[0], stderr_to_ours);
	e = posix_spawn(&c->pid, "/bin/sh", &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[0]);
	if (e) {
		close(p[1]);
		return -e;
	}
	c->pidfd = open_pidfd(c->pid);
	if (c->pidfd < 0) {
		close(p[1]);
		return c->pidfd;
	}
	/* only our end: the child's stdin stays blocking */
	fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
	c->stdin_fd = p[1];
	return 0;
}
