/* The standard process_* metrics of the recorder itself, from /proc/self, as Prometheus
 * client libraries export them: read by the HTTP thread at scrape time. */
#ifndef CW_PROCSELF_H
#define CW_PROCSELF_H

#include <stddef.h>
#include <stdint.h>

struct cw_procself {
	double cpu_seconds;		/* utime + stime */
	double start_time;		/* seconds since the epoch */
	uint64_t vsize, rss;		/* bytes */
	int64_t open_fds, max_fds;	/* -1 unknown */
};

/* Fields of a /proc/PID/stat text (the comm may hold spaces and parentheses: fields are
 * counted from the last ')'). ticks: clock ticks per second; page: the page size;
 * btime: boot time from /proc/stat. Returns 0 or -EINVAL. */
int cw_procself_parse_stat(const char *stat, long ticks, long page, int64_t btime, struct cw_procself *p);

/* The whole set for this process. Returns 0, or -errno when /proc/self/stat is unreadable. */
int cw_procself_read(struct cw_procself *p);

/* The exposition text of p into buf (NUL-terminated); the length, or 0 if it does not fit. */
size_t cw_procself_format(const struct cw_procself *p, char *buf, size_t len);

#endif
