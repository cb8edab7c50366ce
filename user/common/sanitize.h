/* Attacker-chosen strings (argv, comm, cgroup, queue and worker names, stderr tails, log
 * lines) made safe for a terminal, a message on stderr, or an HTML page. */
#ifndef CW_SANITIZE_H
#define CW_SANITIZE_H

#include <stddef.h>
#include <stdio.h>

/*
 * Control characters become visible escapes: \n \r \t \e (ESC), \xNN (other C0, DEL),
 * \u0080-\u009f (C1, CSI U+009B among them) and \u2028/\u2029/bidi controls; bytes that are
 * not valid UTF-8 become \xNN. Valid UTF-8 and backslashes are kept as they are. NULL is "".
 */
void cw_text_safe(FILE *out, const char *s);
/* The same into a buffer (always NUL-terminated, cut only between whole escapes or
 * characters). Returns out. */
char *cw_text_sanitize(char *out, size_t len, const char *s);

/* HTML-escape s (any bytes) to out: & < > " ' as entities, control characters other than
 * newline and tab, and bytes that are not valid UTF-8, as U+FFFD. NULL is "". */
void cw_html_escape(FILE *out, const char *s);

#endif
