/* libFuzzer target: a broker URL (the input up to its first NUL) -> the parser
 * (user/broker/redisurl.c) and the redacted form. Asserts: a parse gives a host and a port in
 * 1..65535 (TCP) or a path (unix) and a db >= 0, or an error sentence; the redacted form
 * returns its whole length like snprintf, a shorter buffer holds a prefix of it; and the
 * redacted URL, when it parses, carries no password but "***" (what was hidden stays hidden). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/redisurl.h"
#include "identity/redact.h"

#include "fuzz.h"

static char *redacted(const char *url, size_t *len)
{
	*len = cw_redis_url_redacted(url, NULL, 0);
	char *full = malloc(*len + 1);
	if (!full)
		abort();
	if (cw_redis_url_redacted(url, full, *len + 1) != *len || strlen(full) != *len)
		abort();
	/* a cut result is a prefix of the redacted text */
	size_t cuts[] = { 1, 2, 7, *len / 2 + 1, *len };
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (!cuts[i])
			continue;
		char *part = malloc(cuts[i]);
		if (!part)
			abort();
		if (cw_redis_url_redacted(url, part, cuts[i]) != *len)
			abort();
		size_t plen = strlen(part);
		if (plen != (cuts[i] - 1 < *len ? cuts[i] - 1 : *len) || memcmp(part, full, plen))
			abort();
		free(part);
	}
	return full;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	struct cw_redis_url u;
	char err[256], where[512];

	if (size > CW_REDIS_URL_MAX + 16)
		return -1;
	char *url = strndup((const char *)data, size);
	if (!url)
		return 0;
	memset(err, 'x', sizeof(err));
	int rc = cw_redis_url_parse(url, &u, err, sizeof(err));
	if (rc == 0) {
		if (u.kind == CW_REDIS_TCP && (!u.host || u.port < 1 || u.port > 65535))
			abort();
		if (u.kind == CW_REDIS_UNIX && !u.path)
			abort();
		if (u.db < 0)
			abort();
		cw_redis_url_where(&u, where, sizeof(where));
		cw_redis_url_free(&u);
		cw_redis_url_free(&u);
	} else if (rc != -EINVAL && rc != -ENOMEM) {
		abort();
	} else if (!memchr(err, '\0', sizeof(err)) || !err[0]) {
		abort();	/* one sentence, terminated */
	}

	size_t len;
	char *red = redacted(url, &len);
	if (cw_redis_url_parse(red, &u, err, sizeof(err)) == 0) {
		if (u.password && strcmp(u.password, "***"))
			abort();
		cw_redis_url_free(&u);
	}
	/* the rule for cut text hides at least as much: same length contract */
	size_t tl = cw_redact_truncated(url, strlen(url), NULL, 0);
	char *t = malloc(tl + 1);
	if (!t || cw_redact_truncated(url, strlen(url), t, tl) != tl)
		abort();
	free(t);
	free(red);
	free(url);
	return 0;
}
