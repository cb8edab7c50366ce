/* Strict UTF-8 decoding (RFC 3629). */
#include "common/utf8.h"

size_t cw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c;
	uint32_t v;
	size_t len;

	if (!n)
		return 0;
	c = s[0];
	if (c < 0x80) {
		len = 1;
		v = c;
	} else if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)	/* also stops at a NUL */
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10ffff)) ||
	    (v >= 0xd800 && v <= 0xdfff))
		return 0;
	if (cp)
		*cp = v;
	return len;
}
