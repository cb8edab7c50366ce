/* The recorder's live engine over a long log: feeds LOG line by line as `record` does
 * (alerts or metrics on) and judges after every STEP lines (default 100,000). Prints, per
 * step, the judgement's wall time and what the timeline holds; the caller reads max RSS.
 * Not a test: figures depend on the machine.
 *
 *   live_judge LOG [STEP]        (tools/bench_explain.sh runs it on its generated log) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/live.h"
#include "engine/engine.h"

static double now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct cw_live live;
	long step = argc > 2 ? atol(argv[2]) : 100000, n = 0;
	FILE *f = argc > 1 ? fopen(argv[1], "r") : NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f || step <= 0 || cw_live_init(&live)) {
		fprintf(stderr, "usage: live_judge LOG [STEP]\n");
		return 2;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		cw_live_line(&live, line, (size_t)len);
		if (++n % step)
			continue;
		double t = now_ms();
		cw_live_tick(&live);
		const struct cw_timeline *tl = cw_engine_timeline(live.eng);
		printf("%8ld lines: judged in %6.1f ms; %d processes whole (%d slots), %d folded, "
		       "%ld folded forgotten, %ld dead forgotten\n", n, now_ms() - t,
		       tl->nprocs - tl->nfreeprocs, tl->nprocs, tl->nfolded, tl->nfolded_forgotten,
		       tl->ndead_forgotten);
	}
	free(line);
	fclose(f);
	cw_live_free(&live);
	return 0;
}
