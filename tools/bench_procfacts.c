/* Cost of one proc_sample round (cli/procfacts.c) on the real /proc: N child processes, each
 * holding a TCP connection to a local listener that stands in for the broker, tracked as pool
 * processes; prints the mean microseconds of a round (second round on: wchan and syscall are
 * read too, since the children sleep).
 * Build and run (root not needed):
 *   make && cc -Iinclude -Iuser -Ibuild -D_GNU_SOURCE -O2 tools/bench_procfacts.c build/libcw.a \
 *      -lbpf -lelf -lz -lhiredis -ljson-c -lpthread -lm -o build/bench_procfacts
 *   build/bench_procfacts 10 100 512 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "capture/brokerconn.h"
#include "capture/procscan.h"
#include "cli/procfacts.h"
#include "common/timeutil.h"

static void bench(int n, int ls, const struct sockaddr_in *sa)
{
	struct cw_ptable t;
	struct jw w;
	pid_t *kids = calloc((size_t)n, sizeof(*kids));
	struct cw_broker_endpoint ep = { .known = true };
	struct cw_sample smp = { .redis_ok = true };
	int rounds = 20;

	cw_ptable_init(&t);
	jw_init(&w);
	memcpy(&ep.addr, sa, sizeof(*sa));
	snprintf(ep.text, sizeof(ep.text), "127.0.0.1:%u", ntohs(sa->sin_port));
	for (int i = 0; i < n; i++) {
		if (!(kids[i] = fork())) {
			/* a worker's few fds: its own connection, not the bench's */
			close_range(3, ~0U, 0);
			int c = socket(AF_INET, SOCK_STREAM, 0);
			if (connect(c, (const struct sockaddr *)sa, sizeof(*sa)))
				_exit(1);
			pause();
			_exit(0);
		}
		int a = accept(ls, NULL, NULL);
		(void)a;	/* kept open: the connection stays established */
		unsigned long long ps;
		while (cw_proc_pstart("/proc", kids[i], &ps))
			;
		struct cw_pentry *e = cw_ptable_put(&t, (uint32_t)kids[i], ps);
		e->id.role = "pool";
	}
	double total = 0, t0 = cw_mono_s();
	struct cw_bconn *bc = calloc(1, sizeof(*bc));
	for (int r = 0; r < rounds; r++) {	/* the TCP table alone, for comparison */
		cw_bconn_begin(bc, &(struct cw_sockaddr){ 0 }, 1, NULL, 0);
		int fd = open("/proc/self", O_RDONLY | O_DIRECTORY);
		struct cw_sockaddr loc[CW_BCONN_MAX_LOCAL];
		size_t nl;
		cw_bconn_count(bc, fd, loc, &nl);
		close(fd);
		cw_bconn_end(bc);
	}
	free(bc);
	printf("(one namespace's TCP tables: %.0f us)\n", (cw_mono_s() - t0) / rounds * 1e6);
	for (int r = 0; r < rounds; r++) {
		double t0 = cw_mono_s();
		cw_procfacts_round(&w, "/proc", &t, &smp, getenv("NOCONN") ? NULL : &ep);
		if (r)	/* the first round reads no wchan */
			total += cw_mono_s() - t0;
		if (r == rounds - 1 && n <= 2)
			fputs(w.buf, stdout);
	}
	printf("%d tracked processes: %.0f us per round (%zu bytes per line)\n", n,
	       total / (rounds - 1) * 1e6, w.len);
	for (int i = 0; i < n; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	for (size_t b = 0; b < CW_PTABLE_BUCKETS; b++)
		for (struct cw_pentry *e = t.buckets[b]; e; e = e->next)
			e->id.role = "other";	/* static strings: not freed */
	cw_ptable_free(&t);
	jw_free(&w);
	free(kids);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 1024) ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl)) {
		perror("listen");
		return 1;
	}
	for (int i = 1; i < argc; i++)
		bench(atoi(argv[i]), ls, &sa);
	return 0;
}
