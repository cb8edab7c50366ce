/* Flood generator for tests/integration/test_kernel_budget.py, built by the test with cc.
 *   flood execfail SECONDS [fork]   execve("/nonexistent/celery", 1 KiB argv) in a loop; with
 *                                   "fork", each attempt from a new child (a fresh process)
 *   flood reexec N                  re-exec itself N times with argv[0] "celery" (tracked:
 *                                   an exec record each time, no death)
 * Drops to uid/gid 65534 first when FLOOD_NOBODY is set. Prints the attempts made. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int execfail(double secs, int use_fork)
{
	static char pad[1000];
	char *args[] = {"/nonexistent/celery", "-A", "flood", "worker", "-Q", "flood", pad, NULL};
	char *env[] = {NULL};
	long n = 0;
	double end = now() + secs;

	memset(pad, 'x', sizeof(pad) - 1);
	while (now() < end) {
		for (int i = 0; i < 64; i++, n++) {
			if (!use_fork) {
				execve(args[0], args, env);
				continue;
			}
			pid_t p = vfork();
			if (p == 0) {
				execve(args[0], args, env);
				_exit(127);
			}
			if (p > 0)
				waitpid(p, NULL, 0);
		}
	}
	printf("%ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (getenv("FLOOD_NOBODY") && (setgid(65534) || setuid(65534))) {
		perror("setuid");
		return 1;
	}
	if (argc >= 3 && !strcmp(argv[1], "execfail"))
		return execfail(atof(argv[2]), argc > 3 && !strcmp(argv[3], "fork"));
	if (argc >= 3 && !strcmp(argv[1], "reexec")) {
		int left = atoi(argv[2]);
		if (left <= 0)
			return 0;
		char num[16];
		snprintf(num, sizeof(num), "%d", left - 1);
		char *args[] = {"celery", "reexec", num, NULL};
		execv("/proc/self/exe", args);
		perror("execv");
		return 1;
	}
	fprintf(stderr, "usage: flood execfail SECONDS [fork] | flood reexec N\n");
	return 2;
}
