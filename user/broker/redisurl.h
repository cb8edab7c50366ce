/* Redis broker URLs as Celery/kombu write them: parsing, the default ($CELERY_BROKER_URL),
 * the password file, and a redacted form that is safe to log. No I/O besides the file. */
#ifndef CW_REDISURL_H
#define CW_REDISURL_H

#include <stdbool.h>
#include <stddef.h>

#define CW_REDIS_DEFAULT_URL	"redis://127.0.0.1:6379/0"
#define CW_REDIS_URL_MAX	4096	/* longer strings are refused before parsing */

enum cw_redis_kind {
	CW_REDIS_TCP,
	CW_REDIS_UNIX,
};

struct cw_redis_url {
	enum cw_redis_kind kind;
	char *host;		/* TCP: name or address; IPv6 without brackets */
	int port;		/* TCP */
	char *path;		/* UNIX: socket path */
	char *user;		/* NULL when absent (Redis 6 ACL user) */
	char *password;		/* NULL when absent; never log it */
	int db;
};

/*
 * Accepted forms (user and password percent-decoded, %00 refused):
 *   redis://[[user]:password@]host[:port][/db][?db=N&password=P]
 *   redis://[user:password@][::1]:6379/0          IPv6 in brackets
 *   unix:///path/redis.sock[?db=N&password=P]     also redis+socket:// and socket:// (kombu)
 * An empty host is localhost and an empty port 6379, as in kombu; rediss:// is refused
 * (hiredis 0.14 has no TLS). Unknown query parameters are ignored (Celery adds its own).
 * Returns 0, or -EINVAL/-ENOMEM with one sentence in err that never contains the password.
 */
int cw_redis_url_parse(const char *url, struct cw_redis_url *out, char *err, size_t errlen);
void cw_redis_url_free(struct cw_redis_url *u);

/* The URL with its credentials replaced by "***" by identity/redact.h's rules, into out
 * (always NUL-terminated; a truncated result is a prefix of the redacted text, never of the
 * URL). Works on URLs that do not parse too, for error messages; when in doubt it hides more.
 * Returns the length of the whole redacted text, as snprintf does (NULL url: ""). */
size_t cw_redis_url_redacted(const char *url, char *out, size_t outlen);

/* "127.0.0.1:6379 db 3", "[::1]:6379 db 0", "/run/redis.sock db 0": where, without secrets. */
void cw_redis_url_where(const struct cw_redis_url *u, char *out, size_t outlen);

/* $CELERY_BROKER_URL (its first URL when it lists several with ';'), else
 * CW_REDIS_DEFAULT_URL. *from_env says which. malloc'd, NULL on ENOMEM. */
char *cw_redis_url_default(bool *from_env);

/* First line of path, trailing "\n" or "\r\n" stripped. Refuses empty, NUL bytes and files
 * over 4 KiB. Returns 0 and a malloc'd *out, or -errno with a sentence in err. */
int cw_redis_read_password_file(const char *path, char **out, char *err, size_t errlen);

#endif
