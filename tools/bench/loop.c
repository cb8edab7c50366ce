/* The benchmark's workloads, timed from inside so that only the loop is measured:
 *   loop getppid N        N getppid(2): the cheapest syscall (the cost of any syscall hook)
 *   loop write N          N 100-byte write(2) to fd 1
 *   loop lines N          N log lines written to fd 2 one write(2) each (a chatty worker)
 *   loop exec N PATH ARG...  N fork + execv(PATH, ARG...) + wait
 *   loop spawn N PATH ARG... the same through posix_spawn (vfork: no page tables copied), the
 *                            fastest exec this machine can do (tools/bench/latency.py's flood)
 * Any further argument is ignored: `loop write N celery` is a Celery-looking process that
 * celerywatch tracks. An exec ARG's leading '@' is dropped (`@celery`): the children look
 * like Celery, this loop does not. Prints the mean nanoseconds per operation on fd 3 (fd 1 and 2 are the
 * workload's). Part of `make bench` (tools/bench.sh), not of the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run_exec(long n, char **argv)
{
	for (char **a = argv; *a; a++)
		if (**a == '@')
			(*a)++;
	for (long i = 0; i < n; i++) {
		pid_t p = fork();
		if (p < 0)
			return 1;
		if (p == 0) {
			execv(argv[0], argv);
			_exit(127);
		}
		int st;
		if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 127)
			return 1;
	}
	return 0;
}

static int run_spawn(long n, char **argv)
{
	extern char **environ;

	for (char **a = argv; *a; a++)
		if (**a == '@')
			(*a)++;
	for (long i = 0; i < n; i++) {
		pid_t p;
		int st;
		if (posix_spawn(&p, argv[0], NULL, NULL, argv, environ) ||
		    waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 127)
			return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const char line[] = "[2026-12-02 05:00:00,000: INFO/ForkPoolWorker-1] Task t.add[42] succeeded in 0.001s\n";
	char buf[100];
	int r = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: loop getppid|write|lines N | loop exec|spawn N PATH [ARG...]\n");
		return 2;
	}
	long n = atol(argv[2]);
	memset(buf, 'x', sizeof(buf));
	double t0 = now_ns();
	if (!strcmp(argv[1], "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(argv[1], "write")) {
		for (long i = 0; i < n; i++)
			r |= write(1, buf, sizeof(buf)) != sizeof(buf);
	} else if (!strcmp(argv[1], "lines")) {
		for (long i = 0; i < n; i++)
			r |= write(2, line, sizeof(line) - 1) != sizeof(line) - 1;
	} else if (!strcmp(argv[1], "exec") && argc > 3) {
		r = run_exec(n, argv + 3);
	} else if (!strcmp(argv[1], "spawn") && argc > 3) {
		r = run_spawn(n, argv + 3);
	} else {
		fprintf(stderr, "loop: unknown workload %s\n", argv[1]);
		return 2;
	}
	double t1 = now_ns();
	if (r) {
		fprintf(stderr, "loop: %s failed\n", argv[1]);
		return 1;
	}
	dprintf(3, "%.1f\n", (t1 - t0) / (n ? n : 1));
	return 0;
}
