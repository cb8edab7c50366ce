/* Built-in log rotation; see rotate.h. */
#include "log/rotate.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "common/threadcaps.h"

/* path.N or path.N.gz */
static void rotated_name(char *out, size_t len, const char *path, int n, bool gz)
{
	snprintf(out, len, "%s.%d%s", path, n, gz ? ".gz" : "");
}

static int say(char *err, size_t errlen, const char *what, const char *name, int e)
{
	snprintf(err, errlen, "rotation: %s %s: %s", what, name, strerror(e));
	return -e;
}

int cw_rotate_shift(const char *path, int keep, char *err, size_t errlen)
{
	char from[4096], to[4096];

	for (int gz = 0; gz <= 1; gz++) {
		rotated_name(to, sizeof(to), path, keep, gz);
		if (unlink(to) && errno != ENOENT)
			return say(err, errlen, "cannot remove", to, errno);
	}
	for (int i = keep - 1; i >= 1; i--) {
		for (int gz = 0; gz <= 1; gz++) {
			rotated_name(from, sizeof(from), path, i, gz);
			rotated_name(to, sizeof(to), path, i + 1, gz);
			if (rename(from, to) && errno != ENOENT)
				return say(err, errlen, "cannot rename", from, errno);
		}
	}
	rotated_name(to, sizeof(to), path, 1, false);
	if (rename(path, to))
		return say(err, errlen, "cannot rename", path, errno);
	return 0;
}

static int copy_gz(int in, gzFile out)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (gzwrite(out, buf, (unsigned)n) != (int)n)
			return -EIO;
	}
	return 0;
}

int cw_gzip_file(const char *src, char *err, size_t errlen)
{
	char dst[4096], tmp[4096];
	int in = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (in < 0)
		return say(err, errlen, "cannot open", src, errno);
	snprintf(dst, sizeof(dst), "%s.gz", src);
	snprintf(tmp, sizeof(tmp), "%s.gz.tmp", src);
	unlink(tmp);	/* a leftover of a crash; O_EXCL below refuses anything planted after */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
	if (fd < 0) {
		int e = errno;
		close(in);
		return say(err, errlen, "cannot create", tmp, e);
	}
	gzFile out = gzdopen(fd, "wb6");
	int r = out ? copy_gz(in, out) : -ENOMEM;
	if (out && gzclose(out) != Z_OK && !r)
		r = -EIO;
	else if (!out)
		close(fd);
	close(in);
	if (!r && rename(tmp, dst))
		r = -errno;
	if (r) {
		unlink(tmp);
		return say(err, errlen, "cannot compress", src, -r);
	}
	unlink(src);
	return 0;
}

static void *gz_main(void *arg)
{
	struct cw_rotator *r = arg;
	char err[512];

	cw_thread_drop_caps();
	if (cw_gzip_file(r->gz_src, err, sizeof(err)))
		fprintf(stderr, "celerywatch: %s; %s is kept uncompressed\n", err, r->gz_src);
	return NULL;
}

void cw_rotator_finish(struct cw_rotator *r, const struct timespec *until)
{
	if (!r->gz_running)
		return;
	if (until && pthread_timedjoin_np(r->gz, NULL, until))
		return;
	if (!until)
		pthread_join(r->gz, NULL);
	r->gz_running = false;
	free(r->gz_src);
	r->gz_src = NULL;
}

static void start_gz(struct cw_rotator *r, const char *path)
{
	char name[4096];

	rotated_name(name, sizeof(name), path, 1, false);
	r->gz_src = strdup(name);
	if (!r->gz_src)
		return;
	if (pthread_create(&r->gz, NULL, gz_main, r)) {
		gz_main(r);	/* no thread: compress here, late rather than never */
		free(r->gz_src);
		r->gz_src = NULL;
		return;
	}
	r->gz_running = true;
}

int cw_rotator_check(struct cw_rotator *r, struct cw_output *o, char *err, size_t errlen)
{
	if (!r->cfg.size || !o->path || !o->regular || o->size < r->cfg.size)
		return 0;
	cw_rotator_finish(r, NULL);	/* LOG.1 must be LOG.1.gz before it moves up */
	int e = cw_rotate_shift(o->path, r->cfg.keep, err, errlen);
	if (!e)
		e = cw_output_reopen(o, err, errlen);
	if (e) {
		r->failures++;
		return e;
	}
	r->rotations++;
	if (r->cfg.compress)
		start_gz(r, o->path);
	return 0;
}

int64_t cw_parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	int shift = 0;

	if (errno || end == s || *s == '-')
		return -1;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	}
	if (*end || v > (1ULL << 40) || (v << shift) < 4096)
		return -1;
	return (int64_t)(v << shift);
}
