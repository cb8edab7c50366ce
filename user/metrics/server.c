/* The /metrics HTTP thread; see server.h. The text the loop publishes is refcounted: the
 * mutex covers a pointer swap or a reference taken, never a copy or a socket write. */
#include "metrics/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/threadcaps.h"
#include "metrics/mhd.h"
#include "metrics/procself.h"

/* A local user could open connections and never finish them: bounded in number (in all and
 * per address) and in time, each with libmicrohttpd's small per-connection memory pool. */
#define MAX_CONNS	16
#define MAX_CONNS_IP	8
#define CONN_TIMEOUT_S	10
#define PROC_TEXT_MAX	2048

static const struct cw_mhd *mhd;	/* libmicrohttpd, loaded by the first open (metrics/mhd.h) */

struct blob {
	atomic_int refs;
	char *text;
	size_t len;
};

struct cw_metrics_server {
	struct MHD_Daemon *daemon;
	int fd;
	pthread_mutex_t lock;
	struct blob *cur;
};

static void blob_put(struct blob *b)
{
	if (b && atomic_fetch_sub(&b->refs, 1) == 1) {
		free(b->text);
		free(b);
	}
}

static struct blob *take_current(struct cw_metrics_server *s)
{
	pthread_mutex_lock(&s->lock);
	struct blob *b = s->cur;
	if (b)
		atomic_fetch_add(&b->refs, 1);
	pthread_mutex_unlock(&s->lock);
	return b;
}

void cw_metrics_publish(struct cw_metrics_server *s, char *text, size_t len)
{
	struct blob *b = malloc(sizeof(*b)), *old;

	if (!s || !b) {
		free(text);
		free(b);
		return;
	}
	atomic_init(&b->refs, 1);
	b->text = text;
	b->len = len;
	pthread_mutex_lock(&s->lock);
	old = s->cur;
	s->cur = b;
	pthread_mutex_unlock(&s->lock);
	blob_put(old);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body, size_t len,
			     const char *type)
{
	struct MHD_Response *r = mhd->create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	enum MHD_Result ret;

	if (!r) {
		free(body);
		return MHD_NO;
	}
	mhd->add_response_header(r, "Content-Type", type);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		mhd->add_response_header(r, "Allow", "GET, HEAD");
	ret = mhd->queue_response(c, status, r);
	mhd->destroy_response(r);
	return ret;
}

static enum MHD_Result plain(struct MHD_Connection *c, unsigned status, const char *msg)
{
	char *body = strdup(msg);

	return body ? reply(c, status, body, strlen(body), "text/plain; charset=utf-8") : MHD_NO;
}

/* The published text, then process_* read now. */
static enum MHD_Result serve_metrics(struct cw_metrics_server *s, struct MHD_Connection *c)
{
	struct blob *b = take_current(s);
	size_t len = b ? b->len : 0;
	char *body = malloc(len + PROC_TEXT_MAX);
	struct cw_procself ps;

	if (!body) {
		blob_put(b);
		return MHD_NO;
	}
	if (b)
		memcpy(body, b->text, len);
	blob_put(b);
	if (cw_procself_read(&ps) == 0)
		len += cw_procself_format(&ps, body + len, PROC_TEXT_MAX);
	return reply(c, MHD_HTTP_OK, body, len, "text/plain; version=0.0.4; charset=utf-8");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **req)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)req;
	/* answered at once, on the headers: a request body is never read (libmicrohttpd
	 * closes the connection after the reply instead) */
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return plain(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET /metrics\n");
	if (strcmp(url, "/metrics"))
		return plain(c, MHD_HTTP_NOT_FOUND, "not found: the metrics are at /metrics\n");
	return serve_metrics(cls, c);
}

int cw_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon = strrchr(s, ':'), *h = s;
	size_t hl = colon ? (size_t)(colon - s) : 0;
	char *end;
	unsigned long port;

	if (!colon || !colon[1] || colon[1] == '-' || colon[1] == '+')
		return -EINVAL;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -EINVAL;
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (!hl || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (h == s && inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
	} else if (h != s && inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*v6);
	} else {
		return -EINVAL;
	}
	return 0;
}

/* Our own socket, so a port in use is a clear EADDRINUSE, not libmicrohttpd's NULL. */
static int listen_on(const char *addr, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int one = 1, fd, e;

	if (cw_metrics_parse_addr(addr, &ss, &sl)) {
		snprintf(err, errlen, "--metrics '%s': expected IPV4:PORT or [IPV6]:PORT, e.g. 127.0.0.1:9808", addr);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 32)) {
		e = errno;
		snprintf(err, errlen, "--metrics %s: cannot listen there: %s", addr, strerror(e));
		if (fd >= 0)
			close(fd);
		return -e;
	}
	return fd;
}

/* libmicrohttpd's thread inherits the capabilities of the thread that starts the daemon:
 * a short-lived thread that dropped all of its own starts it, so the HTTP thread never
 * holds one, whatever the recorder kept for /proc. */
static void *start_daemon(void *arg)
{
	struct cw_metrics_server *s = arg;

	cw_thread_drop_caps();
	s->daemon = mhd->start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
				      on_request, s,
				      MHD_OPTION_LISTEN_SOCKET, s->fd,
				      MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNS,
				      MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)MAX_CONNS_IP,
				      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
				      MHD_OPTION_END);
	return NULL;
}

int cw_metrics_server_open(struct cw_metrics_server **out, const char *addr, char *err, size_t errlen)
{
	struct cw_metrics_server *s = calloc(1, sizeof(*s));
	int e;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "--metrics: out of memory");
		return -ENOMEM;
	}
	if (!mhd) {
		char why[256];
		mhd = cw_mhd_load(why, sizeof(why));
		if (!mhd) {
			snprintf(err, errlen, "--metrics: %s", why);
			free(s);
			return -ENOENT;
		}
	}
	s->fd = listen_on(addr, err, errlen);
	if (s->fd < 0) {
		e = s->fd;
		free(s);
		return e;
	}
	pthread_mutex_init(&s->lock, NULL);
	*out = s;
	return 0;
}

int cw_metrics_server_run(struct cw_metrics_server *s, char *err, size_t errlen)
{
	pthread_t t;
	int e = pthread_create(&t, NULL, start_daemon, s);

	if (!e)
		pthread_join(t, NULL);
	if (e || !s->daemon) {
		snprintf(err, errlen, "--metrics: the HTTP server did not start");
		return -EIO;
	}
	return 0;
}

void cw_metrics_server_stop(struct cw_metrics_server *s)
{
	if (!s)
		return;
	if (s->daemon)
		mhd->stop_daemon(s->daemon);	/* closes the listening socket it was given */
	else
		close(s->fd);
	blob_put(s->cur);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
