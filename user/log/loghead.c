/* The cheap read of `type` and `ts`; see loghead.h. Conservative by construction: a line is
 * read only in the exact shape the writer emits, and any later text that could be another
 * "v"/"type"/"ts" key (a duplicate, an escaped one) makes the answer "not sure". */
#include "log/loghead.h"

#include <string.h>

#include "common/timeutil.h"
#include "log/logfields.h"

#define TYPE_MAX 24	/* longer than any type name */
#define TS_MAX 40	/* longer than any RFC 3339 time the writer prints */

/* s[0..n) begins with lit; *pos moves past it. */
static bool take(const char *s, size_t n, size_t *pos, const char *lit)
{
	size_t len = strlen(lit);

	if (n - *pos < len || memcmp(s + *pos, lit, len))
		return false;
	*pos += len;
	return true;
}

/* A plain string value (no escape, no control character) up to its closing quote, copied
 * NUL-terminated into out. */
static bool plain_string(const char *s, size_t n, size_t *pos, char *out, size_t outlen)
{
	size_t k = 0;

	while (*pos < n && s[*pos] != '"') {
		unsigned char c = (unsigned char)s[*pos];
		if (c == '\\' || c < 0x20 || k + 1 >= outlen)
			return false;
		out[k++] = (char)c;
		(*pos)++;
	}
	if (*pos >= n)
		return false;
	out[k] = '\0';
	(*pos)++;	/* the closing quote */
	return true;
}

/* Whether s[i..n) begins with lit. */
static bool at(const char *s, size_t n, size_t i, const char *lit, size_t len)
{
	return n - i >= len && !memcmp(s + i, lit, len);
}

/* Whether the rest could hold a key the full parse would read instead of ours: a repeated
 * "v", "type" or "ts", or any \u escape (a key may be spelt with one). One pass from quote
 * to quote: four memmem calls over the line cost more than the rest of a skipped line. */
static bool rest_is_plain(const char *s, size_t n)
{
	for (const char *b = memchr(s, '\\', n); b; b = memchr(b + 1, '\\', n - (size_t)(b + 1 - s)))
		if (b + 1 < s + n && b[1] == 'u')
			return false;
	for (const char *q = memchr(s, '"', n); q; q = memchr(q + 1, '"', n - (size_t)(q + 1 - s))) {
		size_t i = (size_t)(q + 1 - s);
		if (at(s, n, i, "type\"", 5) || at(s, n, i, "ts\"", 3) || at(s, n, i, "v\"", 2))
			return false;
	}
	return true;
}

/* The line ends with "}\n" (a truncated or padded one is left to the full parse). */
static bool ends_closed(const char *s, size_t n)
{
	return n >= 2 && s[n - 1] == '\n' && s[n - 2] == '}';
}

bool cw_loghead_read(const char *line, size_t n, enum cw_log_type *type, int64_t *ts)
{
	char name[TYPE_MAX], when[TS_MAX];
	size_t pos = 0;

	if (!ends_closed(line, n) || !take(line, n, &pos, "{\"v\":") || pos >= n ||
	    (line[pos] != '1' && line[pos] != '2'))
		return false;
	pos++;
	if (!take(line, n, &pos, ",\"type\":\"") ||
	    !plain_string(line, n, &pos, name, sizeof(name)) ||
	    !take(line, n, &pos, ",\"ts\":\"") ||
	    !plain_string(line, n, &pos, when, sizeof(when)))
		return false;
	if (pos >= n || (line[pos] != ',' && line[pos] != '}'))
		return false;
	if (!rest_is_plain(line + pos, n - pos))
		return false;
	enum cw_log_type t = cw_logfields_type(name);
	if (t == CW_LOG_NONE || cw_parse_ts(when, ts))
		return false;
	*type = t;
	return true;
}
