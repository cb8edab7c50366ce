/* See follow.h. */
#include "cli/follow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void cw_follow_init(struct cw_follow *f, const char *path)
{
	memset(f, 0, sizeof(*f));
	f->path = path;
	f->fd = -1;
}

static void try_open(struct cw_follow *f)
{
	struct stat st;
	int fd = open(f->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return;
	}
	f->fd = fd;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->off = 0;
	f->len = 0;
	f->skipping = false;
}

/* Split buf + new bytes into lines; keep the tail. */
static void take(struct cw_follow *f, const char *p, size_t n, cw_follow_line_cb cb, void *ctx)
{
	while (n) {
		const char *nl = memchr(p, '\n', n);
		size_t k = nl ? (size_t)(nl - p) + 1 : n;
		if (!f->skipping && f->len + k > CW_FOLLOW_MAX_LINE) {
			f->skipping = true;	/* drop it whole rather than hand out a piece */
			f->too_long++;
			f->len = 0;
		}
		if (!f->skipping) {
			if (f->len + k > f->cap) {
				size_t ncap = f->cap ? f->cap : 65536;
				while (ncap < f->len + k)
					ncap *= 2;
				char *nb = realloc(f->buf, ncap);
				if (!nb)
					return;
				f->buf = nb;
				f->cap = ncap;
			}
			memcpy(f->buf + f->len, p, k);
			f->len += k;
		}
		if (nl) {
			if (!f->skipping) {
				f->lines++;
				cb(f->buf, f->len, ctx);
			}
			f->len = 0;
			f->skipping = false;
		}
		p += k;
		n -= k;
	}
}

static long drain(struct cw_follow *f, cw_follow_line_cb cb, void *ctx)
{
	char chunk[65536];
	long total = 0;

	for (;;) {
		ssize_t n = read(f->fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return total;
		f->off += n;
		total += n;
		take(f, chunk, (size_t)n, cb, ctx);
	}
}

/* The path now names another file (rotated), or ours shrank (truncated). */
static bool replaced(struct cw_follow *f)
{
	struct stat st, ours;

	if (fstat(f->fd, &ours) == 0 && ours.st_size < f->off) {
		lseek(f->fd, 0, SEEK_SET);	/* truncated in place: from the start again */
		f->off = 0;
		f->len = 0;
	}
	return stat(f->path, &st) == 0 && (st.st_ino != f->ino || st.st_dev != f->dev);
}

long cw_follow_poll(struct cw_follow *f, cw_follow_line_cb cb, void *ctx)
{
	long total = 0;

	if (f->fd < 0)
		try_open(f);
	while (f->fd >= 0) {
		long n = drain(f, cb, ctx);
		if (n < 0)
			return n;
		total += n;
		if (!replaced(f))
			break;
		/* lines written between our read and the rename are still in the old file */
		n = drain(f, cb, ctx);
		if (n > 0)
			total += n;
		close(f->fd);	/* the old file is read to its end: on to the new one */
		f->fd = -1;
		f->reopened++;
		try_open(f);
	}
	return total;
}

void cw_follow_close(struct cw_follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	free(f->buf);
	f->buf = NULL;
}
