/* The benchmark's workloads, timed from inside so that only the loop is measured:
 *   loop getppid N        N getppid(2): the cheapest syscall (the cost of any syscall hook)
 *   loop write N          N 100-byte write(2) to fd 1
 *   loop lines N          N log lines written to fd 2 one write(2) each (a chatty worker)
 *   loop exec N PATH ARG...  N fork + execv(PATH, ARG...) + wait
 *   loop spawn N PATH ARG... the same through posix_spawn (vfork: no page tables copied), the
 *                            fastest exec this machine can do (tools/bench/latency.py's flood)
 *   loop serve          one "write N" or "lines N" per line of stdin, each answered on fd 3:
 *                       a long-lived writer (started before the tracer, found by its start-up
 *                       scan: tracked, and no exec of it opens a --tail-window window)
 * Any further argument is ignored: `loop write N celery` is a Celery-looking process that
 * celerywatch tracks. An exec ARG's leading '@' is dropped (`@celery`): the children look
 * like Celery, this loop does not. Prints nanoseconds per operation on fd 3 (fd 1 and 2 are
 * the workload's): the N operations run in CHUNKS chunks and the fastest chunk's mean is
 * printed, because on a shared VM a neighbour's burst only ever adds time, and what a tracer
 * adds is in every chunk. Part of `make bench` (tools/bench.sh), not of the tests. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNKS 20

extern char **environ;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int run_exec(long n, char **argv, int spawn)
{
	for (long i = 0; i < n; i++) {
		pid_t p;
		int st;
		if (spawn) {
			if (posix_spawn(&p, argv[0], NULL, NULL, argv, environ))
				return 1;
		} else {
			p = fork();
			if (p < 0)
				return 1;
			if (p == 0) {
				execv(argv[0], argv);
				_exit(127);
			}
		}
		if (waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 127)
			return 1;
	}
	return 0;
}

static const char line[] = "[2026-12-02 05:00:00,000: INFO/ForkPoolWorker-1] Task t.add[42] succeeded in 0.001s\n";

/* n writes: 100 bytes to fd 1 (write) or a log line to fd 2 (lines); nonzero on a short one */
static int run_writes(const char *what, long n)
{
	char buf[100];
	int r = 0;

	memset(buf, 'x', sizeof(buf));
	if (!strcmp(what, "write")) {
		for (long i = 0; i < n; i++)
			r |= write(1, buf, sizeof(buf)) != sizeof(buf);
	} else {
		for (long i = 0; i < n; i++)
			r |= write(2, line, sizeof(line) - 1) != sizeof(line) - 1;
	}
	return r;
}

static int run_chunk(const char *what, long n, char **argv)
{
	if (!strcmp(what, "getppid")) {
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		return 0;
	}
	if (!strcmp(what, "write") || !strcmp(what, "lines"))
		return run_writes(what, n);
	return run_exec(n, argv, !strcmp(what, "spawn"));
}

/* ns per operation of the fastest of CHUNKS chunks; < 0 if an operation failed */
static double run_timed(const char *what, long n, char **argv)
{
	long chunk = n >= CHUNKS ? n / CHUNKS : 1;
	double best = 0;

	for (long done = 0; done < n; done += chunk) {
		double t0 = now_ns();
		if (run_chunk(what, chunk, argv))
			return -1;
		double per = (now_ns() - t0) / chunk;
		if (!best || per < best)
			best = per;
	}
	return best;
}

static int serve(void)
{
	char cmd[64];
	long n;

	while (scanf("%63s %ld", cmd, &n) == 2) {
		if (strcmp(cmd, "write") && strcmp(cmd, "lines"))
			return 2;
		double ns = run_timed(cmd, n, NULL);
		if (ns < 0)
			return 1;
		dprintf(3, "%.1f\n", ns);
	}
	return 0;
}

static int known(const char *what, int argc)
{
	if (!strcmp(what, "exec") || !strcmp(what, "spawn"))
		return argc > 3;
	return !strcmp(what, "getppid") || !strcmp(what, "write") || !strcmp(what, "lines");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return serve();
	if (argc < 3) {
		fprintf(stderr, "usage: loop getppid|write|lines N | loop exec|spawn N PATH [ARG...] | loop serve\n");
		return 2;
	}
	if (!known(argv[1], argc)) {
		fprintf(stderr, "loop: unknown workload %s\n", argv[1]);
		return 2;
	}
	for (char **a = argv + 3; *a; a++)
		if (**a == '@')
			(*a)++;
	double ns = run_timed(argv[1], atol(argv[2]), argv + 3);
	if (ns < 0) {
		fprintf(stderr, "loop: %s failed\n", argv[1]);
		return 1;
	}
	dprintf(3, "%.1f\n", ns);
	return 0;
}
