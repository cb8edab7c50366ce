/* Redis broker URL parsing and redaction; see redisurl.h. Parsing is strict about what it
 * uses (port, db, escapes) and lenient where kombu is (empty host, unknown parameters). */
#include "broker/redisurl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>

#include "identity/redact.h"

#define DEFAULT_HOST	"localhost"	/* kombu's default for an empty host */
#define DEFAULT_PORT	6379
#define HOST_MAX	253
#define PASSWORD_FILE_MAX 4096

/* Error sentences name the URL only in its redacted form: a piece quoted from a URL that
 * did not parse could be part of a password, so pieces are never quoted. */
static int fail(char *err, size_t errlen, int rc, const char *url, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (!err || !errlen)
		return rc;
	if (url) {
		char red[304];
		size_t n = cw_redis_url_redacted(url, red, sizeof(red));
		snprintf(err, errlen, "Redis URL %s%s: %s", red, n >= sizeof(red) ? "..." : "", what);
	} else {
		snprintf(err, errlen, "Redis URL: %s", what);
	}
	return rc;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode n bytes. -EINVAL on a bad escape, -EILSEQ on %00 (a C string would be cut
 * short there, and AUTH would silently use a different password), -ENOMEM. */
static int pct_decode(const char *s, size_t n, char **out)
{
	char *d = malloc(n + 1);
	size_t j = 0;

	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			d[j++] = s[i];
			continue;
		}
		if (i + 2 >= n) {
			free(d);
			return -EINVAL;
		}
		int a = hexval(s[i + 1]), b = hexval(s[i + 2]);
		if (a < 0 || b < 0) {
			free(d);
			return -EINVAL;
		}
		if (a == 0 && b == 0) {
			free(d);
			return -EILSEQ;
		}
		d[j++] = (char)(a * 16 + b);
		i += 2;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

/* Digits only (no sign, no space), value <= max. */
static bool parse_uint(const char *s, size_t n, long long max, long long *out)
{
	long long v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

void cw_redis_url_free(struct cw_redis_url *u)
{
	if (!u)
		return;
	free(u->host);
	free(u->path);
	free(u->user);
	if (u->password) {
		/* don't leave the secret in freed heap memory */
		explicit_bzero(u->password, strlen(u->password));
		free(u->password);
	}
	memset(u, 0, sizeof(*u));
}

static int set_secret(char **dst, const char *s, size_t n, int *rc)
{
	char *v = NULL;

	*rc = pct_decode(s, n, &v);
	if (*rc)
		return *rc;
	if (*dst) {
		explicit_bzero(*dst, strlen(*dst));
		free(*dst);
	}
	*dst = v;
	return 0;
}

static int decode_fail(char *err, size_t errlen, int rc, const char *url, const char *what)
{
	if (rc == -ENOMEM)
		return fail(err, errlen, rc, NULL, "out of memory");
	if (rc == -EILSEQ)
		return fail(err, errlen, -EINVAL, url, "the %s contains %%00 (a NUL byte)", what);
	return fail(err, errlen, -EINVAL, url, "the %s has a bad %% escape (%% must be followed by two hex digits)",
		    what);
}

/* user[:password] */
static int parse_userinfo(const char *url, const char *s, size_t n, struct cw_redis_url *u,
			  char *err, size_t errlen)
{
	const char *colon = memchr(s, ':', n);
	size_t ulen = colon ? (size_t)(colon - s) : n;
	int rc;

	if (ulen) {
		if (set_secret(&u->user, s, ulen, &rc))
			return decode_fail(err, errlen, rc, url, "user name");
	}
	if (colon && n - ulen - 1 > 0) {
		if (set_secret(&u->password, colon + 1, n - ulen - 1, &rc))
			return decode_fail(err, errlen, rc, url, "password");
	}
	return 0;
}

/* ?db=N&password=P&virtual_host=N; unknown keys are Celery's or redis-py's: ignored */
static int parse_query(const char *url, const char *q, size_t n, struct cw_redis_url *u,
		       bool *db_set, char *err, size_t errlen)
{
	size_t i = 0;

	while (i < n) {
		const char *amp = memchr(q + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - q) : n;
		const char *kv = q + i, *eq = memchr(kv, '=', end - i);
		size_t klen = eq ? (size_t)(eq - kv) : end - i;
		const char *v = eq ? eq + 1 : kv + klen;
		size_t vlen = (size_t)(q + end - v);
		int rc;

		if ((klen == 2 && !strncmp(kv, "db", 2)) ||
		    (klen == 12 && !strncmp(kv, "virtual_host", 12))) {
			long long db;
			if (!parse_uint(v, vlen, INT_MAX, &db))
				return fail(err, errlen, -EINVAL, url,
					    "the database must be a number from 0 to %d", INT_MAX);
			u->db = (int)db;
			*db_set = true;
		} else if (klen == 8 && !strncasecmp(kv, "password", 8) && vlen) {
			if (set_secret(&u->password, v, vlen, &rc))
				return decode_fail(err, errlen, rc, url, "password");
		}
		i = end + 1;
	}
	return 0;
}

static bool host_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* host[:port] or [v6][:port] */
static int parse_hostport(const char *url, const char *s, size_t n, struct cw_redis_url *u,
			  char *err, size_t errlen)
{
	const char *host = s, *port = NULL;
	size_t hlen, plen = 0;

	if (n && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (!rb)
			return fail(err, errlen, -EINVAL, url, "an IPv6 address lacks its closing ']'");
		host = s + 1;
		hlen = (size_t)(rb - host);
		if (!hlen || !memchr(host, ':', hlen))
			return fail(err, errlen, -EINVAL, url, "the bracketed host is not an IPv6 address");
		for (size_t i = 0; i < hlen; i++)
			if (!isxdigit((unsigned char)host[i]) && host[i] != ':' && host[i] != '.')
				return fail(err, errlen, -EINVAL, url,
					    "the bracketed host is not an IPv6 address");
		const char *after = rb + 1;
		size_t alen = n - (size_t)(after - s);
		if (alen) {
			if (after[0] != ':')
				return fail(err, errlen, -EINVAL, url, "unexpected text after the IPv6 address");
			port = after + 1;
			plen = alen - 1;
		}
	} else {
		const char *colon = memchr(s, ':', n);
		hlen = colon ? (size_t)(colon - s) : n;
		if (colon) {
			port = colon + 1;
			plen = n - hlen - 1;
			if (memchr(port, ':', plen))
				return fail(err, errlen, -EINVAL, url,
					    "the host has several ':' (write IPv6 addresses in brackets: [::1]:6379)");
		}
		for (size_t i = 0; i < hlen; i++)
			if (!host_char_ok(host[i]))
				return fail(err, errlen, -EINVAL, url,
					    "the host name has characters other than letters, digits, '.', '-' and '_'");
	}
	if (hlen > HOST_MAX)
		return fail(err, errlen, -EINVAL, url, "the host name is longer than %d bytes", HOST_MAX);

	u->port = DEFAULT_PORT;
	if (port && plen) {
		long long p;
		if (!parse_uint(port, plen, 65535, &p) || p == 0)
			return fail(err, errlen, -EINVAL, url, "the port must be a number from 1 to 65535");
		u->port = (int)p;
	}
	u->host = hlen ? strndup(host, hlen) : strdup(DEFAULT_HOST);
	if (!u->host)
		return fail(err, errlen, -ENOMEM, NULL, "out of memory");
	return 0;
}

/* The scheme (sl bytes of url): redis:// is TCP; unix://, redis+socket://, socket:// are
 * kombu's spellings of a unix socket. */
static int parse_scheme(const char *url, size_t sl, bool *is_unix, char *err, size_t errlen)
{
#define SCHEME(s) (sl == sizeof(s) - 1 && !strncasecmp(url, s, sl))
	if (SCHEME("rediss"))
		return fail(err, errlen, -EINVAL, url,
			    "TLS (rediss://) is not supported: Debian's hiredis 0.14 has no TLS; "
			    "sample through a local stunnel or a plain-text replica");
	if (SCHEME("redis"))
		*is_unix = false;
	else if (SCHEME("unix") || SCHEME("redis+socket") || SCHEME("socket"))
		*is_unix = true;
	else
		return fail(err, errlen, -EINVAL, url,
			    "unsupported scheme (celerywatch samples Redis brokers: redis:// or unix://)");
#undef SCHEME
	return 0;
}

/* What follows "://", cut where urllib cuts it. */
struct url_parts {
	const char *rest;	/* start of the authority */
	const char *end;	/* end of the URL, before any '#' */
	const char *q;		/* '?', or NULL */
	const char *main_end;	/* q, or end */
	const char *slash;	/* first '/' before main_end, or NULL */
	const char *auth_end;	/* slash, or main_end */
	const char *at;		/* the last '@' of the authority, or NULL */
	const char *hp;		/* host[:port] (after at) */
};

static void split_url(const char *rest, struct url_parts *p)
{
	p->rest = rest;
	p->end = rest + strlen(rest);
	const char *hash = memchr(rest, '#', (size_t)(p->end - rest));
	if (hash)
		p->end = hash;
	p->q = memchr(rest, '?', (size_t)(p->end - rest));
	p->main_end = p->q ? p->q : p->end;
	p->slash = memchr(rest, '/', (size_t)(p->main_end - rest));
	p->auth_end = p->slash ? p->slash : p->main_end;
	p->at = NULL;
	for (const char *c = rest; c < p->auth_end; c++)
		if (*c == '@')
			p->at = c;	/* the last '@', as urllib does */
	p->hp = p->at ? p->at + 1 : rest;
}

/* unix:///path/redis.sock: no host, a path that fits in sun_path. */
static int parse_unix_path(const char *url, const struct url_parts *p, struct cw_redis_url *u,
			   char *err, size_t errlen)
{
	const size_t path_max = sizeof(((struct sockaddr_un *)0)->sun_path);
	int rc;

	u->kind = CW_REDIS_UNIX;
	if (p->hp != p->auth_end)
		return fail(err, errlen, -EINVAL, url,
			    "a unix socket URL has no host: write unix:///path/redis.sock");
	if (!p->slash || p->main_end - p->slash < 2)
		return fail(err, errlen, -EINVAL, url, "the unix socket path is missing");
	if ((rc = pct_decode(p->slash, (size_t)(p->main_end - p->slash), &u->path)))
		return decode_fail(err, errlen, rc, url, "socket path");
	if (strlen(u->path) >= path_max)
		return fail(err, errlen, -EINVAL, url, "the unix socket path is longer than %zu bytes",
			    path_max - 1);
	return 0;
}

/* redis://host[:port][/db] */
static int parse_tcp(const char *url, const struct url_parts *p, struct cw_redis_url *u,
		     char *err, size_t errlen)
{
	long long db;
	int rc;

	u->kind = CW_REDIS_TCP;
	if ((rc = parse_hostport(url, p->hp, (size_t)(p->auth_end - p->hp), u, err, errlen)))
		return rc;
	if (!p->slash || p->main_end - p->slash <= 1)
		return 0;
	if (!parse_uint(p->slash + 1, (size_t)(p->main_end - p->slash - 1), INT_MAX, &db))
		return fail(err, errlen, -EINVAL, url,
			    "the database (after the '/') must be a number from 0 to %d", INT_MAX);
	u->db = (int)db;
	return 0;
}

int cw_redis_url_parse(const char *url, struct cw_redis_url *u, char *err, size_t errlen)
{
	struct url_parts p;
	const char *sep;
	bool db_set = false, is_unix = false;
	int rc;

	memset(u, 0, sizeof(*u));
	if (err && errlen)
		err[0] = '\0';
	if (!url || !*url)
		return fail(err, errlen, -EINVAL, NULL, "the URL is empty");
	if (strnlen(url, CW_REDIS_URL_MAX + 1) > CW_REDIS_URL_MAX)
		return fail(err, errlen, -EINVAL, NULL, "the URL is longer than %d bytes", CW_REDIS_URL_MAX);
	sep = strstr(url, "://");
	if (!sep)
		return fail(err, errlen, -EINVAL, url,
			    "expected redis://host:port/db or unix:///path/redis.sock");
	if ((rc = parse_scheme(url, (size_t)(sep - url), &is_unix, err, errlen)))
		return rc;
	split_url(sep + 3, &p);
	if (p.at && (rc = parse_userinfo(url, p.rest, (size_t)(p.at - p.rest), u, err, errlen)))
		goto out;
	rc = is_unix ? parse_unix_path(url, &p, u, err, errlen) : parse_tcp(url, &p, u, err, errlen);
	if (rc)
		goto out;
	/* the query's db wins over the path's, as in redis-py */
	if (p.q && (rc = parse_query(url, p.q + 1, (size_t)(p.end - p.q - 1), u, &db_set, err, errlen)))
		goto out;
	return 0;
out:
	cw_redis_url_free(u);
	return rc;
}

/* The rules are identity/redact.h's, the same as for process arguments. */
size_t cw_redis_url_redacted(const char *url, char *out, size_t outlen)
{
	size_t cap = outlen ? outlen - 1 : 0, n;

	if (!url)
		url = "";
	n = cw_redact_url(url, strlen(url), out, cap);
	if (outlen)
		out[n < cap ? n : cap] = '\0';
	return n;
}

void cw_redis_url_where(const struct cw_redis_url *u, char *out, size_t outlen)
{
	if (u->kind == CW_REDIS_UNIX)
		snprintf(out, outlen, "%s db %d", u->path, u->db);
	else if (strchr(u->host, ':'))
		snprintf(out, outlen, "[%s]:%d db %d", u->host, u->port, u->db);
	else
		snprintf(out, outlen, "%s:%d db %d", u->host, u->port, u->db);
}

char *cw_redis_url_default(bool *from_env)
{
	const char *env = getenv("CELERY_BROKER_URL");

	if (env && *env) {
		if (from_env)
			*from_env = true;
		/* kombu's failover list "redis://a;redis://b": the first is the primary */
		return strndup(env, strcspn(env, ";"));
	}
	if (from_env)
		*from_env = false;
	return strdup(CW_REDIS_DEFAULT_URL);
}

int cw_redis_read_password_file(const char *path, char **out, char *err, size_t errlen)
{
	char buf[PASSWORD_FILE_MAX + 1];
	size_t len = 0;
	int fd, rc = 0;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open Redis password file %s: %s", path, strerror(-rc));
		return rc;
	}
	while (len < sizeof(buf)) {
		ssize_t r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			snprintf(err, errlen, "cannot read Redis password file %s: %s", path, strerror(-rc));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > PASSWORD_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "Redis password file %s is larger than %d bytes", path,
			 PASSWORD_FILE_MAX);
		goto out;
	}
	size_t line = 0;
	while (line < len && buf[line] != '\n')
		line++;
	if (line && buf[line - 1] == '\r')
		line--;
	if (memchr(buf, '\0', line)) {
		rc = -EINVAL;
		snprintf(err, errlen, "Redis password file %s contains a NUL byte", path);
		goto out;
	}
	if (!line) {
		rc = -EINVAL;
		snprintf(err, errlen, "Redis password file %s is empty (the password is its first line)",
			 path);
		goto out;
	}
	*out = strndup(buf, line);
	if (!*out) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
	}
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return rc;
}
