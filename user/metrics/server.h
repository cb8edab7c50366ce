/* The /metrics endpoint: libmicrohttpd in a thread of its own serving the last exposition
 * text the loop published, plus the process_* metrics it reads from /proc/self at scrape
 * time. The loop never waits on a scraper: publishing swaps a pointer under a mutex. */
#ifndef CW_METRICS_SERVER_H
#define CW_METRICS_SERVER_H

#include <stddef.h>
#include <sys/socket.h>

struct cw_metrics_server;

/* "127.0.0.1:9808" or "[::1]:9808" (numeric addresses only; port 1..65535) into ss.
 * Returns 0 or -EINVAL. */
int cw_metrics_parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len);

/*
 * Listen on addr (as cw_metrics_parse_addr takes it), before privileges go (a port below 1024
 * needs CAP_NET_BIND_SERVICE). Returns 0, or -errno with one sentence in err: -EINVAL (bad
 * address), -EADDRINUSE and other bind errors, -ENOMEM.
 */
int cw_metrics_server_open(struct cw_metrics_server **out, const char *addr, char *err, size_t errlen);

/*
 * Start serving, in a thread that holds no capability whatever the caller's thread holds.
 * Returns 0, or -EIO with one sentence in err. Until the first publish, /metrics shows only
 * the process_* metrics.
 */
int cw_metrics_server_run(struct cw_metrics_server *s, char *err, size_t errlen);

/* Serve text (malloc'd, len bytes; ownership passes to the server) from now on. Any thread;
 * a scrape in progress finishes with the text it took. */
void cw_metrics_publish(struct cw_metrics_server *s, char *text, size_t len);

/* Stop the thread, close the socket, free everything (NULL is fine). */
void cw_metrics_server_stop(struct cw_metrics_server *s);

#endif
