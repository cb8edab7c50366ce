/* JSON line builder: the only place where strings are escaped for the event log.
 * Hostile bytes (quotes, control characters, invalid UTF-8) never break or forge a line. */
#ifndef CW_JSONW_H
#define CW_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line under construction. Memory grows as needed; on allocation failure the builder
 * sets `oom` and further calls do nothing, so callers check once at the end. */
struct jw {
	char *buf;
	size_t len, cap;
	bool need_comma;
	bool oom;
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
void jw_reset(struct jw *w);		/* empty the buffer, keep its memory */

void jw_begin(struct jw *w);		/* '{' */
void jw_end(struct jw *w);		/* '}' and '\n' */
void jw_obj_begin(struct jw *w, const char *key);	/* key may be NULL inside arrays */
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);

/* key may be NULL for array elements */
void jw_str(struct jw *w, const char *key, const char *s);	/* NULL s writes null */
void jw_strn(struct jw *w, const char *key, const char *s, size_t n);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
/* "%.*f" of v, whatever its size and decimals; NaN and +-inf write null (JSON has neither) */
void jw_double(struct jw *w, const char *key, double v, int decimals);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* NUL-separated argument buffer (as in /proc/PID/cmdline) as an array of strings */
void jw_argv(struct jw *w, const char *key, const char *buf, size_t len);

/* Escape n bytes as the inside of a JSON string (no quotes) into w. Exposed for tests. */
void jw_escape(struct jw *w, const char *s, size_t n);

/* RFC 3339 UTC with microseconds: "2026-11-24T12:03:11.123456Z"; out has >= 32 bytes. */
void jw_format_ts(char *out, size_t outlen, uint64_t realtime_ns);

#endif
