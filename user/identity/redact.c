/* URL credentials out of process arguments; see redact.h. */
#include "identity/redact.h"

#include <string.h>

static size_t put(char *out, size_t cap, size_t pos, const char *s, size_t n)
{
	if (pos < cap) {
		size_t k = n < cap - pos ? n : cap - pos;
		memcpy(out + pos, s, k);
	}
	return pos + n;
}

size_t cw_redact_arg(const char *arg, size_t n, char *out, size_t cap)
{
	size_t pos = 0, i = 0;

	while (i < n) {
		const char *sep = memmem(arg + i, n - i, "://", 3);
		if (!sep) {
			pos = put(out, cap, pos, arg + i, n - i);
			break;
		}
		size_t auth = (size_t)(sep - arg) + 3;
		/* the authority ends at the first '/', '?', '#' or whitespace */
		size_t end = auth;
		while (end < n && !strchr("/?# \t", arg[end]) && arg[end] != '\0')
			end++;
		const char *at = NULL;
		for (size_t k = auth; k < end; k++)
			if (arg[k] == '@')
				at = arg + k;	/* the last '@': passwords may contain '@' unescaped */
		const char *colon = at ? memchr(arg + auth, ':', (size_t)(at - (arg + auth))) : NULL;
		if (!colon) {
			pos = put(out, cap, pos, arg + i, end - i);
			i = end;
			continue;
		}
		pos = put(out, cap, pos, arg + i, (size_t)(colon + 1 - (arg + i)));
		pos = put(out, cap, pos, "***", 3);
		i = (size_t)(at - arg);
	}
	return pos < cap ? pos : cap;
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
