/* A Celery-looking process for the latency and loss measurements (tools/bench/latency.py),
 * exec'd with a Celery command line (`celery -A app worker -Q q ...`) that celerywatch
 * tracks and reads as a worker. It exits 0 at once (an exec to record), or with
 * CW_STUB_PAUSE set in its environment waits for a signal (a worker to kill). Built static,
 * so that an exec is the kernel's work and no dynamic loading: the highest exec rate of
 * Celery-looking commands this machine can reach. */
#include <stdlib.h>
#include <unistd.h>

int main(void)
{
	if (getenv("CW_STUB_PAUSE"))
		for (;;)
			pause();
	return 0;
}
