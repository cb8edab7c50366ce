/* URL credentials never reach a log line or a message: the one redaction rule set, used for
 * process arguments (`-b redis://:secret@host/0`) and for the broker URL we sample. */
#ifndef CW_REDACT_H
#define CW_REDACT_H

#include <stddef.h>

/*
 * Text of n bytes that may hold a URL (one URL, or one argument that holds several), with
 * its credentials replaced by "***". Two rules, both read on the original text, and what
 * either hides is hidden (overlapping spans become one "***"):
 *  1. a "password=" query parameter (any case, after the first '?', at its start or after
 *     a '&') is hidden from after its '=' to the end: an unescaped '&' inside the password
 *     must not leak its tail;
 *  2. the userinfo starts after the first "://" (at the start when there is none) and runs
 *     to the LAST '@' of the text; all of it after its first ':' is hidden, so an unescaped
 *     '@', '/', '?', '#', ';' or space inside a password is hidden as well.
 * When in doubt it hides more. Writes at most cap bytes of the result to out (no NUL; a cut
 * result is a prefix of the redacted text, never of the input) and returns the length of
 * the whole result, as snprintf does. It never allocates.
 */
size_t cw_redact_url(const char *s, size_t n, char *out, size_t cap);

/* One argument of n bytes to out, at most cap bytes; returns the bytes written. The result
 * is at most n + 6 bytes (two "***" for passwords shorter than 3), so 2n + 16 always do. */
size_t cw_redact_arg(const char *arg, size_t n, char *out, size_t cap);
/* The same over a NUL-separated argument buffer (as /proc/PID/cmdline). */
size_t cw_redact_argbuf(const char *buf, size_t len, char *out, size_t cap);

#endif
