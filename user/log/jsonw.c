/* JSON line builder; see jsonw.h. Escaping follows docs/events.md: RFC 8259 escapes for
 * '"', '\\' and control bytes, and bytes that are not valid UTF-8 as \udcXX (surrogateescape). */
#include "common/timeutil.h"
#include "common/utf8.h"
#include "log/jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jw_init(struct jw *w)
{
	memset(w, 0, sizeof(*w));
}

void jw_free(struct jw *w)
{
	free(w->buf);
	jw_init(w);
}

void jw_reset(struct jw *w)
{
	w->len = 0;
	w->need_comma = false;
	w->oom = false;
}

static bool reserve(struct jw *w, size_t extra)
{
	if (w->oom)
		return false;
	if (w->len + extra + 1 <= w->cap)
		return true;
	size_t cap = w->cap ? w->cap : 512;
	while (cap < w->len + extra + 1)
		cap *= 2;
	char *nb = realloc(w->buf, cap);
	if (!nb) {
		w->oom = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (!reserve(w, n))
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

static void putc_(struct jw *w, char c)
{
	put(w, &c, 1);
}

void jw_escape(struct jw *w, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	char tmp[8];
	size_t i = 0;

	while (i < n) {
		size_t run = i;
		/* copy the longest run of bytes that need no escaping at once */
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			put(w, str + i, run - i);
			i = run;
			continue;
		}
		unsigned char c = s[i];
		switch (c) {
		case '"': put(w, "\\\"", 2); i++; continue;
		case '\\': put(w, "\\\\", 2); i++; continue;
		case '\n': put(w, "\\n", 2); i++; continue;
		case '\r': put(w, "\\r", 2); i++; continue;
		case '\t': put(w, "\\t", 2); i++; continue;
		case '\b': put(w, "\\b", 2); i++; continue;
		case '\f': put(w, "\\f", 2); i++; continue;
		}
		if (c < 0x20 || c == 0x7f) {
			snprintf(tmp, sizeof(tmp), "\\u%04x", c);
			put(w, tmp, 6);
			i++;
			continue;
		}
		size_t seq = cw_utf8_decode(s + i, n - i, NULL);
		if (seq) {
			put(w, str + i, seq);
			i += seq;
		} else {
			snprintf(tmp, sizeof(tmp), "\\udc%02x", c);
			put(w, tmp, 6);
			i++;
		}
	}
}

static void key(struct jw *w, const char *k)
{
	if (w->need_comma)
		putc_(w, ',');
	w->need_comma = true;
	if (k) {
		putc_(w, '"');
		jw_escape(w, k, strlen(k));
		put(w, "\":", 2);
	}
}

void jw_begin(struct jw *w)
{
	putc_(w, '{');
	w->need_comma = false;
}

void jw_end(struct jw *w)
{
	put(w, "}\n", 2);
	w->need_comma = false;
}

/* '{' or '[': the first member needs no comma */
static void open_(struct jw *w, const char *k, char c)
{
	key(w, k);
	putc_(w, c);
	w->need_comma = false;
}

/* '}' or ']': what follows in the parent does */
static void close_(struct jw *w, char c)
{
	putc_(w, c);
	w->need_comma = true;
}

void jw_obj_begin(struct jw *w, const char *k)
{
	open_(w, k, '{');
}

void jw_obj_end(struct jw *w)
{
	close_(w, '}');
}

void jw_arr_begin(struct jw *w, const char *k)
{
	open_(w, k, '[');
}

void jw_arr_end(struct jw *w)
{
	close_(w, ']');
}

void jw_strn(struct jw *w, const char *k, const char *s, size_t n)
{
	if (!s) {
		jw_null(w, k);
		return;
	}
	key(w, k);
	putc_(w, '"');
	jw_escape(w, s, n);
	putc_(w, '"');
}

void jw_str(struct jw *w, const char *k, const char *s)
{
	jw_strn(w, k, s, s ? strlen(s) : 0);
}

/* a member whose value is already text (a number) */
static void raw(struct jw *w, const char *k, const char *v, int n)
{
	key(w, k);
	put(w, v, (size_t)n);
}

void jw_int(struct jw *w, const char *k, int64_t v)
{
	char tmp[24];

	raw(w, k, tmp, snprintf(tmp, sizeof(tmp), "%" PRId64, v));
}

void jw_uint(struct jw *w, const char *k, uint64_t v)
{
	char tmp[24];

	raw(w, k, tmp, snprintf(tmp, sizeof(tmp), "%" PRIu64, v));
}

/* Any finite double at any precision: "%f" of DBL_MAX alone is 309 digits, so the text is
 * measured first and written straight into the line, never through a fixed buffer. */
void jw_double(struct jw *w, const char *k, double v, int decimals)
{
	if (!isfinite(v)) {	/* NaN and infinities are not JSON */
		jw_null(w, k);
		return;
	}
	int n = snprintf(NULL, 0, "%.*f", decimals, v);
	key(w, k);
	if (n < 0 || !reserve(w, (size_t)n))
		return;
	snprintf(w->buf + w->len, (size_t)n + 1, "%.*f", decimals, v);
	w->len += (size_t)n;
}

void jw_bool(struct jw *w, const char *k, bool v)
{
	raw(w, k, v ? "true" : "false", v ? 4 : 5);
}

void jw_null(struct jw *w, const char *k)
{
	raw(w, k, "null", 4);
}

void jw_argv(struct jw *w, const char *k, const char *buf, size_t len)
{
	jw_arr_begin(w, k);
	size_t i = 0;
	/* a trailing NUL ends the last argument; no empty element is made of it */
	while (i < len) {
		const char *end = memchr(buf + i, '\0', len - i);
		size_t n = end ? (size_t)(end - (buf + i)) : len - i;
		jw_strn(w, NULL, buf + i, n);
		i += n + 1;
	}
	jw_arr_end(w);
}

void jw_format_ts(char *out, size_t outlen, uint64_t realtime_ns)
{
	cw_format_ts_ns(realtime_ns, out, outlen);
}
