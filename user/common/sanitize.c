/* Hostile strings made safe for a terminal, a message on stderr or an HTML page. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "common/sanitize.h"
#include "common/utf8.h"

/* Format characters that reorder or break lines on a terminal without being C0/C1 controls. */
static bool invisible_format(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static const char *ascii_escape(unsigned char c, char esc[12])
{
	switch (c) {
	case '\n': return "\\n";
	case '\r': return "\\r";
	case '\t': return "\\t";
	case 0x1b: return "\\e";
	}
	snprintf(esc, 12, "\\x%02x", c);
	return esc;
}

/* The next unit of s: either `*n` bytes of s to copy as they are (returns NULL), or an escape
 * written to esc (returned); *n is the number of bytes of s consumed. */
static const char *safe_unit(const unsigned char *s, char esc[12], size_t *n)
{
	uint32_t cp;
	size_t len;

	*n = 1;
	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? NULL : ascii_escape(s[0], esc);
	len = cw_utf8_decode(s, 4, &cp);
	if (!len) {
		snprintf(esc, 12, "\\x%02x", s[0]);
		return esc;
	}
	*n = len;
	if (cp <= 0x9f || invisible_format(cp)) {
		snprintf(esc, 12, "\\u%04x", (unsigned)cp);
		return esc;
	}
	return NULL;
}

void cw_text_safe(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char esc[12];
	size_t n;

	while (*p) {
		const char *e = safe_unit(p, esc, &n);
		if (e)
			fputs(e, out);
		else
			fwrite(p, 1, n, out);
		p += n;
	}
}

char *cw_text_sanitize(char *out, size_t len, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char esc[12];
	size_t n, o = 0;

	if (!len)
		return out;
	while (*p) {
		const char *e = safe_unit(p, esc, &n);
		size_t l = e ? strlen(e) : n;
		if (o + l >= len)
			break;
		memcpy(out + o, e ? e : (const char *)p, l);
		o += l;
		p += n;
	}
	out[o] = 0;
	return out;
}

void cw_html_escape(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)(str ? str : "");

	while (*s) {
		switch (*s) {
		case '&': fputs("&amp;", out); s++; continue;
		case '<': fputs("&lt;", out); s++; continue;
		case '>': fputs("&gt;", out); s++; continue;
		case '"': fputs("&quot;", out); s++; continue;
		case '\'': fputs("&#39;", out); s++; continue;
		}
		if ((*s < 0x20 && *s != '\n' && *s != '\t') || *s == 0x7f) {
			fputs("\xef\xbf\xbd", out);
			s++;
			continue;
		}
		size_t n = cw_utf8_decode(s, 4, NULL);
		if (!n) {
			fputs("\xef\xbf\xbd", out);
			s++;
			continue;
		}
		fwrite(s, 1, n, out);
		s += n;
	}
}
