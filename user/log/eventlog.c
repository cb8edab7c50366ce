/* The event log output; see eventlog.h. */
#include "log/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char cw_host[256] = "localhost";

void cw_eventlog_set_host(const char *host)
{
	snprintf(cw_host, sizeof(cw_host), "%s", host);
}

const char *cw_eventlog_host(void)
{
	return cw_host;
}

void cw_line_begin(struct jw *w, const char *type, uint64_t realtime_ns, uint32_t pid)
{
	char ts[40];

	jw_format_ts(ts, sizeof(ts), realtime_ns);
	jw_begin(w);
	jw_int(w, "v", CW_SCHEMA_VERSION);
	jw_str(w, "type", type);
	jw_str(w, "ts", ts);
	jw_str(w, "host", cw_host);
	jw_uint(w, "pid", pid);
}

#define CW_STR_(x) #x
#define CW_STR(x) CW_STR_(x)

/* cw_line_begin writes the type first after the version: its place is fixed. Any version
 * is read (a log of schema 1 has its types at the same place). */
void cw_line_type(const char *line, size_t len, char *out, size_t outlen)
{
	static const char v[] = "{\"v\":", key[] = ",\"type\":\"";
	size_t i = sizeof(v) - 1, digits;
	const char *t, *end;

	if (outlen)
		out[0] = '\0';
	if (!outlen || len < i || memcmp(line, v, i))
		return;
	for (digits = i; i < len && line[i] >= '0' && line[i] <= '9'; i++)
		;
	if (i == digits || len - i < sizeof(key) - 1 || memcmp(line + i, key, sizeof(key) - 1))
		return;
	t = line + i + sizeof(key) - 1;
	if (!(end = memchr(t, '"', (size_t)(line + len - t))))
		return;	/* cut short */
	size_t n = (size_t)(end - t) < outlen - 1 ? (size_t)(end - t) : outlen - 1;

	memcpy(out, t, n);
	out[n] = '\0';
}

/* The files we append to: a regular file, or a FIFO or character device (a log shipper's pipe,
 * /dev/null); owned by root or by whoever runs us (a file planted in a shared directory keeps
 * reading what we append); with one name only (a hard link planted to a file we own would
 * make us write into it). Returns 0, or -errno with a sentence in err. */
static int check_file(const struct stat *st, const char *path, char *err, size_t errlen)
{
	if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode) && !S_ISCHR(st->st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (st->st_uid != 0 && st->st_uid != getuid()) {
		snprintf(err, errlen, "%s belongs to uid %u, not to us; refusing to append to it",
			 path, (unsigned)st->st_uid);
		return -EPERM;
	}
	if (st->st_nlink > 1) {
		snprintf(err, errlen, "%s has %lu hard links; refusing to append to it", path,
			 (unsigned long)st->st_nlink);
		return -EPERM;
	}
	return 0;
}

/* Checked before opening too: opening someone's device or FIFO can already do something
 * (a reader of theirs wakes up). fstat after open is what counts; this only comes first. */
static int check_path(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st))
		return 0;	/* not there yet (we create it), or open says why */
	if (S_ISLNK(st.st_mode))
		return 0;	/* O_NOFOLLOW refuses it with its own sentence */
	return check_file(&st, path, err, errlen);
}

/* Open o->path for appending: created 0640, never through a symlink, then check_file(). */
static int open_path(struct cw_output *o, char *err, size_t errlen)
{
	int r = check_path(o->path, err, errlen);
	if (r)
		return r;
	/* O_NOFOLLOW: a root tool must not write through a link planted in a shared directory.
	 * O_NONBLOCK: a FIFO without a reader fails (ENXIO) instead of hanging the start. */
	int fd = open(o->path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0640);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "%s is a symbolic link; refusing to write through it", o->path);
		else
			snprintf(err, errlen, "cannot open %s: %s", o->path, strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "cannot stat %s: %s", o->path, strerror(-r));
	} else if (!(r = check_file(&st, o->path, err, errlen)) &&
		   fcntl(fd, F_SETFL, O_APPEND) < 0) {
		/* writes block again: only the writer thread (log/writer.c) waits on them */
		r = -errno;
		snprintf(err, errlen, "cannot set up %s: %s", o->path, strerror(-r));
	}
	if (r) {
		close(fd);
		return r;
	}
	o->fd = fd;
	o->regular = S_ISREG(st.st_mode);
	o->size = o->regular ? (uint64_t)st.st_size : 0;
	return 0;
}

int cw_output_open(struct cw_output *o, const char *path, char *err, size_t errlen)
{
	memset(o, 0, sizeof(*o));
	if (!path || strcmp(path, "-") == 0) {
		o->fd = STDOUT_FILENO;
		return 0;
	}
	o->path = strdup(path);
	if (!o->path) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return open_path(o, err, errlen);
}

int cw_output_reopen(struct cw_output *o, char *err, size_t errlen)
{
	if (!o->path)
		return 0;
	int old = o->fd;
	int r = open_path(o, err, errlen);
	if (r < 0)
		return r;	/* keep writing to the old file rather than nowhere */
	if (old >= 0)
		close(old);
	o->dangling = false;
	return 0;
}

static int write_all(int fd, const char *p, size_t len, size_t *done)
{
	*done = 0;
	while (*done < len) {
		ssize_t n = write(fd, p + *done, len - *done);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		*done += (size_t)n;
	}
	return 0;
}

static uint64_t count_lines(const char *p, size_t len)
{
	uint64_t n = 0;

	for (const char *e = p + len; (p = memchr(p, '\n', (size_t)(e - p))); p++)
		n++;
	return n;
}

/* Bytes of p[0..len) up to and including its last '\n': the whole lines in it. */
static size_t whole_part(const char *p, size_t len)
{
	const char *nl = memrchr(p, '\n', len);

	return nl ? (size_t)(nl - p) + 1 : 0;
}

/* A line was cut in the middle at file offset `end` (the end of the last whole line): take
 * the fragment off again, so the file never holds half a line followed by another line. */
static void cut_fragment(struct cw_output *o, off_t end)
{
	if (o->regular && end >= 0 && ftruncate(o->fd, end) == 0)
		return;
	o->dangling = true;	/* a pipe or a device: the next write ends the fragment first */
}

int cw_output_write(struct cw_output *o, const char *lines, size_t len)
{
	/* O_APPEND: where this write starts is the end of the file now (we are its only writer) */
	off_t start = o->regular ? lseek(o->fd, 0, SEEK_END) : -1;
	size_t done;
	int r;

	if (o->dangling) {
		/* end the fragment a failed write left, so it cannot glue onto this line */
		r = write_all(o->fd, "\n", 1, &done);
		if (r < 0) {
			o->write_errors += count_lines(lines, len);
			o->last_errno = -r;
			return r;
		}
		o->dangling = false;
		if (start >= 0)
			start++;
	}
	r = write_all(o->fd, lines, len, &done);
	if (start >= 0)
		o->size = (uint64_t)start + done;
	if (r == 0) {
		o->lines += count_lines(lines, len);
		return 0;
	}
	size_t whole = whole_part(lines, done);
	o->lines += count_lines(lines, whole);
	o->write_errors += count_lines(lines + whole, len - whole);
	o->last_errno = -r;
	if (done > whole) {
		cut_fragment(o, start < 0 ? -1 : start + (off_t)whole);
		if (start >= 0)
			o->size = (uint64_t)start + whole;
	}
	return r;
}

void cw_output_close(struct cw_output *o)
{
	if (o->path && o->fd >= 0)
		close(o->fd);
	free(o->path);
	o->path = NULL;
	o->fd = -1;
}
