/* Broker host names to numeric addresses with a deadline. getaddrinfo has no timeout of its
 * own (resolv.conf's timeout × attempts can be minutes), so it runs in a helper thread while
 * the caller waits on an eventfd, its stop fd and its deadline. */
#ifndef CW_RESOLVE_H
#define CW_RESOLVE_H

#include <netinet/in.h>
#include <stddef.h>

/* A lookup in flight. One that outlives its waiter finishes in its thread and frees itself. */
struct cw_lookup;

enum cw_resolve_rc {
	CW_RESOLVE_OK,
	CW_RESOLVE_TIMEOUT,	/* not answered by the deadline; the lookup goes on in *pending */
	CW_RESOLVE_STOPPED,	/* stopfd became readable */
	CW_RESOLVE_FAILED,	/* the resolver answered: no such name, or an error */
	CW_RESOLVE_NOMEM,
};

/*
 * host (a name, or an IPv4/IPv6 literal) to a numeric address in out (at least
 * INET6_ADDRSTRLEN), IPv4 preferred as hiredis does. A literal is converted at once. A name
 * is looked up in a helper thread; the wait ends at deadline (cw_mono_s() clock) or when
 * stopfd (-1: none) is readable. *pending (NULL at first) keeps a lookup that timed out, so
 * that the next call for the same host waits for it instead of starting another one: a
 * resolver that hangs costs one thread, not one per retry. On CW_RESOLVE_FAILED, err says why.
 */
enum cw_resolve_rc cw_resolve(const char *host, double deadline, int stopfd,
			      struct cw_lookup **pending, char *out, size_t outlen,
			      char *err, size_t errlen);

/* Let go of *pending (NULL is fine): a running lookup frees itself when it ends. */
void cw_lookup_abandon(struct cw_lookup **pending);

#endif
