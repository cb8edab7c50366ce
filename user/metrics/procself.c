/* process_* metrics from /proc/self; see procself.h. */
#include "metrics/procself.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int cw_procself_parse_stat(const char *stat, long ticks, long page, int64_t btime, struct cw_procself *p)
{
	const char *s = strrchr(stat, ')');
	unsigned long long utime, stime, start, vsize;
	long long rss;

	if (!s || ticks <= 0 || page <= 0)
		return -EINVAL;
	/* after ")": state(3) ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24) */
	if (sscanf(s + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d"
		   " %llu %llu %lld", &utime, &stime, &start, &vsize, &rss) != 5 || rss < 0)
		return -EINVAL;
	p->cpu_seconds = (double)(utime + stime) / (double)ticks;
	p->start_time = (double)btime + (double)start / (double)ticks;
	p->vsize = vsize;
	p->rss = (uint64_t)rss * (uint64_t)page;
	return 0;
}

static int64_t read_btime(void)
{
	FILE *f = fopen("/proc/stat", "re");
	char line[256];
	long long bt = 0;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lld", &bt) == 1)
			break;
	if (f)
		fclose(f);
	return bt;
}

static int64_t count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int64_t n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;	/* the directory's own fd */
}

int cw_procself_read(struct cw_procself *p)
{
	char buf[1024];
	FILE *f = fopen("/proc/self/stat", "re");
	struct rlimit rl;
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (!n || cw_procself_parse_stat(buf, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), read_btime(), p))
		return -EIO;
	p->open_fds = count_fds();
	p->max_fds = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY ? (int64_t)rl.rlim_cur : -1;
	return 0;
}

size_t cw_procself_format(const struct cw_procself *p, char *buf, size_t len)
{
	int n = snprintf(buf, len,
		"# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n"
		"# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total %.2f\n"
		"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		"# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes %" PRIu64 "\n"
		"# HELP process_virtual_memory_bytes Virtual memory size in bytes.\n"
		"# TYPE process_virtual_memory_bytes gauge\nprocess_virtual_memory_bytes %" PRIu64 "\n"
		"# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.\n"
		"# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds %.2f\n",
		p->cpu_seconds, p->rss, p->vsize, p->start_time);
	if (n < 0 || (size_t)n >= len)
		return 0;
	if (p->open_fds >= 0)
		n += snprintf(buf + n, len - (size_t)n,
			      "# HELP process_open_fds Number of open file descriptors.\n"
			      "# TYPE process_open_fds gauge\nprocess_open_fds %" PRId64 "\n", p->open_fds);
	if ((size_t)n < len && p->max_fds >= 0)
		n += snprintf(buf + n, len - (size_t)n,
			      "# HELP process_max_fds Maximum number of open file descriptors.\n"
			      "# TYPE process_max_fds gauge\nprocess_max_fds %" PRId64 "\n", p->max_fds);
	return (size_t)n < len ? (size_t)n : 0;
}
