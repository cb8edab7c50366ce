/* URL credentials out of process arguments and broker URLs; the rules are in redact.h. */
#include "identity/redact.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* A hidden part of the text: bytes [from, to) become "***". */
struct span {
	size_t from, to;
};

static size_t put(char *out, size_t cap, size_t pos, const char *s, size_t n)
{
	if (pos < cap) {
		size_t k = n < cap - pos ? n : cap - pos;
		memcpy(out + pos, s, k);
	}
	return pos + n;
}

/* Rule 1: the value of a "password=" query parameter, and all after it. */
static bool query_password(const char *s, size_t n, struct span *h)
{
	const char *q = memchr(s, '?', n);

	for (size_t p = q ? (size_t)(q - s) + 1 : n; p < n;) {
		if (n - p >= 9 && !strncasecmp(s + p, "password=", 9)) {
			*h = (struct span){ p + 9, n };
			return true;
		}
		const char *amp = memchr(s + p, '&', n - p);
		p = amp ? (size_t)(amp - s) + 1 : n;
	}
	return false;
}

/* Rule 2: the userinfo's password, from its first ':' to the last '@' of the text. */
static bool userinfo_password(const char *s, size_t n, struct span *h)
{
	const char *sep = memmem(s, n, "://", 3);
	size_t start = sep ? (size_t)(sep - s) + 3 : 0;
	const char *at = memrchr(s + start, '@', n - start);
	const char *colon = at ? memchr(s + start, ':', (size_t)(at - (s + start))) : NULL;

	if (!colon)
		return false;
	*h = (struct span){ (size_t)(colon + 1 - s), (size_t)(at - s) };
	return true;
}

/* The hidden spans in text order, overlapping or touching ones merged: 0, 1 or 2. */
static size_t hidden_spans(const char *s, size_t n, struct span h[2])
{
	struct span u, q;
	bool has_u = userinfo_password(s, n, &u), has_q = query_password(s, n, &q);

	if (has_u && has_q && u.to >= q.from) {	/* q runs to the end: one span */
		h[0] = (struct span){ u.from < q.from ? u.from : q.from, n };
		return 1;
	}
	size_t k = 0;
	if (has_u)
		h[k++] = u;	/* u ends before q starts */
	if (has_q)
		h[k++] = q;
	return k;
}

size_t cw_redact_url(const char *s, size_t n, char *out, size_t cap)
{
	struct span h[2];
	size_t nh = hidden_spans(s, n, h), pos = 0, i = 0;

	for (size_t k = 0; k < nh; k++) {
		pos = put(out, cap, pos, s + i, h[k].from - i);
		pos = put(out, cap, pos, "***", 3);
		i = h[k].to;
	}
	return put(out, cap, pos, s + i, n - i);
}

size_t cw_redact_arg(const char *arg, size_t n, char *out, size_t cap)
{
	size_t len = cw_redact_url(arg, n, out, cap);

	return len < cap ? len : cap;
}

size_t cw_redact_argbuf(const char *buf, size_t len, char *out, size_t cap)
{
	size_t pos = 0, i = 0;

	while (i < len && pos < cap) {
		const char *nul = memchr(buf + i, '\0', len - i);
		size_t n = nul ? (size_t)(nul - (buf + i)) : len - i;
		pos += cw_redact_arg(buf + i, n, out + pos, cap - pos);
		if (nul && pos < cap)
			out[pos++] = '\0';
		i += n + (nul ? 1 : 0);
	}
	return pos;
}
