/* Host names with a deadline; see resolve.h. The lookup and its waiter share one object with
 * a reference count: whichever lets go last frees it, so a waiter that gives up (deadline,
 * stop) never blocks on, nor races with, a getaddrinfo that is still running. */
#include "broker/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/threadcaps.h"
#include "common/timeutil.h"

struct cw_lookup {
	atomic_int refs;	/* the helper thread + the waiter */
	int efd;		/* written once by the helper when done */
	char *host;
	int gai;		/* getaddrinfo's result, then EAI_* of ours */
	int sys_errno;		/* for EAI_SYSTEM */
	char addr[INET6_ADDRSTRLEN];
};

static void lookup_put(struct cw_lookup *l)
{
	if (atomic_fetch_sub(&l->refs, 1) != 1)
		return;
	close(l->efd);
	free(l->host);
	free(l);
}

/* The first IPv4 address, else the first IPv6 one: hiredis 0.14 asks for AF_INET first. */
static int pick_addr(const struct addrinfo *res, char *out, size_t outlen)
{
	const struct addrinfo *a, *v6 = NULL;

	for (a = res; a; a = a->ai_next) {
		if (a->ai_family == AF_INET)
			break;
		if (a->ai_family == AF_INET6 && !v6)
			v6 = a;
	}
	if (!a)
		a = v6;
	if (!a)
		return EAI_FAMILY;
	return getnameinfo(a->ai_addr, a->ai_addrlen, out, (socklen_t)outlen, NULL, 0,
			   NI_NUMERICHOST);
}

static int lookup_now(const char *host, int flags, char *out, size_t outlen, int *sys_errno)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = flags }, *res = NULL;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	*sys_errno = errno;
	if (rc)
		return rc;
	rc = pick_addr(res, out, outlen);
	freeaddrinfo(res);
	return rc;
}

static void *lookup_main(void *arg)
{
	struct cw_lookup *l = arg;
	uint64_t one = 1;

	cw_thread_drop_caps();

	l->gai = lookup_now(l->host, 0, l->addr, sizeof(l->addr), &l->sys_errno);
	if (write(l->efd, &one, sizeof(one)) < 0)
		l->gai = EAI_SYSTEM;	/* cannot happen on a fresh eventfd */
	lookup_put(l);
	return NULL;
}

/* A detached helper with every signal blocked: signals stay the recorder's. */
static struct cw_lookup *lookup_start(const char *host)
{
	struct cw_lookup *l = calloc(1, sizeof(*l));
	sigset_t all, old;
	pthread_attr_t at;
	pthread_t t;
	int rc;

	if (!l || !(l->host = strdup(host)))
		goto fail;
	if ((l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0)
		goto fail;
	atomic_init(&l->refs, 2);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&t, &at, lookup_main, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	if (!rc)
		return l;
	close(l->efd);
fail:
	if (l)
		free(l->host);
	free(l);
	return NULL;
}

/* Wait for l until deadline or stop. */
static enum cw_resolve_rc lookup_wait(struct cw_lookup *l, double deadline, int stopfd)
{
	for (;;) {
		double left = deadline - cw_mono_s();
		struct pollfd p[2] = {
			{ .fd = l->efd, .events = POLLIN },
			{ .fd = stopfd, .events = POLLIN },
		};

		if (poll(p, 1, 0) == 1)	/* done: an answer wins over a deadline just passed */
			return CW_RESOLVE_OK;
		if (left <= 0)
			return CW_RESOLVE_TIMEOUT;
		int n = poll(p, stopfd >= 0 ? 2 : 1, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR)
			return CW_RESOLVE_TIMEOUT;
		if (n > 0 && stopfd >= 0 && (p[1].revents & POLLIN))
			return CW_RESOLVE_STOPPED;
	}
}

enum cw_resolve_rc cw_resolve(const char *host, double deadline, int stopfd,
			      struct cw_lookup **pending, char *out, size_t outlen,
			      char *err, size_t errlen)
{
	struct cw_lookup *l = *pending;
	enum cw_resolve_rc r;
	int sys_errno;

	if (!l && !lookup_now(host, AI_NUMERICHOST, out, outlen, &sys_errno))
		return CW_RESOLVE_OK;	/* a literal: no resolver involved */
	if (l && strcmp(l->host, host))
		cw_lookup_abandon(pending);
	if (!*pending && !(*pending = lookup_start(host)))
		return CW_RESOLVE_NOMEM;
	l = *pending;
	if ((r = lookup_wait(l, deadline, stopfd)) != CW_RESOLVE_OK)
		return r;	/* still running: the next call waits for this one */
	*pending = NULL;
	if (l->gai) {
		snprintf(err, errlen, "%s", l->gai == EAI_SYSTEM ? strerror(l->sys_errno)
								 : gai_strerror(l->gai));
		r = CW_RESOLVE_FAILED;
	} else {
		snprintf(out, outlen, "%s", l->addr);
	}
	lookup_put(l);
	return r;
}

void cw_lookup_abandon(struct cw_lookup **pending)
{
	if (*pending)
		lookup_put(*pending);
	*pending = NULL;
}
