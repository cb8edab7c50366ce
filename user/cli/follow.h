/* `tail -F` for `watch --follow`: reads what a recorder appends to its log, line by line,
 * across rotation (the path renamed away and created again: the old file is read to its end
 * first) and truncation (read again from the start). No root needed: only read access. */
#ifndef CW_FOLLOW_H
#define CW_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define CW_FOLLOW_MAX_LINE (1u << 20)	/* longer lines are skipped whole, and counted */

struct cw_follow {
	const char *path;
	int fd;			/* -1 while the path does not exist */
	dev_t dev;
	ino_t ino;
	off_t off;
	char *buf;		/* a partial line waiting for its '\n' */
	size_t len, cap;
	bool skipping;		/* inside an over-long line */
	unsigned long long lines, too_long, reopened;
};

typedef void (*cw_follow_line_cb)(const char *line, size_t len, void *ctx);

void cw_follow_init(struct cw_follow *f, const char *path);
/* Read everything available now, calling cb per whole line ('\n' included). Returns the
 * number of bytes read (0: nothing new), or -errno on a read error. */
long cw_follow_poll(struct cw_follow *f, cw_follow_line_cb cb, void *ctx);
void cw_follow_close(struct cw_follow *f);

#endif
