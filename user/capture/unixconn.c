/* Unix-socket brokers for brokerconn.h: the kernel's unix_diag (NETLINK_SOCK_DIAG) lists the
 * connected sockets bound to the broker's path (the broker's ends: an accepted socket carries
 * its listener's name) with their peers; the peers are the clients' socket inodes, whatever
 * their network namespace. One dump per round. */
#include "capture/brokerconn.h"
#include "common/grow.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define UNIX_ESTABLISHED 1	/* TCP_ESTABLISHED, as unix_diag names states */
#define UNIX_LISTEN 10		/* TCP_LISTEN */

static int ask(int fd)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req = {
		.nlh = { .nlmsg_len = sizeof(req), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1 },
		.r = { .sdiag_family = AF_UNIX,
		       .udiag_states = 1u << UNIX_ESTABLISHED | 1u << UNIX_LISTEN,
		       .udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER },
	};
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	return sendto(fd, &req, sizeof(req), 0, (struct sockaddr *)&nl, sizeof(nl)) < 0 ? -errno : 0;
}

/* One socket of the dump: a broker end adds its peer; the listener proves the path is ours */
static int take(struct cw_bconn_ns *ns, const struct nlmsghdr *h, const char *path, size_t plen,
		bool *listener)
{
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	const struct rtattr *a = (const struct rtattr *)(m + 1);
	bool named = false;
	uint32_t peer = 0;

	if (len < 0)
		return 0;
	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);
		if (a->rta_type == UNIX_DIAG_NAME)
			/* a path may come NUL-terminated or not */
			named = (n == plen || (n == plen + 1 && !((const char *)RTA_DATA(a))[plen])) &&
				!memcmp(RTA_DATA(a), path, plen);
		else if (a->rta_type == UNIX_DIAG_PEER && n >= 4)
			memcpy(&peer, RTA_DATA(a), 4);
	}
	if (!named)
		return 0;
	if (m->udiag_state == UNIX_LISTEN)
		*listener = true;
	if (m->udiag_state != UNIX_ESTABLISHED || !peer || ns->n >= CW_BCONN_MAX_SOCKS)
		return 0;
	if (cw_grow_from((void **)&ns->socks, &ns->cap, ns->n + 1, sizeof(*ns->socks), 16))
		return -ENOMEM;
	ns->socks[ns->n++] = (struct cw_bconn_sock){ .inode = peer };
	return 0;
}

/* Read the dump to its end into ns; 0 when the listener was seen, -ENOENT when not. */
static int read_dump(int fd, struct cw_bconn_ns *ns, const char *path, bool *listener)
{
	static char buf[32768];	/* the loop's thread only */
	size_t plen = strlen(path);

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		unsigned int left = (unsigned int)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR)
				return -EPROTO;
			if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && take(ns, h, path, plen, listener))
				return -ENOMEM;
		}
	}
}

static int sock_cmp(const void *a, const void *b)
{
	const struct cw_bconn_sock *x = a, *y = b;
	return x->inode == y->inode ? 0 : x->inode < y->inode ? -1 : 1;
}

int cw_bconn_begin_unix(struct cw_bconn *b, const char *path)
{
	struct timeval tv = { .tv_sec = 1 };	/* the kernel answers at once; never hang on it */
	bool listener = false;
	int fd, rc;

	memset(b, 0, sizeof(*b));
	b->unix_mode = true;
	b->nns = 1;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (!(rc = ask(fd)))
		rc = read_dump(fd, &b->ns[0], path, &listener);
	close(fd);
	/* no listener in our namespace: a broker we cannot see, not one nobody uses */
	if (!rc && !listener)
		rc = -ENOENT;
	if (rc)
		return rc;
	if (b->ns[0].n)	/* qsort(NULL, 0) is undefined */
		qsort(b->ns[0].socks, b->ns[0].n, sizeof(*b->ns[0].socks), sock_cmp);
	b->ns[0].ok = true;
	return 0;
}
