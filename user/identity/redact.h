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
 *     a '&' or another '?': the first '?' may be inside a password) is hidden from after its
 *     '=' to the end: an unescaped '&' inside the password must not leak its tail;
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
/*
 * Free text (a stderr tail, a setproctitle title) word by word: words end at whitespace,
 * quotes, '<' '>' '(' ')' ','. A worker that cannot reach its broker may print the URL,
 * password and all; a title is the command line joined by spaces. The text is not one URL,
 * so rule 2 must not run across words (it would hide "celeryd: worker@host" whole). Each word
 * gets cw_redact_arg. Writes at most cap bytes; returns the bytes written.
 */
size_t cw_redact_words(const char *s, size_t n, char *out, size_t cap);
/* The same over a NUL-separated argument buffer (as /proc/PID/cmdline). */
size_t cw_redact_argbuf(const char *buf, size_t len, char *out, size_t cap);

/*
 * Text that was cut at its end (argv is kept up to 1,024 bytes, a signal sender's up to 256)
 * may end inside a password: "redis://user:secr" has no '@' left for rule 2 to find. So
 * cut text gets a third rule: after the LAST "://", when a ':' follows and no '@' does
 * before the end, everything after that "://" becomes "***". A complete
 * "redis://host:6379" looks the same, so it is hidden too: call these only for text known
 * to be cut (argv_truncated), never for whole text. Same contract as cw_redact_url.
 */
size_t cw_redact_truncated(const char *s, size_t n, char *out, size_t cap);
/* cw_redact_argbuf for a buffer that was cut: its last argument (trailing NULs, the
 * terminator or setproctitle's padding, are skipped to find it) gets cw_redact_truncated. */
size_t cw_redact_argbuf_truncated(const char *buf, size_t len, char *out, size_t cap);

#endif
