/* The benchmark's workloads, timed from inside so that only the loop is measured:
 *   loop getppid N        N getppid(2): the cheapest syscall (the cost of any syscall hook)
 *   loop write N          N 100-byte write(2) to fd 1
 *   loop lines N          N log lines written to fd 2 one write(2) each (a chatty worker)
 *   loop exec N PATH ARG...  N fork + execv(PATH, ARG...) + wait
 * Any further argument is ignored: `loop write N celery` is a Celery-looking process that
 * celerywatch tracks. An exec ARG's leading '@' is dropped (`@celery`): the children look
 * like Celery, this loop does not. Prints nanoseconds per operation on fd 3 (fd 1 and 2 are the
 * workload's): the N operations run in CHUNKS chunks and the fastest chunk's mean is printed,
 * because on a shared VM a neighbour's burst only ever adds time, and what a tracer adds is
 * in every chunk. Part of `make bench` (tools/bench.sh), not of the tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNKS 20

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run_exec(long n, char **argv)
{
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

static int run_chunk(const char *what, long n, char **argv)
{
	static const char line[] = "[2026-12-02 05:00:00,000: INFO/ForkPoolWorker-1] Task t.add[42] succeeded in 0.001s\n";
	char buf[100];
	int r = 0;

	memset(buf, 'x', sizeof(buf));
	if (!strcmp(what, "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
	} else if (!strcmp(what, "write")) {
		for (long i = 0; i < n; i++)
			r |= write(1, buf, sizeof(buf)) != sizeof(buf);
	} else if (!strcmp(what, "lines")) {
		for (long i = 0; i < n; i++)
			r |= write(2, line, sizeof(line) - 1) != sizeof(line) - 1;
	} else {
		r = run_exec(n, argv);
	}
	return r;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: loop getppid|write|lines N | loop exec N PATH [ARG...]\n");
		return 2;
	}
	const char *what = argv[1];
	if (strcmp(what, "getppid") && strcmp(what, "write") && strcmp(what, "lines") &&
	    (strcmp(what, "exec") || argc < 4)) {
		fprintf(stderr, "loop: unknown workload %s\n", what);
		return 2;
	}
	for (char **a = argv + 3; *a; a++)
		if (**a == '@')
			(*a)++;
	long n = atol(argv[2]);
	long chunk = n >= CHUNKS ? n / CHUNKS : 1;
	double best = 0;
	for (long done = 0; done < n; done += chunk) {
		double t0 = now_ns();
		if (run_chunk(what, chunk, argv + 3)) {
			fprintf(stderr, "loop: %s failed\n", what);
			return 1;
		}
		double per = (now_ns() - t0) / chunk;
		if (!best || per < best)
			best = per;
	}
	dprintf(3, "%.1f\n", best);
	return 0;
}
