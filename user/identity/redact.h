/* Credentials in process arguments (`-b redis://:secret@host/0`) never reach the event log:
 * the password part of a URL's userinfo is replaced by "***" before a line is written. */
#ifndef CW_REDACT_H
#define CW_REDACT_H

#include <stddef.h>

/* Copy one argument of n bytes to out, at most cap bytes; returns the bytes written. A
 * password shorter than "***" makes the copy longer: 2n + 16 bytes always suffice. */
size_t cw_redact_arg(const char *arg, size_t n, char *out, size_t cap);
/* The same over a NUL-separated argument buffer (as /proc/PID/cmdline). */
size_t cw_redact_argbuf(const char *buf, size_t len, char *out, size_t cap);

#endif
