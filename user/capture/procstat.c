/* /proc/PID/{stat,status,wchan,syscall} readers; see procstat.h. Nothing read from /proc is
 * trusted: every parser takes a length, needs no NUL and bounds what it copies. */
#include "capture/procstat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "syscall_names.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *cw_syscall_name(long nr)
{
	if (nr < 0 || (unsigned long)nr >= NELEM(cw_syscall_names))
		return NULL;
	return cw_syscall_names[nr];
}

/* One decimal number at *p (< end), skipping leading blanks; false when there is none. */
static bool take_u64(const char **p, const char *end, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s == end || *s < '0' || *s > '9')
		return false;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		if (x > (UINT64_MAX - 9) / 10)
			return false;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*v = x;
	return true;
}

/* Skip one space-separated field (which may be negative: "-1"). */
static bool skip_field(const char **p, const char *end)
{
	const char *s = *p;

	while (s < end && *s == ' ')
		s++;
	if (s == end)
		return false;
	while (s < end && *s != ' ' && *s != '\n')
		s++;
	*p = s;
	return true;
}

int cw_procstat_parse_stat(const char *buf, size_t len, char *state, uint64_t *cpu_ticks,
			   uint64_t *pstart)
{
	const char *end = buf + len, *rp = NULL, *p;
	uint64_t ut, st;

	for (const char *q = buf; q < end; q++)	/* the comm may contain ')' itself */
		if (*q == ')')
			rp = q;
	if (!rp || end - rp < 3 || rp[1] != ' ')
		return -EINVAL;
	*state = rp[2];
	p = rp + 3;
	/* fields 4..13 (ppid .. cmajflt), then utime (14) and stime (15) */
	for (int f = 4; f <= 13; f++)
		if (!skip_field(&p, end))
			return -EINVAL;
	if (!take_u64(&p, end, &ut) || !take_u64(&p, end, &st))
		return -EINVAL;
	/* fields 16..21 (cutime .. itrealvalue), then starttime (22) */
	for (int f = 16; f <= 21; f++)
		if (!skip_field(&p, end))
			return -EINVAL;
	if (!take_u64(&p, end, pstart))
		return -EINVAL;
	*cpu_ticks = ut + st;
	return 0;
}

/* The number after "key" at the start of a line of buf. */
static bool status_field(const char *buf, size_t len, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	const char *end = buf + len;

	for (const char *l = buf; l < end;) {
		const char *nl = memchr(l, '\n', (size_t)(end - l));
		const char *le = nl ? nl : end;
		if ((size_t)(le - l) > klen && !memcmp(l, key, klen)) {
			const char *p = l + klen;
			return take_u64(&p, le, v) && p == le;
		}
		l = le + 1;
	}
	return false;
}

int cw_procstat_parse_status(const char *buf, size_t len, uint64_t *ctxsw)
{
	uint64_t vol, nonvol;

	if (!status_field(buf, len, "voluntary_ctxt_switches:", &vol) ||
	    !status_field(buf, len, "nonvoluntary_ctxt_switches:", &nonvol))
		return -EINVAL;
	*ctxsw = vol + nonvol;
	return 0;
}

void cw_procstat_parse_syscall(const char *buf, size_t len, char *name, size_t namelen)
{
	const char *p = buf, *end = buf + len;
	uint64_t nr;

	name[0] = '\0';
	if (!namelen || !take_u64(&p, end, &nr) || (p < end && *p != ' ' && *p != '\n'))
		return;	/* "running", "-1 ..." (blocked outside a system call), garbage */
	const char *n = nr < 100000 ? cw_syscall_name((long)nr) : NULL;
	if (n)
		snprintf(name, namelen, "%s", n);
	else if (nr < 100000)
		snprintf(name, namelen, "syscall_%u", (unsigned)nr);
}

/* The file name in the directory dirfd, read with one read(2) into buf (NUL-terminated).
 * Returns the length, or -errno. */
static ssize_t read_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* A read that failed on a process gone away is -ESRCH, whatever errno procfs chose. */
static int gone(ssize_t n)
{
	return n == -ENOENT || n == -ESRCH || n == 0 ? -ESRCH : (int)n;
}

int cw_procstat_open(const char *root, int pid, uint64_t pstart, struct cw_procstat *out)
{
	char path[320], buf[1024];	/* stat is < 400 bytes; status' lines we want are near
					 * its end, so status gets the larger buffer below */
	char sbuf[16384];	/* status grows with Groups, Cpus_allowed_list... */
	ssize_t n;
	int dfd, rc;

	memset(out, 0, sizeof(*out));
	snprintf(path, sizeof(path), "%s/%d", root, pid);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return gone(-errno);
	if ((n = read_at(dfd, "stat", buf, sizeof(buf))) <= 0) {
		rc = gone(n);
		goto fail;
	}
	if ((rc = cw_procstat_parse_stat(buf, (size_t)n, &out->state, &out->cpu_ticks, &out->pstart)))
		goto fail;
	if (out->pstart != pstart) {
		rc = -ESRCH;	/* the pid now belongs to another process */
		goto fail;
	}
	if ((n = read_at(dfd, "status", sbuf, sizeof(sbuf))) <= 0) {
		rc = gone(n);
		goto fail;
	}
	if ((rc = cw_procstat_parse_status(sbuf, (size_t)n, &out->ctxsw)))
		goto fail;
	return dfd;
fail:
	close(dfd);
	return rc;
}

void cw_procstat_wait(int dirfd, struct cw_procstat *out)
{
	char buf[256];
	ssize_t n;

	out->wchan[0] = out->syscall[0] = '\0';
	n = read_at(dirfd, "wchan", buf, sizeof(buf));
	/* "0": not waiting (or the symbol is hidden); keep symbol characters only */
	if (n > 0 && strcmp(buf, "0")) {
		size_t j = 0;
		for (ssize_t i = 0; i < n && j + 1 < sizeof(out->wchan); i++) {
			char c = buf[i];
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '_' || c == '.'))
				break;
			out->wchan[j++] = c;
		}
		out->wchan[j] = '\0';
	}
	n = read_at(dirfd, "syscall", buf, sizeof(buf));
	if (n > 0)
		cw_procstat_parse_syscall(buf, (size_t)n, out->syscall, sizeof(out->syscall));
}
