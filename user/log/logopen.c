/* See logopen.h. */
#include "log/logopen.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
	int n = gzread(cookie, buf, size > (1u << 30) ? (1u << 30) : (unsigned)size);

	if (n < 0) {
		errno = EIO;
		return -1;
	}
	return n;
}

static int gz_close(void *cookie)
{
	return gzclose(cookie) == Z_OK ? 0 : EOF;
}

static bool is_gzip(int fd)
{
	unsigned char magic[2];
	bool gz = pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;

	return gz;
}

FILE *cw_log_fopen(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!is_gzip(fd)) {
		FILE *f = fdopen(fd, "r");
		if (!f)
			close(fd);
		return f;
	}
	gzFile gz = gzdopen(fd, "rb");
	if (!gz) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	gzbuffer(gz, 1u << 17);
	cookie_io_functions_t io = {.read = gz_read, .close = gz_close};
	FILE *f = fopencookie(gz, "r", io);
	if (!f)
		gzclose(gz);
	return f;
}
