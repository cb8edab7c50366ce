/* Strict UTF-8 (RFC 3629): the one decoder behind JSON escaping, terminal sanitising and
 * HTML escaping, so the three agree on what is text and what is a hostile byte. */
#ifndef CW_UTF8_H
#define CW_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Length (1..4) of the valid UTF-8 sequence at s, of which at most n bytes may be read, or
 * 0 if the bytes there are not one: overlongs, UTF-16 surrogates, code points above
 * U+10FFFF and cut sequences are rejected. Stops reading at the first byte that is not a
 * continuation, so a NUL-terminated string may be passed with n = 4. With cp non-NULL, the
 * code point is stored there.
 */
size_t cw_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
