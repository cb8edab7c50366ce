/* CLIENT LIST parsing; see clients.h. The text comes from the broker: nothing in it is
 * trusted (lengths bounded, NUL bytes and odd characters end a value). */
#include "broker/clients.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>

/* value bytes into dst (size dstlen, NUL-terminated), cut to fit, stopping at control
 * characters: a hostile reply cannot smuggle them into a field */
static void copy_val(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	size_t j = 0;

	for (size_t i = 0; i < vlen && j + 1 < dstlen; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c == 0x7f)
			break;
		dst[j++] = (char)c;
	}
	dst[j] = '\0';
}

static int64_t parse_idle(const char *v, size_t n)
{
	int64_t x = 0;

	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9' || x > INT64_MAX / 10 - 10)
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/* One line's fields into c; true when it named an address. */
static bool parse_line(const char *l, size_t len, struct cw_broker_client *c)
{
	const char *end = l + len;

	memset(c, 0, sizeof(*c));
	c->idle_s = -1;
	while (l < end) {
		const char *sp = memchr(l, ' ', (size_t)(end - l));
		const char *fe = sp ? sp : end, *eq = memchr(l, '=', (size_t)(fe - l));
		if (eq) {
			size_t klen = (size_t)(eq - l), vlen = (size_t)(fe - eq - 1);
			const char *v = eq + 1;
			if (klen == 4 && !memcmp(l, "addr", 4))
				copy_val(c->addr, sizeof(c->addr), v, vlen);
			else if (klen == 5 && !memcmp(l, "laddr", 5))
				copy_val(c->laddr, sizeof(c->laddr), v, vlen);
			else if (klen == 4 && !memcmp(l, "idle", 4))
				c->idle_s = parse_idle(v, vlen);
			else if (klen == 3 && !memcmp(l, "cmd", 3))
				copy_val(c->cmd, sizeof(c->cmd), v, vlen);
		}
		l = fe + 1;
	}
	return c->addr[0] != '\0';
}

int cw_broker_parse_clients(const char *text, size_t len, struct cw_broker_client **out, size_t *n)
{
	const char *p = text, *end = text + len;
	size_t cap = 0;

	*out = NULL;
	*n = 0;
	while (p < end && *n < CW_MAX_CLIENTS) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t ll = (size_t)(le - p);
		if (ll && p[ll - 1] == '\r')
			ll--;
		if (*n == cap) {
			size_t ncap = cap ? 2 * cap : 32;
			struct cw_broker_client *v = realloc(*out, ncap * sizeof(*v));
			if (!v) {
				free(*out);
				*out = NULL;
				*n = 0;
				return -ENOMEM;
			}
			*out = v;
			cap = ncap;
		}
		if (parse_line(p, ll, &(*out)[*n]))
			(*n)++;
		p = le + 1;
	}
	return 0;
}

int cw_broker_read_clients(const struct redisReply *rep, struct cw_broker_client **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	if (!rep || (rep->type != REDIS_REPLY_STRING && rep->type != REDIS_REPLY_STATUS) || (!rep->str && rep->len))
		return -EPROTO;
	return cw_broker_parse_clients(rep->str ? rep->str : "", rep->len, out, n);
}
