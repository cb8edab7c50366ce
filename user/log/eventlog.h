/* The event log file: created 0640 without following symlinks, only ever one we may append
 * to, reopened on SIGHUP, write errors counted (tracing goes on), never half a line followed
 * by another, and the fields every line starts with. One thread uses a cw_output at a time:
 * in the recorder, the writer thread (log/writer.h). */
#ifndef CW_EVENTLOG_H
#define CW_EVENTLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log/jsonw.h"

#define CW_SCHEMA_VERSION 2	/* 2: proc_sample, exe, queues' arrived/drained (readers take 1 and 2) */

struct cw_output {
	int fd;
	char *path;		/* NULL for stdout */
	uint64_t lines;		/* lines written whole */
	uint64_t write_errors;	/* lines not written (or only in part) */
	int last_errno;
	bool regular;		/* a regular file: a partial line is cut off again (ftruncate) */
	uint64_t size;		/* regular files: bytes in the file after the last write */
	bool dangling;		/* a partial line is in the file: start the next write with '\n' */
};

/* path "-" or NULL is stdout. Otherwise a regular file (created 0640 if missing), a FIFO or a
 * character device, never through a symlink, owned by root or getuid() (else -EPERM), with one
 * link only (else -EPERM). Returns 0, or -errno with a sentence in err. */
int cw_output_open(struct cw_output *o, const char *path, char *err, size_t errlen);
/* Close and open the same path again (logrotate moved the file away), by the same rules as
 * cw_output_open; on a refusal the old file stays open and in use. */
int cw_output_reopen(struct cw_output *o, char *err, size_t errlen);
/* Write whole lines (one or many, each '\n'-terminated). Returns 0, or -errno: the lines not
 * written whole are counted in write_errors, not fatal. A line the error cut in the middle is
 * cut off the file again (regular files: ftruncate to the end of the last whole line), or,
 * where that is impossible (a pipe, a device), ended by a '\n' before the next line. */
int cw_output_write(struct cw_output *o, const char *lines, size_t len);
void cw_output_close(struct cw_output *o);

/* The host name written on every line; set once at start. */
void cw_eventlog_set_host(const char *host);
const char *cw_eventlog_host(void);

/* Start a line: {"v":CW_SCHEMA_VERSION,"type":...,"ts":...,"host":...,"pid":... */
void cw_line_begin(struct jw *w, const char *type, uint64_t realtime_ns, uint32_t pid);
/* The type of a line cw_line_begin started (any schema version), into out, cut to fit
 * ("" when line is not one of ours or is cut before the type's end). */
void cw_line_type(const char *line, size_t len, char *out, size_t outlen);

#endif
