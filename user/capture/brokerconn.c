/* Broker connections of tracked processes from /proc; see brokerconn.h. */
#include "capture/brokerconn.h"
#include "common/grow.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TCP_ESTABLISHED_HEX "01"

static int addr_cmp(const struct cw_sockaddr *a, const struct cw_sockaddr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	int c = memcmp(a->ip, b->ip, a->family == AF_INET ? 4 : 16);
	if (c)
		return c;
	return a->port == b->port ? 0 : a->port < b->port ? -1 : 1;
}

static int addr_cmp_v(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

/* ::ffff:a.b.c.d is a.b.c.d: a dual-stack listener sees IPv4 clients that way */
static void unmap(struct cw_sockaddr *a)
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (a->family == AF_INET6 && !memcmp(a->ip, pre, 12)) {
		memmove(a->ip, a->ip + 12, 4);
		memset(a->ip + 4, 0, 12);
		a->family = AF_INET;
	}
}

bool cw_sockaddr_from(const struct sockaddr *sa, struct cw_sockaddr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)sa;
		a->family = AF_INET;
		memcpy(a->ip, &s4->sin_addr, 4);
		a->port = ntohs(s4->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		a->family = AF_INET6;
		memcpy(a->ip, &s6->sin6_addr, 16);
		a->port = ntohs(s6->sin6_port);
		unmap(a);
	} else {
		return false;
	}
	return true;
}

bool cw_sockaddr_parse(const char *s, struct cw_sockaddr *a)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	size_t hl;
	char *end;

	memset(a, 0, sizeof(*a));
	if (!colon || !colon[1])
		return false;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (*end || port > 65535 || colon[1] < '0' || colon[1] > '9')
		return false;
	hl = (size_t)(colon - s);
	if (hl >= 2 && s[0] == '[' && s[hl - 1] == ']') {
		s++;
		hl -= 2;
	}
	if (hl == 0 || hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	a->port = (uint16_t)port;
	if (inet_pton(AF_INET, host, a->ip) == 1) {
		a->family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, host, a->ip) == 1) {
		a->family = AF_INET6;
		unmap(a);
		return true;
	}
	return false;
}

void cw_sockaddr_format(const struct cw_sockaddr *a, char *out, size_t outlen)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->ip, ip, sizeof(ip));
	snprintf(out, outlen, a->family == AF_INET ? "%s:%u" : "[%s]:%u", ip, a->port);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* n hex digits at s into *v; false on anything else */
static bool hex_u32(const char *s, int n, uint32_t *v)
{
	uint32_t x = 0;

	for (int i = 0; i < n; i++) {
		int h = hexval(s[i]);
		if (h < 0)
			return false;
		x = x << 4 | (uint32_t)h;
	}
	*v = x;
	return true;
}

/* "0100007F:18EB": the kernel prints each 32-bit word of the address as a native integer */
static const char *parse_hexaddr(const char *p, const char *end, bool v6, struct cw_sockaddr *a)
{
	int words = v6 ? 4 : 1;
	uint32_t w, port;

	if (end - p < words * 8 + 5 || p[words * 8] != ':')
		return NULL;
	memset(a, 0, sizeof(*a));
	a->family = v6 ? AF_INET6 : AF_INET;
	for (int i = 0; i < words; i++) {
		if (!hex_u32(p + 8 * i, 8, &w))
			return NULL;
		memcpy(a->ip + 4 * i, &w, 4);
	}
	p += words * 8 + 1;
	if (!hex_u32(p, 4, &port))
		return NULL;
	a->port = (uint16_t)port;
	unmap(a);
	return p + 4;
}

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && *p == ' ')
		p++;
	return p;
}

static const char *skip_word(const char *p, const char *end)
{
	p = skip_blank(p, end);
	while (p < end && *p != ' ')
		p++;
	return p;
}

bool cw_bconn_parse_line(const char *line, size_t len, bool v6, struct cw_sockaddr *local,
			 struct cw_sockaddr *remote, uint64_t *inode)
{
	const char *p = line, *end = line + len;

	p = skip_word(p, end);		/* "sl:" */
	if (p == line || p[-1] != ':')
		return false;
	if (!(p = parse_hexaddr(skip_blank(p, end), end, v6, local)) ||
	    !(p = parse_hexaddr(skip_blank(p, end), end, v6, remote)))
		return false;
	p = skip_blank(p, end);
	if (end - p < 3 || memcmp(p, TCP_ESTABLISHED_HEX " ", 3))
		return false;
	p += 2;
	for (int f = 0; f < 5; f++)	/* tx:rx, tr:when, retrnsmt, uid, timeout */
		p = skip_word(p, end);
	p = skip_blank(p, end);
	if (p == end || *p < '0' || *p > '9')
		return false;
	uint64_t x = 0;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		x = x * 10 + (uint64_t)(*p - '0');
	*inode = x;
	return x != 0;
}

static bool is_broker_sock(const struct cw_bconn *b, const struct cw_sockaddr *local,
			   const struct cw_sockaddr *remote)
{
	for (size_t i = 0; i < b->nbroker; i++)
		if (!addr_cmp(&b->broker[i], remote))
			return true;
	return b->nclients &&
	       bsearch(local, b->clients, b->nclients, sizeof(*b->clients), addr_cmp_v);
}

static int ns_add(struct cw_bconn_ns *ns, uint64_t inode, const struct cw_sockaddr *local)
{
	if (ns->n == ns->cap && ns->cap >= CW_BCONN_MAX_SOCKS)
		return 0;
	if (cw_grow_from((void **)&ns->socks, &ns->cap, ns->n + 1, sizeof(*ns->socks), 16))
		return -ENOMEM;
	ns->socks[ns->n++] = (struct cw_bconn_sock){ .inode = inode, .local = *local };
	return 0;
}

/* The broker's sockets of one table (net/tcp or net/tcp6 under dirfd), read in blocks. */
static int read_table(struct cw_bconn *b, struct cw_bconn_ns *ns, int dirfd, const char *name,
		      bool v6)
{
	static char buf[65536];	/* the loop's thread only */
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t have = 0;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* no IPv6: no tcp6 */
	while ((n = read(fd, buf + have, sizeof(buf) - have)) > 0 || (n < 0 && errno == EINTR)) {
		if (n < 0)
			continue;
		have += (size_t)n;
		char *l = buf, *nl;
		while ((nl = memchr(l, '\n', have - (size_t)(l - buf)))) {
			struct cw_sockaddr lo, re;
			uint64_t ino;
			if (cw_bconn_parse_line(l, (size_t)(nl - l), v6, &lo, &re, &ino) &&
			    is_broker_sock(b, &lo, &re) && ns_add(ns, ino, &lo)) {
				close(fd);
				return -ENOMEM;
			}
			l = nl + 1;
		}
		have -= (size_t)(l - buf);
		memmove(buf, l, have);
		if (have == sizeof(buf))	/* a line longer than the buffer: not procfs */
			have = 0;
	}
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

static int sock_cmp(const void *a, const void *b)
{
	const struct cw_bconn_sock *x = a, *y = b;
	return x->inode == y->inode ? 0 : x->inode < y->inode ? -1 : 1;
}

/* The namespace of the process at dirfd, its tables read on first use this round. */
static struct cw_bconn_ns *ns_of(struct cw_bconn *b, int dirfd, int *err)
{
	struct stat st;

	if (fstatat(dirfd, "ns/net", &st, 0)) {
		*err = -errno;
		return NULL;
	}
	for (size_t i = 0; i < b->nns; i++)
		if (b->ns[i].ns == (uint64_t)st.st_ino)
			return b->ns[i].ok ? &b->ns[i] : (*err = -EIO, NULL);
	if (b->nns == CW_BCONN_MAX_NS) {
		*err = -ENOSPC;
		return NULL;
	}
	struct cw_bconn_ns *ns = &b->ns[b->nns++];
	memset(ns, 0, sizeof(*ns));
	ns->ns = (uint64_t)st.st_ino;
	if ((*err = read_table(b, ns, dirfd, "net/tcp", false)) ||
	    (*err = read_table(b, ns, dirfd, "net/tcp6", true)))
		return NULL;
	if (ns->n)	/* qsort(NULL, 0): undefined, and UBSan says so */
		qsort(ns->socks, ns->n, sizeof(*ns->socks), sock_cmp);
	ns->ok = true;
	return ns;
}

void cw_bconn_begin(struct cw_bconn *b, const struct cw_sockaddr *broker, size_t nbroker,
		    const char *const *client_addrs, size_t nclients)
{
	memset(b, 0, sizeof(*b));
	b->nbroker = nbroker < CW_BCONN_MAX_ADDRS ? nbroker : CW_BCONN_MAX_ADDRS;
	memcpy(b->broker, broker, b->nbroker * sizeof(*broker));
	if (nclients && (b->clients = calloc(nclients, sizeof(*b->clients)))) {
		for (size_t i = 0; i < nclients; i++)
			if (client_addrs[i] && cw_sockaddr_parse(client_addrs[i], &b->clients[b->nclients]))
				b->nclients++;
		qsort(b->clients, b->nclients, sizeof(*b->clients), addr_cmp_v);
	}
}

void cw_bconn_end(struct cw_bconn *b)
{
	for (size_t i = 0; i < b->nns; i++)
		free(b->ns[i].socks);
	free(b->clients);
	memset(b, 0, sizeof(*b));
}

/* "socket:[12345]" to 12345; 0 for anything else */
static uint64_t socket_inode(const char *l, ssize_t n)
{
	uint64_t x = 0;

	if (n < 10 || memcmp(l, "socket:[", 8) || l[n - 1] != ']')
		return 0;
	for (ssize_t i = 8; i < n - 1; i++) {
		if (l[i] < '0' || l[i] > '9')
			return 0;
		x = x * 10 + (uint64_t)(l[i] - '0');
	}
	return x;
}

int cw_bconn_count(struct cw_bconn *b, int dirfd, struct cw_sockaddr *local, size_t *nlocal)
{
	int err = 0, count = 0, seen = 0;
	/* a unix socket's clients are the same in every namespace */
	struct cw_bconn_ns *ns = b->unix_mode ? &b->ns[0] : ns_of(b, dirfd, &err);
	struct dirent *de;
	char link[64];

	*nlocal = 0;
	if (!ns)
		return err ? err : -EIO;
	int fdd = openat(dirfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fdd >= 0 ? fdopendir(fdd) : NULL;
	if (!d) {
		err = -errno;
		if (fdd >= 0)
			close(fdd);
		return err;
	}
	while ((de = readdir(d)) && seen < CW_BCONN_MAX_FDS) {
		if (de->d_name[0] == '.')
			continue;
		seen++;
		ssize_t n = readlinkat(fdd, de->d_name, link, sizeof(link));
		uint64_t ino = n > 0 && n < (ssize_t)sizeof(link) ? socket_inode(link, n) : 0;
		struct cw_bconn_sock key = { .inode = ino }, *hit;
		if (!ino || !ns->n || !(hit = bsearch(&key, ns->socks, ns->n, sizeof(key), sock_cmp)))
			continue;
		if (*nlocal < CW_BCONN_MAX_LOCAL && !b->unix_mode)
			local[(*nlocal)++] = hit->local;
		count++;
	}
	closedir(d);
	return count;
}
