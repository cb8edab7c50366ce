/* Which processes hold established TCP connections to the broker: their socket inodes
 * (/proc/PID/fd, "socket:[N]") against the TCP tables of their network namespace
 * (/proc/PID/net/tcp, tcp6), read once per namespace per round. A socket counts when its
 * remote end is one of the broker's addresses, or when its local address is one CLIENT LIST
 * reported (a worker that reached the same Redis by another address). */
#ifndef CW_BROKERCONN_H
#define CW_BROKERCONN_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#define CW_BCONN_MAX_FDS	4096	/* fds looked at per process and round */
#define CW_BCONN_MAX_ADDRS	8
#define CW_BCONN_MAX_LOCAL	16	/* local addresses reported per process */
#define CW_BCONN_MAX_NS		64	/* network namespaces read per round */
#define CW_BCONN_MAX_SOCKS	65536	/* matching sockets kept per namespace */

/* An address as the tables and CLIENT LIST have it: v4-mapped IPv6 becomes IPv4. */
struct cw_sockaddr {
	int family;		/* AF_INET, AF_INET6 */
	uint8_t ip[16];		/* 4 bytes used for AF_INET */
	uint16_t port;		/* host order */
};

struct cw_bconn_sock {
	uint64_t inode;
	struct cw_sockaddr local;
};

struct cw_bconn_ns {
	uint64_t ns;		/* inode of /proc/PID/ns/net */
	bool ok;		/* the tables could be read */
	struct cw_bconn_sock *socks;	/* sorted by inode */
	size_t n, cap;
};

struct cw_bconn {
	struct cw_sockaddr broker[CW_BCONN_MAX_ADDRS];
	size_t nbroker;
	struct cw_sockaddr *clients;	/* CLIENT LIST addrs, sorted */
	size_t nclients;
	struct cw_bconn_ns ns[CW_BCONN_MAX_NS];
	size_t nns;
	bool unix_mode;		/* ns[0] holds the clients of a unix-socket broker */
};

/* "1.2.3.4:5", "[::1]:5" (as Redis writes addr=) to a, false when it is neither. */
bool cw_sockaddr_parse(const char *s, struct cw_sockaddr *a);
/* a as Redis writes it, into out (at least 64 bytes). */
void cw_sockaddr_format(const struct cw_sockaddr *a, char *out, size_t outlen);
/* From a struct sockaddr (sin/sin6). false for other families. */
bool cw_sockaddr_from(const struct sockaddr *sa, struct cw_sockaddr *a);

/* Start a round: the broker's addresses, and the client addresses CLIENT LIST gave (NULL,
 * 0 without). Forgets the previous round's tables. */
void cw_bconn_begin(struct cw_bconn *b, const struct cw_sockaddr *broker, size_t nbroker,
		    const char *const *client_addrs, size_t nclients);
/* Start a round for a broker on the unix socket path (unixconn.c): the peers of the
 * connected sockets bound to path, from one unix_diag dump. 0, or -errno (-ENOENT: no
 * listener on path in our network namespace; the facts are then unknown). No local
 * addresses are reported in this mode. Always cw_bconn_end. */
int cw_bconn_begin_unix(struct cw_bconn *b, const char *path);
/*
 * The broker connections of the process whose /proc directory is dirfd: their count, and
 * up to CW_BCONN_MAX_LOCAL of their local addresses into local. Returns the count, or
 * -errno when its fds or its namespace's tables cannot be read (then not known).
 */
int cw_bconn_count(struct cw_bconn *b, int dirfd, struct cw_sockaddr *local, size_t *nlocal);
/* Free what the round holds. */
void cw_bconn_end(struct cw_bconn *b);

/* One line of /proc/net/tcp or tcp6 (v6: 32 hex digits per address). The socket when it is
 * ESTABLISHED; false for the header, other states and garbage. */
bool cw_bconn_parse_line(const char *line, size_t len, bool v6, struct cw_sockaddr *local,
			 struct cw_sockaddr *remote, uint64_t *inode);

#endif
