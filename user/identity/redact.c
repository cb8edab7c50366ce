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

/* Rule 1: the value of a "password=" query parameter, and all after it. A parameter starts
 * after any '?' or '&' past the first '?': that '?' may be inside the userinfo's password,
 * and the query the parser reads starts at a later one. */
static bool query_password(const char *s, size_t n, struct span *h)
{
	const char *q = memchr(s, '?', n);

	for (size_t p = q ? (size_t)(q - s) + 1 : n; p < n;) {
		if (n - p >= 9 && !strncasecmp(s + p, "password=", 9)) {
			*h = (struct span){ p + 9, n };
			return true;
		}
		while (p < n && s[p] != '&' && s[p] != '?')
			p++;
		p = p < n ? p + 1 : n;
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

/* Rule 3, for cut text only: after the last "://", a ':' and no '@' up to the end: a
 * password may have been cut before its '@', so all after that "://" is hidden. */
static bool cut_userinfo(const char *s, size_t n, struct span *h)
{
	size_t start = 0;

	for (const char *p; (p = memmem(s + start, n - start, "://", 3));)
		start = (size_t)(p - s) + 3;
	if (!start || memchr(s + start, '@', n - start) || !memchr(s + start, ':', n - start))
		return false;
	*h = (struct span){ start, n };
	return true;
}

/* Rule 3's span joined to the others: it runs to the end, so it absorbs any it touches. */
static size_t add_cut_span(const char *s, size_t n, struct span h[3], size_t nh)
{
	struct span t;
	size_t k = 0;

	if (!cut_userinfo(s, n, &t))
		return nh;
	while (k < nh && h[k].to < t.from)
		k++;
	if (k < nh)	/* h[k] overlaps or touches t: only the query span runs that far */
		t.from = h[k].from < t.from ? h[k].from : t.from;
	h[k] = t;	/* k <= 1: only the userinfo span (ends at an '@') is before t */
	return k + 1;
}

static size_t redact(const char *s, size_t n, char *out, size_t cap, bool cut)
{
	struct span h[3];
	size_t nh = hidden_spans(s, n, h), pos = 0, i = 0;

	if (cut)
		nh = add_cut_span(s, n, h, nh);
	for (size_t k = 0; k < nh; k++) {
		pos = put(out, cap, pos, s + i, h[k].from - i);
		pos = put(out, cap, pos, "***", 3);
		i = h[k].to;
	}
	return put(out, cap, pos, s + i, n - i);
}

size_t cw_redact_url(const char *s, size_t n, char *out, size_t cap)
{
	return redact(s, n, out, cap, false);
}

size_t cw_redact_truncated(const char *s, size_t n, char *out, size_t cap)
{
	return redact(s, n, out, cap, true);
}

/* Where the last argument starts, trailing NULs skipped; len when there is none. */
static size_t last_arg(const char *buf, size_t len)
{
	size_t end = len;

	while (end && buf[end - 1] == '\0')
		end--;
	if (!end)
		return len;
	const char *nul = memrchr(buf, '\0', end);
	return nul ? (size_t)(nul - buf) + 1 : 0;
}

/* One argument, cut at its end or not, to out: at most cap bytes; returns those written */
static size_t redact_arg(const char *arg, size_t n, char *out, size_t cap, bool cut)
{
	size_t len = redact(arg, n, out, cap, cut);

	return len < cap ? len : cap;
}

static size_t redact_argbuf(const char *buf, size_t len, char *out, size_t cap, bool cut)
{
	size_t pos = 0, i = 0, last = cut ? last_arg(buf, len) : len;

	while (i < len && pos < cap) {
		const char *nul = memchr(buf + i, '\0', len - i);
		size_t n = nul ? (size_t)(nul - (buf + i)) : len - i;
		pos += redact_arg(buf + i, n, out + pos, cap - pos, i == last);
		if (nul && pos < cap)
			out[pos++] = '\0';
		i += n + (nul ? 1 : 0);
	}
	return pos;
}

size_t cw_redact_arg(const char *arg, size_t n, char *out, size_t cap)
{
	return redact_arg(arg, n, out, cap, false);
}

size_t cw_redact_argbuf(const char *buf, size_t len, char *out, size_t cap)
{
	return redact_argbuf(buf, len, out, cap, false);
}

size_t cw_redact_argbuf_truncated(const char *buf, size_t len, char *out, size_t cap)
{
	return redact_argbuf(buf, len, out, cap, true);
}

/* Is c a byte that ends a word of free text (a URL printed in a message ends there)? */
static bool word_end(char c)
{
	return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '"' || c == '\'' ||
	       c == '<' || c == '>' || c == '(' || c == ')' || c == ',';
}

/* Free text: each word through the argv rule (see redact.h). */
size_t cw_redact_words(const char *s, size_t n, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	while (i < n && o < cap) {
		size_t j = i;
		while (j < n && !word_end(s[j]))
			j++;
		o += cw_redact_arg(s + i, j - i, out + o, cap - o);
		if (j < n && o < cap)
			out[o++] = s[j];
		i = j + 1;
	}
	return o;
}
