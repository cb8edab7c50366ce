/* CLIENT LIST's answer as a list of connections: who is connected to the broker, from which
 * address, idle for how long, and with which last command (a consuming worker's is brpop). */
#ifndef CW_CLIENTS_H
#define CW_CLIENTS_H

#include <stddef.h>

#include "broker/broker.h"

#define CW_MAX_CLIENTS	16384	/* connections kept from one CLIENT LIST; the rest ignored */

struct redisReply;
/*
 * The reply to CLIENT LIST (a bulk or verbatim string: one line per connection of
 * space-separated key=value fields). Fills *out (malloc'd, cw_broker_clients_free) and *n
 * with the connections that have an addr=. Returns 0, -EPROTO for an error reply or anything
 * but a string (out NULL, n 0), -ENOMEM. Fields too long for their slot are cut; lines
 * without addr= are skipped.
 */
int cw_broker_read_clients(const struct redisReply *rep, struct cw_broker_client **out, size_t *n);
/* Same over the text itself. */
int cw_broker_parse_clients(const char *text, size_t len, struct cw_broker_client **out, size_t *n);

#endif
